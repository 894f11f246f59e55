package healthcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// window is a failure interval [from, to) of one checker, in seconds from t0.
type window struct{ from, to int }

// scripted returns a checker factory whose checker for connect_port p fails
// inside fails[p], with the error "<kind> failed".
func scripted(clk *fakeClock, fails map[uint16][]window) func(conf.Check) Checker {
	return func(c conf.Check) Checker {
		return checkFunc(func(context.Context) error {
			now := clk.Now().Sub(t0)
			for _, w := range fails[c.Target.Port()] {
				if now >= time.Duration(w.from)*time.Second && now < time.Duration(w.to)*time.Second {
					return fmt.Errorf("%s failed", c.Kind)
				}
			}
			return nil
		})
	}
}

func chk(kind string, port uint16, retry int, delayLoop time.Duration) conf.Check {
	c := conf.Check{Kind: kind, Target: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.10"), port),
		ConnectTimeout: time.Second, Retry: retry, DelayBeforeRetry: time.Second, DelayLoop: delayLoop}
	if kind == conf.CheckMySQL {
		c.MySQL = &conf.MySQLCheck{User: "monitor", Password: "s3cret-pw"}
	}
	return c
}

// TestManagerAllCheckersMustPass: each checker keeps its own schedule and
// retry state; the server is down while any checker is down.
func TestManagerAllCheckersMustPass(t *testing.T) {
	const s = time.Second
	for _, tc := range []struct {
		name   string
		checks []conf.Check
		fails  map[uint16][]window
		until  time.Duration
		want   []change
		errs   []string
	}{
		{
			name:   "one checker healthy, other flaps",
			checks: []conf.Check{chk(conf.CheckTCP, 3306, 0, 3*s), chk(conf.CheckMySQL, 3307, 0, 3*s)},
			fails:  map[uint16][]window{3307: {{10, 14}}},
			until:  30 * s,
			// mysql checks at 0,3,...: fails at 12, ok at 15.
			want: []change{{12 * s, false}, {15 * s, true}},
			errs: []string{"mysql failed", ""},
		},
		{
			// tcp every 3 s retry 0: down 12, up 21. mysql every 5 s
			// retry 1: fails 15, retry 16 -> down, up at 41. The server
			// is down from 12 to 41, once.
			name:   "overlapping failures: down from the first down to the last up",
			checks: []conf.Check{chk(conf.CheckTCP, 3306, 0, 3*s), chk(conf.CheckMySQL, 3307, 1, 5*s)},
			fails:  map[uint16][]window{3306: {{10, 20}}, 3307: {{15, 40}}},
			until:  60 * s,
			want:   []change{{12 * s, false}, {41 * s, true}},
			errs:   []string{"tcp failed", ""},
		},
		{
			name:   "retries of one checker do not take the server down",
			checks: []conf.Check{chk(conf.CheckTCP, 3306, 0, 3*s), chk(conf.CheckHTTP, 80, 2, 5*s)},
			fails:  map[uint16][]window{80: {{5, 7}}}, // fails at 5 and 6 (retries), ok at 7
			until:  30 * s,
		},
		{
			name:   "three checkers, each down in turn",
			checks: []conf.Check{chk(conf.CheckTCP, 1, 0, 2*s), chk(conf.CheckMySQL, 2, 0, 2*s), chk(conf.CheckSSL, 3, 0, 2*s)},
			fails:  map[uint16][]window{1: {{4, 5}}, 2: {{8, 9}}, 3: {{12, 13}}},
			until:  20 * s,
			want:   []change{{4 * s, false}, {6 * s, true}, {8 * s, false}, {10 * s, true}, {12 * s, false}, {14 * s, true}},
			errs:   []string{"tcp failed", "", "mysql failed", "", "ssl failed", ""},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil, 0)
			h.m.newChecker = scripted(h.clk, tc.fails)
			h.m.Set([]conf.VirtualServer{{Name: "vs", RealServers: []conf.RealServer{
				{Address: netip.MustParseAddrPort("192.0.2.10:3306"), Checks: tc.checks},
			}}})
			h.run(len(tc.checks))
			h.clk.Advance(tc.until)
			trs := h.transitions(len(tc.want))
			h.noMoreTransitions()
			var got []change
			var errs []string
			for _, tr := range trs {
				got = append(got, change{tr.At.Sub(t0), tr.Up})
				errs = append(errs, tr.Err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("transitions %v, want %v", got, tc.want)
			}
			if !slices.Equal(errs, tc.errs) {
				t.Errorf("errors %q, want %q", errs, tc.errs)
			}
		})
	}
}

