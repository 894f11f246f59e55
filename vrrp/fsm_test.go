package vrrp

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

var (
	t0     = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ipLow  = netip.MustParseAddr("192.0.2.1")
	ipHigh = netip.MustParseAddr("192.0.2.2")
)

func params(prio uint8, mut ...func(*Params)) Params {
	p := Params{Priority: prio, AdvertInt: time.Second, LocalIP: ipLow, GARPDelay: 5 * time.Second}
	for _, f := range mut {
		f(&p)
	}
	return p
}

func nopreempt(p *Params)   { p.Nopreempt = true }
func startMaster(p *Params) { p.StartMaster = true }

func TestTimerFormulas(t *testing.T) {
	// RFC 3768 §6.1.
	for _, tc := range []struct {
		prio       uint8
		skew, down time.Duration
	}{
		{255, time.Second / 256, 3*time.Second + time.Second/256},
		{100, 156 * time.Second / 256, 3*time.Second + 609375*time.Microsecond},
		{1, 255 * time.Second / 256, 3*time.Second + 996093750},
	} {
		p := params(tc.prio)
		if p.SkewTime() != tc.skew || p.MasterDownInterval() != tc.down {
			t.Errorf("prio %d: skew %v down %v, want %v %v", tc.prio, p.SkewTime(), p.MasterDownInterval(), tc.skew, tc.down)
		}
	}
	p := params(100)
	p.AdvertInt = 3 * time.Second
	if p.MasterDownInterval() != 9*time.Second+p.SkewTime() {
		t.Errorf("advert_int 3: %v", p.MasterDownInterval())
	}
}

