package healthcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

type checkFunc func(context.Context) error

func (f checkFunc) Check(ctx context.Context) error { return f(ctx) }

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func rs(addr string, c *conf.Check) conf.RealServer {
	a := netip.MustParseAddrPort(addr)
	var checks []conf.Check
	if c != nil {
		c.Target = a
		if c.Kind == "" {
			c.Kind = conf.CheckTCP
		}
		checks = []conf.Check{*c}
	}
	return conf.RealServer{Address: a, Weight: 1, Checks: checks}
}

// harness runs a Manager on a fake clock and collects its transitions.
type harness struct {
	t      *testing.T
	clk    *fakeClock
	m      *Manager
	trs    chan Transition
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// noSpread keeps every delay exact, so schedules can be asserted to the
// nanosecond.
func noSpread(d time.Duration) time.Duration { return d }

func newHarness(t *testing.T, check func(conf.Check) Checker, jitter time.Duration) *harness {
	t.Helper()
	h := &harness{t: t, clk: newFakeClock(t0), trs: make(chan Transition, 100), done: make(chan error, 1), logs: &syncBuffer{}}
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := []Option{WithClock(h.clk), WithJitter(func(time.Duration) time.Duration { return jitter }), WithSpread(noSpread)}
	if check != nil {
		opts = append(opts, WithCheckerFunc(check))
	}
	h.m = NewManager(log, func(tr Transition) { h.trs <- tr }, opts...)
	return h
}

// run starts Run and waits until it armed n first-check timers.
func (h *harness) run(n int) {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.m.Run(ctx) }()
	h.clk.WaitPending(n)
	h.t.Cleanup(h.stop)
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	if err := <-h.done; err != nil {
		h.t.Errorf("Run = %v", err)
	}
}

// transitions waits for n transitions; the timeout only guards a hang.
func (h *harness) transitions(n int) []Transition {
	h.t.Helper()
	var out []Transition
	for len(out) < n {
		select {
		case tr := <-h.trs:
			out = append(out, tr)
		case <-time.After(10 * time.Second):
			h.t.Fatalf("got %d transitions %v, want %d", len(out), out, n)
		}
	}
	return out
}

// noTransitions stops the manager (delivering everything seen) and checks
// nothing more arrived.
func (h *harness) noMoreTransitions() {
	h.t.Helper()
	h.stop()
	select {
	case tr := <-h.trs:
		h.t.Errorf("unexpected transition %+v", tr)
	default:
	}
}

// TestManagerSeed001 replays seed 001 (retry 3, delay_before_retry 3s,
// delay_loop 3s, connect_timeout 10s) on the fake clock.
func TestManagerSeed001(t *testing.T) {
	kill, back := t0.Add(10500*time.Millisecond), t0.Add(41500*time.Millisecond)
	var h *harness
	var calls []time.Duration
	h = newHarness(t, func(conf.Check) Checker {
		return checkFunc(func(ctx context.Context) error {
			if dl, ok := ctx.Deadline(); !ok || dl.IsZero() {
				t.Error("check has no deadline")
			}
			now := h.clk.Now()
			calls = append(calls, now.Sub(t0))
			if !now.Before(kill) && now.Before(back) {
				return errors.New("connect: connection refused")
			}
			return nil
		})
	}, time.Second)
	h.m.Set([]conf.VirtualServer{{
		Name: "mysql",
		RealServers: []conf.RealServer{rs("192.0.2.10:3306", &conf.Check{
			ConnectTimeout: 10 * time.Second, Retry: 3,
			DelayBeforeRetry: 3 * time.Second, DelayLoop: 3 * time.Second,
		})},
	}})
	h.run(1)
	if !h.m.Up("mysql", "192.0.2.10:3306") {
		t.Fatal("not up before the first check")
	}
	gen := h.m.Gen()
	h.clk.Advance(12 * time.Second)
	if g := h.m.Gen(); g != gen {
		t.Errorf("Gen moved from %d to %d without a change of verdict", gen, g)
	}
	h.clk.Advance(10 * time.Second)
	if g := h.m.Gen(); g == gen {
		t.Errorf("Gen stayed %d over a verdict change", g)
	}
	// Checks at 1,4,7,10 ok; 13 fails (first failure), retries at 16,19,
	// 22: down at 22 s = first failure + 9 s = kill + 11.5 s.
	if h.m.Up("mysql", "192.0.2.10:3306") {
		t.Fatal("still up at 22s")
	}
	h.clk.Advance(38 * time.Second)
	got := h.transitions(2)
	h.noMoreTransitions()

	want := []Transition{
		{VS: "mysql", RS: "192.0.2.10:3306", Up: false, Err: "connect: connection refused", At: t0.Add(22 * time.Second)},
		// back at 41.5 s: next check at 43 s.
		{VS: "mysql", RS: "192.0.2.10:3306", Up: true, At: t0.Add(43 * time.Second)},
	}
	if !slices.Equal(got, want) {
		t.Errorf("transitions:\n got %+v\nwant %+v", got, want)
	}
	var wantCalls []time.Duration
	for s := 1; s <= 58; s += 3 {
		wantCalls = append(wantCalls, time.Duration(s)*time.Second)
	}
	if !slices.Equal(calls, wantCalls) {
		t.Errorf("checks at %v, want %v", calls, wantCalls)
	}

	st := h.m.Status()
	if len(st) != 1 || !st[0].Up || st[0].Transitions != 2 || !st[0].Since.Equal(t0.Add(43*time.Second)) ||
		st[0].Target != "192.0.2.10:3306" || !st[0].LastCheck.Equal(t0.Add(58*time.Second)) || st[0].LastError != "" {
		t.Errorf("Status = %+v", st)
	}

	logs := h.logs.String()
	for _, w := range []string{
		`"level":"WARN","msg":"real server down","vs":"mysql","rs":"192.0.2.10:3306"`,
		`"err":"connect: connection refused"`,
		`"level":"INFO","msg":"real server up","vs":"mysql","rs":"192.0.2.10:3306"`,
	} {
		if !strings.Contains(logs, w) {
			t.Errorf("logs lack %s:\n%s", w, logs)
		}
	}
}

