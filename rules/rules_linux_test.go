//go:build integration

package rules

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-iptables/iptables"
	"github.com/vishvananda/netns"
)

// These tests drive the real iptables binaries, as root, inside a network
// namespace of their own; the host's tables are checked to stay untouched.
//
// go-iptables execs iptables, and a child process starts in the network
// namespace of the thread that forks it. So every goroutine that calls into
// the agent locks its OS thread and enters the namespace first (goInNS);
// the thread is never unlocked, so the Go runtime discards it afterwards
// instead of handing a namespaced thread to other goroutines. The test
// itself inspects and disturbs the namespace from outside with
// `ip netns exec`, which independently proves the children landed there.

const testNS = "lvsd-rules-test"

var (
	itVIP4    = netip.MustParseAddr("198.51.100.30")
	itVIP6    = netip.MustParseAddr("2001:db8::30")
	itForeign = netip.MustParseAddr("198.51.100.99")
)

func TestIntegrationRules(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	ran := false
	for _, backend := range []string{"nft", "legacy"} {
		if _, err := exec.LookPath("iptables-" + backend); err != nil {
			continue
		}
		ran = true
		t.Run(backend, func(t *testing.T) { testBackend(t, backend) })
	}
	if !ran {
		t.Skip("no iptables-nft or iptables-legacy")
	}
}

func testBackend(t *testing.T, backend string) {
	ipt4, ipt6 := "iptables-"+backend, "ip6tables-"+backend
	hostBefore := hostRules(t, ipt4, ipt6)
	newNS(t)

	// open returns an agent on this backend; it must run inside the netns.
	open := func(vips []netip.Addr, log *slog.Logger) (*Agent, error) {
		v4, err := iptables.New(iptables.Path(ipt4), iptables.Timeout(lockWait))
		if err != nil {
			return nil, err
		}
		v6, err := iptables.New(iptables.Path(ipt6), iptables.IPFamily(iptables.ProtocolIPv6), iptables.Timeout(lockWait))
		if err != nil {
			return nil, err
		}
		return NewAgent(vips, v4, v6, log), nil
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	vips := []netip.Addr{itVIP4, itVIP6}

	// A crashed earlier agent: it installed its rules and never removed
	// them; someone also added the same rule twice by hand, and there is a
	// rule lvsd does not own.
	runErr := make(chan error, 1)
	goInNS(t, func() error {
		crashed, err := open(vips, log)
		if err != nil {
			return err
		}
		return crashed.Reconcile()
	})
	nsRun(t, ipt4, "-t", "nat", "-A", "PREROUTING", "-d", "198.51.100.30/32", "-m", "comment", "--comment", "lvsd: 198.51.100.30", "-j", "REDIRECT")
	nsRun(t, ipt4, "-t", "nat", "-A", "PREROUTING", "-d", itForeign.String()+"/32", "-j", "REDIRECT")
	if n := count(t, ipt4, itVIP4); n != 2 {
		t.Fatalf("setup: %d rules for %v, want 2", n, itVIP4)
	}

	// Rule appears, once per VIP, after a restart over the leftovers.
	var a *Agent
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const interval = 200 * time.Millisecond
	goInNS(t, func() error {
		var err error
		a, err = open(vips, log)
		return err
	})
	started := make(chan struct{})
	go inNS(t, func() error {
		close(started)
		runErr <- a.Run(ctx, interval)
		return nil
	})
	<-started
	waitFor(t, 5*time.Second, "one rule per VIP after restart", func() bool {
		return count(t, ipt4, itVIP4) == 1 && count(t, ipt6, itVIP6) == 1
	})
	// Semantically the seed's `-d VIP -j REDIRECT`: -C finds it by that spec.
	nsRun(t, ipt4, "-t", "nat", "-C", "PREROUTING", "-d", "198.51.100.30", "-m", "comment", "--comment", "lvsd: 198.51.100.30", "-j", "REDIRECT")
	nsRun(t, ipt6, "-t", "nat", "-C", "PREROUTING", "-d", "2001:db8::30", "-m", "comment", "--comment", "lvsd: 2001:db8::30", "-j", "REDIRECT")
	for _, s := range a.Status() {
		if !s.Present || s.Repairs != 0 {
			t.Errorf("after restart: %+v, want present, no repairs", s)
		}
	}
	// Steady state: several intervals without churn.
	time.Sleep(3 * interval)
	for _, s := range a.Status() {
		if s.Repairs != 0 || s.Error != "" {
			t.Errorf("steady state churned: %+v", s)
		}
	}

	// Survives a flush of both nat tables within a couple of intervals.
	nsRun(t, ipt4, "-t", "nat", "-F")
	nsRun(t, ipt6, "-t", "nat", "-F")
	flushed := time.Now()
	waitFor(t, 5*time.Second, "rules re-installed after -F", func() bool {
		return count(t, ipt4, itVIP4) == 1 && count(t, ipt6, itVIP6) == 1
	})
	if d := time.Since(flushed); d > 2*interval+500*time.Millisecond {
		t.Errorf("repair took %v, want within ~2 intervals of %v", d, interval)
	}
	waitFor(t, 2*time.Second, "repairs counted", func() bool {
		st := a.Status()
		return st[0].Repairs == 1 && st[1].Repairs == 1
	})
	if n := count(t, ipt4, itVIP4) + count(t, ipt6, itVIP6); n != 2 {
		t.Errorf("%d lvsd rules after repair, want 2", n)
	}

	// With the nf_tables backend the whole ruleset can vanish (nft flush
	// ruleset deletes the nat tables themselves); Append recreates them.
	if backend == "nft" {
		nsRun(t, "nft", "flush", "ruleset")
		waitFor(t, 5*time.Second, "rules re-installed after nft flush ruleset", func() bool {
			return count(t, ipt4, itVIP4) == 1 && count(t, ipt6, itVIP6) == 1
		})
	}

	// A single deleted rule is repaired too.
	nsRun(t, ipt6, "-t", "nat", "-D", "PREROUTING", "-d", "2001:db8::30/128", "-m", "comment", "--comment", "lvsd: 2001:db8::30", "-j", "REDIRECT")
	waitFor(t, 5*time.Second, "deleted v6 rule re-installed", func() bool { return count(t, ipt6, itVIP6) == 1 })

	// Reload drops the IPv6 VIP: its rule goes, the IPv4 one stays.
	a.SetVIPs([]netip.Addr{itVIP4})
	waitFor(t, 5*time.Second, "v6 rule removed on reload", func() bool {
		return count(t, ipt6, itVIP6) == 0 && count(t, ipt4, itVIP4) == 1
	})

	// Removed on cancel; the foreign rule stays.
	nsRun(t, ipt4, "-t", "nat", "-A", "PREROUTING", "-d", itForeign.String()+"/32", "-j", "REDIRECT")
	cancel()
	select {
	case err := <-runErr:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if n4, n6 := count(t, ipt4, itVIP4), count(t, ipt6, itVIP6); n4 != 0 || n6 != 0 {
		t.Errorf("after stop: %d v4 and %d v6 lvsd rules remain", n4, n6)
	}
	if out := nsOut(t, ipt4, "-t", "nat", "-S", "PREROUTING"); !strings.Contains(out, "-d 198.51.100.99/32 -j REDIRECT") {
		t.Errorf("foreign rule removed:\n%s", out)
	}

	// Every command ran inside the namespace: the host is as it was.
	if after := hostRules(t, ipt4, ipt6); after != hostBefore {
		t.Errorf("host nat tables changed:\nbefore:\n%s\nafter:\n%s", hostBefore, after)
	}
}

// newNS creates the test namespace (removing a leftover) and deletes it at
// the end of the test.
func newNS(t *testing.T) {
	t.Helper()
	_ = exec.Command("ip", "netns", "del", testNS).Run()
	if out, err := exec.Command("ip", "netns", "add", testNS).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", testNS).CombinedOutput(); err != nil {
			t.Errorf("ip netns del: %v: %s", err, out)
		}
	})
}