func TestStep(t *testing.T) {
	down := params(100).MasterDownInterval()
	skew := params(100).SkewTime()
	becomeMaster := func(prio uint8) []Action {
		return []Action{
			StopTimers{}, SendAdvert{prio}, AddVIPs{}, SendGARP{},
			SetAdvertTimer{time.Second, t0.Add(time.Second)},
			SetGARPTimer{D: 5 * time.Second, At: t0.Add(5 * time.Second)},
		}
	}
	backupTimer := SetMasterDownTimer{down, t0.Add(down)}
	for _, tc := range []struct {
		name  string
		p     Params
		s     State
		ev    Event
		want  State
		wantA []Action
	}{
		// Startup, RFC 3768 §6.4.1.
		{"startup backup", params(100), StateInit, Startup{}, StateBackup, []Action{RemoveVIPs{}, backupTimer}},
		{"startup owner", params(255), StateInit, Startup{}, StateMaster, becomeMaster(255)},
		{"startup owner nopreempt", params(255, nopreempt), StateInit, Startup{}, StateMaster, becomeMaster(255)},
		{"startup state MASTER", params(100, startMaster), StateInit, Startup{}, StateMaster, becomeMaster(100)},
		{"startup state MASTER nopreempt listens first", params(100, startMaster, nopreempt), StateInit, Startup{}, StateBackup, []Action{RemoveVIPs{}, backupTimer}},
		{"init ignores adverts", params(100), StateInit, AdvertReceived{Priority: 200, Src: ipHigh}, StateInit, nil},

		// Backup, RFC 3768 §6.4.2.
		{"backup master down", params(100), StateBackup, MasterDownTimerFired{}, StateMaster, becomeMaster(100)},
		{"backup priority 0 -> skew", params(100), StateBackup, AdvertReceived{Priority: 0, Src: ipHigh}, StateBackup, []Action{SetMasterDownTimer{skew, t0.Add(skew)}}},
		{"backup higher resets", params(100), StateBackup, AdvertReceived{Priority: 150, Src: ipHigh}, StateBackup, []Action{backupTimer}},
		{"backup equal resets", params(100), StateBackup, AdvertReceived{Priority: 100, Src: ipHigh}, StateBackup, []Action{backupTimer}},
		{"backup lower ignored (preempt)", params(100), StateBackup, AdvertReceived{Priority: 50, Src: ipHigh}, StateBackup, nil},
		{"backup lower resets (nopreempt)", params(100, nopreempt), StateBackup, AdvertReceived{Priority: 50, Src: ipHigh}, StateBackup, []Action{backupTimer}},
		{"backup shutdown", params(100), StateBackup, Shutdown{}, StateInit, []Action{StopTimers{}}},
		{"backup stale advert timer", params(100), StateBackup, AdvertTimerFired{}, StateBackup, nil},

		// Master, RFC 3768 §6.4.3.
		{"master advert timer", params(100), StateMaster, AdvertTimerFired{}, StateMaster, []Action{SendAdvert{100}, SetAdvertTimer{time.Second, t0.Add(time.Second)}}},
		{"master garp timer", params(100), StateMaster, GARPTimerFired{}, StateMaster, []Action{SendGARP{}}},
		{"master priority 0", params(100), StateMaster, AdvertReceived{Priority: 0, Src: ipHigh}, StateMaster, []Action{SendAdvert{100}, SetAdvertTimer{time.Second, t0.Add(time.Second)}}},
		{"master higher -> backup", params(100), StateMaster, AdvertReceived{Priority: 101, Src: ipHigh}, StateBackup, []Action{StopTimers{}, SendAdvert{100}, RemoveVIPs{}, backupTimer}},
		{"master equal higher IP -> backup", params(100), StateMaster, AdvertReceived{Priority: 100, Src: ipHigh}, StateBackup, []Action{StopTimers{}, SendAdvert{100}, RemoveVIPs{}, backupTimer}},
		{"master equal lower IP stays, heals", params(100, func(p *Params) { p.LocalIP = ipHigh }), StateMaster, AdvertReceived{Priority: 100, Src: ipLow}, StateMaster,
			[]Action{SendAdvert{100}, SetAdvertTimer{time.Second, t0.Add(time.Second)}, SendGARP{}}},
		{"master lower stays, heals", params(100), StateMaster, AdvertReceived{Priority: 99, Src: ipHigh}, StateMaster,
			[]Action{SendAdvert{100}, SetAdvertTimer{time.Second, t0.Add(time.Second)}, SendGARP{}}},
		{"master nopreempt still yields to higher", params(100, nopreempt), StateMaster, AdvertReceived{Priority: 101, Src: ipLow}, StateBackup, []Action{StopTimers{}, SendAdvert{100}, RemoveVIPs{}, backupTimer}},
		{"master shutdown", params(100), StateMaster, Shutdown{}, StateInit, []Action{StopTimers{}, SendAdvert{0}, RemoveVIPs{}}},
		{"master stale master-down", params(100), StateMaster, MasterDownTimerFired{}, StateMaster, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, acts := Step(tc.p, tc.s, tc.ev, t0)
			if got != tc.want || !reflect.DeepEqual(acts, tc.wantA) {
				t.Fatalf("got %v %#v\nwant %v %#v", got, acts, tc.want, tc.wantA)
			}
		})
	}
}

// sim runs several state machines on one simulated LAN with a fake clock:
// timers are deadlines, adverts reach every other live node at once.
type sim struct {
	t     *testing.T
	now   time.Time
	nodes []*simNode
	log   []string
	// partitioned: adverts reach no one (the link between the nodes is cut).
	partitioned bool
}

type simNode struct {
	name  string
	p     Params
	state State
	m     Machine // state's full memory; m.State == state after deliver
	alive bool
	vips  bool
	// deadlines; zero = stopped
	masterDown, advert, garp time.Time
	garpRefresh              bool
	garps                    int // bursts (SendGARP without Refresh)
	refreshes                int // SendGARP{Refresh: true}
	garpAt                   []time.Duration
}

func newSim(t *testing.T, ps ...Params) *sim {
	s := &sim{t: t, now: t0}
	for k, p := range ps {
		s.nodes = append(s.nodes, &simNode{name: fmt.Sprintf("n%d", k), p: p})
	}
	return s
}

func (s *sim) start(n *simNode) {
	n.alive = true
	s.deliver(n, Startup{})
}