func TestManagerReload(t *testing.T) {
	var mu sync.Mutex
	failing := map[netip.AddrPort]bool{
		netip.MustParseAddrPort("192.0.2.1:80"): true,
		netip.MustParseAddrPort("192.0.2.4:80"): true,
	}
	h := newHarness(t, func(c conf.Check) Checker {
		return checkFunc(func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			if failing[c.Target] {
				return errors.New("refused")
			}
			return nil
		})
	}, 0)
	check := func() *conf.Check {
		return &conf.Check{ConnectTimeout: time.Second, Retry: 0, DelayBeforeRetry: time.Second, DelayLoop: 5 * time.Second}
	}
	h.m.Set([]conf.VirtualServer{{
		Address:  netip.MustParseAddrPort("198.51.100.1:80"),
		Protocol: "TCP",
		RealServers: []conf.RealServer{
			rs("192.0.2.1:80", check()), // A: down, unchanged by the reload
			rs("192.0.2.2:80", check()), // B: check removed by the reload
			rs("192.0.2.3:80", nil),     // C: never checked
			rs("192.0.2.4:80", check()), // D: down, settings changed by the reload
		},
	}})
	const vs = "TCP 198.51.100.1:80"
	h.run(3)
	h.clk.Advance(0) // first checks, jitter 0
	if got := h.transitions(2); len(got) != 2 {
		t.Fatal(got)
	}
	for rs, want := range map[string]bool{
		"192.0.2.1:80": false, "192.0.2.2:80": true, "192.0.2.3:80": true, "192.0.2.4:80": false,
		"192.0.2.99:80": true, // unknown
	} {
		if got := h.m.Up(vs, rs); got != want {
			t.Errorf("Up(%s) = %v, want %v", rs, got, want)
		}
	}
	h.clk.Advance(2 * time.Second)
	nDelays := len(h.clk.Delays())

	d := check()
	d.ConnectTimeout = 2 * time.Second
	h.m.Set([]conf.VirtualServer{{
		Address:  netip.MustParseAddrPort("198.51.100.1:80"),
		Protocol: "TCP",
		RealServers: []conf.RealServer{
			rs("192.0.2.1:80", check()),
			rs("192.0.2.2:80", nil),
			rs("192.0.2.3:80", nil),
			rs("192.0.2.4:80", d),
			rs("192.0.2.5:80", check()), // E: new
		},
	}})
	// Only D (changed) and E (new) got new timers; B's stopped.
	if got := h.clk.Delays()[nDelays:]; !slices.Equal(got, []time.Duration{0, 0}) {
		t.Errorf("new timers after reload: %v, want two first checks", got)
	}
	if n := h.clk.Pending(); n != 3 {
		t.Errorf("%d timers armed, want 3 (A, D, E)", n)
	}
	st := h.m.Status()
	var names []string
	for _, s := range st {
		names = append(names, s.RS)
	}
	if !slices.Equal(names, []string{"192.0.2.1:80", "192.0.2.4:80", "192.0.2.5:80"}) {
		t.Fatalf("Status lists %v", names)
	}
	if st[0].Up || st[0].Transitions != 1 || st[0].LastError != "refused" {
		t.Errorf("A lost its state: %+v", st[0])
	}
	if st[1].Up || st[1].Transitions != 1 || st[1].LastError != "refused" {
		t.Errorf("D lost its verdict: %+v", st[1])
	}
	if !st[2].Up || st[2].Transitions != 0 || !st[2].LastCheck.IsZero() {
		t.Errorf("E does not start up: %+v", st[2])
	}

	// D comes back: its rescheduled first check (at 2 s) brings it up;
	// A keeps its old timer (at 5 s).
	mu.Lock()
	delete(failing, netip.MustParseAddrPort("192.0.2.4:80"))
	mu.Unlock()
	h.clk.Advance(0)
	got := h.transitions(1)
	if got[0].RS != "192.0.2.4:80" || !got[0].Up || !got[0].At.Equal(t0.Add(2*time.Second)) {
		t.Errorf("transition %+v, want D up at 2s", got[0])
	}
	h.clk.Advance(10 * time.Second)
	if st := h.m.Status(); !st[0].LastCheck.Equal(t0.Add(10 * time.Second)) {
		t.Errorf("A last checked at %v, want its old schedule (5 s, 10 s)", st[0].LastCheck.Sub(t0))
	}
	h.noMoreTransitions()
}