// inNS runs fn on a locked OS thread that has entered the test namespace.
// The thread is deliberately left locked so that it dies with the goroutine.
func inNS(t *testing.T, fn func() error) {
	runtime.LockOSThread()
	ns, err := netns.GetFromName(testNS)
	if err != nil {
		t.Errorf("open netns: %v", err)
		return
	}
	defer ns.Close()
	if err := netns.Set(ns); err != nil {
		t.Errorf("enter netns: %v", err)
		return
	}
	if err := fn(); err != nil {
		t.Errorf("in netns: %v", err)
	}
}

// goInNS runs fn in the namespace and waits for it.
func goInNS(t *testing.T, fn func() error) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		inNS(t, fn)
	}()
	<-done
	if t.Failed() {
		t.FailNow()
	}
}

func nsOut(t *testing.T, cmd string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", testNS, cmd}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns exec %s %s: %v: %s", cmd, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func nsRun(t *testing.T, cmd string, args ...string) { t.Helper(); nsOut(t, cmd, args...) }

// count is how many rules in the namespace's nat PREROUTING carry vip's
// lvsd comment.
func count(t *testing.T, cmd string, vip netip.Addr) int {
	t.Helper()
	out := nsOut(t, cmd, "-t", "nat", "-S", "PREROUTING")
	return strings.Count(out, fmt.Sprintf("--comment \"lvsd: %s\"", vip))
}

func hostRules(t *testing.T, cmds ...string) string {
	t.Helper()
	var b strings.Builder
	for _, c := range cmds {
		if strings.Contains(c, "legacy") && !legacyNATExists(c) {
			// Listing would instantiate an (empty) legacy nat table in the
			// host namespace, which then makes iptables-nft warn about
			// legacy tables; if none exists, it holds no lvsd rule either.
			continue
		}
		out, err := exec.Command(c, "-t", "nat", "-S").Output()
		if err != nil {
			t.Fatalf("%s -t nat -S on the host: %v: %s", c, err, out)
		}
		b.Write(out)
	}
	if strings.Contains(b.String(), "lvsd: ") {
		t.Fatalf("host nat tables hold lvsd rules:\n%s", b.String())
	}
	return b.String()
}

// legacyNATExists reports whether the host namespace already has the legacy
// nat table of cmd's family.
func legacyNATExists(cmd string) bool {
	names := "/proc/net/ip_tables_names"
	if strings.HasPrefix(cmd, "ip6") {
		names = "/proc/net/ip6_tables_names"
	}
	b, err := os.ReadFile(names)
	return err == nil && slices.Contains(strings.Fields(string(b)), "nat")
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
