package healthcheck

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/lvsd/lvsd/conf"
)

// tcpLoop runs the Manager's tcp_check probes the way keepalived's
// scheduler does: one goroutine, one epoll instance, one heap of due
// checks and connect deadlines, and non-blocking sockets it polls itself.
// A check is then socket, connect, epoll_ctl, getsockopt and close, with
// no goroutine, runtime timer, context, *os.File or other allocation of
// its own; many checks that come due or complete together cost one
// wake-up. Per-check goroutines and timers (the general path) cost more
// CPU in the Go scheduler than the handshake itself at 10,000 checks a
// second, and several times more under emulation.
//
// Every connect is non-blocking, so a slow or silent server delays no
// other check: its attempt simply waits in the heap for its deadline.
//
// The loop waits in Go's own poller, not in a blocking epoll_wait: its
// epoll descriptor is itself pollable, and the next due time is a timerfd
// in its epoll set (arm). A goroutine that stays in one system call
// across a sysmon tick (10 ms) makes sysmon retake its P and then poll
// every 20 µs for a while; with a check due every few milliseconds that
// never stops, and under emulation it cost more than the checks.
// Parked in the poller, the goroutine leaves every P idle between
// rounds and sysmon sleeps. (A blocking epoll_pwait for waits under
// 8 ms, as keepalived's scheduler waits, was tried: 1.3x keepalived's CPU
// per check at 100 checks a second against 1.08 for the poller.)
//
// Only the loop goroutine touches the heap, the descriptors and the
// tcpProbe fields; the Manager reaches it through cmds (under m.mu) and
// the eventfd.
type tcpLoop struct {
	m    *Manager
	epfd int
	ep   *os.File        // epfd on Go's poller
	rc   syscall.RawConn // of ep
	evfd int             // eventfd: Set, a stop or shutdown wakes the loop
	tfd  int             // timerfd: the first due time or deadline of the heap
	base time.Time
	done chan struct{}

	// cmds are the starts and stops queued by the Manager; under m.mu.
	cmds []loopCmd

	// Loop-owned.
	heap     []*probe // by tcp.at
	byFD     []*probe // attempt in flight by descriptor
	events   []unix.EpollEvent
	finished []*probe // attempts ended this round
	work     []loopCmd
	ev       unix.EpollEvent
	sa       rawSockaddr
	// readFn is readEvents, made a func value once: a closure or method
	// value made at each wait was a heap allocation per wake-up.
	readFn  func(fd uintptr) bool
	nEvents int
	// armed is the due time the timerfd is set for (-1: disarmed); fired,
	// that it expired this round (it stays readable until set again).
	armed time.Duration
	fired bool
	its   unix.ItimerSpec
	// exited is set (under m.mu) when run returns: the eventfd is then
	// closed and its number may belong to someone else.
	exited bool
}

// tcpProbe is the loop's part of a probe run by it.
type tcpProbe struct {
	target  netip.AddrPort
	timeout time.Duration // of one attempt: connect_timeout (and the checker's)
	// Loop-owned.
	at    time.Duration // since loop.base: when due (fd < 0) or the attempt's deadline
	idx   int           // in loop.heap; -1 = not in it
	fd    int           // of the attempt in flight; -1 = none
	start time.Duration
	early time.Duration // how long before it was due the attempt started
	slack time.Duration // how early its next check may start (slackFor)
	err   error         // of the attempt just ended
	took  time.Duration
}

// loopCmd starts a probe (its first check after delay) or stops it.
type loopCmd struct {
	p     *probe
	at    time.Duration
	start bool
}

// loopTimer is the Timer of a probe run by the loop: stopping it aborts
// the probe's attempt in flight.
type loopTimer struct {
	l *tcpLoop
	p *probe
}

// Stop queues the stop; the caller holds m.mu (stopLocked, Run).
func (t loopTimer) Stop() bool {
	t.l.cmds = append(t.l.cmds, loopCmd{p: t.p})
	t.l.wake()
	return true
}

