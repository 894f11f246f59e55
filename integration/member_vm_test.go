//go:build vm

package integration

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// natLab is a NAT topology on one segment: a client on 203.0.113.0/24
// routed through the director, whose eth0 also carries 198.51.100.20 and
// the VIP 198.51.100.40; real servers on 198.51.100.0/24 route back through
// the director, which forwards (IPVS NAT rewrites the replies).
type natLab struct {
	l      *lab.Lab
	lvs    *lab.Host
	client *lab.Host
	rs     []*lab.Host
	sock   string
	proc   *lab.Proc
}

func newNATLab(t *testing.T, prefix string, rsAddrs ...string) *natLab {
	t.Helper()
	n := &natLab{l: newLab(t, prefix)}
	n.lvs = addHost(t, n.l, "lvs", "198.51.100.20/24")
	n.client = addHost(t, n.l, "cl", "203.0.113.100/24")
	for i, a := range rsAddrs {
		n.rs = append(n.rs, addHost(t, n.l, fmt.Sprintf("rs%d", i), a+"/24"))
	}
	must := func(h *lab.Host, args ...string) {
		t.Helper()
		if out, err := h.Run(args...); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	must(n.lvs, "modprobe", "ip_vs")
	must(n.lvs, "ip", "addr", "add", "203.0.113.1/24", "dev", "eth0")
	must(n.lvs, "ip", "addr", "add", "198.51.100.40/32", "dev", "eth0")
	must(n.lvs, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	// The director forwards on the interface it received on: without
	// this it tells real servers to bypass it, which NAT cannot allow.
	must(n.lvs, "sysctl", "-qw", "net.ipv4.conf.all.send_redirects=0")
	must(n.lvs, "sysctl", "-qw", "net.ipv4.conf.eth0.send_redirects=0")
	must(n.client, "ip", "route", "add", "default", "via", "203.0.113.1")
	for _, h := range n.rs {
		must(h, "ip", "route", "add", "default", "via", "198.51.100.20")
	}
	n.sock = n.l.Dir + "/lvs.sock"
	return n
}

// start runs lvsd director on conf.
func (n *natLab) start(t *testing.T, conf string) {
	t.Helper()
	file, err := n.l.WriteFile("lvs.hcl", conf)
	if err != nil {
		t.Fatal(err)
	}
	n.proc, err = n.lvs.Start("lvsd", lvsdBin, "director", "-f", file, "--control", n.sock, "--pid-file", n.l.Dir+"/lvs.pid")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("lvsd log:\n%s", n.proc.Output())
		}
	})
}

