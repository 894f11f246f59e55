//go:build integration

package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// benchCell is one advert interval / protocol version of the failover
// benchmark (issue 3, section Benchmark).
type benchCell struct {
	name    string
	version int
	advert  time.Duration
	runs    int
}

// bound is Master_Down_Interval for the backup's priority: the backup
// takes over this long after the last advert it heard (RFC 3768 §6.1,
// RFC 5798 §6.1).
func (c benchCell) bound(prio int) time.Duration {
	return 3*c.advert + time.Duration(256-prio)*c.advert/256
}

// lvsdBenchConf is a VRRP-only director file for the cell. v3 has no
// authentication, so the block is only written for v2.
func lvsdBenchConf(c benchCell, state string, prio int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "vrrp_instance \"VI_1\" {\n  state = %q\n  interface = \"eth0\"\n  virtual_router_id = 51\n  priority = %d\n", state, prio)
	if c.version == 3 {
		fmt.Fprintf(&b, "  version = 3\n  advert_int = %q\n", c.advert.String())
	} else {
		fmt.Fprintf(&b, "  advert_int = %q\n  authentication {\n    auth_type = \"PASS\"\n    auth_pass = \"benchpw\"\n  }\n", c.advert.String())
	}
	b.WriteString("  virtual_ipaddress = [\"198.51.100.30/24\"]\n}\n")
	return b.String()
}