// loopProbe returns the loop state of a probe whose checker the loop can
// run: the plain TCPChecker on the real clock. Anything else (a dialer of
// the caller's, a fake clock) keeps the general path.
func (m *Manager) loopProbe(c Checker, cfg conf.Check) *tcpProbe {
	tc, ok := c.(*TCPChecker)
	if _, sys := m.clock.(SystemClock); !ok || !sys || tc.Dialer != nil {
		return nil
	}
	to := attemptTimeout(cfg)
	if tc.Timeout > 0 && tc.Timeout < to {
		to = tc.Timeout
	}
	return &tcpProbe{target: tc.Target, timeout: to, idx: -1, fd: -1}
}

func newTCPLoop(m *Manager) (*tcpLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	// Non-blocking, so that os.NewFile puts it on the runtime poller
	// (epoll_wait itself ignores the flag: the loop passes timeout 0).
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	tfd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		unix.Close(evfd)
		unix.Close(epfd)
		return nil, os.NewSyscallError("timerfd_create", err)
	}
	l := &tcpLoop{m: m, epfd: epfd, evfd: evfd, tfd: tfd, armed: -1, base: time.Now(), done: make(chan struct{}),
		events: make([]unix.EpollEvent, 256)}
	l.readFn = l.readEvents
	for _, fd := range []int{evfd, tfd} {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			l.closeFDs()
			return nil, os.NewSyscallError("epoll_ctl", err)
		}
	}
	l.ep = os.NewFile(uintptr(epfd), "tcp_check epoll")
	if l.rc, err = l.ep.SyscallConn(); err != nil {
		l.closeFDs()
		return nil, err
	}
	return l, nil
}

// closeFDs closes the loop's own descriptors: epoll (through ep once
// made), the eventfd and the timerfd.
func (l *tcpLoop) closeFDs() {
	if l.ep != nil {
		l.ep.Close()
	} else {
		unix.Close(l.epfd)
	}
	unix.Close(l.evfd)
	unix.Close(l.tfd)
}

// wake interrupts epoll_wait.
func (l *tcpLoop) wake() {
	if l.exited {
		return
	}
	one := [8]byte{1}
	// EAGAIN: the counter is already set, the loop will wake anyway.
	_, _ = unix.Write(l.evfd, one[:])
}

// startLocked queues p's first check after delay; the caller holds m.mu.
func (l *tcpLoop) startLocked(p *probe, delay time.Duration) {
	p.timer = loopTimer{l, p}
	l.cmds = append(l.cmds, loopCmd{p: p, at: time.Since(l.base) + delay, start: true})
	l.wake()
}

// run is the loop; it returns once m.runCtx is nil (Run ending), with
// every descriptor closed and the results of attempts in flight dropped.
func (l *tcpLoop) run() {
	defer close(l.done)
	defer l.closeFDs()
	m := l.m
	for {
		n := l.wait()
		wall := time.Now()
		now := wall.Sub(l.base)
		l.finished = l.finished[:0]
		for _, ev := range l.events[:max(n, 0)] {
			fd := int(ev.Fd)
			switch fd {
			case l.evfd:
				var b [8]byte
				_, _ = unix.Read(l.evfd, b[:])
				continue
			case l.tfd:
				// Setting it again below makes it unreadable.
				l.fired = true
				continue
			}
			if fd < len(l.byFD) && l.byFD[fd] != nil {
				p := l.byFD[fd]
				l.remove(p)
				l.end(p, soError(fd), now)
			}
		}
		// Deadlines, then due checks; a check that ends at once
		// (refused, no socket) ends in this round too. Attempts start
		// at the time read before the first of them, so that their
		// latency does not count the work done before it this round.
		started := time.Duration(-1)
		for p := l.nextDue(now); p != nil; p = l.nextDue(now) {
			l.remove(p)
			if p.tcp.fd >= 0 {
				l.end(p, errDialTimeout{}, now)
				continue
			}
			if started < 0 {
				started = time.Since(l.base)
			}
			p.tcp.early = max(p.tcp.at-started, 0)
			l.begin(p, started)
		}

		m.mu.Lock()
		if m.runCtx == nil || m.runCtx.Err() != nil {
			l.exited = true
			m.mu.Unlock()
			l.closeAll()
			return
		}
		l.work = append(l.work[:0], l.cmds...)
		clear(l.cmds)
		l.cmds = l.cmds[:0]
		for _, p := range l.finished {
			if p.stopped {
				continue
			}
			next := m.observeLocked(p, p.tcp.err, -1, wall)
			// A check started early (its slack) owes its interval
			// what it took: the rate stays one per delay_loop.
			p.tcp.at = now + m.spread(next) + p.tcp.early
			p.tcp.slack = slackFor(next)
			l.push(p)
		}
		m.mu.Unlock()
		for _, c := range l.work {
			if c.start {
				c.p.tcp.at, c.p.tcp.slack = c.at, loopSlack
				l.push(c.p)
				continue
			}
			// Stopped: forget it, abort its attempt.
			l.remove(c.p)
			l.closeFD(c.p)
		}
		clear(l.work)
		if h := m.attemptHook; h != nil {
			for _, p := range l.finished {
				h(Attempt{Kind: conf.CheckTCP, Target: p.tcp.target, Took: p.tcp.took, Err: p.tcp.err})
			}
		}
		clear(l.finished)

		// Wake for the first due time or deadline (none: only for an
		// event). A round that only ended attempts started in the last
		// one leaves it as it is.
		at := time.Duration(-1)
		if len(l.heap) > 0 {
			at = l.heap[0].tcp.at
		}
		if at != l.armed || l.fired {
			l.arm(at)
		}
	}
}

