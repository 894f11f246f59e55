package vrrp

import (
	"net/netip"
	"time"
)

// State is a VRRP state (RFC 3768 §6.4).
type State uint8

const (
	StateInit State = iota
	StateBackup
	StateMaster
	// StateFault is keepalived's FAULT: a tracked object failed (or a sync
	// group member did). No adverts, no VIPs, adverts ignored, until the
	// tracking recovers and the instance returns to BACKUP.
	StateFault
)

func (s State) String() string {
	switch s {
	case StateInit:
		return "INIT"
	case StateBackup:
		return "BACKUP"
	case StateMaster:
		return "MASTER"
	case StateFault:
		return "FAULT"
	}
	return "UNKNOWN"
}

// Params are the parts of an instance's configuration the state machine
// needs.
type Params struct {
	Priority  uint8         // 1-255; 255 is the address owner
	AdvertInt time.Duration // Advertisement_Interval
	// V3 selects RFC 5798's timers: Skew_Time scales with the master's
	// interval, and a backup adopts the interval the master advertises.
	V3 bool
	// Nopreempt: never take over from a live master of lower priority;
	// start as backup even if StartMaster is set.
	Nopreempt bool
	// StartMaster is the configured initial state MASTER.
	StartMaster bool
	// LocalIP is our primary address, the tie breaker between masters of
	// equal priority (RFC 3768 §6.4.3).
	LocalIP netip.Addr
	// GARPDelay is keepalived's garp_master_delay: a second burst of
	// gratuitous ARP that long after becoming master (0 = none).
	GARPDelay time.Duration
	// GARPRefresh is keepalived's garp_master_refresh: while master, one
	// gratuitous ARP per VIP this often, counted from the delayed burst (or
	// from becoming master when GARPDelay is 0); 0 = none.
	GARPRefresh time.Duration
	// PreemptDelay is keepalived's preempt_delay: for this long after
	// startup or after becoming backup, a backup keeps accepting a master of
	// lower priority instead of preempting it (a rebooted node lets its
	// services settle before it takes the VIP back). 0 = preempt at once.
	// Meaningless with Nopreempt.
	PreemptDelay time.Duration
}

// SkewTime is Skew_Time of RFC 3768 §6.1: (256 - Priority) / 256 seconds;
// for v3 RFC 5798 §6.1: (256 - Priority) * Master_Adver_Interval / 256,
// taking our own interval as the master's.
func (p Params) SkewTime() time.Duration { return p.skew(0) }

// MasterDownInterval is Master_Down_Interval of RFC 3768 §6.1 (and RFC
// 5798 §6.1): 3 * Advertisement_Interval + Skew_Time.
func (p Params) MasterDownInterval() time.Duration { return p.masterDown(0) }

// masterInt is Master_Adver_Interval: the interval learnt from the master
// (v3), else ours.
func (p Params) masterInt(learnt time.Duration) time.Duration {
	if p.V3 && learnt > 0 {
		return learnt
	}
	return p.AdvertInt
}

func (p Params) skew(learnt time.Duration) time.Duration {
	if p.V3 {
		return time.Duration(256-int(p.Priority)) * p.masterInt(learnt) / 256
	}
	return time.Duration(256-int(p.Priority)) * time.Second / 256
}

func (p Params) masterDown(learnt time.Duration) time.Duration {
	return 3*p.masterInt(learnt) + p.skew(learnt)
}

// Event is an input of the state machine.
type Event interface{ isEvent() }

// Startup is RFC 3768's Startup event.
type Startup struct{}

// AdvertReceived is an advert that passed CheckAdvert.
type AdvertReceived struct {
	Priority uint8
	Src      netip.Addr // IP source: the sender's primary address
	// AdvertInt is the interval the advert carries (v3; 0 = unknown).
	AdvertInt time.Duration
}

// MasterDownTimerFired is the expiry of Master_Down_Timer.
type MasterDownTimerFired struct{}

// AdvertTimerFired is the expiry of Adver_Timer.
type AdvertTimerFired struct{}

// GARPTimerFired is the expiry of the gratuitous ARP timer. Refresh is the
// flag of the SetGARPTimer that armed it.
type GARPTimerFired struct{ Refresh bool }

// Shutdown is RFC 3768's Shutdown event.
type Shutdown struct{}

