package healthcheck

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// Transition is a change of a real server's verdict.
type Transition struct {
	VS, RS string // VSKey and RSKey of the real server
	Up     bool
	Err    string // the failed attempt that took it down; "" when up
	At     time.Time
}

// ProbeStatus is one probed real server, for `lvsd status`.
type ProbeStatus struct {
	VS          string    `json:"vs"`
	RS          string    `json:"rs"`
	Target      string    `json:"target"`
	Up          bool      `json:"up"`
	LastError   string    `json:"last_error,omitempty"`
	LastCheck   time.Time `json:"last_check,omitzero"` // zero before the first check
	Transitions int       `json:"transitions"`
	Since       time.Time `json:"since"` // last transition, or when probing started
}

// VSKey names a virtual server in Transition, Up and Status: its name when
// it has one, else "PROTO addr:port" as ipvsadm prints it.
func VSKey(vs conf.VirtualServer) string {
	if vs.Name != "" {
		return vs.Name
	}
	proto := vs.Protocol
	if proto == "" {
		proto = "TCP"
	}
	return proto + " " + vs.Address.String()
}

// RSKey names a real server within its virtual server: its address, which is
// what IPVS keys it by.
func RSKey(rs conf.RealServer) string { return rs.Address.String() }

// Option configures a Manager.
type Option func(*Manager)

// WithClock replaces the system clock (tests).
func WithClock(c Clock) Option { return func(m *Manager) { m.clock = c } }

// WithCheckerFunc replaces how a tcp_check block becomes a Checker (tests,
// or a future bindto).
func WithCheckerFunc(f func(conf.TCPCheck) Checker) Option {
	return func(m *Manager) { m.newChecker = f }
}

// WithJitter replaces the random delay of a probe's first check; f gets the
// delay_loop and returns a delay in [0, delay_loop).
func WithJitter(f func(delayLoop time.Duration) time.Duration) Option {
	return func(m *Manager) { m.jitter = f }
}

// Manager runs the probes of a configuration and keeps their verdicts.
// Its methods are safe for concurrent use.
type Manager struct {
	log        *slog.Logger
	onChange   func(Transition)
	clock      Clock
	newChecker func(conf.TCPCheck) Checker
	jitter     func(time.Duration) time.Duration

	mu     sync.Mutex
	probes map[probeKey]*probe
	runCtx context.Context // non-nil while Run runs
	ran    bool
	// pending transitions, delivered in order by Run's goroutine so that
	// onChange is never called concurrently and never blocks a probe.
	pending  []Transition
	wake     chan struct{}
	inflight sync.WaitGroup
}

type probeKey struct{ vs, rs string }

type probe struct {
	key     probeKey
	cfg     conf.TCPCheck
	checker Checker
	state   State
	timer   Timer
	stopped bool
	cancel  context.CancelFunc // of the attempt in flight
}

