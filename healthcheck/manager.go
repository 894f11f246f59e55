package healthcheck

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// Transition is a change of a real server's verdict.
type Transition struct {
	VS  string    `json:"vs"` // VSKey and RSKey of the real server
	RS  string    `json:"rs"`
	Up  bool      `json:"up"`
	Err string    `json:"err,omitempty"` // the failed attempt that took it down; "" when up
	At  time.Time `json:"at"`
	// WeightOnly marks a change of the misc_dynamic weight of a server
	// whose verdict did not change (see Manager.Weight); Up is the
	// unchanged verdict. It is not counted in the server's transitions.
	WeightOnly bool `json:"weight_only,omitempty"`
}

// maxHistory is how many transitions a real server remembers for status.
const maxHistory = 16

// ProbeStatus is one checked real server, for `lvsd status`. Its verdict is
// the conjunction of its checkers'.
type ProbeStatus struct {
	VS     string `json:"vs"`
	RS     string `json:"rs"`
	Target string `json:"target"` // the first checker's
	Up     bool   `json:"up"`
	// LastError is the last error of the first failing checker.
	LastError   string    `json:"last_error,omitempty"`
	LastCheck   time.Time `json:"last_check,omitzero"` // latest of the checkers'; zero before the first check
	Transitions int       `json:"transitions"`
	Since       time.Time `json:"since"` // last transition, or when probing started
	// Weight is the misc_dynamic weight; nil = the configured one.
	Weight *int `json:"weight,omitempty"`
	// History is the last transitions (at most maxHistory), oldest first.
	History []Transition  `json:"history,omitempty"`
	Checks  []CheckStatus `json:"checkers,omitempty"`
}