// blockingHarness has one probe whose check blocks until its context ends.
func blockingHarness(t *testing.T) (*harness, chan struct{}) {
	started := make(chan struct{}, 10)
	h := newHarness(t, func(conf.Check) Checker {
		return checkFunc(func(ctx context.Context) error {
			started <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		})
	}, 0)
	h.m.Set([]conf.VirtualServer{{Name: "vs", RealServers: []conf.RealServer{
		rs("192.0.2.1:80", &conf.Check{ConnectTimeout: time.Hour, DelayLoop: time.Second, DelayBeforeRetry: time.Second}),
	}}})
	return h, started
}

func TestManagerStopAbortsAttempt(t *testing.T) {
	h, started := blockingHarness(t)
	h.run(1)
	advanced := make(chan struct{})
	go func() { h.clk.Advance(0); close(advanced) }()
	<-started
	h.noMoreTransitions() // cancels Run: the attempt is aborted, not a failure
	<-advanced
	if !h.m.Up("vs", "192.0.2.1:80") {
		t.Error("aborted attempt counted as a failure")
	}
	if n := h.clk.Pending(); n != 0 {
		t.Errorf("%d timers armed after Run returned", n)
	}
}

func TestManagerRemoveAbortsAttempt(t *testing.T) {
	h, started := blockingHarness(t)
	h.run(1)
	advanced := make(chan struct{})
	go func() { h.clk.Advance(0); close(advanced) }()
	<-started
	h.m.Set(nil)
	<-advanced
	if st := h.m.Status(); len(st) != 0 {
		t.Errorf("Status = %+v after removal", st)
	}
	if n := h.clk.Pending(); n != 0 {
		t.Errorf("%d timers armed after removal", n)
	}
	h.noMoreTransitions()
}

