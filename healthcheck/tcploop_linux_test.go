package healthcheck

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// The tests of the tcp_check loop run on the real clock (the loop waits in
// epoll_wait), so their bounds are generous: they assert what happens, and
// time only where a hang is the failure.

// attempts collects the Manager's attempts (WithAttemptHook).
type attempts struct {
	mu  sync.Mutex
	all []Attempt
}

func (a *attempts) add(x Attempt) {
	a.mu.Lock()
	a.all = append(a.all, x)
	a.mu.Unlock()
}

// of returns the attempts against target so far.
func (a *attempts) of(target netip.AddrPort) []Attempt {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Attempt
	for _, x := range a.all {
		if x.Target == target {
			out = append(out, x)
		}
	}
	return out
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// acceptLoop accepts and closes connections until ln is closed.
func acceptLoop(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// silentTarget is a listener whose accept queue is full: SYNs are
// dropped, a handshake never completes (see
// TestTCPCheckerHandshakeNeverCompletes).
func silentTarget(t *testing.T) netip.AddrPort {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	target := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(sa.(*syscall.SockaddrInet4).Port))
	for range 3 {
		c, err := net.DialTimeout("tcp", target.String(), 200*time.Millisecond)
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
	}
	return target
}

// loopManager is a Manager on the real clock with its attempts recorded
// and its transitions sent to trs.
func loopManager(t *testing.T, opts ...Option) (*Manager, *attempts, chan Transition, func()) {
	t.Helper()
	rec := &attempts{}
	trs := make(chan Transition, 100)
	m := NewManager(nil, func(tr Transition) { trs <- tr }, append([]Option{WithAttemptHook(rec.add)}, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	}
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(stop)
	return m, rec, trs, stop
}

func tcpVS(name string, checks ...conf.RealServer) []conf.VirtualServer {
	return []conf.VirtualServer{{Name: name, RealServers: checks}}
}

func loopCheck(delay, timeout time.Duration) *conf.Check {
	return &conf.Check{Kind: conf.CheckTCP, ConnectTimeout: timeout, Retry: 0, DelayBeforeRetry: delay, DelayLoop: delay, Warmup: -1}
}

// TestLoopUpDownUp: the loop runs plain tcp_checks (no goroutine per
// check) with the same verdicts and error text as TCPChecker.Check.
func TestLoopUpDownUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go acceptLoop(ln)
	addr := ln.Addr().String()
	target := netip.MustParseAddrPort(addr)
	m, rec, trs, stop := loopManager(t)
	m.Set(tcpVS("vs", rs(addr, loopCheck(20*time.Millisecond, 2*time.Second))))
	waitFor(t, "three passing checks", func() bool { return len(rec.of(target)) >= 3 })
	m.mu.Lock()
	if m.loop == nil || len(m.probes) != 1 {
		t.Fatalf("loop %v, %d probes", m.loop, len(m.probes))
	}
	for _, p := range m.probes {
		if p.tcp == nil {
			t.Fatal("the tcp_check probe is not run by the loop")
		}
	}
	m.mu.Unlock()
	for _, a := range rec.of(target) {
		if a.Err != nil || a.Kind != conf.CheckTCP {
			t.Fatalf("attempt %+v, want a passing tcp_check", a)
		}
	}
	if st := m.Status(); !st[0].Up || st[0].LastCheck.IsZero() || st[0].LastError != "" {
		t.Fatalf("status %+v", st[0])
	}

	ln.Close()
	want := (&TCPChecker{Target: target, Timeout: time.Second}).Check(context.Background())
	if !errors.Is(want, syscall.ECONNREFUSED) {
		t.Fatalf("TCPChecker on a closed port: %v", want)
	}
	select {
	case tr := <-trs:
		if tr.Up || tr.Err != want.Error() || tr.VS != "vs" || tr.RS != addr {
			t.Fatalf("transition %+v, want down with %q", tr, want)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no down transition")
	}
	// The loop calls the attempt hook after the round's verdicts, so the
	// transition can arrive first (CI saw it): wait for the attempt.
	var down Attempt
	waitFor(t, "the failed attempt", func() bool {
		for _, a := range rec.of(target) {
			if a.Err != nil {
				down = a
				return true
			}
		}
		return false
	})
	if !errors.Is(down.Err, syscall.ECONNREFUSED) {
		t.Errorf("failed attempt's error %v does not unwrap to ECONNREFUSED", down.Err)
	}

	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skip("port taken meanwhile:", err)
	}
	defer ln2.Close()
	go acceptLoop(ln2)
	select {
	case tr := <-trs:
		if !tr.Up {
			t.Fatalf("transition %+v, want up", tr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no up transition")
	}
	stop()
	if st := m.Status(); !st[0].Up || st[0].Transitions != 2 {
		t.Errorf("status %+v, want up after 2 transitions", st[0])
	}
}

// TestLoopSlowCheckDelaysNoOther: an attempt waiting for a handshake that
// never completes holds no other check back, and ends at its
// connect_timeout with the dialer's "i/o timeout".
func TestLoopSlowCheckDelaysNoOther(t *testing.T) {
	slow := silentTarget(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go acceptLoop(ln)
	fast := netip.MustParseAddrPort(ln.Addr().String())
	m, rec, trs, _ := loopManager(t)
	m.Set(tcpVS("vs",
		rs(slow.String(), loopCheck(50*time.Millisecond, 700*time.Millisecond)),
		rs(fast.String(), loopCheck(20*time.Millisecond, 5*time.Second)),
	))
	waitFor(t, "the slow check's timeout", func() bool { return len(rec.of(slow)) >= 1 })
	a := rec.of(slow)[0]
	if !errors.Is(a.Err, context.DeadlineExceeded) || !strings.Contains(a.Err.Error(), "tcp_check: dial tcp "+slow.String()+": i/o timeout") {
		t.Errorf("slow attempt error %v, want i/o timeout", a.Err)
	}
	if a.Took < 600*time.Millisecond {
		t.Errorf("slow attempt took %v, before its 700ms connect_timeout", a.Took)
	}
	// While the slow attempt waited, the fast probe kept its pace: with
	// delay_loop 20ms, several attempts in 700ms even on a loaded host.
	if n := len(rec.of(fast)); n < 5 {
		t.Errorf("%d fast attempts while the slow one waited %v", n, a.Took)
	}
	select {
	case tr := <-trs:
		if tr.Up || tr.RS != slow.String() {
			t.Errorf("transition %+v, want %v down", tr, slow)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no down transition for the silent server")
	}
	if m.Up("vs", slow.String()) || !m.Up("vs", fast.String()) {
		t.Error("want the silent server down, the other up")
	}
}

// TestLoopStopAbortsAttempt: removing a real server whose attempt is in
// flight, then stopping the Manager, neither waits for connect_timeout nor
// counts the aborted attempt.
func TestLoopStopAbortsAttempt(t *testing.T) {
	slow := silentTarget(t)
	m, rec, trs, stop := loopManager(t)
	m.Set(tcpVS("vs", rs(slow.String(), loopCheck(time.Hour, time.Hour))))
	// Give the loop time to start the attempt (Warmup -1: at once).
	time.Sleep(200 * time.Millisecond)
	m.Set(nil)
	m.Set(tcpVS("vs2", rs(slow.String(), loopCheck(time.Hour, time.Hour))))
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	stop()
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Run took %v to return with an attempt in flight", took)
	}
	if n := len(rec.of(slow)); n != 0 {
		t.Errorf("%d attempts reported, want none (aborted)", n)
	}
	select {
	case tr := <-trs:
		t.Errorf("unexpected transition %+v", tr)
	default:
	}
	if st := m.Status(); len(st) != 1 || !st[0].Up || !st[0].LastCheck.IsZero() {
		t.Errorf("status %+v, want vs2 up and never checked", st)
	}
}

// TestLoopFirstCheckAfterJitter: the first check waits for the jitter
// drawn for it, later ones for the spread delay_loop after the previous
// one ended.
func TestLoopFirstCheckAfterJitter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go acceptLoop(ln)
	target := netip.MustParseAddrPort(ln.Addr().String())
	const jitter, loop = 300 * time.Millisecond, 200 * time.Millisecond
	var mu sync.Mutex
	var spreadOf []time.Duration
	start := time.Now()
	m, rec, _, _ := loopManager(t, WithJitter(func(d time.Duration) time.Duration { return jitter }),
		WithSpread(func(d time.Duration) time.Duration {
			mu.Lock()
			spreadOf = append(spreadOf, d)
			mu.Unlock()
			return d
		}))
	c := loopCheck(loop, time.Second)
	c.Warmup = 0 // the delay_loop bounds the jitter
	m.Set(tcpVS("vs", rs(target.String(), c)))
	waitFor(t, "two checks", func() bool { return len(rec.of(target)) >= 2 })
	// An early start of the first check is added to its next delay; the
	// second may itself start early by its slack.
	at := time.Since(start)
	if at < jitter+loop-slackFor(loop) {
		t.Errorf("second check %v after start, before jitter %v + delay_loop %v - slack %v", at, jitter, loop, slackFor(loop))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(spreadOf) < 1 || spreadOf[0] != loop {
		t.Errorf("spread applied to %v, want delay_loop %v", spreadOf, loop)
	}
}

// TestLoopHeap: the loop's heap pops by due time whatever the order of
// pushes and removals (randomised, seeded).
func TestLoopHeap(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 7))
	l := &tcpLoop{}
	in := map[*probe]bool{}
	var all []*probe
	for i := range 2000 {
		switch op := rng.IntN(3); {
		case op < 2 || len(all) == 0:
			p := &probe{tcp: &tcpProbe{idx: -1, fd: -1, at: time.Duration(rng.IntN(1000))}}
			l.push(p)
			in[p] = true
			all = append(all, p)
		default:
			p := all[rng.IntN(len(all))]
			l.remove(p)
			l.remove(p) // twice: a no-op
			delete(in, p)
		}
		if i%100 == 0 {
			for j, p := range l.heap {
				if p.tcp.idx != j {
					t.Fatalf("index %d at %d", p.tcp.idx, j)
				}
				if j > 0 && l.heap[(j-1)/2].tcp.at > p.tcp.at {
					t.Fatalf("heap order broken at %d", j)
				}
			}
		}
	}
	if len(l.heap) != len(in) {
		t.Fatalf("%d in heap, want %d", len(l.heap), len(in))
	}
	prev := time.Duration(-1)
	for len(l.heap) > 0 {
		p := l.heap[0]
		l.remove(p)
		if p.tcp.at < prev || !in[p] {
			t.Fatalf("popped %v after %v (in %v)", p.tcp.at, prev, in[p])
		}
		prev = p.tcp.at
	}
}

// TestLoopNotForDialersOrFakeClock: a TCPChecker with a dialer of the
// caller's, other checkers and a fake clock keep the general path.
func TestLoopNotForDialersOrFakeClock(t *testing.T) {
	c := conf.Check{Kind: conf.CheckTCP, Target: netip.MustParseAddrPort("192.0.2.1:80"), ConnectTimeout: 3 * time.Second}
	sys := NewManager(nil, nil)
	if p := sys.loopProbe(NewChecker(c), c); p == nil || p.timeout != 3*time.Second || p.target != c.Target {
		t.Errorf("plain tcp_check: %+v", p)
	}
	if p := sys.loopProbe(&TCPChecker{Target: c.Target, Timeout: time.Second}, c); p == nil || p.timeout != time.Second {
		t.Errorf("shorter checker timeout: %+v", p)
	}
	if p := sys.loopProbe(&TCPChecker{Target: c.Target, Dialer: &net.Dialer{}}, c); p != nil {
		t.Error("a TCPChecker with a Dialer runs on the loop")
	}
	mc := conf.Check{Kind: conf.CheckMySQL, Target: c.Target, MySQL: &conf.MySQLCheck{User: "u"}}
	if p := sys.loopProbe(NewChecker(mc), mc); p != nil {
		t.Error("mysql_check runs on the loop")
	}
	fake := NewManager(nil, nil, WithClock(newFakeClock(t0)))
	if p := fake.loopProbe(NewChecker(c), c); p != nil {
		t.Error("the loop runs on a fake clock")
	}
}

// A wait allocates nothing, whether it ends at its deadline or on an
// event: the loop waits once or twice per check.
func TestLoopWaitAllocs(t *testing.T) {
	l, err := newTCPLoop(NewManager(slog.New(slog.DiscardHandler), nil))
	if err != nil {
		t.Fatal(err)
	}
	defer l.closeFDs()
	if err := l.ep.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { l.wait() }); n != 0 {
		t.Errorf("%v allocations per wait at the deadline, want 0", n)
	}
	// The eventfd stays readable until read: every wait finds it.
	if err := l.ep.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	l.wake()
	if n := l.wait(); n != 1 {
		t.Fatalf("wait found %d events, want the eventfd's", n)
	}
	if n := testing.AllocsPerRun(100, func() { l.wait() }); n != 0 {
		t.Errorf("%v allocations per wait on an event, want 0", n)
	}
}

// The timerfd wakes the loop at the armed time; setting it again, or
// disarming it, clears an expiry not yet read (else every wait would
// return at once); arming allocates nothing.
func TestLoopTimerfd(t *testing.T) {
	l, err := newTCPLoop(NewManager(slog.New(slog.DiscardHandler), nil))
	if err != nil {
		t.Fatal(err)
	}
	defer l.closeFDs()
	start := time.Now()
	l.arm(time.Since(l.base) + 3*time.Millisecond)
	if n := l.wait(); n != 1 || int(l.events[0].Fd) != l.tfd {
		t.Fatalf("wait: %d events (%v), want the timerfd's", n, l.events[:max(n, 0)])
	}
	if took := time.Since(start); took < 3*time.Millisecond {
		t.Errorf("timerfd armed for 3 ms woke after %v", took)
	}
	// poll is epoll_pwait without waiting.
	poll := func() int {
		l.nEvents = 0
		l.readEvents(uintptr(l.epfd))
		return l.nEvents
	}
	// Expired and not read: still readable until set again.
	if n := poll(); n != 1 {
		t.Fatalf("an expired timerfd: %d events, want 1", n)
	}
	for _, at := range []time.Duration{-1, time.Hour} {
		l.arm(at)
		if n := poll(); n != 0 {
			t.Errorf("set to %v after an expiry: %d events, want 0", at, n)
		}
	}
	// A time already passed expires at once (zero would disarm it).
	l.arm(0)
	if n := l.wait(); n != 1 || int(l.events[0].Fd) != l.tfd {
		t.Fatalf("armed in the past: %d events, want the timerfd's", n)
	}
	if n := testing.AllocsPerRun(100, func() { l.arm(time.Hour) }); n != 0 {
		t.Errorf("%v allocations per arm, want 0", n)
	}
}

// TestSlackFor: loopSlack for short delays, the delay's spread for long
// ones.
func TestSlackFor(t *testing.T) {
	for _, tc := range []struct{ d, want time.Duration }{
		{0, loopSlack},
		{10 * time.Millisecond, loopSlack},
		{40 * time.Millisecond, loopSlack},
		{100 * time.Millisecond, 5 * time.Millisecond},
		{6 * time.Second, 300 * time.Millisecond},
	} {
		if got := slackFor(tc.d); got != tc.want {
			t.Errorf("slackFor(%v) = %v, want %v", tc.d, got, tc.want)
		}
	}
}

// TestLoopNextDue: checks due within their slack start with the ones due
// now; a connect deadline is never taken early, and holds back what is
// after it in the heap.
func TestLoopNextDue(t *testing.T) {
	const now = time.Second
	check := func(at time.Duration) *probe {
		return &probe{tcp: &tcpProbe{idx: -1, fd: -1, at: at, slack: loopSlack}}
	}
	slow := func(at time.Duration) *probe { // a check of a 1 s delay_loop
		return &probe{tcp: &tcpProbe{idx: -1, fd: -1, at: at, slack: slackFor(time.Second)}}
	}
	attempt := func(at time.Duration) *probe {
		return &probe{tcp: &tcpProbe{idx: -1, fd: 7, at: at, slack: slackFor(time.Second)}}
	}
	for _, tc := range []struct {
		name  string
		heap  []*probe
		taken int // how many nextDue hands out before nil
	}{
		{"empty", nil, 0},
		{"due now and within the slack", []*probe{check(now - time.Millisecond), check(now), check(now + loopSlack)}, 3},
		{"past the slack", []*probe{check(now + loopSlack + 1)}, 0},
		{"a long delay's slack", []*probe{slow(now + 50*time.Millisecond)}, 1},
		{"past a long delay's slack", []*probe{slow(now + 50*time.Millisecond + 1)}, 0},
		{"a short slack ahead holds a long one", []*probe{check(now + loopSlack + 1), slow(now + 3*time.Millisecond)}, 0},
		{"deadline passed", []*probe{attempt(now)}, 1},
		{"deadline within the slack is not early", []*probe{attempt(now + 1)}, 0},
		{"a deadline ahead holds the heap", []*probe{check(now), attempt(now + time.Microsecond), check(now + time.Millisecond)}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &tcpLoop{}
			for _, p := range tc.heap {
				l.push(p)
			}
			n := 0
			for p := l.nextDue(now); p != nil; p = l.nextDue(now) {
				l.remove(p)
				n++
			}
			if n != tc.taken {
				t.Errorf("took %d, want %d", n, tc.taken)
			}
		})
	}
}