func TestManagerStatusCheckers(t *testing.T) {
	h := newHarness(t, nil, 0)
	h.m.newChecker = scripted(h.clk, map[uint16][]window{3307: {{0, 100}}})
	h.m.Set([]conf.VirtualServer{{Name: "vs", RealServers: []conf.RealServer{
		{Address: netip.MustParseAddrPort("192.0.2.10:3306"), Checks: []conf.Check{chk(conf.CheckTCP, 3306, 0, 3*time.Second), chk(conf.CheckMySQL, 3307, 0, 3*time.Second)}},
	}}})
	h.run(2)
	h.clk.Advance(0)
	h.transitions(1)
	st := h.m.Status()
	if len(st) != 1 || st[0].Up || st[0].LastError != "mysql failed" || st[0].Target != "192.0.2.10:3306" || len(st[0].Checks) != 2 {
		t.Fatalf("Status = %+v", st)
	}
	c := st[0].Checks
	if c[0].Kind != "tcp_check" || !c[0].Up || c[1].Kind != "mysql_check" || c[1].Up || c[1].User != "monitor" || c[1].Target != "192.0.2.10:3307" {
		t.Errorf("checkers %+v", c)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"user":"monitor"`) {
		t.Errorf("status JSON lacks the user: %s", b)
	}
	h.noMoreTransitions()
	for what, s := range map[string]string{"status": string(b), "logs": h.logs.String()} {
		if strings.Contains(s, "s3cret-pw") {
			t.Errorf("%s show the password: %s", what, s)
		}
	}
}

// TestManagerReloadCheckers: a reload that changes a server's checkers keeps
// what is unchanged and never flaps a down server up, except when the
// failing checker is the one removed.
func TestManagerReloadCheckers(t *testing.T) {
	const s = time.Second
	tcp := chk(conf.CheckTCP, 3306, 0, 3*s)
	mysql := chk(conf.CheckMySQL, 3307, 0, 3*s)
	http := chk(conf.CheckHTTP, 80, 0, 3*s)
	rsWith := func(cs ...conf.Check) []conf.VirtualServer {
		return []conf.VirtualServer{{Name: "vs", RealServers: []conf.RealServer{
			{Address: netip.MustParseAddrPort("192.0.2.10:3306"), Checks: cs},
		}}}
	}
	var mu sync.Mutex
	failing := map[uint16]bool{3307: true}
	h := newHarness(t, func(c conf.Check) Checker {
		return checkFunc(func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			if failing[c.Target.Port()] {
				return errors.New(c.Kind + " failed")
			}
			return nil
		})
	}, 0)
	h.m.Set(rsWith(tcp, mysql))
	h.run(2)
	h.clk.Advance(0)
	if tr := h.transitions(1); tr[0].Up {
		t.Fatalf("%+v", tr)
	}
	nTimers := len(h.clk.Delays())

	// Adding a checker to a down server: the new one starts down, the
	// others keep their timers.
	h.m.Set(rsWith(tcp, mysql, http))
	if got := h.clk.Delays()[nTimers:]; !slices.Equal(got, []time.Duration{0}) {
		t.Errorf("timers after adding http_get: %v, want one first check", got)
	}
	if h.m.Up("vs", "192.0.2.10:3306") {
		t.Error("adding a checker brought the server up")
	}
	st := h.m.Status()[0]
	if st.Checks[2].Kind != "http_get" || st.Checks[2].Up {
		t.Errorf("new checker of a down server: %+v", st.Checks[2])
	}
	h.clk.Advance(0) // http_get passes: still down (mysql)
	if h.m.Up("vs", "192.0.2.10:3306") {
		t.Error("up while mysql_check fails")
	}

	// Changing the failing checker's settings keeps its verdict.
	m2 := mysql
	m2.ConnectTimeout = 2 * s
	h.m.Set(rsWith(tcp, m2, http))
	if h.m.Up("vs", "192.0.2.10:3306") {
		t.Error("changing mysql_check settings brought the server up")
	}

	// Removing the failing checker: the server comes up at once.
	h.m.Set(rsWith(tcp, http))
	if !h.m.Up("vs", "192.0.2.10:3306") {
		t.Error("still down without its failing checker")
	}
	if tr := h.transitions(1); !tr[0].Up {
		t.Errorf("%+v", tr)
	}
	if n := h.clk.Pending(); n != 2 {
		t.Errorf("%d timers armed, want 2 (tcp, http)", n)
	}
	h.noMoreTransitions()
}

func TestNewChecker(t *testing.T) {
	for kind, want := range map[string]string{
		conf.CheckTCP: "*healthcheck.TCPChecker", conf.CheckMySQL: "*healthcheck.MySQLChecker",
		conf.CheckHTTP: "*healthcheck.HTTPChecker", conf.CheckSSL: "*healthcheck.HTTPChecker",
	} {
		if got := fmt.Sprintf("%T", NewChecker(conf.Check{Kind: kind})); got != want {
			t.Errorf("NewChecker(%s) is %s, want %s", kind, got, want)
		}
	}
	if err := NewChecker(conf.Check{Kind: "smtp"}).Check(context.Background()); err == nil || !strings.Contains(err.Error(), `"smtp"`) {
		t.Errorf("unknown kind: %v", err)
	}
}

// TestManagerDedup: identical checkers of several virtual servers run once
// and their verdict fans out; a checker that differs in any setting is its
// own probe.
func TestManagerDedup(t *testing.T) {
	const s = time.Second
	var mu sync.Mutex
	calls := map[netip.AddrPort]int{}
	failing := false
	h := newHarness(t, func(c conf.Check) Checker {
		return checkFunc(func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			calls[c.Target]++
			if failing {
				return errors.New("refused")
			}
			return nil
		})
	}, 0)
	db1 := netip.MustParseAddrPort("192.0.2.10:3306")
	tcp := conf.Check{Kind: conf.CheckTCP, Target: db1, ConnectTimeout: s, DelayBeforeRetry: s, DelayLoop: 3 * s}
	vs := func(name string, c conf.Check) conf.VirtualServer {
		return conf.VirtualServer{Name: name, RealServers: []conf.RealServer{{Address: db1, Checks: []conf.Check{c}}}}
	}
	h.m.Set([]conf.VirtualServer{vs("rw", tcp), vs("ro", tcp)})
	h.run(1)
	if n := h.clk.Pending(); n != 1 {
		t.Fatalf("%d timers for two identical checkers, want 1", n)
	}
	h.clk.Advance(9 * s) // checks at 0, 3, 6, 9
	mu.Lock()
	if calls[db1] != 4 {
		t.Errorf("%d checks in 9 s, want 4 (one probe)", calls[db1])
	}
	failing = true
	mu.Unlock()
	h.clk.Advance(3 * s) // fails at 12: down for both
	trs := h.transitions(2)
	slices.SortFunc(trs, func(a, b Transition) int { return strings.Compare(a.VS, b.VS) })
	if trs[0].VS != "ro" || trs[1].VS != "rw" || trs[0].Up || trs[1].Up || !trs[0].At.Equal(t0.Add(12*s)) {
		t.Errorf("transitions %+v, want both down at 12s", trs)
	}

	// A third virtual server joining the probe while it is down starts
	// down (no flap into IPVS); one with another delay_loop gets its own
	// probe, which starts up.
	other := tcp
	other.DelayLoop = 5 * s
	h.m.Set([]conf.VirtualServer{vs("rw", tcp), vs("ro", tcp), vs("late", tcp), vs("slow", other)})
	if h.m.Up("late", db1.String()) {
		t.Error("joining a down probe started up")
	}
	if !h.m.Up("slow", db1.String()) {
		t.Error("a new probe does not start up")
	}
	if n := h.clk.Pending(); n != 2 {
		t.Errorf("%d timers, want 2", n)
	}

	// Dropping all but one user keeps the shared probe's timer and state.
	h.m.Set([]conf.VirtualServer{vs("late", tcp)})
	if n := h.clk.Pending(); n != 1 {
		t.Errorf("%d timers, want 1", n)
	}
	if h.m.Up("late", db1.String()) {
		t.Error("the remaining user lost the shared verdict")
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	h.clk.Advance(3 * s) // next check at 15: up
	if tr := h.transitions(1); tr[0].VS != "late" || !tr[0].Up || !tr[0].At.Equal(t0.Add(15*s)) {
		t.Errorf("transition %+v, want late up at 15s", tr[0])
	}
	h.noMoreTransitions()
}