// TrackChanged is a new verdict of the instance's tracking (vrrp_track.go's
// Effective): the effective priority (0 = the configured one) and whether a
// tracked object, or a sync group member, is in fault.
type TrackChanged struct {
	Priority uint8
	Fault    bool
}

// SyncState is a sync group member moving to To (MASTER or BACKUP): the
// others follow (keepalived's vrrp_sync_group). A member's FAULT reaches the
// others as TrackChanged{Fault: true}.
type SyncState struct{ To State }

func (TrackChanged) isEvent()         {}
func (SyncState) isEvent()            {}
func (Startup) isEvent()              {}
func (AdvertReceived) isEvent()       {}
func (MasterDownTimerFired) isEvent() {}
func (AdvertTimerFired) isEvent()     {}
func (GARPTimerFired) isEvent()       {}
func (Shutdown) isEvent()             {}

// Action is an output of the state machine. The driver carries the actions
// out in the order given.
type Action interface{ isAction() }

// SendAdvert: send an advert with this priority now.
type SendAdvert struct{ Priority uint8 }

// AddVIPs: add the virtual addresses to the interface.
type AddVIPs struct{}

// RemoveVIPs: remove the virtual addresses from the interface.
type RemoveVIPs struct{}

// SendGARP: send gratuitous ARP for every VIP: a burst of
// garp_master_repeat, or a single one when Refresh (garp_master_refresh, as
// keepalived).
type SendGARP struct{ Refresh bool }

// SetMasterDownTimer: (re)arm Master_Down_Timer to fire at At (= now + D).
type SetMasterDownTimer struct {
	D  time.Duration
	At time.Time
}

// SetAdvertTimer: (re)arm Adver_Timer to fire at At (= now + D).
type SetAdvertTimer struct {
	D  time.Duration
	At time.Time
}

// SetGARPTimer: arm the gratuitous ARP timer to fire at At; the driver
// hands Refresh back in GARPTimerFired.
type SetGARPTimer struct {
	D       time.Duration
	At      time.Time
	Refresh bool
}

// StopTimers: cancel every timer.
type StopTimers struct{}

func (SendAdvert) isAction()         {}
func (AddVIPs) isAction()            {}
func (RemoveVIPs) isAction()         {}
func (SendGARP) isAction()           {}
func (SetMasterDownTimer) isAction() {}
func (SetAdvertTimer) isAction()     {}
func (SetGARPTimer) isAction()       {}
func (StopTimers) isAction()         {}

// Machine is everything the state machine remembers between events: the
// state, and in backup the end of the preempt_delay hold.
type Machine struct {
	State State
	// PreemptAt: in backup, a lower-priority master is accepted until
	// this instant (zero = not holding).
	PreemptAt time.Time
	// MasterAdvertInt is v3's Master_Adver_Interval in backup: the
	// interval of the master we follow (0 = ours).
	MasterAdvertInt time.Duration
	// Prio is the effective priority set by tracking (0 = Params.Priority).
	// It is what the adverts carry and what Skew_Time is computed from
	// (RFC 5798 §6.1).
	Prio uint8
	// Faulty: the tracking says FAULT (kept in every state, so that a
	// Startup with a failed object enters FAULT at once).
	Faulty bool
}

// Step is the VRRP state machine of RFC 3768 §6.4 with keepalived's
// refinements: given the current state, an event and the time now, it
// returns the next state and the actions to carry out, in order. It has no
// side effects. It is Machine.Step for a machine with no preempt_delay hold
// running.
func Step(p Params, s State, ev Event, now time.Time) (State, []Action) {
	m, a := Machine{State: s}.Step(p, ev, now)
	return m.State, a
}

// Step is the state machine on the full memory m; see the function Step.
func (m Machine) Step(p Params, ev Event, now time.Time) (Machine, []Action) {
	if tc, ok := ev.(TrackChanged); ok {
		return m.track(p, tc, now)
	}
	if m.Prio != 0 {
		p.Priority = m.Prio
	}
	var next Machine
	var a []Action
	switch m.State {
	case StateInit:
		if _, ok := ev.(Startup); ok && m.Faulty {
			next, a = Machine{State: StateFault}, []Action{StopTimers{}, RemoveVIPs{}}
		} else {
			next, a = stepInit(p, ev, now)
		}
	case StateBackup:
		next, a = stepBackup(p, m, ev, now)
	case StateMaster:
		next, a = stepMaster(p, ev, now)
	case StateFault:
		next, a = m, nil
		if _, ok := ev.(Shutdown); ok {
			next, a = Machine{State: StateInit}, []Action{StopTimers{}}
		}
	default:
		return m, nil
	}
	next.Prio, next.Faulty = m.Prio, m.Faulty
	return next, a
}