// CheckStatus is one checker of a real server. It never holds a password.
type CheckStatus struct {
	Kind        string    `json:"kind"`
	Target      string    `json:"target"`
	User        string    `json:"user,omitempty"` // mysql_check, misc_check
	Up          bool      `json:"up"`
	LastError   string    `json:"last_error,omitempty"`
	LastCheck   time.Time `json:"last_check,omitzero"`
	Transitions int       `json:"transitions"`
	Since       time.Time `json:"since"`
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

// WithCheckerFunc replaces how a checker block becomes a Checker (tests).
func WithCheckerFunc(f func(conf.Check) Checker) Option {
	return func(m *Manager) { m.newChecker = f }
}

// WithJitter replaces the random delay of a probe's first check; f gets the
// warmup bound (the delay_loop unless warmup is set) and returns a delay in
// [0, bound).
func WithJitter(f func(warmup time.Duration) time.Duration) Option {
	return func(m *Manager) { m.jitter = f }
}

// WithSpread replaces the jitter applied to every later delay (delay_loop
// and delay_before_retry); f gets the nominal delay and returns the one to
// wait. The default is defaultSpread.
func WithSpread(f func(time.Duration) time.Duration) Option {
	return func(m *Manager) { m.spread = f }
}

// Attempt is one finished check attempt, as WithAttemptHook sees it.
type Attempt struct {
	Kind   string // conf.Check.Kind
	Target netip.AddrPort
	Took   time.Duration // from its start to its outcome
	Err    error         // nil: passed
}

// WithAttemptHook calls f after every attempt, including those whose
// result is dropped because their probe stopped meanwhile (benchmarks:
// latency percentiles). f is called from the goroutine that ran the
// attempt, possibly concurrently, and must return quickly.
func WithAttemptHook(f func(Attempt)) Option {
	return func(m *Manager) { m.attemptHook = f }
}

// WithNotifyTimeout bounds each notify_up / notify_down run (default
// defaultNotifyTimeout).
func WithNotifyTimeout(d time.Duration) Option {
	return func(m *Manager) { m.notifyTimeout = d }
}

// Manager runs the probes of a configuration and keeps their verdicts.
// Each checker of a real server is a probe with its own timer and retry
// state; the real server is up while all its probes are up.
// Its methods are safe for concurrent use.
type Manager struct {
	log        *slog.Logger
	onChange   func(Transition)
	clock      Clock
	newChecker func(conf.Check) Checker
	jitter     func(time.Duration) time.Duration
	spread     func(time.Duration) time.Duration
	// attemptHook, when set, sees every attempt's outcome.
	attemptHook func(Attempt)
	// loop runs the tcp_check probes (tcpProbe) while Run runs; nil
	// before, or when it could not be created (they then take the
	// general path, a timer and a goroutine per check).
	loop *tcpLoop
	// notify scripts run one at a time, in transition order, from one
	// goroutine (keepalived runs them concurrently: issue #1055).
	notifyTimeout time.Duration
	notifyWG      sync.WaitGroup

	mu      sync.Mutex
	servers map[serverKey]*server
	// gen counts the changes of what Up and Weight answer (Gen).
	gen uint64
	// probes holds every running probe by probeID: identical checkers of
	// several virtual servers (same target, same settings) are one probe
	// whose verdict fans out (keepalived runs them once per virtual
	// server, keepalived issue #1495).
	probes map[string]*probe
	runCtx context.Context // non-nil while Run runs
	ran    bool
	// pending transitions, delivered in order by Run's goroutine so that
	// onChange is never called concurrently and never blocks a probe.
	pending []Transition
	wake    chan struct{}
	// notifyPending are the notify jobs not yet handed to runNotify.
	notifyPending []notifyJob
	notifyWake    chan struct{}
	inflight      sync.WaitGroup
}

type serverKey struct{ vs, rs string }

// server is one checked real server: its probes and its aggregate verdict.
type server struct {
	key         serverKey
	probes      []*probe
	up          bool
	since       time.Time
	transitions int
	// alpha: the virtual server has alpha and no check of this server has
	// passed yet, so it stays down (keepalived's alpha mode).
	alpha   bool
	history []Transition
	// notify_up / notify_down argv (nil = none).
	notifyUp, notifyDown []string
	// weight is the misc_dynamic weight last published for this server
	// (-1 = the configured one).
	weight int
}

// alphaPassed says whether every checker of s has passed its last attempt,
// which ends s's alpha wait.
func (s *server) alphaPassed() bool {
	for _, p := range s.probes {
		if !p.state.Up || p.state.LastCheck.IsZero() || p.state.LastErr != "" {
			return false
		}
	}
	return true
}

// verdict is s's aggregate verdict, ending its alpha wait when it can.
func (s *server) verdict() bool {
	if s.alpha {
		if !s.alphaPassed() {
			return false
		}
		s.alpha = false
	}
	return s.allUp()
}

// dynWeight is the misc_dynamic weight of s: that of its first probe with
// one, -1 (configured) when none has.
func (s *server) dynWeight() int {
	for _, p := range s.probes {
		if p.weight >= 0 {
			return p.weight
		}
	}
	return -1
}

// notifyJob is one notify_up / notify_down run.
type notifyJob struct {
	argv   []string
	vs, rs string
	up     bool
}

type probe struct {
	id      string
	servers []*server // the real servers using this checker, in Set order
	cfg     conf.Check
	checker Checker
	state   State
	timer   Timer
	stopped bool
	cancel  context.CancelFunc // of the attempt in flight
	// weight is the last misc_dynamic weight reported by a successful
	// attempt; -1 = the configured weight (keepalived: exit 0, or no
	// misc_dynamic). A failed attempt leaves it unchanged, as keepalived.
	weight int
	// tcp is set when the Manager's tcpLoop runs this probe (a plain
	// tcp_check on the real clock).
	tcp *tcpProbe
}

// allUp is the verdict of the probes of s.
func (s *server) allUp() bool {
	for _, p := range s.probes {
		if !p.state.Up {
			return false
		}
	}
	return true
}

// NewManager returns a Manager without probes. onChange (may be nil) is
// called from Run's goroutine, one transition at a time, in the order they
// happened; it should return quickly.
func NewManager(log *slog.Logger, onChange func(Transition), opts ...Option) *Manager {
	m := &Manager{
		log:        log,
		onChange:   onChange,
		clock:      SystemClock{},
		newChecker: NewChecker,
		jitter:     defaultJitter,
		spread:     defaultSpread,
		servers:    make(map[serverKey]*server),
		probes:     make(map[string]*probe),
		wake:       make(chan struct{}, 1),
		notifyWake: make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(m)
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.notifyTimeout <= 0 {
		m.notifyTimeout = defaultNotifyTimeout
	}
	return m
}

// defaultNotifyTimeout bounds a notify script; keepalived has no bound, but
// one hung script would hold every later notification.
const defaultNotifyTimeout = 10 * time.Second

// NewChecker is the default Checker of a checker block, by Kind. An unknown
// kind gives a Checker that always fails, naming it.
func NewChecker(c conf.Check) Checker {
	switch c.Kind {
	case conf.CheckTCP, "":
		tc := &TCPChecker{Target: c.Target, Timeout: connectTimeout(c)}
		if d := sourceDialer(c, "tcp"); d != nil {
			tc.Dialer = d
		}
		return tc
	case conf.CheckMySQL:
		return NewMySQLChecker(c)
	case conf.CheckHTTP, conf.CheckSSL:
		return NewHTTPChecker(c)
	case conf.CheckMisc:
		return NewMiscChecker(c)
	case conf.CheckUDP:
		return NewUDPChecker(c)
	case conf.CheckDNS:
		return NewDNSChecker(c)
	}
	err := fmt.Errorf("healthcheck: unknown checker kind %q", c.Kind)
	return checkerFunc(func(context.Context) error { return err })
}

type checkerFunc func(context.Context) error

func (f checkerFunc) Check(ctx context.Context) error { return f(ctx) }

func defaultJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// spreadFraction is the jitter of every delay after the first: a delay d
// becomes uniform in [d - d/20, d + d/20], so probes that start together
// (warmup = 0, or timers aligned by a stall of the host) drift apart
// instead of firing together forever, while the mean interval stays d.
const spreadFraction = 20

func defaultSpread(d time.Duration) time.Duration {
	w := d / spreadFraction
	if w <= 0 {
		return d
	}
	return d - w + rand.N(2*w+1)
}

// warmupOf is the bound of the random delay before the first check of c:
// its warmup when set, else its delay_loop; warmup = 0 (Warmup < 0) is at
// once.
func warmupOf(c conf.Check, p Policy) time.Duration {
	switch {
	case c.Warmup < 0:
		return 0
	case c.Warmup > 0:
		return c.Warmup
	}
	return p.DelayLoop
}

func connectTimeout(c conf.Check) time.Duration {
	if c.ConnectTimeout <= 0 {
		return defaultConnectTimeout
	}
	return c.ConnectTimeout
}

// attemptTimeout bounds one attempt of c in the Manager: connect_timeout,
// or for misc_check its misc_timeout plus a grace so that the checker kills
// the program and reports the timeout itself.
func attemptTimeout(c conf.Check) time.Duration {
	if c.Kind == conf.CheckMisc && c.Misc != nil && c.Misc.Timeout > 0 {
		return c.Misc.Timeout + miscGrace
	}
	return connectTimeout(c)
}

func policyOf(c conf.Check) Policy {
	return Policy{Retry: c.Retry, DelayBeforeRetry: c.DelayBeforeRetry, DelayLoop: c.DelayLoop, Rise: c.Rise}
}

// checkName is how logs and errors name a checker: its block type.
func checkName(kind string) string {
	switch kind {
	case conf.CheckMySQL:
		return "mysql_check"
	case conf.CheckHTTP:
		return "http_get"
	case conf.CheckSSL:
		return "ssl_get"
	case conf.CheckMisc:
		return "misc_check"
	case conf.CheckUDP:
		return "udp_check"
	case conf.CheckDNS:
		return "dns_check"
	}
	return "tcp_check"
}

// probeID identifies a checker by its kind, target and every setting (the
// password included: it is only a map key, never printed).
func probeID(c conf.Check) string {
	b, err := json.Marshal(c)
	if err != nil { // cannot happen: plain values
		panic(err)
	}
	return string(b)
}

func sameChecks(a []*probe, b []conf.Check) bool {
	if len(a) != len(b) {
		return false
	}
	for i, p := range a {
		if !p.cfg.Equal(b[i]) {
			return false
		}
	}
	return true
}

// Set installs the probes of a configuration, at start and on every reload.
//
// A real server whose checkers are all unchanged keeps its verdict and its
// timers. A real server that is gone, or loses all its checkers, stops being
// probed (without checkers it counts as up). A new real server starts up,
// each checker first run after its own jitter. When the checkers of a real
// server change, an unchanged checker keeps its state and timer; a changed
// checker (same position and kind) restarts its schedule (jitter, retries
// forgotten) but keeps its verdict, and a new checker of a server that is
// down starts down: a reload never flaps a down server back into IPVS.
// Identical checkers (same kind, target and settings) of several virtual
// servers share one probe; a server that joins a probe which is down starts
// down. The only Transition Set emits is a server coming up because its
// failing checker was removed.
func (m *Manager) Set(vss []conf.VirtualServer) {
	want := make(map[serverKey][]conf.Check)
	alpha := make(map[serverKey]bool)
	notify := make(map[serverKey][2][]string)
	var order []serverKey
	// By index: copying each virtual and real server (100k at 10k
	// services) was most of a reload's call.
	for i := range vss {
		vs := &vss[i]
		for j := range vs.RealServers {
			rs := &vs.RealServers[j]
			if len(rs.Checks) == 0 {
				continue
			}
			k := serverKey{VSKey(*vs), RSKey(*rs)}
			if _, dup := want[k]; dup {
				m.log.Warn("duplicate real server, last one wins", "vs", k.vs, "rs", k.rs)
			} else {
				order = append(order, k)
			}
			want[k] = rs.Checks
			alpha[k] = vs.Alpha
			notify[k] = [2][]string{rs.NotifyUp(), rs.NotifyDown()}
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	var added, removed, changed, kept int
	for k, s := range m.servers {
		cfgs, ok := want[k]
		switch {
		case !ok:
			removed++
			for _, p := range s.probes {
				m.unsubscribeLocked(p, s)
			}
			delete(m.servers, k)
		case sameChecks(s.probes, cfgs):
			kept++
		default:
			changed++
			m.replaceProbesLocked(s, cfgs, now)
		}
		if ok {
			s.notifyUp, s.notifyDown = notify[k][0], notify[k][1]
		}
	}
	for _, k := range order {
		if _, ok := m.servers[k]; ok {
			continue
		}
		added++
		s := &server{key: k, up: true, since: now, alpha: alpha[k], weight: -1, notifyUp: notify[k][0], notifyDown: notify[k][1]}
		for _, cfg := range want[k] {
			p := m.probes[probeID(cfg)]
			if p == nil {
				p = m.newProbe(cfg, now)
			} else if !p.state.Up {
				// Joining a probe that is down: the new server
				// starts down like its twin.
				s.up = false
			}
			m.subscribeLocked(p, s)
			s.probes = append(s.probes, p)
		}
		if s.alpha {
			// With alpha a new server starts down unless its (shared)
			// checkers have already passed.
			s.up = s.verdict()
		}
		m.servers[k] = s
	}
	if m.runCtx != nil {
		for _, p := range m.probes {
			if p.timer == nil {
				m.startLocked(p)
			}
		}
	}
	if added+removed+changed > 0 {
		m.gen++
	}
	m.log.Info("health checks configured", "servers", len(m.servers), "probes", len(m.probes),
		"added", added, "removed", removed, "changed", changed, "kept", kept)
}

// replaceProbesLocked gives s the checkers cfgs, keeping what it can.
func (m *Manager) replaceProbesLocked(s *server, cfgs []conf.Check, now time.Time) {
	old := s.probes
	used := make([]bool, len(old))
	s.probes = nil
	for i, cfg := range cfgs {
		var np *probe
		for j, p := range old {
			if !used[j] && p.cfg.Equal(cfg) {
				used[j], np = true, p
				break
			}
		}
		if np == nil {
			np = m.probes[probeID(cfg)]
			if np != nil {
				m.subscribeLocked(np, s)
			}
		}
		if np == nil {
			np = m.newProbe(cfg, now)
			m.subscribeLocked(np, s)
			if i < len(old) && !used[i] && old[i].cfg.Kind == cfg.Kind {
				st := old[i].state
				np.state.Up, np.state.Since, np.state.Transitions = st.Up, st.Since, st.Transitions
				np.state.LastCheck, np.state.LastErr = st.LastCheck, st.LastErr
			} else if !s.up {
				np.state.Up = false
			}
		}
		s.probes = append(s.probes, np)
	}
	for j, p := range old {
		if !used[j] && !slices.Contains(s.probes, p) {
			m.unsubscribeLocked(p, s)
		}
	}
	if up := s.verdict(); up != s.up {
		m.setServerLocked(s, up, "", now)
	}
}

// newProbe creates and registers a probe without subscribers.
func (m *Manager) newProbe(cfg conf.Check, now time.Time) *probe {
	p := &probe{id: probeID(cfg), cfg: cfg, checker: m.newChecker(cfg), state: NewState(policyOf(cfg), now), weight: -1}
	p.tcp = m.loopProbe(p.checker, cfg)
	m.probes[p.id] = p
	return p
}

// subscribeLocked makes p one of s's checkers. The caller appends p to
// s.probes where it belongs.
func (m *Manager) subscribeLocked(p *probe, s *server) {
	if !slices.Contains(p.servers, s) {
		p.servers = append(p.servers, s)
	}
}

// unsubscribeLocked removes s from p's servers and stops p when nobody uses
// it any more.
func (m *Manager) unsubscribeLocked(p *probe, s *server) {
	p.servers = slices.DeleteFunc(p.servers, func(x *server) bool { return x == s })
	if len(p.servers) == 0 {
		m.stopLocked(p)
		if m.probes[p.id] == p {
			delete(m.probes, p.id)
		}
	}
}

// setServerLocked records a change of s's verdict and queues its Transition.
func (m *Manager) setServerLocked(s *server, up bool, errText string, now time.Time) {
	s.up, s.since = up, now
	m.gen++
	s.transitions++
	tr := Transition{VS: s.key.vs, RS: s.key.rs, Up: up, Err: errText, At: now}
	if up {
		m.log.Info("real server up", "vs", tr.VS, "rs", tr.RS)
	} else {
		m.log.Warn("real server down", "vs", tr.VS, "rs", tr.RS, "err", tr.Err)
	}
	s.history = append(s.history, tr)
	if len(s.history) > maxHistory {
		s.history = slices.Delete(s.history, 0, len(s.history)-maxHistory)
	}
	argv := s.notifyDown
	if up {
		argv = s.notifyUp
	}
	if argv != nil {
		// Queued in transition order and never dropped; runNotify
		// runs them one after the other.
		m.notifyPending = append(m.notifyPending, notifyJob{argv: argv, vs: tr.VS, rs: tr.RS, up: up})
		select {
		case m.notifyWake <- struct{}{}:
		default:
		}
	}
	m.queueLocked(tr)
}

// queueLocked queues tr for onChange and wakes Run.
func (m *Manager) queueLocked(tr Transition) {
	m.pending = append(m.pending, tr)
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// weightChangedLocked publishes a change of s's misc_dynamic weight.
func (m *Manager) weightChangedLocked(s *server, now time.Time) {
	w := s.dynWeight()
	if w == s.weight {
		return
	}
	s.weight = w
	m.gen++
	m.log.Info("real server weight changed", "vs", s.key.vs, "rs", s.key.rs, "weight", w)
	m.queueLocked(Transition{VS: s.key.vs, RS: s.key.rs, Up: s.up, At: now, WeightOnly: true})
}

// startLocked schedules the first check of p after the jitter.
func (m *Manager) startLocked(p *probe) {
	d := m.jitter(warmupOf(p.cfg, p.state.Policy))
	if p.tcp != nil && m.loop != nil {
		m.loop.startLocked(p, d)
		return
	}
	p.timer = m.clock.AfterFunc(d, func() { m.fire(p) })
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
	ctx, cancel := context.WithTimeout(runCtx, attemptTimeout(p.cfg))
	p.cancel = cancel
	m.inflight.Add(1)
	m.mu.Unlock()
	defer m.inflight.Done()

	weight := -1
	var err error
	var start time.Time
	if m.attemptHook != nil {
		start = m.clock.Now()
	}
	if wc, ok := p.checker.(WeightChecker); ok {
		weight, err = wc.CheckWeight(ctx)
	} else {
		err = p.checker.Check(ctx)
	}
	cancel()
	now := m.clock.Now()
	if m.attemptHook != nil {
		m.attemptHook(Attempt{Kind: p.cfg.Kind, Target: p.cfg.Target, Took: now.Sub(start), Err: err})
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	p.cancel = nil
	// An attempt aborted by a removal or by shutdown says nothing about
	// the server: drop it rather than count a failure.
	if p.stopped || m.runCtx == nil || runCtx.Err() != nil {
		return
	}
	next := m.observeLocked(p, err, weight, now)
	p.timer = m.clock.AfterFunc(m.spread(next), func() { m.fire(p) })
}

// observeLocked records the outcome of one attempt of p (weight: its
// misc_dynamic weight, -1 if none), fans the verdict out to p's servers and
// returns the nominal delay until p's next attempt.
func (m *Manager) observeLocked(p *probe, err error, weight int, now time.Time) time.Duration {
	next, changed := p.state.Observe(err, now)
	if err != nil && !changed && m.log.Enabled(context.Background(), slog.LevelDebug) {
		m.log.Debug("health check failed", "check", checkName(p.cfg.Kind), "target", p.cfg.Target.String(),
			"servers", len(p.servers), "err", err, "up", p.state.Up, "retries", p.state.Retries(), "next", next)
	}
	if changed {
		m.log.Info("checker verdict changed", "check", checkName(p.cfg.Kind), "target", p.cfg.Target.String(),
			"servers", len(p.servers), "up", p.state.Up, "err", p.state.LastErr)
	}
	if err == nil {
		p.weight = weight
	}
	for _, s := range p.servers {
		if up := s.verdict(); up != s.up {
			m.setServerLocked(s, up, p.state.LastErr, now)
		}
		m.weightChangedLocked(s, now)
	}
	return next
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
	if _, sys := m.clock.(SystemClock); sys {
		l, err := newTCPLoop(m)
		if err != nil {
			m.log.Warn("tcp_check loop unavailable, one timer per check instead", "err", err)
		} else {
			m.loop = l
			go l.run()
		}
	}
	for _, p := range m.probes {
		m.startLocked(p)
	}
	m.mu.Unlock()
	notifyDone := make(chan struct{})
	m.notifyWG.Add(1)
	go m.runNotify(notifyDone)

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
	l := m.loop
	if l != nil {
		l.wake()
	}
	m.mu.Unlock()
	cancel()
	if l != nil {
		// It sees runCtx nil when it wakes, closes its sockets and
		// returns without counting their attempts.
		<-l.done
	}
	m.inflight.Wait()
	m.deliver()
	// Scripts already queued still run (a down server's notify_down
	// matters most at shutdown), each bounded by its timeout.
	close(notifyDone)
	m.notifyWG.Wait()
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

// Gen numbers the states of the verdicts: it changes, before the
// Transition is delivered, whenever Up or Weight may answer differently for
// some real server, so a caller that built something from them can tell
// whether it must build it again.
func (m *Manager) Gen() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gen
}

// Up reports whether the real server rs (RSKey) of the virtual server vs
// (VSKey) may receive traffic: all its checkers pass. Real servers without a
// checker, known or not, are up.
func (m *Manager) Up(vs, rs string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.servers[serverKey{vs, rs}]
	return !ok || s.up
}

// runNotify runs the queued notify scripts one at a time until done is
// closed, then the ones still queued.
func (m *Manager) runNotify(done <-chan struct{}) {
	defer m.notifyWG.Done()
	for {
		m.mu.Lock()
		jobs := m.notifyPending
		m.notifyPending = nil
		m.mu.Unlock()
		for _, j := range jobs {
			m.notify(j)
		}
		if len(jobs) > 0 {
			continue
		}
		select {
		case <-m.notifyWake:
		case <-done:
			m.mu.Lock()
			jobs := m.notifyPending
			m.notifyPending = nil
			m.mu.Unlock()
			for _, j := range jobs {
				m.notify(j)
			}
			return
		}
	}
}

// notify runs one notify script with misc_check's runner: no shell, own
// process group, killed on timeout.
func (m *Manager) notify(j notifyJob) {
	kind := "notify_down"
	if j.up {
		kind = "notify_up"
	}
	name := kind + " " + j.argv[0]
	if _, err := runProgram(context.Background(), name, j.argv, m.notifyTimeout, ""); err != nil {
		m.log.Warn("notify script failed", "vs", j.vs, "rs", j.rs, "err", err)
		return
	}
	m.log.Info("notify script ran", "vs", j.vs, "rs", j.rs, "script", name)
}

// Weight reports the weight misc_dynamic gave the real server rs of vs:
// ok is false when the configured weight applies (no misc_dynamic, exit
// code 0, or not checked yet). keepalived's mapping (check_misc.c): exit 2-255
// is up with weight code - 2, 0 up with the configured weight, 1 down; a
// failure keeps the last weight for when the server comes back.
func (m *Manager) Weight(vs, rs string) (weight int, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, found := m.servers[serverKey{vs, rs}]
	if !found || s.weight < 0 {
		return 0, false
	}
	return s.weight, true
}

// Status returns the checked real servers sorted by vs then rs, each with its
// checkers in configuration order.
func (m *Manager) Status() []ProbeStatus {
	m.mu.Lock()
	out := make([]ProbeStatus, 0, len(m.servers))
	for _, s := range m.servers {
		ps := ProbeStatus{
			VS:          s.key.vs,
			RS:          s.key.rs,
			Target:      s.probes[0].cfg.Target.String(),
			Up:          s.up,
			Transitions: s.transitions,
			Since:       s.since,
			History:     slices.Clone(s.history),
		}
		if s.weight >= 0 {
			w := s.weight
			ps.Weight = &w
		}
		for _, p := range s.probes {
			st := p.state
			cs := CheckStatus{
				Kind:        checkName(p.cfg.Kind),
				Target:      p.cfg.Target.String(),
				Up:          st.Up,
				LastError:   st.LastErr,
				LastCheck:   st.LastCheck,
				Transitions: st.Transitions,
				Since:       st.Since,
			}
			if p.cfg.MySQL != nil {
				cs.User = p.cfg.MySQL.User
			}
			if p.cfg.Misc != nil {
				cs.User = p.cfg.Misc.User
			}
			if ps.LastError == "" && !st.Up {
				ps.LastError = st.LastErr
			}
			if st.LastCheck.After(ps.LastCheck) {
				ps.LastCheck = st.LastCheck
			}
			ps.Checks = append(ps.Checks, cs)
		}
		if ps.LastError == "" {
			for _, c := range ps.Checks {
				if c.LastError != "" {
					ps.LastError = c.LastError
					break
				}
			}
		}
		out = append(out, ps)
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b ProbeStatus) int {
		return cmp.Or(cmp.Compare(a.VS, b.VS), cmp.Compare(a.RS, b.RS))
	})
	return out
}