func (s *sim) deliver(n *simNode, ev Event) {
	if n.m.State != n.state { // a test forced the state
		n.m = Machine{State: n.state}
	}
	next, acts := n.m.Step(n.p, ev, s.now)
	if next.State != n.state {
		s.log = append(s.log, fmt.Sprintf("%v %s %v", s.now.Sub(t0), n.name, next.State))
	}
	n.m, n.state = next, next.State
	for _, a := range acts {
		switch a := a.(type) {
		case StopTimers:
			n.masterDown, n.advert, n.garp = time.Time{}, time.Time{}, time.Time{}
		case SetMasterDownTimer:
			n.masterDown = a.At
		case SetAdvertTimer:
			n.advert = a.At
		case SetGARPTimer:
			n.garp, n.garpRefresh = a.At, a.Refresh
		case AddVIPs:
			n.vips = true
		case RemoveVIPs:
			n.vips = false
		case SendGARP:
			if a.Refresh {
				n.refreshes++
			} else {
				n.garps++
			}
			n.garpAt = append(n.garpAt, s.now.Sub(t0))
		case SendAdvert:
			if s.partitioned {
				continue
			}
			for _, o := range s.nodes {
				if o != n && o.alive {
					s.deliver(o, AdvertReceived{Priority: a.Priority, Src: n.p.LocalIP})
				}
			}
		}
	}
}

// run advances the clock through every timer due up to d from now.
func (s *sim) run(d time.Duration) {
	end := s.now.Add(d)
	for {
		var next *simNode
		var at time.Time
		var ev Event
		for _, n := range s.nodes {
			if !n.alive {
				continue
			}
			for _, c := range []struct {
				at time.Time
				ev Event
			}{{n.masterDown, MasterDownTimerFired{}}, {n.advert, AdvertTimerFired{}}, {n.garp, GARPTimerFired{Refresh: n.garpRefresh}}} {
				if !c.at.IsZero() && (at.IsZero() || c.at.Before(at)) {
					next, at, ev = n, c.at, c.ev
				}
			}
		}
		if next == nil || at.After(end) {
			s.now = end
			return
		}
		s.now = at
		switch ev.(type) {
		case MasterDownTimerFired:
			next.masterDown = time.Time{}
		case AdvertTimerFired:
			next.advert = time.Time{}
		case GARPTimerFired:
			next.garp = time.Time{}
		}
		s.deliver(next, ev)
	}
}

func (s *sim) stop(n *simNode) {
	s.deliver(n, Shutdown{})
	n.alive = false
}

// kill is a crash: no priority-0 advert.
func (s *sim) kill(n *simNode) {
	n.alive, n.state, n.m, n.vips = false, StateInit, Machine{}, false
	n.masterDown, n.advert, n.garp = time.Time{}, time.Time{}, time.Time{}
}

func (s *sim) expect(states ...State) {
	s.t.Helper()
	masters := 0
	for k, n := range s.nodes {
		if n.state != states[k] {
			s.t.Fatalf("at %v node %s is %v, want %v; log %q", s.now.Sub(t0), n.name, n.state, states[k], s.log)
		}
		if n.vips != (n.state == StateMaster) {
			s.t.Fatalf("node %s in %v has vips=%v", n.name, n.state, n.vips)
		}
		if n.state == StateMaster {
			masters++
		}
	}
	if masters > 1 {
		s.t.Fatalf("split brain: %d masters", masters)
	}
}

func withIP(ip netip.Addr) func(*Params) { return func(p *Params) { p.LocalIP = ip } }