// NewManager returns a Manager without probes. onChange (may be nil) is
// called from Run's goroutine, one transition at a time, in the order they
// happened; it should return quickly.
func NewManager(log *slog.Logger, onChange func(Transition), opts ...Option) *Manager {
	m := &Manager{
		log:        log,
		onChange:   onChange,
		clock:      SystemClock{},
		newChecker: NewTCPChecker,
		jitter:     defaultJitter,
		probes:     make(map[probeKey]*probe),
		wake:       make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(m)
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return m
}

// NewTCPChecker is the default Checker of a tcp_check block.
func NewTCPChecker(c conf.TCPCheck) Checker {
	return &TCPChecker{Target: c.Target, Timeout: connectTimeout(c)}
}

func defaultJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

func connectTimeout(c conf.TCPCheck) time.Duration {
	if c.ConnectTimeout <= 0 {
		return defaultConnectTimeout
	}
	return c.ConnectTimeout
}

func policyOf(c conf.TCPCheck) Policy {
	return Policy{Retry: c.Retry, DelayBeforeRetry: c.DelayBeforeRetry, DelayLoop: c.DelayLoop}
}

// Set installs the probes of a configuration, at start and on every reload.
//
// A probe whose virtual server, real server and tcp_check settings are
// unchanged keeps its verdict and its timer. A probe that is gone stops; its
// real server, if still configured without a check, counts as up. A new probe
// starts up, first checked after the jitter. A probe whose settings changed
// restarts its schedule (jitter, retries forgotten) but keeps its verdict, so
// a reload never flaps a down server back into IPVS. Set emits no
// Transition.
func (m *Manager) Set(vss []conf.VirtualServer) {
	want := make(map[probeKey]conf.TCPCheck)
	for _, vs := range vss {
		for _, rs := range vs.RealServers {
			if rs.TCPCheck == nil {
				continue
			}
			k := probeKey{VSKey(vs), RSKey(rs)}
			if _, dup := want[k]; dup {
				m.log.Warn("duplicate real server, last one wins", "vs", k.vs, "rs", k.rs)
			}
			want[k] = *rs.TCPCheck
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	var added, removed, changed, kept int
	for k, p := range m.probes {
		if cfg, ok := want[k]; ok && cfg == p.cfg {
			kept++
			delete(want, k)
			continue
		}
		m.stopLocked(p)
		delete(m.probes, k)
		if cfg, ok := want[k]; ok {
			changed++
			np := m.newProbe(k, cfg, now)
			st := p.state
			np.state.Up, np.state.Since, np.state.Transitions = st.Up, st.Since, st.Transitions
			np.state.LastCheck, np.state.LastErr = st.LastCheck, st.LastErr
			m.probes[k] = np
			delete(want, k)
		} else {
			removed++
		}
	}
	for k, cfg := range want {
		added++
		m.probes[k] = m.newProbe(k, cfg, now)
	}
	if m.runCtx != nil {
		for _, p := range m.probes {
			if p.timer == nil {
				m.startLocked(p)
			}
		}
	}
	m.log.Info("health checks configured", "probes", len(m.probes),
		"added", added, "removed", removed, "changed", changed, "kept", kept)
}

func (m *Manager) newProbe(k probeKey, cfg conf.TCPCheck, now time.Time) *probe {
	return &probe{key: k, cfg: cfg, checker: m.newChecker(cfg), state: NewState(policyOf(cfg), now)}
}

// startLocked schedules the first check of p after the jitter.
func (m *Manager) startLocked(p *probe) {
	p.timer = m.clock.AfterFunc(m.jitter(p.state.Policy.DelayLoop), func() { m.fire(p) })
}

// stopLocked stops p's timer and aborts its attempt in flight; the result of
// that attempt is then dropped, not counted as a failure.
func (m *Manager) stopLocked(p *probe) {
	p.stopped = true
	if p.timer != nil {
		p.timer.Stop()
	}
	if p.cancel != nil {
		p.cancel()
	}
}

// fire runs one attempt of p and schedules the next. It runs in the timer's
// goroutine, so a slow attempt delays no other probe.
func (m *Manager) fire(p *probe) {
	m.mu.Lock()
	if p.stopped || m.runCtx == nil {
		m.mu.Unlock()
		return
	}
	// The Manager enforces connect_timeout whatever the Checker does.
	runCtx := m.runCtx
	ctx, cancel := context.WithTimeout(runCtx, connectTimeout(p.cfg))
	p.cancel = cancel
	m.inflight.Add(1)
	m.mu.Unlock()
	defer m.inflight.Done()

	err := p.checker.Check(ctx)
	cancel()
	now := m.clock.Now()

	m.mu.Lock()
	defer m.mu.Unlock()
	p.cancel = nil
	// An attempt aborted by a removal or by shutdown says nothing about
	// the server: drop it rather than count a failure.
	if p.stopped || m.runCtx == nil || runCtx.Err() != nil {
		return
	}
	next, changed := p.state.Observe(err, now)
	if err != nil && !changed {
		m.log.Debug("health check failed", "vs", p.key.vs, "rs", p.key.rs, "err", err,
			"up", p.state.Up, "retries", p.state.Retries(), "next", next)
	}
	if changed {
		tr := Transition{VS: p.key.vs, RS: p.key.rs, Up: p.state.Up, Err: p.state.LastErr, At: now}
		if tr.Up {
			m.log.Info("real server up", "vs", tr.VS, "rs", tr.RS, "target", p.cfg.Target.String())
		} else {
			m.log.Warn("real server down", "vs", tr.VS, "rs", tr.RS, "target", p.cfg.Target.String(), "err", tr.Err)
		}
		m.pending = append(m.pending, tr)
		select {
		case m.wake <- struct{}{}:
		default:
		}
	}
	p.timer = m.clock.AfterFunc(next, func() { m.fire(p) })
}

// Run probes until ctx is done, then stops every timer, aborts the attempts
// in flight, delivers the transitions already seen and returns nil. Set may be
// called before and while Run runs. Run may be called once.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.ran {
		m.mu.Unlock()
		return errors.New("healthcheck: Run called twice")
	}
	m.ran = true
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	m.runCtx = runCtx
	for _, p := range m.probes {
		m.startLocked(p)
	}
	m.mu.Unlock()

	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-m.wake:
			m.deliver()
		}
	}

	m.mu.Lock()
	m.runCtx = nil
	for _, p := range m.probes {
		if p.timer != nil {
			p.timer.Stop()
		}
	}
	m.mu.Unlock()
	cancel()
	m.inflight.Wait()
	m.deliver()
	return nil
}

func (m *Manager) deliver() {
	m.mu.Lock()
	trs := m.pending
	m.pending = nil
	m.mu.Unlock()
	if m.onChange == nil {
		return
	}
	for _, tr := range trs {
		m.onChange(tr)
	}
}

// Up reports whether the real server rs (RSKey) of the virtual server vs
// (VSKey) may receive traffic. Real servers without a probe, known or not,
// are up.
func (m *Manager) Up(vs, rs string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.probes[probeKey{vs, rs}]
	return !ok || p.state.Up
}

// Status returns the probed real servers sorted by vs then rs.
func (m *Manager) Status() []ProbeStatus {
	m.mu.Lock()
	out := make([]ProbeStatus, 0, len(m.probes))
	for _, p := range m.probes {
		out = append(out, ProbeStatus{
			VS:          p.key.vs,
			RS:          p.key.rs,
			Target:      p.cfg.Target.String(),
			Up:          p.state.Up,
			LastError:   p.state.LastErr,
			LastCheck:   p.state.LastCheck,
			Transitions: p.state.Transitions,
			Since:       p.state.Since,
		})
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b ProbeStatus) int {
		return cmp.Or(cmp.Compare(a.VS, b.VS), cmp.Compare(a.RS, b.RS))
	})
	return out
}