// keepalivedBenchConf is the same instance for keepalived.
func keepalivedBenchConf(c benchCell, state string, prio int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global_defs {\n  router_id lvsd_bench\n  enable_script_security\n}\nvrrp_instance VI_1 {\n  state %s\n  interface eth0\n  virtual_router_id 51\n  priority %d\n", state, prio)
	if c.version == 3 {
		fmt.Fprintf(&b, "  version 3\n  advert_int %g\n", c.advert.Seconds())
	} else {
		fmt.Fprintf(&b, "  advert_int %g\n  authentication {\n    auth_type PASS\n    auth_pass benchpw\n  }\n", c.advert.Seconds())
	}
	b.WriteString("  virtual_ipaddress {\n    198.51.100.30/24 dev eth0\n  }\n}\n")
	return b.String()
}

const benchBackupPrio = 100

// TestFailoverBenchmark measures failover end to end as a client sees it:
// a client connects to VIP:3306 every 10 ms, the master's cable is cut at a
// random phase of the advert cycle, and the outage is the time from the cut
// to the first connection answered by the new master. Both directors run
// lvsd, then both run keepalived, in the same harness. It only runs from
// `make bench` (LVSD_BENCH_FAILOVER=1): it takes minutes.
func TestFailoverBenchmark(t *testing.T) {
	if os.Getenv("LVSD_BENCH_FAILOVER") != "1" {
		t.Skip("set LVSD_BENCH_FAILOVER=1 (make bench) to run the failover benchmark")
	}
	needKeepalived(t)
	cells := []benchCell{
		{name: "v2 advert 1s", version: 2, advert: time.Second, runs: 10},
		{name: "v3 advert 100ms", version: 3, advert: 100 * time.Millisecond, runs: 10},
	}
	type row struct {
		cell      benchCell
		lvsd, kad []time.Duration
	}
	var rows []row
	for _, c := range cells {
		r := row{cell: c}
		for i := 0; i < c.runs; i++ {
			r.lvsd = append(r.lvsd, failoverRun(t, c, false, i))
			r.kad = append(r.kad, failoverRun(t, c, true, i))
		}
		rows = append(rows, r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| cell | runs | lvsd median | lvsd min | lvsd max | keepalived median | keepalived min | keepalived max | bound after last advert |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		lm, ln, lx := stats(r.lvsd)
		km, kn, kx := stats(r.kad)
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", r.cell.name, r.cell.runs,
			ms(lm), ms(ln), ms(lx), ms(km), ms(kn), ms(kx), ms(r.cell.bound(benchBackupPrio)))
	}
	t.Log(b.String())
}

func stats(d []time.Duration) (median, lo, hi time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	n := len(s)
	median = s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return median, s[0], s[n-1]
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
}

// failoverRun builds a fresh lab (no state carried between runs: ARP caches,
// bridge FDB and daemons all start cold) and returns one outage.
func failoverRun(t *testing.T, c benchCell, keepalived bool, i int) time.Duration {
	t.Helper()
	// The prefix keeps the namespaces apart from the other tests' labs.
	l, err := lab.New("fb", t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	d1 := addHost(t, l, "d1", "198.51.100.20/24")
	d2 := addHost(t, l, "d2", "198.51.100.21/24")
	client := addHost(t, l, "c", "198.51.100.2/24")

	// The VIP's service: a listener on every address of each director, so
	// whoever holds the VIP answers, naming itself. This isolates VRRP +
	// GARP + the client's ARP cache, which is what failover costs.
	for _, h := range []*lab.Host{d1, d2} {
		ln, err := h.Serve("0.0.0.0:3306", h.Name)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
	}
	start := func(h *lab.Host, state string, prio int) *lab.Proc {
		if keepalived {
			return startKeepalived(t, l, h, keepalivedBenchConf(c, state, prio))
		}
		return startDirector(t, l, h, lvsdBenchConf(c, state, prio))
	}
	p1 := start(d1, "MASTER", benchBackupPrio+1)
	waitVIP(t, d1, true, 5*time.Second)
	p2 := start(d2, "BACKUP", benchBackupPrio)
	impl := "lvsd"
	if keepalived {
		impl = "keepalived"
	}
	logs := func() string { return p1.Output() + "\n----\n" + p2.Output() }

	// The client must be talking to d1 through a resolved ARP entry before
	// the cut: the GARP has to move an existing entry, as in production.
	vipAddr := vip + ":3306"
	if _, ok := lab.WaitFor(5*time.Second, func() bool { g, err := client.Dial(vipAddr, 50*time.Millisecond); return err == nil && g == "d1" }); !ok {
		t.Fatalf("%s %s run %d: client never reached d1 through the VIP", impl, c.name, i)
	}
	// Let the backup hear a few adverts, so it is settled in BACKUP, then
	// cut at a uniformly random phase of the advert cycle.
	time.Sleep(c.bound(benchBackupPrio) + c.advert)
	if d2.HasAddr(vip) {
		t.Fatalf("%s %s run %d: d2 took the VIP while d1 is master:\n%s", impl, c.name, i, logs())
	}
	time.Sleep(time.Duration(rand.Int64N(int64(c.advert))))

	// The client loop: a dial every 10 ms (50 ms timeout), sequentially, as a
	// connection pool retrying would. It stops at the first answer from d2.
	var (
		mu    sync.Mutex
		cut   time.Time
		first time.Time
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		deadline := time.Now().Add(c.bound(benchBackupPrio) + c.advert + 5*time.Second)
		for time.Now().Before(deadline) {
			next := time.Now().Add(10 * time.Millisecond)
			g, err := client.Dial(vipAddr, 50*time.Millisecond)
			if err == nil && g == "d2" {
				mu.Lock()
				first = time.Now()
				mu.Unlock()
				return
			}
			time.Sleep(time.Until(next))
		}
	}()
	// The cut is timed from before the `ip link set down` exec, so the
	// figure includes its few ms: it errs on the pessimistic side.
	mu.Lock()
	cut = time.Now()
	mu.Unlock()
	if err := d1.LinkDown(); err != nil {
		t.Fatal(err)
	}
	<-done
	mu.Lock()
	defer mu.Unlock()
	if first.IsZero() {
		t.Fatalf("%s %s run %d: client never reached d2 after the cut:\n%s", impl, c.name, i, logs())
	}
	d := first.Sub(cut)
	t.Logf("%s %s run %d: outage %v (bound %v after the last advert)", impl, c.name, i, d.Round(time.Millisecond), c.bound(benchBackupPrio))
	return d
}