func TestSimStartupAndMasterDown(t *testing.T) {
	s := newSim(t, params(150, withIP(ipLow)), params(100, withIP(ipHigh)))
	a, b := s.nodes[0], s.nodes[1]
	s.start(a)
	s.start(b)
	s.expect(StateBackup, StateBackup)
	// a's Master_Down_Interval (3 s + 106/256 s) ends before b's.
	s.run(3*time.Second + 105*time.Second/256)
	s.expect(StateBackup, StateBackup)
	s.run(time.Second / 256)
	s.expect(StateMaster, StateBackup)
	if a.garps != 1 {
		t.Fatalf("garps %d", a.garps)
	}
	s.run(time.Minute)
	s.expect(StateMaster, StateBackup)
	if a.garps != 2 { // the garp_master_delay burst, once
		t.Fatalf("garps after delay %d", a.garps)
	}
	// Crash: b takes over after its full Master_Down_Interval.
	s.kill(a)
	s.run(b.p.MasterDownInterval() - time.Millisecond)
	s.expect(StateInit, StateBackup)
	s.run(time.Millisecond)
	s.expect(StateInit, StateMaster)
}

func TestSimPriorityZeroHandover(t *testing.T) {
	s := newSim(t, params(150, withIP(ipLow)), params(100, withIP(ipHigh)))
	a, b := s.nodes[0], s.nodes[1]
	s.start(a)
	s.start(b)
	s.run(10 * time.Second)
	s.expect(StateMaster, StateBackup)
	// Clean stop: priority-0 advert, b takes over after Skew_Time only.
	s.stop(a)
	s.run(b.p.SkewTime() - time.Millisecond)
	s.expect(StateInit, StateBackup)
	s.run(time.Millisecond)
	s.expect(StateInit, StateMaster)
}

func TestSimPreemption(t *testing.T) {
	s := newSim(t, params(150, withIP(ipLow)), params(100, withIP(ipHigh)))
	a, b := s.nodes[0], s.nodes[1]
	s.start(b)
	s.run(10 * time.Second)
	s.expect(StateInit, StateMaster)
	// a comes back with higher priority: it ignores b's lower adverts and
	// preempts when its timer runs out; b hears a and backs off.
	s.start(a)
	s.run(a.p.MasterDownInterval() + time.Millisecond)
	s.expect(StateMaster, StateBackup)
	s.run(time.Minute)
	s.expect(StateMaster, StateBackup)
}

func TestSimNopreempt(t *testing.T) {
	s := newSim(t, params(150, withIP(ipLow), nopreempt, startMaster), params(100, withIP(ipHigh), nopreempt))
	a, b := s.nodes[0], s.nodes[1]
	s.start(b)
	s.run(10 * time.Second)
	s.expect(StateInit, StateMaster)
	// a, configured MASTER with nopreempt and higher priority, starts as
	// backup and stays there while b lives.
	s.start(a)
	s.expect(StateBackup, StateMaster)
	s.run(time.Minute)
	s.expect(StateBackup, StateMaster)
	// Only when b dies does a take over.
	s.kill(b)
	s.run(a.p.MasterDownInterval())
	s.expect(StateMaster, StateInit)
}

func TestSimEqualPriorityTie(t *testing.T) {
	// Both start as master (split brain at boot); the higher IP wins.
	s := newSim(t, params(100, withIP(ipLow), startMaster), params(100, withIP(ipHigh), startMaster))
	a, b := s.nodes[0], s.nodes[1]
	s.start(a) // a is master alone until b starts
	s.expect(StateMaster, StateInit)
	s.start(b) // b's first advert reaches a, who yields
	s.expect(StateBackup, StateMaster)
	s.run(time.Minute)
	s.expect(StateBackup, StateMaster)
	_ = a
}

func TestSimSplitBrainHeals(t *testing.T) {
	// Two masters (as after a partition) hear each other again. Whichever
	// advert crosses first, the lower priority yields and the winner
	// re-sends a GARP burst: either it hears the loser's advert, or the
	// loser's last advert before yielding.
	for _, first := range []int{0, 1} {
		t.Run(fmt.Sprintf("node %d advertises first", first), func(t *testing.T) {
			s := newSim(t, params(150, withIP(ipLow)), params(100, withIP(ipHigh)))
			a, b := s.nodes[0], s.nodes[1]
			s.start(a)
			s.start(b)
			s.partitioned = true
			s.run(10 * time.Second)
			if a.state != StateMaster || b.state != StateMaster {
				t.Fatalf("partition: %v %v", a.state, b.state)
			}
			s.partitioned = false
			garps := a.garps
			s.deliver(s.nodes[first], AdvertTimerFired{})
			s.expect(StateMaster, StateBackup)
			if a.garps <= garps {
				t.Fatalf("winner did not re-send GARP")
			}
		})
	}
}