// track applies a tracking verdict. keepalived's rules: a fault leaves
// MASTER with a priority-0 advert (the backups take over after Skew_Time)
// and drops the VIPs; in FAULT nothing is sent and adverts are ignored; when
// the tracking recovers the instance goes to BACKUP and listens for a
// Master_Down_Interval (the address owner takes over at once, as at
// startup). A new priority takes effect with the next advert sent, and in
// the Skew_Time of the next Master_Down_Timer armed: a backup whose
// priority rose above the master's stops accepting its adverts and takes
// over when the timer runs out (RFC 3768 §6.4.2).
func (m Machine) track(p Params, tc TrackChanged, now time.Time) (Machine, []Action) {
	m.Prio, m.Faulty = tc.Priority, tc.Fault
	if m.Prio != 0 {
		p.Priority = m.Prio
	}
	var next Machine
	var a []Action
	switch {
	case m.State == StateInit:
		return m, nil
	case tc.Fault && m.State == StateMaster:
		next, a = Machine{State: StateFault}, []Action{StopTimers{}, SendAdvert{Priority: 0}, RemoveVIPs{}}
	case tc.Fault && m.State == StateBackup:
		next, a = Machine{State: StateFault}, []Action{StopTimers{}}
	case !tc.Fault && m.State == StateFault:
		if p.Priority == 255 {
			next, a = becomeMaster(p, now)
		} else {
			next, a = becomeBackup(p, now, 0, nil)
		}
	default:
		return m, nil
	}
	next.Prio, next.Faulty = m.Prio, m.Faulty
	return next, a
}

// RFC 3768 §6.4.1.
func stepInit(p Params, ev Event, now time.Time) (Machine, []Action) {
	if _, ok := ev.(Startup); !ok {
		return Machine{State: StateInit}, nil
	}
	// The address owner always takes over at once. Otherwise the initial
	// state MASTER is honoured only with immediate preemption: with
	// nopreempt or preempt_delay the node must first listen for a
	// Master_Down_Interval, or it would take the VIP from a live master on
	// every restart (keepalived #1515, #2174).
	if p.Priority == 255 || (p.StartMaster && !p.Nopreempt && p.PreemptDelay == 0) {
		return becomeMaster(p, now)
	}
	// Starting as backup also removes the VIPs: a previous run that died
	// as master may have left them on the interface (absent is no error).
	return becomeBackup(p, now, 0, []Action{RemoveVIPs{}})
}

// RFC 3768 §6.4.2.
func stepBackup(p Params, m Machine, ev Event, now time.Time) (Machine, []Action) {
	switch e := ev.(type) {
	case Shutdown:
		return Machine{State: StateInit}, []Action{StopTimers{}}
	case MasterDownTimerFired:
		return becomeMaster(p, now)
	case SyncState:
		if e.To == StateMaster {
			// A sync group member became master: follow it now.
			return becomeMaster(p, now)
		}
	case AdvertReceived:
		holding := !m.PreemptAt.IsZero() && now.Before(m.PreemptAt)
		switch {
		case e.Priority == 0:
			// The master is leaving: take over after Skew_Time only, the
			// highest-priority backup first.
			d := p.skew(m.MasterAdvertInt)
			return m, []Action{SetMasterDownTimer{D: d, At: now.Add(d)}}
		case e.Priority >= p.Priority || p.Nopreempt || holding:
			// A master we accept, for now (preempt_delay) or for good.
			// v3: adopt its interval (RFC 5798 §6.4.2).
			if p.V3 && e.AdvertInt > 0 {
				m.MasterAdvertInt = e.AdvertInt
			}
			d := p.masterDown(m.MasterAdvertInt)
			return m, []Action{SetMasterDownTimer{D: d, At: now.Add(d)}}
		default:
			// A lower-priority master and we preempt: let the timer run
			// out, then take over.
			return m, nil
		}
	}
	return m, nil
}

