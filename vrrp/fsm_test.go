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
			SetGARPTimer{5 * time.Second, t0.Add(5 * time.Second)},
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
		{"master higher -> backup", params(100), StateMaster, AdvertReceived{Priority: 101, Src: ipHigh}, StateBackup, []Action{StopTimers{}, RemoveVIPs{}, backupTimer}},
		{"master equal higher IP -> backup", params(100), StateMaster, AdvertReceived{Priority: 100, Src: ipHigh}, StateBackup, []Action{StopTimers{}, RemoveVIPs{}, backupTimer}},
		{"master equal lower IP stays, heals", params(100, func(p *Params) { p.LocalIP = ipHigh }), StateMaster, AdvertReceived{Priority: 100, Src: ipLow}, StateMaster,
			[]Action{SendAdvert{100}, SetAdvertTimer{time.Second, t0.Add(time.Second)}, SendGARP{}}},
		{"master lower stays, heals", params(100), StateMaster, AdvertReceived{Priority: 99, Src: ipHigh}, StateMaster,
			[]Action{SendAdvert{100}, SetAdvertTimer{time.Second, t0.Add(time.Second)}, SendGARP{}}},
		{"master nopreempt still yields to higher", params(100, nopreempt), StateMaster, AdvertReceived{Priority: 101, Src: ipLow}, StateBackup, []Action{StopTimers{}, RemoveVIPs{}, backupTimer}},
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
}

type simNode struct {
	name  string
	p     Params
	state State
	alive bool
	vips  bool
	// deadlines; zero = stopped
	masterDown, advert, garp time.Time
	garps                    int
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
	next, acts := Step(n.p, n.state, ev, s.now)
	if next != n.state {
		s.log = append(s.log, fmt.Sprintf("%v %s %v", s.now.Sub(t0), n.name, next))
	}
	n.state = next
	for _, a := range acts {
		switch a := a.(type) {
		case StopTimers:
			n.masterDown, n.advert, n.garp = time.Time{}, time.Time{}, time.Time{}
		case SetMasterDownTimer:
			n.masterDown = a.At
		case SetAdvertTimer:
			n.advert = a.At
		case SetGARPTimer:
			n.garp = a.At
		case AddVIPs:
			n.vips = true
		case RemoveVIPs:
			n.vips = false
		case SendGARP:
			n.garps++
		case SendAdvert:
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
			}{{n.masterDown, MasterDownTimerFired{}}, {n.advert, AdvertTimerFired{}}, {n.garp, GARPTimerFired{}}} {
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
func (s *sim) kill(n *simNode) { n.alive, n.state, n.vips = false, StateInit, false }

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
	s := newSim(t, params(150, withIP(ipLow)), params(100, withIP(ipHigh)))
	a, b := s.nodes[0], s.nodes[1]
	// Force two masters (as after a partition), then let them hear each
	// other: the lower priority yields, the winner re-sends GARP.
	s.start(a)
	s.start(b)
	a.alive, b.alive = true, false
	s.run(10 * time.Second)
	b.alive = true
	b.state = StateInit
	s.deliver(b, Startup{}) // backup
	b.state, b.vips = StateMaster, true
	garps := a.garps
	s.deliver(b, AdvertTimerFired{})
	s.expect(StateMaster, StateBackup)
	if a.garps != garps+1 {
		t.Fatalf("winner did not re-send GARP")
	}
}