// arm sets the timerfd to expire at at (since base; -1: disarm it).
// Setting it, even to the same time, clears an expiry not yet read.
//
// A timerfd in the loop's epoll set, not a read deadline on ep: a deadline
// is a runtime timer, and modifying it, running it and the scheduler's
// checks of the timer heap were 5-6% of lvsd's CPU at 100 checks a second
// in the VM's profile; with one timerfd_settime per change instead, lvsd's
// user time per check there fell from 321 to 189 µs.
func (l *tcpLoop) arm(at time.Duration) {
	l.its = unix.ItimerSpec{}
	if at >= 0 {
		// Relative: time.Duration since base has no absolute clock
		// reading to give. Zero would disarm it: a time already passed
		// expires at once.
		l.its.Value = unix.NsecToTimespec(int64(max(at-time.Since(l.base), 1)))
	}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, uintptr(l.tfd), 0, uintptr(unsafe.Pointer(&l.its)), 0, 0, 0); e != 0 {
		// Cannot happen with valid arguments; the loop would then wait
		// only for events: log it.
		l.m.log.Error("tcp_check loop: timerfd_settime", "err", os.NewSyscallError("timerfd_settime", e))
	}
	l.armed, l.fired = at, false
}

// loopSlack is how early a check may start to share a wake-up with one
// that is due: checks due within 2 ms of each other start together, as
// timers with slack do. Under the benchmark's rate (300 checks a second in
// the VM, a check due every 3 ms) nearly every check was a wake-up of its
// own, and in the Go scheduler and poller a wake-up costs more user time
// than the check's system calls. A check that starts early adds as much
// to its next interval, so the rate does not change. Connect deadlines
// are never early.
const loopSlack = 2 * time.Millisecond

// slackFor is the slack of a check due after a nominal delay d: loopSlack,
// or more for long delays, up to d/spreadFraction, the spread its due time
// has anyway (defaultSpread), so an early start moves no check out of the
// window it could fall in. At 100 checks a second (a check every 10 ms,
// each server every 100 ms) 2 ms shared few wake-ups; 5 ms took lvsd's CPU
// per check in the VM from 1.08 to 0.95 of keepalived's, and from 0.93 to
// 0.83 at 300 a second. Probes of one loop mostly share their delay;
// the heap is by due time, so a probe with more slack behind one with
// less may wait for its own due time.
func slackFor(d time.Duration) time.Duration {
	return max(loopSlack, d/spreadFraction)
}