// RFC 3768 §6.4.3.
func stepMaster(p Params, ev Event, now time.Time) (Machine, []Action) {
	master := Machine{State: StateMaster}
	advertNow := func() []Action {
		return []Action{SendAdvert{Priority: p.Priority}, SetAdvertTimer{D: p.AdvertInt, At: now.Add(p.AdvertInt)}}
	}
	switch e := ev.(type) {
	case Shutdown:
		// Priority 0 tells the backups to take over after Skew_Time
		// instead of Master_Down_Interval.
		return Machine{State: StateInit}, []Action{StopTimers{}, SendAdvert{Priority: 0}, RemoveVIPs{}}
	case AdvertTimerFired:
		return master, advertNow()
	case SyncState:
		if e.To == StateBackup {
			// A sync group member lost mastership: leave with it, telling
			// the backups to take over after Skew_Time (priority 0).
			return becomeBackup(p, now, 0, []Action{StopTimers{}, SendAdvert{Priority: 0}, RemoveVIPs{}})
		}
	case GARPTimerFired:
		refresh := e.Refresh // the timer's kind decides the GARP's
		a := []Action{SendGARP{Refresh: refresh}}
		if p.GARPRefresh > 0 {
			a = append(a, SetGARPTimer{D: p.GARPRefresh, At: now.Add(p.GARPRefresh), Refresh: true})
		}
		return master, a
	case AdvertReceived:
		switch {
		case e.Priority == 0:
			// Another master is leaving: assert ourselves at once.
			return master, advertNow()
		case e.Priority > p.Priority || (e.Priority == p.Priority && e.Src.Compare(p.LocalIP) > 0):
			// One last advert with our own priority before yielding (an
			// lvsd refinement; RFC 3768 only says to become backup). If we
			// were master, the neighbours' caches may point at us (a
			// partition just healed: both were master). The winner answers
			// a lower-priority advert with a gratuitous ARP burst, so
			// telling it guarantees the VIP is re-announced whichever
			// advert crossed the healed link first (keepalived #166,
			// #1528). A winner (lvsd or keepalived) stays master on it.
			return becomeBackup(p, now, e.AdvertInt, []Action{StopTimers{}, SendAdvert{Priority: p.Priority}, RemoveVIPs{}})
		default:
			// Another master of lower priority (or equal, from a lower
			// address): we stay. Advertise at once so it backs off, and
			// re-announce the VIPs, since its gratuitous ARP may have moved
			// them (split brain healing: keepalived #166, #1528).
			return master, append(advertNow(), SendGARP{})
		}
	}
	return master, nil
}

// becomeMaster: advert first (so backups hear a master before the VIP
// moves), then the VIPs, then gratuitous ARP to move the neighbours' caches.
func becomeMaster(p Params, now time.Time) (Machine, []Action) {
	a := []Action{
		StopTimers{},
		SendAdvert{Priority: p.Priority},
		AddVIPs{},
		SendGARP{},
		SetAdvertTimer{D: p.AdvertInt, At: now.Add(p.AdvertInt)},
	}
	switch {
	case p.GARPDelay > 0:
		a = append(a, SetGARPTimer{D: p.GARPDelay, At: now.Add(p.GARPDelay)})
	case p.GARPRefresh > 0:
		a = append(a, SetGARPTimer{D: p.GARPRefresh, At: now.Add(p.GARPRefresh), Refresh: true})
	}
	return Machine{State: StateMaster}, a
}

// becomeBackup enters backup following a master advertising masterInt (v3;
// 0 = unknown); with preempt_delay the hold starts now.
func becomeBackup(p Params, now time.Time, masterInt time.Duration, pre []Action) (Machine, []Action) {
	m := Machine{State: StateBackup}
	if p.V3 {
		m.MasterAdvertInt = masterInt
	}
	if p.PreemptDelay > 0 && !p.Nopreempt {
		m.PreemptAt = now.Add(p.PreemptDelay)
	}
	d := p.masterDown(m.MasterAdvertInt)
	return m, append(pre, SetMasterDownTimer{D: d, At: now.Add(d)})
}