func preemptDelay(d time.Duration) func(*Params) { return func(p *Params) { p.PreemptDelay = d } }

func TestMachineStep(t *testing.T) {
	down := params(100).MasterDownInterval()
	resetDown := SetMasterDownTimer{down, t0.Add(down)}
	hold := t0.Add(30 * time.Second)
	lower := AdvertReceived{Priority: 50, Src: ipHigh}
	refresh := func(p *Params) { p.GARPRefresh = time.Minute }
	for _, tc := range []struct {
		name  string
		p     Params
		m     Machine
		ev    Event
		want  Machine
		wantA []Action
	}{
		// preempt_delay.
		{"startup backup starts the hold", params(100, preemptDelay(30*time.Second)), Machine{}, Startup{},
			Machine{State: StateBackup, PreemptAt: hold}, []Action{RemoveVIPs{}, resetDown}},
		{"startup state MASTER with preempt_delay listens first", params(100, startMaster, preemptDelay(30*time.Second)), Machine{}, Startup{},
			Machine{State: StateBackup, PreemptAt: hold}, []Action{RemoveVIPs{}, resetDown}},
		{"nopreempt: no hold", params(100, nopreempt, preemptDelay(30*time.Second)), Machine{}, Startup{},
			Machine{State: StateBackup}, []Action{RemoveVIPs{}, resetDown}},
		{"holding accepts a lower master", params(100, preemptDelay(30*time.Second)), Machine{State: StateBackup, PreemptAt: hold}, lower,
			Machine{State: StateBackup, PreemptAt: hold}, []Action{resetDown}},
		{"hold over: lower master ignored", params(100, preemptDelay(30*time.Second)), Machine{State: StateBackup, PreemptAt: t0}, lower,
			Machine{State: StateBackup, PreemptAt: t0}, nil},
		{"holding: higher still resets", params(100, preemptDelay(30*time.Second)), Machine{State: StateBackup, PreemptAt: hold}, AdvertReceived{Priority: 150, Src: ipHigh},
			Machine{State: StateBackup, PreemptAt: hold}, []Action{resetDown}},
		{"holding: priority 0 -> skew", params(100, preemptDelay(30*time.Second)), Machine{State: StateBackup, PreemptAt: hold}, AdvertReceived{Priority: 0, Src: ipHigh},
			Machine{State: StateBackup, PreemptAt: hold}, []Action{SetMasterDownTimer{params(100).SkewTime(), t0.Add(params(100).SkewTime())}}},
		{"holding: master down still takes over", params(100, preemptDelay(30*time.Second)), Machine{State: StateBackup, PreemptAt: hold}, MasterDownTimerFired{},
			Machine{State: StateMaster}, []Action{StopTimers{}, SendAdvert{100}, AddVIPs{}, SendGARP{}, SetAdvertTimer{time.Second, t0.Add(time.Second)}, SetGARPTimer{D: 5 * time.Second, At: t0.Add(5 * time.Second)}}},
		{"master -> backup starts the hold", params(100, preemptDelay(30*time.Second)), Machine{State: StateMaster}, AdvertReceived{Priority: 150, Src: ipHigh},
			Machine{State: StateBackup, PreemptAt: hold}, []Action{StopTimers{}, SendAdvert{100}, RemoveVIPs{}, resetDown}},

		// garp_master_delay / garp_master_refresh.
		{"no delay, no refresh: one burst only", params(100, func(p *Params) { p.GARPDelay = 0 }), Machine{State: StateBackup}, MasterDownTimerFired{},
			Machine{State: StateMaster}, []Action{StopTimers{}, SendAdvert{100}, AddVIPs{}, SendGARP{}, SetAdvertTimer{time.Second, t0.Add(time.Second)}}},
		{"no delay, refresh: refresh timer", params(100, refresh, func(p *Params) { p.GARPDelay = 0 }), Machine{State: StateBackup}, MasterDownTimerFired{},
			Machine{State: StateMaster}, []Action{StopTimers{}, SendAdvert{100}, AddVIPs{}, SendGARP{}, SetAdvertTimer{time.Second, t0.Add(time.Second)}, SetGARPTimer{time.Minute, t0.Add(time.Minute), true}}},
		{"delayed burst then refresh", params(100, refresh), Machine{State: StateMaster}, GARPTimerFired{},
			Machine{State: StateMaster}, []Action{SendGARP{}, SetGARPTimer{time.Minute, t0.Add(time.Minute), true}}},
		{"refresh re-arms", params(100, refresh), Machine{State: StateMaster}, GARPTimerFired{Refresh: true},
			Machine{State: StateMaster}, []Action{SendGARP{Refresh: true}, SetGARPTimer{time.Minute, t0.Add(time.Minute), true}}},
		{"backup ignores a stale garp timer", params(100, refresh), Machine{State: StateBackup}, GARPTimerFired{Refresh: true},
			Machine{State: StateBackup}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, acts := tc.m.Step(tc.p, tc.ev, t0)
			if got != tc.want || !reflect.DeepEqual(acts, tc.wantA) {
				t.Fatalf("got %+v %#v\nwant %+v %#v", got, acts, tc.want, tc.wantA)
			}
		})
	}
}

