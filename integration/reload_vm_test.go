//go:build vm

package integration

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// echoRequest opens a connection from client to addr, sends request n and
// returns the name of the server that answered it.
func echoRequest(client *lab.Host, addr string, n int) (string, error) {
	var conn net.Conn
	if err := client.Do(func() error {
		var err error
		conn, err = net.DialTimeout("tcp", addr, 3*time.Second)
		return err
	}); err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	req := fmt.Sprintf("req %d\n", n)
	if _, err := conn.Write([]byte(req)); err != nil {
		return "", err
	}
	answer, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("after sending %q: %w", req, err)
	}
	name, rest, _ := strings.Cut(answer, " ")
	if rest != req || (name != "db1" && name != "db2") {
		return "", fmt.Errorf("answer %q to %q", answer, req)
	}
	return name, nil
}

// ipvsShape is `ipvsadm -Ln` without the connection counters, which the
// client loop moves: services, schedulers, destinations, methods, weights.
func ipvsShape(table string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(table), "\n") {
		f := strings.Fields(line)
		if len(f) == 6 && f[0] == "->" && f[1] != "RemoteAddress:Port" {
			f = f[:4]
		}
		b.WriteString(strings.Join(f, " ") + "\n")
	}
	return b.String()
}

// TestReloadBrokenFileKeepsServing: a director (VRRP + rr/DR to two real
// servers running the agent) serves a client that opens a new connection
// every 10 ms, each a request and its answer. A broken file is sent by
// SIGHUP and by `lvsd reload`: both are refused (the latter exits 1 naming
// FILE:LINE,COL), the IPVS table and the VIP stay, status reports the
// failed reload; the fixed file then reloads and its change is applied.
// Not one connection of the loop may fail.
func TestReloadBrokenFileKeepsServing(t *testing.T) {
	const service = "198.51.100.30:3306"
	l := newLab(t, "dc")
	client := addHost(t, l, "client", "198.51.100.2/24")
	lvs := addHost(t, l, "lvs", "198.51.100.20/24")
	if _, err := lvs.Run("modprobe", "ip_vs"); err != nil {
		t.Fatal(err)
	}
	agentFile, err := l.WriteFile("agent.hcl", lab.Seed001Agent)
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range []struct{ name, cidr string }{{"db1", "198.51.100.10/24"}, {"db2", "198.51.100.11/24"}} {
		h := addHost(t, l, rs.name, rs.cidr)
		serveEcho(t, h, "0.0.0.0:3306", h.Name)
		if _, err := h.Start("agent-"+rs.name, lvsdBin, "agent", "-f", agentFile,
			"--control", l.Dir+"/"+rs.name+".sock", "--pid-file", l.Dir+"/"+rs.name+".pid"); err != nil {
			t.Fatal(err)
		}
	}

	good := lab.Seed001Director("MASTER", 101)
	// The fix changes db2's weight: the reload must show in the kernel.
	i := strings.Index(good, `real_server "db2"`)
	fixed := good[:i] + strings.Replace(good[i:], "weight  = 1", "weight  = 2", 1)
	// The broken file has an unknown scheduler; its line is computed, not
	// assumed, so an edit of the example cannot silently move it.
	broken := strings.Replace(good, `lvs_sched  = "rr"`, `lvs_sched  = "roundrobin"`, 1)
	if fixed == good || broken == good {
		t.Fatal("examples/seed-001-director.hcl changed: cannot derive the fixed or broken file")
	}
	brokenLine := strings.Count(broken[:strings.Index(broken, "roundrobin")], "\n") + 1

	file, err := l.WriteFile("director.hcl", good)
	if err != nil {
		t.Fatal(err)
	}
	sock := l.Dir + "/lvs.sock"
	p, err := lvs.Start("lvsd", lvsdBin, "director", "-f", file, "--control", sock, "--pid-file", l.Dir+"/lvs.pid", "--resync-interval", "1s")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("lvsd log:\n%s", p.Output())
		}
	})
	table := func() string {
		out, err := lvs.Run("ipvsadm", "-Ln")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	dest := func(ip, weight string) *regexp.Regexp {
		return regexp.MustCompile(`->\s+` + regexp.QuoteMeta(ip) + `:3306\s+Route\s+` + weight + `\s`)
	}
	var last string
	if _, ok := lab.WaitFor(30*time.Second, func() bool {
		last = table()
		return lvs.HasAddr("198.51.100.30") && dest("198.51.100.10", "1").MatchString(last) && dest("198.51.100.11", "1").MatchString(last)
	}); !ok {
		t.Fatalf("director never held the VIP with both real servers; ipvsadm -Ln:\n%s", last)
	}
	if _, ok := lab.WaitFor(10*time.Second, func() bool {
		_, err := echoRequest(client, service, 0)
		return err == nil
	}); !ok {
		_, err := echoRequest(client, service, 0)
		t.Fatalf("client cannot reach %s through the VIP: %v", service, err)
	}
	status := func() (opsStatus, string) {
		t.Helper()
		out, err := lvs.Run(lvsdBin, "status", "--json", "--control", sock)
		var st opsStatus
		if err == nil {
			err = json.Unmarshal([]byte(out), &st)
		}
		if err != nil {
			t.Fatalf("lvsd status --json: %v\n%s", err, out)
		}
		return st, out
	}
	goodSum := sha256.Sum256([]byte(good))

	// The client loop: a new connection every 10 ms, sequential, each one a
	// request and its answer, all counted.
	type result struct {
		ok       int
		failures []string
		answered map[string]int
	}
	stop := make(chan struct{})
	done := make(chan result)
	go func() {
		res := result{answered: map[string]int{}}
		for n := 0; ; n++ {
			select {
			case <-stop:
				done <- res
				return
			default:
			}
			next := time.Now().Add(10 * time.Millisecond)
			if name, err := echoRequest(client, service, n); err != nil {
				res.failures = append(res.failures, fmt.Sprintf("%s connection %d: %v", time.Now().Format("15:04:05.000"), n, err))
			} else {
				res.ok++
				res.answered[name]++
			}
			time.Sleep(time.Until(next))
		}
	}()
	loopStopped := false
	finish := func() result {
		if loopStopped {
			t.Fatal("client loop stopped twice")
		}
		loopStopped = true
		close(stop)
		return <-done
	}
	t.Cleanup(func() {
		if !loopStopped {
			finish()
		}
	})
	time.Sleep(time.Second)
	before := ipvsShape(table())
	st0, _ := status()
	if len(st0.VRRP) != 1 || st0.VRRP[0].State != "MASTER" {
		t.Fatalf("not master before the reloads: %+v", st0.VRRP)
	}

	// Broken file, by SIGHUP.
	if err := os.WriteFile(file, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	logAt := len(p.Output())
	_ = p.Cmd.Process.Signal(syscall.SIGHUP)
	if _, ok := lab.WaitFor(15*time.Second, func() bool { return strings.Contains(p.Output()[logAt:], "reload refused") }); !ok {
		t.Fatalf("SIGHUP with a broken file was not refused:\n%s", p.Output()[logAt:])
	}
	place := fmt.Sprintf("%s:%d,", file, brokenLine)
	if !strings.Contains(p.Output()[logAt:], place) {
		t.Errorf("the log of the refused SIGHUP reload does not name %s:\n%s", place, p.Output()[logAt:])
	}

	// The same file by `lvsd reload`: exit 1, the place on the output.
	out, err := lvs.Run(lvsdBin, "reload", "--control", sock)
	if err == nil {
		t.Errorf("lvsd reload of a broken file exited 0:\n%s", out)
	}
	if !strings.Contains(out, place) || !strings.Contains(out, "roundrobin") || !strings.Contains(out, "running configuration is kept") {
		t.Errorf("lvsd reload output lacks %s, the bad value or the verdict:\n%s", place, out)
	}
	t.Logf("lvsd reload (broken file):\n%s", out)
	st, raw := status()
	if st.LastReload == nil || st.LastReload.Applied || st.LastReload.Trigger != "control" || st.LastReload.Error == "" {
		t.Errorf("status does not report the failed reload:\n%s", raw)
	}
	if !strings.Contains(raw, place) {
		t.Errorf("status does not carry the diagnostics naming %s:\n%s", place, raw)
	}
	if st.Config.File != file || st.Config.SHA256 != hex.EncodeToString(goodSum[:]) {
		t.Errorf("status config %+v: want the old file's sha256 %x still running", st.Config, goodSum)
	}
	if len(st.VRRP) != 1 || st.VRRP[0].State != "MASTER" || st.VRRP[0].Transitions != st0.VRRP[0].Transitions || !lvs.HasAddr("198.51.100.30") {
		t.Errorf("VRRP moved after a refused reload:\n%s", raw)
	}
	human, _ := lvs.Run(lvsdBin, "status", "--control", sock)
	if !strings.Contains(human, "REFUSED") {
		t.Errorf("lvsd status does not show the refused reload:\n%s", human)
	}
	time.Sleep(2500 * time.Millisecond) // two resyncs with the old config
	if after := ipvsShape(table()); after != before {
		t.Errorf("IPVS table changed by refused reloads:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if p.Exited() {
		t.Fatal("director exited")
	}

	// The fixed file: reloaded, db2's weight changes in place.
	if err := os.WriteFile(file, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = lvs.Run(lvsdBin, "reload", "--control", sock)
	if err != nil || !strings.Contains(out, "reloaded") {
		t.Fatalf("lvsd reload of the fixed file: %v\n%s", err, out)
	}
	t.Logf("lvsd reload (fixed file):\n%s", out)
	if _, ok := lab.WaitFor(10*time.Second, func() bool {
		last = table()
		return dest("198.51.100.11", "2").MatchString(last) && dest("198.51.100.10", "1").MatchString(last)
	}); !ok {
		t.Errorf("fixed reload not applied (db2 weight 2); ipvsadm -Ln:\n%s", last)
	}
	fixedSum := sha256.Sum256([]byte(fixed))
	st, raw = status()
	if st.LastReload == nil || !st.LastReload.Applied || st.Config.SHA256 != hex.EncodeToString(fixedSum[:]) {
		t.Errorf("status after the fixed reload:\n%s", raw)
	}
	time.Sleep(time.Second)

	res := finish()
	t.Logf("client loop: %d connections answered (db1 %d, db2 %d), %d failed", res.ok, res.answered["db1"], res.answered["db2"], len(res.failures))
	for _, f := range res.failures {
		t.Error(f)
	}
	// Under TCG a connection takes milliseconds; the loop ran for more than
	// five seconds, so a few dozen is a floor that proves it ran throughout.
	if res.ok < 50 || res.answered["db1"] == 0 || res.answered["db2"] == 0 {
		t.Errorf("client loop too thin to prove anything: %d answered (%v)", res.ok, res.answered)
	}
	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Errorf("stop: %v", err)
	}
}
