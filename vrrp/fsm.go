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
)

func (s State) String() string {
	switch s {
	case StateInit:
		return "INIT"
	case StateBackup:
		return "BACKUP"
	case StateMaster:
		return "MASTER"
	}
	return "UNKNOWN"
}

// Params are the parts of an instance's configuration the state machine
// needs.
type Params struct {
	Priority  uint8         // 1-255; 255 is the address owner
	AdvertInt time.Duration // Advertisement_Interval
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
}

// SkewTime is Skew_Time of RFC 3768 §6.1: (256 - Priority) / 256 seconds.
func (p Params) SkewTime() time.Duration {
	return time.Duration(256-int(p.Priority)) * time.Second / 256
}

// MasterDownInterval is Master_Down_Interval of RFC 3768 §6.1:
// 3 * Advertisement_Interval + Skew_Time.
func (p Params) MasterDownInterval() time.Duration {
	return 3*p.AdvertInt + p.SkewTime()
}

// Event is an input of the state machine.
type Event interface{ isEvent() }

// Startup is RFC 3768's Startup event.
type Startup struct{}

// AdvertReceived is an advert that passed CheckAdvert.
type AdvertReceived struct {
	Priority uint8
	Src      netip.Addr // IP source: the sender's primary address
}

// MasterDownTimerFired is the expiry of Master_Down_Timer.
type MasterDownTimerFired struct{}

// AdvertTimerFired is the expiry of Adver_Timer.
type AdvertTimerFired struct{}

// GARPTimerFired is the expiry of the garp_master_delay timer.
type GARPTimerFired struct{}

// Shutdown is RFC 3768's Shutdown event.
type Shutdown struct{}

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

// SendGARP: send one burst of gratuitous ARP for every VIP.
type SendGARP struct{}

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

// SetGARPTimer: arm the delayed gratuitous ARP timer to fire at At.
type SetGARPTimer struct {
	D  time.Duration
	At time.Time
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

// Step is the VRRP state machine of RFC 3768 §6.4 with keepalived's
// refinements: given the current state, an event and the time now, it
// returns the next state and the actions to carry out, in order. It has no
// side effects.
func Step(p Params, s State, ev Event, now time.Time) (State, []Action) {
	switch s {
	case StateInit:
		return stepInit(p, ev, now)
	case StateBackup:
		return stepBackup(p, ev, now)
	case StateMaster:
		return stepMaster(p, ev, now)
	}
	return s, nil
}

// RFC 3768 §6.4.1.
func stepInit(p Params, ev Event, now time.Time) (State, []Action) {
	if _, ok := ev.(Startup); !ok {
		return StateInit, nil
	}
	// The address owner always takes over at once. Otherwise the initial
	// state MASTER is honoured only with preemption: with nopreempt the node
	// must first listen for a Master_Down_Interval, or it would take the VIP
	// from a live master on every restart (keepalived #1515, #2174).
	if p.Priority == 255 || (p.StartMaster && !p.Nopreempt) {
		return becomeMaster(p, now)
	}
	// Starting as backup also removes the VIPs: a previous run that died
	// as master may have left them on the interface (absent is no error).
	return becomeBackup(p, now, []Action{RemoveVIPs{}})
}

// RFC 3768 §6.4.2.
func stepBackup(p Params, ev Event, now time.Time) (State, []Action) {
	switch e := ev.(type) {
	case Shutdown:
		return StateInit, []Action{StopTimers{}}
	case MasterDownTimerFired:
		return becomeMaster(p, now)
	case AdvertReceived:
		switch {
		case e.Priority == 0:
			// The master is leaving: take over after Skew_Time only, the
			// highest-priority backup first.
			d := p.SkewTime()
			return StateBackup, []Action{SetMasterDownTimer{D: d, At: now.Add(d)}}
		case e.Priority >= p.Priority || p.Nopreempt:
			d := p.MasterDownInterval()
			return StateBackup, []Action{SetMasterDownTimer{D: d, At: now.Add(d)}}
		default:
			// A lower-priority master and we preempt: let the timer run
			// out, then take over.
			return StateBackup, nil
		}
	}
	return StateBackup, nil
}

// RFC 3768 §6.4.3.
func stepMaster(p Params, ev Event, now time.Time) (State, []Action) {
	advertNow := func() []Action {
		return []Action{SendAdvert{Priority: p.Priority}, SetAdvertTimer{D: p.AdvertInt, At: now.Add(p.AdvertInt)}}
	}
	switch e := ev.(type) {
	case Shutdown:
		// Priority 0 tells the backups to take over after Skew_Time
		// instead of Master_Down_Interval.
		return StateInit, []Action{StopTimers{}, SendAdvert{Priority: 0}, RemoveVIPs{}}
	case AdvertTimerFired:
		return StateMaster, advertNow()
	case GARPTimerFired:
		return StateMaster, []Action{SendGARP{}}
	case AdvertReceived:
		switch {
		case e.Priority == 0:
			// Another master is leaving: assert ourselves at once.
			return StateMaster, advertNow()
		case e.Priority > p.Priority || (e.Priority == p.Priority && e.Src.Compare(p.LocalIP) > 0):
			return becomeBackup(p, now, []Action{StopTimers{}, RemoveVIPs{}})
		default:
			// Another master of lower priority (or equal, from a lower
			// address): we stay. Advertise at once so it backs off, and
			// re-announce the VIPs, since its gratuitous ARP may have moved
			// them (split brain healing: keepalived #166, #1528).
			return StateMaster, append(advertNow(), SendGARP{})
		}
	}
	return StateMaster, nil
}

// becomeMaster: advert first (so backups hear a master before the VIP
// moves), then the VIPs, then gratuitous ARP to move the neighbours' caches.
func becomeMaster(p Params, now time.Time) (State, []Action) {
	a := []Action{
		StopTimers{},
		SendAdvert{Priority: p.Priority},
		AddVIPs{},
		SendGARP{},
		SetAdvertTimer{D: p.AdvertInt, At: now.Add(p.AdvertInt)},
	}
	if p.GARPDelay > 0 {
		a = append(a, SetGARPTimer{D: p.GARPDelay, At: now.Add(p.GARPDelay)})
	}
	return StateMaster, a
}

func becomeBackup(p Params, now time.Time, pre []Action) (State, []Action) {
	d := p.MasterDownInterval()
	return StateBackup, append(pre, SetMasterDownTimer{D: d, At: now.Add(d)})
}