func (n *natLab) lvsd(t *testing.T, args ...string) string {
	t.Helper()
	args = append([]string{args[0], "--control", n.sock}, args[1:]...)
	out, err := n.lvs.Run(append([]string{lvsdBin}, args...)...)
	if err != nil {
		t.Fatalf("lvsd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// waitTable polls ipvsadm -Ln until cond holds.
func (n *natLab) waitTable(t *testing.T, what string, limit time.Duration, cond func(string) bool) string {
	t.Helper()
	var last string
	if _, ok := lab.WaitFor(limit, func() bool {
		last, _ = n.lvs.Run("ipvsadm", "-Ln")
		return cond(last)
	}); !ok {
		t.Fatalf("%s; ipvsadm -Ln:\n%s", what, last)
	}
	return last
}

func masq(addr, weight string) *regexp.Regexp {
	return regexp.MustCompile(`->\s+` + regexp.QuoteMeta(addr) + `\s+Masq\s+` + weight + `\s`)
}

// echoServer answers "NAME LINE" to every line, on long-lived connections.
type echoServer struct {
	ln    net.Listener
	mu    sync.Mutex
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func serveEcho(t *testing.T, h *lab.Host, addr, name string) *echoServer {
	t.Helper()
	s := &echoServer{conns: map[net.Conn]bool{}}
	if err := h.Do(func() error {
		var err error
		s.ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := s.ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() { s.mu.Lock(); delete(s.conns, c); s.mu.Unlock(); c.Close() }()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(name + " " + line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *echoServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// clientConn is a long-lived client connection through the VIP.
type clientConn struct {
	c net.Conn
	r *bufio.Reader
}

func dialVIP(h *lab.Host, addr string) (*clientConn, error) {
	var c net.Conn
	err := h.Do(func() error {
		var err error
		c, err = net.DialTimeout("tcp", addr, 10*time.Second)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &clientConn{c: c, r: bufio.NewReader(c)}, nil
}

// ask sends msg and returns the server's name from its answer.
func (cc *clientConn) ask(msg string) (string, error) {
	_ = cc.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := cc.c.Write([]byte(msg + "\n")); err != nil {
		return "", err
	}
	line, err := cc.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	name, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
	if rest != msg {
		return "", fmt.Errorf("answer %q to %q", line, msg)
	}
	return name, nil
}

const sorryConf = `virtual_server "web" {
  address      = "198.51.100.40:80"
  lvs_sched    = "rr"
  lvs_method   = "NAT"
  delay_loop   = "1s"
  sorry_server = "198.51.100.12:80"
  quorum_up    = "%[1]s/notify up"
  quorum_down  = "%[1]s/notify down"

  real_server "a" {
    address = "198.51.100.10:80"
    tcp_check {
      connect_timeout    = "3s"
      retry              = 1
      delay_before_retry = "1s"
    }
  }
  real_server "b" {
    address = "198.51.100.11:80"
    tcp_check {
      connect_timeout    = "3s"
      retry              = 1
      delay_before_retry = "1s"
    }
  }
}
`

// TestMemberSorryServer: when both real servers' listeners die, the quorum
// is lost, quorum_down runs and the sorry server takes the traffic; when
// one comes back, the quorum is regained, quorum_up runs and the sorry
// server leaves.
func TestMemberSorryServer(t *testing.T) {
	n := newNATLab(t, "mbs", "198.51.100.10", "198.51.100.11", "198.51.100.12")
	marker := n.l.Dir + "/marker"
	if _, err := n.l.WriteFile("notify", "#!/bin/sh\necho \"$1\" >> "+marker+"\n"); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(n.l.Dir+"/notify", 0o755); err != nil {
		t.Fatal(err)
	}
	a, err := n.rs[0].Serve("198.51.100.10:80", "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.rs[1].Serve("198.51.100.11:80", "b")
	if err != nil {
		t.Fatal(err)
	}
	sorry, err := n.rs[2].Serve("198.51.100.12:80", "sorry")
	if err != nil {
		t.Fatal(err)
	}
	defer sorry.Close()
	n.start(t, fmt.Sprintf(sorryConf, n.l.Dir))
	n.waitTable(t, "real servers not programmed", 30*time.Second, func(s string) bool {
		return masq("198.51.100.10:80", "1").MatchString(s) && masq("198.51.100.11:80", "1").MatchString(s) &&
			!strings.Contains(s, "198.51.100.12")
	})
	if got, err := n.client.Dial("198.51.100.40:80", 10*time.Second); err != nil || (got != "a" && got != "b") {
		t.Fatalf("through the VIP: %q %v", got, err)
	}

	// A slow first check under emulation may already have flapped the
	// quorum: expect lines after what is there now.
	m0, _ := os.ReadFile(marker)
	before := string(m0)
	a.Close()
	b.Close()
	n.waitTable(t, "sorry server not standing in", 30*time.Second, func(s string) bool {
		return masq("198.51.100.12:80", "1").MatchString(s) && !strings.Contains(s, "198.51.100.10") && !strings.Contains(s, "198.51.100.11")
	})
	if got, err := n.client.Dial("198.51.100.40:80", 10*time.Second); err != nil || got != "sorry" {
		t.Errorf("through the VIP with both down: %q %v, want sorry", got, err)
	}
	if _, ok := lab.WaitFor(15*time.Second, func() bool { m, _ := os.ReadFile(marker); return string(m) == before+"down\n" }); !ok {
		m, _ := os.ReadFile(marker)
		t.Errorf("marker %q, want quorum_down's line", m)
	}

	a, err = n.rs[0].Serve("198.51.100.10:80", "a")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	n.waitTable(t, "sorry server still there after a came back", 30*time.Second, func(s string) bool {
		return masq("198.51.100.10:80", "1").MatchString(s) && !strings.Contains(s, "198.51.100.12")
	})
	if got, err := n.client.Dial("198.51.100.40:80", 10*time.Second); err != nil || got != "a" {
		t.Errorf("through the VIP with a back: %q %v, want a", got, err)
	}
	if _, ok := lab.WaitFor(15*time.Second, func() bool { m, _ := os.ReadFile(marker); return string(m) == before+"down\nup\n" }); !ok {
		m, _ := os.ReadFile(marker)
		t.Errorf("marker %q, want quorum_down then quorum_up", m)
	}
}

const drainConf = `virtual_server "web" {
  address       = "198.51.100.40:80"
  lvs_sched     = "rr"
  lvs_method    = "NAT"
  drain_timeout = "%s"

  real_server "a" {
    address = "198.51.100.10:80"
  }
  real_server "b" {
    address = "198.51.100.11:80"
  }
}
`

// TestMemberDrain: a client holds a connection to a; `lvsd drain` sets a
// to weight 0, new connections go to b only, the held connection still
// works; once it is closed (reset, so the kernel forgets it in 10 s) a is
// deleted, before drain_timeout. undrain brings it back. A second drain
// with the connection held is ended by drain_timeout.
func TestMemberDrain(t *testing.T) {
	n := newNATLab(t, "mbd", "198.51.100.10", "198.51.100.11")
	serveEcho(t, n.rs[0], "198.51.100.10:80", "a")
	serveEcho(t, n.rs[1], "198.51.100.11:80", "b")
	n.start(t, fmt.Sprintf(drainConf, "90s"))
	n.waitTable(t, "real servers not programmed", 30*time.Second, func(s string) bool {
		return masq("198.51.100.10:80", "1").MatchString(s) && masq("198.51.100.11:80", "1").MatchString(s)
	})

	// Hold a connection that landed on a.
	held := holdOn(t, n, "a")
	n.lvsd(t, "drain", "web", "a")
	n.waitTable(t, "a not at weight 0", 15*time.Second, func(s string) bool {
		return masq("198.51.100.10:80", "0").MatchString(s) && masq("198.51.100.11:80", "1").MatchString(s)
	})
	for i := range 6 {
		cc, err := dialVIP(n.client, "198.51.100.40:80")
		if err != nil {
			t.Fatal(err)
		}
		name, err := cc.ask(fmt.Sprintf("new %d", i))
		cc.c.Close()
		if err != nil || name != "b" {
			t.Errorf("new connection %d while a drains: %q %v, want b", i, name, err)
		}
	}
	if name, err := held.ask("still there"); err != nil || name != "a" {
		t.Fatalf("held connection after drain: %q %v", name, err)
	}
	status := n.lvsd(t, "status")
	if !strings.Contains(status, "DRAINING") || !regexp.MustCompile(`198\.51\.100\.10:80\s+lvsd drain\s+draining, 1 active`).MatchString(status) {
		t.Errorf("status does not show a draining with its connection:\n%s", status)
	}
	// Still there while the connection lives.
	time.Sleep(3 * time.Second)
	if s, _ := n.lvs.Run("ipvsadm", "-Ln"); !masq("198.51.100.10:80", "0").MatchString(s) {
		t.Fatalf("a deleted while its connection is alive:\n%s", s)
	}
	if name, err := held.ask("after 3s"); err != nil || name != "a" {
		t.Fatalf("held connection: %q %v", name, err)
	}
	closed := time.Now()
	resetClose(held.c)
	n.waitTable(t, "a not deleted after its connection closed", 60*time.Second, func(s string) bool {
		return !strings.Contains(s, "198.51.100.10:80") && masq("198.51.100.11:80", "1").MatchString(s)
	})
	t.Logf("a deleted %v after its last connection was reset", time.Since(closed).Round(time.Second))
	if !strings.Contains(n.proc.Output(), `reason="no connections"`) && !strings.Contains(n.proc.Output(), `"reason":"no connections"`) {
		t.Errorf("lvsd did not log the drain's end by connections:\n%s", n.proc.Output())
	}

	n.lvsd(t, "undrain", "web", "198.51.100.10:80")
	n.waitTable(t, "a not restored by undrain", 15*time.Second, func(s string) bool {
		return masq("198.51.100.10:80", "1").MatchString(s)
	})

	// drain_timeout ends a drain whose connection stays: reload with a
	// short one (the drain survives reloads), hold, drain, wait.
	file := n.l.Dir + "/lvs.hcl"
	if err := os.WriteFile(file, []byte(fmt.Sprintf(drainConf, "8s")), 0o644); err != nil {
		t.Fatal(err)
	}
	n.lvsd(t, "reload")
	held = holdOn(t, n, "a")
	n.lvsd(t, "drain", "web", "a")
	start := time.Now()
	n.waitTable(t, "a not deleted at drain_timeout", 60*time.Second, func(s string) bool {
		return !strings.Contains(s, "198.51.100.10:80")
	})
	if took := time.Since(start); took < 7*time.Second {
		t.Errorf("a deleted %v after drain with a live connection, before drain_timeout 8s", took)
	}
	if !strings.Contains(n.proc.Output(), "timeout") {
		t.Errorf("lvsd did not log the drain's end by timeout")
	}
	resetClose(held.c) // a graceful close would sit in InActConn (TIME_WAIT, 2 min) on the re-added a

	// Removing a from the file drains it the same way: weight 0 while
	// its connection lives, deleted once it is gone.
	n.lvsd(t, "undrain", "web", "a")
	n.waitTable(t, "a not restored by undrain", 15*time.Second, func(s string) bool {
		return masq("198.51.100.10:80", "1").MatchString(s)
	})
	held = holdOn(t, n, "a")
	without := strings.Replace(fmt.Sprintf(drainConf, "60s"), "  real_server \"a\" {\n    address = \"198.51.100.10:80\"\n  }\n", "", 1)
	if strings.Contains(without, "198.51.100.10") {
		t.Fatalf("config edit failed:\n%s", without)
	}
	if err := os.WriteFile(file, []byte(without), 0o644); err != nil {
		t.Fatal(err)
	}
	n.lvsd(t, "reload")
	n.waitTable(t, "removed a not drained at weight 0", 15*time.Second, func(s string) bool {
		return masq("198.51.100.10:80", "0").MatchString(s)
	})
	if name, err := held.ask("after removal"); err != nil || name != "a" {
		t.Fatalf("held connection after a was removed from the file: %q %v", name, err)
	}
	if status := n.lvsd(t, "status"); !strings.Contains(status, "removed from config") {
		t.Errorf("status does not show the removed server draining:\n%s", status)
	}
	resetClose(held.c)
	n.waitTable(t, "removed a not deleted after its connection closed", 60*time.Second, func(s string) bool {
		return !strings.Contains(s, "198.51.100.10:80")
	})
}

// holdOn opens connections through the VIP until one lands on want and
// returns it (the others are closed).
func holdOn(t *testing.T, n *natLab, want string) *clientConn {
	t.Helper()
	for i := range 10 {
		cc, err := dialVIP(n.client, "198.51.100.40:80")
		if err != nil {
			t.Fatal(err)
		}
		name, err := cc.ask(fmt.Sprintf("hello %d", i))
		if err != nil {
			t.Fatal(err)
		}
		if name == want {
			return cc
		}
		cc.c.Close()
	}
	t.Fatalf("no connection landed on %s", want)
	return nil
}

// resetClose closes with an RST, so IPVS puts the connection in CLOSE (10 s)
// instead of TIME_WAIT (2 min).
func resetClose(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

const loadConfBase = `virtual_server "web" {
  address    = "198.51.100.40:80"
  lvs_sched  = "rr"
  lvs_method = "NAT"

  real_server "a" {
    address = "198.51.100.10:80"
  }
  real_server "b" {
    address = "198.51.100.11:80"
  }
}
`

// Three reloads that change other services: a weight, a service added, one
// removed, a scheduler.
var loadConfs = []string{
	loadConfBase + `virtual_server "other" {
  address = "198.51.100.41:80"
  real_server "x" {
    address = "198.51.100.10:8080"
  }
}
`,
	loadConfBase + `virtual_server "other" {
  address = "198.51.100.41:80"
  real_server "x" {
    address = "198.51.100.10:8080"
    weight  = 5
  }
}
virtual_server "extra" {
  address = "198.51.100.42:80"
  real_server "y" {
    address = "198.51.100.11:8080"
  }
}
`,
	loadConfBase + `virtual_server "extra" {
  address   = "198.51.100.42:80"
  lvs_sched = "wrr"
  real_server "y" {
    address = "198.51.100.11:8080"
  }
}
`,
	loadConfBase + `virtual_server "extra" {
  address   = "198.51.100.42:80"
  lvs_sched = "wrr"
  real_server "y" {
    address = "198.51.100.11:8080"
  }
  real_server "z" {
    address = "198.51.100.10:8081"
  }
}
`,
}

// TestMemberReloadUnderLoad: 20 long-lived connections and a loop of new
// connections (each a request and its answer) through a NAT service while
// three reloads change other services: no connection is reset, none fails
// to connect, the long-lived ones all still answer, and lvsd never touched
// the loaded service.
func TestMemberReloadUnderLoad(t *testing.T) {
	n := newNATLab(t, "mbl", "198.51.100.10", "198.51.100.11")
	serveEcho(t, n.rs[0], "198.51.100.10:80", "a")
	serveEcho(t, n.rs[1], "198.51.100.11:80", "b")
	n.start(t, loadConfs[0])
	n.waitTable(t, "services not programmed", 30*time.Second, func(s string) bool {
		return masq("198.51.100.10:80", "1").MatchString(s) && masq("198.51.100.11:80", "1").MatchString(s) &&
			strings.Contains(s, "198.51.100.41:80")
	})

	var long []*clientConn
	for i := range 20 {
		cc, err := dialVIP(n.client, "198.51.100.40:80")
		if err != nil {
			t.Fatalf("long-lived connection %d: %v", i, err)
		}
		defer cc.c.Close()
		if _, err := cc.ask(fmt.Sprintf("long %d", i)); err != nil {
			t.Fatalf("long-lived connection %d: %v", i, err)
		}
		long = append(long, cc)
	}
	// The reconciler logs its ops after applying them: wait for the start's
	// lines (the service and its two destinations) before counting.
	lab.WaitFor(5*time.Second, func() bool { return strings.Count(n.proc.Output(), "198.51.100.40:80") >= 3 })
	opsBefore := strings.Count(n.proc.Output(), "198.51.100.40:80")

	var ok, failed, resets atomic.Int64
	var errMu sync.Mutex
	var errs []string
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			cc, err := dialVIP(n.client, "198.51.100.40:80")
			if err == nil {
				_, err = cc.ask(fmt.Sprintf("new %d", i))
				cc.c.Close()
			}
			if err != nil {
				failed.Add(1)
				if errors.Is(err, syscall.ECONNRESET) {
					resets.Add(1)
				}
				errMu.Lock()
				errs = append(errs, err.Error())
				errMu.Unlock()
				continue
			}
			ok.Add(1)
		}
	}()

	file := n.l.Dir + "/lvs.hcl"
	for i, c := range loadConfs[1:] {
		time.Sleep(time.Second)
		before := ok.Load()
		if err := os.WriteFile(file, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		out := n.lvsd(t, "reload")
		if !strings.Contains(out, "ipvs table changed") {
			t.Errorf("reload %d: %s", i+1, out)
		}
		// Keep the load going past the reload's sync.
		if _, okk := lab.WaitFor(30*time.Second, func() bool { return ok.Load() >= before+5 }); !okk {
			t.Errorf("reload %d: the new-connection loop stalled", i+1)
		}
		for j, cc := range long {
			if _, err := cc.ask(fmt.Sprintf("reload %d long %d", i+1, j)); err != nil {
				t.Errorf("reload %d: long-lived connection %d: %v", i+1, j, err)
			}
		}
	}
	time.Sleep(time.Second)
	close(stop)
	<-done

	table, _ := n.lvs.Run("ipvsadm", "-Ln")
	if !strings.Contains(table, "198.51.100.42:80 wrr") || strings.Contains(table, "198.51.100.41:80") || !strings.Contains(table, "198.51.100.10:8081") {
		t.Errorf("the reloads were not applied:\n%s", table)
	}
	alive := 0
	for j, cc := range long {
		if _, err := cc.ask(fmt.Sprintf("end %d", j)); err != nil {
			t.Errorf("long-lived connection %d at the end: %v", j, err)
			continue
		}
		alive++
	}
	t.Logf("new connections: %d answered, %d failed (%d resets); long-lived alive at the end: %d/20", ok.Load(), failed.Load(), resets.Load(), alive)
	if failed.Load() != 0 || resets.Load() != 0 {
		t.Errorf("failures under reload: %v", errs)
	}
	if ok.Load() < 15 {
		t.Errorf("only %d new connections during the reloads", ok.Load())
	}
	if after := strings.Count(n.proc.Output(), "198.51.100.40:80"); after != opsBefore {
		t.Errorf("lvsd logged about the loaded service during the reloads:\n%s", n.proc.Output())
	}
}