func TestSimPreemptDelay(t *testing.T) {
	const delay = 30 * time.Second
	s := newSim(t, params(150, withIP(ipLow), preemptDelay(delay)), params(100, withIP(ipHigh)))
	a, b := s.nodes[0], s.nodes[1]
	s.start(b)
	s.run(10 * time.Second)
	s.expect(StateInit, StateMaster)
	// a (higher priority) comes back: it accepts b for preempt_delay...
	start := s.now
	s.start(a)
	s.run(delay - time.Millisecond)
	s.expect(StateBackup, StateMaster)
	// ...then stops resetting its timer on b's adverts: the last reset was
	// at b's last advert before the hold ended, so a takes over within
	// Master_Down_Interval of the end of the hold, never before.
	s.run(a.p.MasterDownInterval() - time.Second)
	s.expect(StateBackup, StateMaster)
	s.run(time.Second + time.Millisecond)
	s.expect(StateMaster, StateBackup)
	if took := s.now.Sub(start); took < delay || took > delay+a.p.MasterDownInterval()+time.Millisecond {
		t.Fatalf("preempted after %v", took)
	}
	s.run(time.Minute)
	s.expect(StateMaster, StateBackup)

	// Without preempt_delay the same return preempts after one
	// Master_Down_Interval.
	s = newSim(t, params(150, withIP(ipLow)), params(100, withIP(ipHigh)))
	a, b = s.nodes[0], s.nodes[1]
	s.start(b)
	s.run(10 * time.Second)
	s.start(a)
	s.run(a.p.MasterDownInterval() + time.Millisecond)
	s.expect(StateMaster, StateBackup)
}

func TestSimPreemptDelayNoMaster(t *testing.T) {
	// preempt_delay never delays taking over an empty LAN.
	s := newSim(t, params(150, withIP(ipLow), startMaster, preemptDelay(time.Minute)))
	a := s.nodes[0]
	s.start(a)
	s.run(a.p.MasterDownInterval())
	s.expect(StateMaster)
}