// TestManagerSlowProbe uses the real clock with millisecond delays: a probe
// stuck in connect must not keep another from going down. Nothing asserts
// on elapsed time.
func TestManagerSlowProbe(t *testing.T) {
	stuck := netip.MustParseAddrPort("192.0.2.1:80")
	trs := make(chan Transition, 10)
	m := NewManager(nil, func(tr Transition) { trs <- tr },
		WithCheckerFunc(func(c conf.Check) Checker {
			return checkFunc(func(ctx context.Context) error {
				if c.Target == stuck {
					<-ctx.Done()
					return ctx.Err()
				}
				return errors.New("refused")
			})
		}))
	chk := func() *conf.Check {
		return &conf.Check{ConnectTimeout: time.Hour, Retry: 1, DelayBeforeRetry: time.Millisecond, DelayLoop: time.Millisecond}
	}
	m.Set([]conf.VirtualServer{{Name: "vs", RealServers: []conf.RealServer{
		rs("192.0.2.1:80", chk()), rs("192.0.2.2:80", chk()),
	}}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	select {
	case tr := <-trs:
		if tr.RS != "192.0.2.2:80" || tr.Up {
			t.Errorf("transition %+v", tr)
		}
	case <-time.After(10 * time.Second):
		t.Error("the healthy probe never ran")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if !m.Up("vs", "192.0.2.1:80") {
		t.Error("the stuck probe went down")
	}
}

func TestManagerRunTwice(t *testing.T) {
	m := NewManager(nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Run(ctx); err != nil {
		t.Fatalf("first Run = %v", err)
	}
	if err := m.Run(ctx); err == nil {
		t.Fatal("second Run succeeded")
	}
}

func TestFirstCheckJitter(t *testing.T) {
	h := newHarness(t, func(conf.Check) Checker { return checkFunc(func(context.Context) error { return nil }) }, 0)
	var got []time.Duration
	h.m.jitter = func(d time.Duration) time.Duration { got = append(got, d); return d / 2 }
	h.m.Set([]conf.VirtualServer{{Name: "vs", RealServers: []conf.RealServer{
		rs("192.0.2.1:80", &conf.Check{DelayLoop: 7 * time.Second}),
	}}})
	h.run(1)
	if !slices.Equal(got, []time.Duration{7 * time.Second}) || !slices.Equal(h.clk.Delays(), []time.Duration{3500 * time.Millisecond}) {
		t.Errorf("jitter called with %v, timers %v", got, h.clk.Delays())
	}

	for _, d := range []time.Duration{0, -1, 1, time.Nanosecond * 3, 3 * time.Second} {
		for range 1000 {
			j := defaultJitter(d)
			if j < 0 || (d > 0 && j >= d) || (d <= 0 && j != 0) {
				t.Fatalf("defaultJitter(%v) = %v", d, j)
			}
		}
	}
}

func TestKeys(t *testing.T) {
	a := netip.MustParseAddrPort("198.51.100.1:3306")
	for _, tc := range []struct {
		vs   conf.VirtualServer
		want string
	}{
		{conf.VirtualServer{Name: "mysql", Address: a}, "mysql"},
		{conf.VirtualServer{Address: a, Protocol: "TCP"}, "TCP 198.51.100.1:3306"},
		{conf.VirtualServer{Address: a}, "TCP 198.51.100.1:3306"},
		{conf.VirtualServer{Address: a, Protocol: "UDP"}, "UDP 198.51.100.1:3306"},
	} {
		if got := VSKey(tc.vs); got != tc.want {
			t.Errorf("VSKey(%+v) = %q, want %q", tc.vs, got, tc.want)
		}
	}
	if got := RSKey(conf.RealServer{Name: "db1", Address: netip.MustParseAddrPort("192.0.2.7:3306")}); got != "192.0.2.7:3306" {
		t.Errorf("RSKey = %q", got)
	}
}

func TestProbeStatusJSON(t *testing.T) {
	b, err := json.Marshal(ProbeStatus{VS: "v", RS: "r", Target: "192.0.2.1:80", Up: true, Since: t0})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"vs":"v","rs":"r","target":"192.0.2.1:80","up":true,"transitions":0,"since":"2025-01-01T00:00:00Z"}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
}

// TestManagerTCPLoopback drives the real TCPChecker against a loopback
// listener on the fake clock: closing the listener takes the server down.
func TestManagerTCPLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	addr := ln.Addr().String()
	h := newHarness(t, nil, 0)
	h.m.Set([]conf.VirtualServer{{Name: "vs", RealServers: []conf.RealServer{
		rs(addr, &conf.Check{ConnectTimeout: 5 * time.Second, Retry: 1, DelayBeforeRetry: time.Second, DelayLoop: 3 * time.Second}),
	}}})
	h.run(1)
	h.clk.Advance(0)
	if st := h.m.Status(); !st[0].Up || st[0].LastCheck.IsZero() || st[0].LastError != "" {
		t.Fatalf("after a successful connect: %+v", st[0])
	}
	ln.Close()
	h.clk.Advance(4 * time.Second) // attempts at 3 s and 4 s fail
	got := h.transitions(1)
	if got[0].Up || !got[0].At.Equal(t0.Add(4*time.Second)) || !strings.Contains(got[0].Err, "connection refused") {
		t.Errorf("transition %+v, want down at 4s with connection refused", got[0])
	}
	h.noMoreTransitions()
}