// nextDue returns the first probe of the heap to handle now: a connect
// whose deadline has passed, or a check due by now+loopSlack; nil when
// the head is neither.
func (l *tcpLoop) nextDue(now time.Duration) *probe {
	if len(l.heap) == 0 {
		return nil
	}
	p := l.heap[0]
	if p.tcp.at <= now || (p.tcp.fd < 0 && p.tcp.at <= now+p.tcp.slack) {
		return p
	}
	return nil
}

// wait returns the number of events in l.events once there are some (0
// if a read deadline set on ep passed: tests only). epoll_wait with
// timeout 0 never blocks; the goroutine parks in Go's poller until the
// epoll descriptor turns readable: an event is ready, the timerfd's
// among them.
func (l *tcpLoop) wait() int {
	l.nEvents = 0
	err := l.rc.Read(l.readFn)
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		// The descriptor is ours and open until run returns.
		l.m.log.Error("tcp_check loop: wait", "err", err)
		time.Sleep(10 * time.Millisecond)
	}
	return l.nEvents
}

// readEvents is wait's callback for RawConn.Read: it collects the ready
// events into l.events and l.nEvents and says whether there were any.
func (l *tcpLoop) readEvents(fd uintptr) bool {
	r, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, fd, uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), 0, 0, 0)
	switch {
	case e == syscall.EINTR:
		return false
	case e != 0:
		// Cannot happen with valid arguments; waiting for the next
		// event or deadline beats spinning.
		l.m.log.Error("tcp_check loop: epoll_pwait", "err", os.NewSyscallError("epoll_pwait", e))
		return false
	}
	l.nEvents = int(r)
	return l.nEvents > 0
}

// begin starts an attempt of p: a non-blocking connect, then the wait for
// writability in epoll, bounded by p's deadline in the heap.
func (l *tcpLoop) begin(p *probe, now time.Duration) {
	t := p.tcp
	t.start = now
	sa, salen := l.sa.set(t.target)
	fail := func(err error) {
		t.err, t.took = fmt.Errorf("tcp_check: %w", &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(t.target), Err: err}), 0
		l.finished = append(l.finished, p)
	}
	r, _, e := syscall.RawSyscall(syscall.SYS_SOCKET, uintptr(l.sa.family()), syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_TCP)
	if e != 0 {
		fail(os.NewSyscallError("socket", e))
		return
	}
	fd := int(r)
	_, _, e = syscall.RawSyscall(syscall.SYS_CONNECT, uintptr(fd), sa, salen)
	switch e {
	case 0:
		// Connected at once.
		closeRaw(fd)
		t.err, t.took = nil, 0
		l.finished = append(l.finished, p)
		return
	case syscall.EINPROGRESS:
	default:
		closeRaw(fd)
		fail(os.NewSyscallError("connect", e))
		return
	}
	// Level-triggered EPOLLOUT: a connecting socket turns writable when
	// the handshake completes, and reports EPOLLERR/EPOLLHUP when it
	// fails; SO_ERROR then says which.
	l.ev = unix.EpollEvent{Events: unix.EPOLLOUT, Fd: int32(fd)}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_CTL, uintptr(l.epfd), unix.EPOLL_CTL_ADD, uintptr(fd), uintptr(unsafe.Pointer(&l.ev)), 0, 0); e != 0 {
		closeRaw(fd)
		fail(os.NewSyscallError("epoll_ctl", e))
		return
	}
	for fd >= len(l.byFD) {
		l.byFD = append(l.byFD, nil)
	}
	l.byFD[fd] = p
	t.fd = fd
	t.at = now + t.timeout
	l.push(p)
}

// end records the outcome of p's attempt in flight (err nil: connected)
// and closes its descriptor.
func (l *tcpLoop) end(p *probe, err error, now time.Duration) {
	t := p.tcp
	l.closeFD(p)
	t.took = now - t.start
	t.err = nil
	if err != nil {
		t.err = fmt.Errorf("tcp_check: %w", &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(t.target), Err: err})
	}
	l.finished = append(l.finished, p)
}