func TestSimPartitionHeals(t *testing.T) {
	// Two masters after a partition; when the link comes back the lower
	// priority yields at the winner's first advert, and the winner re-sends
	// a full GARP burst (keepalived #166, #1528: the loser's GARPs moved
	// the neighbours' caches).
	s := newSim(t, params(150, withIP(ipLow)), params(100, withIP(ipHigh)))
	a, b := s.nodes[0], s.nodes[1]
	s.start(a)
	s.start(b)
	s.run(10 * time.Second)
	s.expect(StateMaster, StateBackup)
	s.partitioned = true
	s.run(10 * time.Second)
	if a.state != StateMaster || b.state != StateMaster {
		t.Fatalf("partition: %v %v", a.state, b.state)
	}
	s.partitioned = false
	garps := a.garps
	healed := s.now
	s.run(a.p.AdvertInt + time.Millisecond)
	s.expect(StateMaster, StateBackup)
	if a.garps <= garps {
		t.Fatalf("winner sent no GARP after healing: %v", a.garpAt)
	}
	if last := a.garpAt[len(a.garpAt)-1]; last > healed.Sub(t0)+a.p.AdvertInt {
		t.Fatalf("GARP at %v, healed at %v", last, healed.Sub(t0))
	}
}

func TestSimGARPSchedule(t *testing.T) {
	s := newSim(t, params(100, startMaster, func(p *Params) { p.GARPRefresh = 10 * time.Second }))
	a := s.nodes[0]
	s.start(a)
	s.run(35*time.Second + time.Millisecond)
	// Burst at 0, delayed burst at 5 s, then one refresh every 10 s.
	want := []time.Duration{0, 5 * time.Second, 15 * time.Second, 25 * time.Second, 35 * time.Second}
	if !reflect.DeepEqual(a.garpAt, want) || a.garps != 2 || a.refreshes != 3 {
		t.Fatalf("GARPs at %v (bursts %d refreshes %d), want %v", a.garpAt, a.garps, a.refreshes, want)
	}
}

func v3(p *Params) { p.V3 = true; p.AdvertInt = 100 * time.Millisecond }

func TestV3Timers(t *testing.T) {
	p := params(100, v3)
	// RFC 5798 §6.1: Skew_Time scales with the interval.
	if p.SkewTime() != 60937500*time.Nanosecond || p.MasterDownInterval() != 360937500*time.Nanosecond {
		t.Fatalf("skew %v down %v", p.SkewTime(), p.MasterDownInterval())
	}
	// A backup adopts the master's interval (RFC 5798 §6.4.2) and uses it
	// for Master_Down and for the priority-0 skew.
	m, acts := Machine{State: StateBackup}.Step(p, AdvertReceived{Priority: 150, Src: ipHigh, AdvertInt: time.Second}, t0)
	down := 3*time.Second + 156*time.Second/256
	if m.MasterAdvertInt != time.Second || !reflect.DeepEqual(acts, []Action{SetMasterDownTimer{down, t0.Add(down)}}) {
		t.Fatalf("%+v %#v", m, acts)
	}
	_, acts = m.Step(p, AdvertReceived{Priority: 0, Src: ipHigh, AdvertInt: time.Second}, t0)
	skew := 156 * time.Second / 256
	if !reflect.DeepEqual(acts, []Action{SetMasterDownTimer{skew, t0.Add(skew)}}) {
		t.Fatalf("priority 0: %#v", acts)
	}
	// A lower master we are about to preempt does not set our interval.
	m2, _ := Machine{State: StateBackup}.Step(p, AdvertReceived{Priority: 50, Src: ipHigh, AdvertInt: time.Second}, t0)
	if m2.MasterAdvertInt != 0 {
		t.Fatalf("adopted a preempted master's interval: %+v", m2)
	}
	// Yielding from master: follow the winner's interval.
	m3, _ := Machine{State: StateMaster}.Step(p, AdvertReceived{Priority: 150, Src: ipHigh, AdvertInt: 2 * time.Second}, t0)
	if m3.State != StateBackup || m3.MasterAdvertInt != 2*time.Second {
		t.Fatalf("%+v", m3)
	}
	// v2 never adopts.
	m4, _ := Machine{State: StateBackup}.Step(params(100), AdvertReceived{Priority: 150, Src: ipHigh, AdvertInt: 2 * time.Second}, t0)
	if m4.MasterAdvertInt != 0 {
		t.Fatalf("v2 adopted: %+v", m4)
	}
}