func (l *tcpLoop) closeFD(p *probe) {
	if fd := p.tcp.fd; fd >= 0 {
		// Closing drops the epoll registration with it.
		closeRaw(fd)
		l.byFD[fd] = nil
		p.tcp.fd = -1
	}
}

func (l *tcpLoop) closeAll() {
	for _, p := range l.heap {
		l.closeFD(p)
		p.tcp.idx = -1
	}
	clear(l.heap)
	l.heap = l.heap[:0]
}

// closeRaw closes a socket that has no data to linger over: it never
// blocks, so it need not tell the scheduler (see probeConnect).
func closeRaw(fd int) {
	_, _, _ = syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0)
}

// soError is the outcome of a non-blocking connect that epoll reported.
func soError(fd int) error {
	var v int32
	vlen := uint32(4)
	if _, _, e := syscall.RawSyscall6(syscall.SYS_GETSOCKOPT, uintptr(fd), syscall.SOL_SOCKET, syscall.SO_ERROR,
		uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&vlen)), 0); e != 0 {
		return os.NewSyscallError("getsockopt", e)
	}
	if v != 0 {
		return os.NewSyscallError("connect", syscall.Errno(v))
	}
	return nil
}

// rawSockaddr is a target as connect(2) reads it.
type rawSockaddr struct {
	sa4 syscall.RawSockaddrInet4
	sa6 syscall.RawSockaddrInet6
	is4 bool
}

func (s *rawSockaddr) family() int {
	if s.is4 {
		return syscall.AF_INET
	}
	return syscall.AF_INET6
}

// set fills s with target (port in network byte order) and returns the
// pointer and length to pass to connect.
func (s *rawSockaddr) set(target netip.AddrPort) (uintptr, uintptr) {
	a := target.Addr().Unmap()
	if s.is4 = a.Is4(); s.is4 {
		s.sa4 = syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: a.As4()}
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&s.sa4.Port))[:], target.Port())
		return uintptr(unsafe.Pointer(&s.sa4)), unsafe.Sizeof(s.sa4)
	}
	s.sa6 = syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Addr: a.As16()}
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&s.sa6.Port))[:], target.Port())
	if z := a.Zone(); z != "" {
		// Resolved at each attempt, as the dialer does: an interface
		// recreated under the same name gets a new index.
		if ifi, err := net.InterfaceByName(z); err == nil {
			s.sa6.Scope_id = uint32(ifi.Index)
		}
	}
	return uintptr(unsafe.Pointer(&s.sa6)), unsafe.Sizeof(s.sa6)
}

// The heap of the loop's probes by tcp.at (a binary min-heap with each
// probe's index kept for removal).

func (l *tcpLoop) push(p *probe) {
	p.tcp.idx = len(l.heap)
	l.heap = append(l.heap, p)
	l.up(p.tcp.idx)
}

// remove takes p out of the heap if it is in it.
func (l *tcpLoop) remove(p *probe) {
	i := p.tcp.idx
	if i < 0 {
		return
	}
	last := len(l.heap) - 1
	if i != last {
		l.swap(i, last)
	}
	l.heap[last] = nil
	l.heap = l.heap[:last]
	p.tcp.idx = -1
	if i != last {
		if !l.down(i) {
			l.up(i)
		}
	}
}

func (l *tcpLoop) swap(i, j int) {
	l.heap[i], l.heap[j] = l.heap[j], l.heap[i]
	l.heap[i].tcp.idx = i
	l.heap[j].tcp.idx = j
}

func (l *tcpLoop) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if l.heap[parent].tcp.at <= l.heap[i].tcp.at {
			return
		}
		l.swap(i, parent)
		i = parent
	}
}

// down sifts i down and reports whether it moved.
func (l *tcpLoop) down(i int) bool {
	start := i
	for {
		c := 2*i + 1
		if c >= len(l.heap) {
			break
		}
		if r := c + 1; r < len(l.heap) && l.heap[r].tcp.at < l.heap[c].tcp.at {
			c = r
		}
		if l.heap[i].tcp.at <= l.heap[c].tcp.at {
			break
		}
		l.swap(i, c)
		i = c
	}
	return i > start
}
