package ipvs

import (
	"net/netip"
	"slices"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// Health is the verdict on one real server that Desired turns into a
// destination. The caller builds it from the health checker, manual drains
// and dynamic weights, so ipvs depends on none of them.
type Health struct {
	// Up: the server's checks pass (a server without checkers is up).
	Up bool
	// Weight replaces the configured weight when WeightSet (misc_dynamic).
	Weight    int
	WeightSet bool
	// Draining: an operator drained the server (`lvsd drain`): weight 0,
	// then deleted once its connections are gone (see the Reconciler).
	Draining bool
}

// AllUp is a health callback for which every real server is up with its
// configured weight: what `lvsd plan` and reload planning assume.
func AllUp(conf.VirtualServer, conf.RealServer) Health { return Health{Up: true} }

// Desired builds the table lvsd wants in the kernel from the configured
// virtual servers, without quorum memory: each virtual server's quorum
// state is computed as at start (see Membership.Desired, which the daemon
// uses so that hysteresis holds across calls).
func Desired(vss []conf.VirtualServer, health func(vs conf.VirtualServer, rs conf.RealServer) Health) []Service {
	svcs, _ := NewMembership().Desired(vss, health)
	return svcs
}

// Membership remembers the quorum state of each virtual server between
// Desired calls: with hysteresis, whether the quorum holds depends on
// whether it held before (keepalived's update_quorum_state). It is not safe
// for concurrent use.
type Membership struct {
	// One map, not one per field: at 50k services each map of Keys
	// cost ~5 MB.
	quorum map[Key]quorumState
	// keys are the keys of the last call's services in the order of its
	// virtual servers, and pos the place of each in the sorted result:
	// the next call over the same virtual servers (every health change,
	// most reloads) reuses the order instead of sorting 10k services.
	keys []Key
	pos  []int
	// memo is the last call's service for each virtual server, by
	// position, for DesiredGen to reuse; calls numbers the calls.
	memo  []memoEntry
	calls uint64
}

// memoEntry is what DesiredGen needs to hand a service back unchanged: the
// virtual server's decoding (conf.VirtualServer.Rev), the health generation
// it was built under, the weight sum and the quorum state it came to, and
// the call that wrote it. Written by the call before, up is what the
// quorum map holds for the key, so a reuse needs no map lookup (10k
// lookups were most of a one-weight reload's call).
type memoEntry struct {
	rev, gen, call uint64
	sum            int
	up             bool
	svc            Service
}

// quorumState is what Membership keeps of a virtual server.
type quorumState struct {
	up bool
	// last seen name and quorum_down, for the event of its removal.
	name string
	down *conf.Command
}

// NewMembership returns a Membership that has seen no virtual server.
func NewMembership() *Membership {
	return &Membership{quorum: map[Key]quorumState{}}
}

// QuorumEvent says that a virtual server gained or lost its quorum; the
// caller runs quorum_up or quorum_down.
type QuorumEvent struct {
	VS   string // virtual_server name
	Key  Key
	Up   bool
	Init bool // first evaluation of this virtual server
	// Removed: the virtual server left the configuration while its
	// quorum was up; keepalived runs its quorum_down then.
	Removed   bool
	WeightSum int // sum of the weights of live real servers
	Threshold int // quorum +- hysteresis that was crossed
	// Script is QuorumUp or QuorumDown of the virtual server, nil if
	// none is configured.
	Script *conf.Command
}

// QuorumState reports whether the quorum of key is up and whether key is
// known (has been through Desired).
func (m *Membership) QuorumState(key Key) (up, known bool) {
	q, known := m.quorum[key]
	return q.up, known
}

// Desired builds the table lvsd wants in the kernel from the configured
// virtual servers and the health of their real servers, and returns the
// quorum changes seen since the previous call.
//
// A real server that is up joins with its weight (or Health.Weight). One
// that is down is left out, so its destination is deleted at once as
// keepalived does (its name goes to Service.Down, so the reconciler does not
// drain it), except with InhibitOnFailure, where it stays with weight 0.
// One that is drained by hand is marked Draining with weight 0.
//
// Quorum (keepalived): the quorum holds while the weights of the live
// real servers sum to at least Quorum; with Hysteresis it is gained at
// Quorum+Hysteresis and lost below Quorum-Hysteresis (or at 0). While it is
// lost and a sorry_server is configured, the sorry server is added and the
// live real servers are taken out (weight 0 with inhibit_on_failure); while
// it holds, the sorry server is absent (or weight 0 with
// sorry_server_inhibit). Without a sorry server, losing the quorum only
// runs quorum_down.
//
// Every configured virtual server yields a service, even when all its real
// servers are down: keeping the empty service makes the kernel refuse new
// connections quickly instead of letting them reach the director's own
// stack, and keeps the key managed.
//
// The result is sorted by key, destinations by address. Duplicate keys or
// duplicate real-server addresses (which conf rejects) keep the first.
// Quorum state of virtual servers no longer configured is forgotten.
func (m *Membership) Desired(vss []conf.VirtualServer, health func(vs conf.VirtualServer, rs conf.RealServer) Health) ([]Service, []QuorumEvent) {
	return m.desired(vss, health, 0, false)
}

// DesiredGen is Desired for a caller that numbers the states of health:
// gen must change whenever health may answer differently for any real
// server. A virtual server with the same nonzero Rev at the same position
// as in the last call, under the same gen and with its quorum state
// unmoved, gets the last call's service back without health being asked:
// a reload that changes one weight in 10k virtual servers rebuilds one
// service, not 10k (the rebuild was a third of such a reload).
func (m *Membership) DesiredGen(vss []conf.VirtualServer, health func(vs conf.VirtualServer, rs conf.RealServer) Health, gen uint64) ([]Service, []QuorumEvent) {
	return m.desired(vss, health, gen, true)
}

func (m *Membership) desired(vss []conf.VirtualServer, health func(vs conf.VirtualServer, rs conf.RealServer) Health, gen uint64, reuse bool) ([]Service, []QuorumEvent) {
	memo := m.memo
	if len(memo) != len(vss) {
		memo = make([]memoEntry, len(vss))
	}
	m.calls++
	call := m.calls
	// The same keys in the same order as the last call (every health
	// change, most reloads): no duplicates (the last call's keys had
	// none), none gone, and each service goes straight to its sorted
	// place. Otherwise duplicates are skipped and the result sorted.
	same := len(vss) == len(m.keys)
	for i := 0; same && i < len(vss); i++ {
		if i < len(m.memo) && m.memo[i].rev != 0 && m.memo[i].rev == vss[i].Rev && m.memo[i].call == call-1 {
			// The decoding the last call saw here: its key, m.keys[i].
			continue
		}
		same = keyOf(&vss[i]) == m.keys[i]
	}
	var built, out []Service
	var seen map[Key]bool
	if same {
		out = make([]Service, len(vss))
	} else {
		built = make([]Service, 0, len(vss))
		seen = make(map[Key]bool, len(vss))
	}
	emit := func(i int, svc Service) {
		if same {
			out[m.pos[i]] = svc
		} else {
			built = append(built, svc)
		}
	}
	var events []QuorumEvent
	// Scratch reused by every service: at 10k services a copy of each
	// conf.RealServer and a map per service were most of what a call
	// allocated.
	type member struct {
		rs   *conf.RealServer
		addr netip.AddrPort // IPVS's (conf.VirtualServer.DestAddr)
		h    Health
		w    int
	}
	var members []member
	addrs := map[netip.AddrPort]bool{}
	for i := range vss {
		vs := &vss[i]
		var key Key
		if same {
			key = m.keys[i] // just compared equal
		} else {
			key = keyOf(vs)
		}
		if !same {
			if seen[key] {
				continue
			}
			seen[key] = true
		}
		if me := &m.memo; reuse && i < len(*me) && vs.Rev != 0 && (*me)[i].rev == vs.Rev && (*me)[i].gen == gen &&
			(*me)[i].call == call-1 {
			last := (*me)[i]
			if up, changed := nextQuorum(last.up, true, last.sum, vs.Quorum, vs.Hysteresis, vs.SorryServer.IsValid()); !changed && up == last.up {
				last.call = call
				memo[i] = last
				emit(i, last.svc)
				continue
			}
		}
		svc := Service{Key: key, Sched: vs.Sched, Flags: SchedFlags(*vs), DrainTimeout: vs.DrainTimeout}
		if vs.PersistenceTimeout > 0 {
			// conf guarantees whole seconds within the kernel's range.
			svc.Persistence = Persistence{Timeout: uint32(vs.PersistenceTimeout / time.Second), Bits: vs.PersistenceGranularity}
		}

		members = members[:0]
		clear(addrs)
		sum := 0
		for j := range vs.RealServers {
			rs := &vs.RealServers[j]
			addr := vs.DestAddrOf(rs)
			if addrs[addr] {
				continue
			}
			addrs[addr] = true
			h := health(*vs, *rs)
			w := rs.Weight
			if h.WeightSet {
				w = h.Weight
			}
			if h.Up && !h.Draining {
				sum += w
			}
			members = append(members, member{rs, addr, h, w})
		}

		q, known := m.quorum[key]
		prev := q.up
		up, changed := nextQuorum(prev, known, sum, vs.Quorum, vs.Hysteresis, vs.SorryServer.IsValid())
		m.quorum[key] = quorumState{up: up, name: vs.Name, down: vs.QuorumDown}
		if changed {
			ev := QuorumEvent{VS: vs.Name, Key: key, Up: up, Init: !known, WeightSum: sum, Threshold: threshold(prev && known, vs.Quorum, vs.Hysteresis)}
			if up {
				ev.Script = vs.QuorumUp
			} else {
				ev.Script = vs.QuorumDown
			}
			events = append(events, ev)
		}
		sorry := !up && vs.SorryServer.IsValid()
		// Exactly the room needed: grown by append, 10 destinations got
		// room for 16 in each of the tables lvsd keeps.
		room := len(members)
		if vs.SorryServer.IsValid() {
			room++
		}
		svc.Dests = make([]Dest, 0, room)

		for _, mb := range members {
			d := Dest{
				Addr: mb.addr, Weight: mb.w, Method: rsMethod(*vs, *mb.rs),
				UThreshold: mb.rs.UThreshold, LThreshold: mb.rs.LThreshold,
			}
			switch {
			case mb.h.Draining:
				d.Weight, d.Draining = 0, true
			case !mb.h.Up || sorry:
				// Down, or live but replaced by the sorry server
				// (keepalived's perform_quorum_state removes them,
				// inhibit_on_failure keeps them at weight 0).
				if !mb.rs.InhibitOnFailure {
					svc.Down = append(svc.Down, mb.addr)
					continue
				}
				// Weight 0 stops new connections but, unlike removal,
				// lets established ones finish.
				d.Weight = 0
			}
			svc.Dests = append(svc.Dests, d)
		}
		ssMethod := vs.SorryServerMethod
		if ssMethod == "" {
			ssMethod = vs.Method
		}
		var ss netip.AddrPort
		if vs.SorryServer.IsValid() {
			ss = vs.DestAddr(vs.SorryServer, ssMethod)
		}
		if ss.IsValid() && !sorry && !vs.SorryServerInhibit && !addrs[ss] {
			// Not needed: deleted at once, as keepalived does, not
			// drained.
			svc.Down = append(svc.Down, ss)
		}
		if ss.IsValid() && (sorry || vs.SorryServerInhibit) {
			w := 0
			if sorry {
				w = 1 // keepalived's sorry server has the default weight
			}
			d := Dest{Addr: ss, Weight: w, Method: ssMethod}
			if addrs[ss] {
				// The sorry server is also a real server: it takes
				// the sorry role's weight while the quorum is lost.
				for i := range svc.Dests {
					if svc.Dests[i].Addr == ss && sorry {
						svc.Dests[i].Weight = w
					}
				}
			} else {
				svc.Dests = append(svc.Dests, d)
			}
		}
		if len(svc.Dests) == 0 {
			svc.Dests = nil
		}
		if !slices.IsSortedFunc(svc.Dests, compareDests) {
			slices.SortFunc(svc.Dests, compareDests)
		}
		memo[i] = memoEntry{rev: vs.Rev, gen: gen, call: call, sum: sum, up: up, svc: svc}
		emit(i, svc)
	}
	m.memo = memo
	if same {
		return out, events
	}
	var gone []Key
	for k := range m.quorum {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	slices.SortFunc(gone, compareKeys)
	for _, k := range gone {
		if q := m.quorum[k]; q.up {
			events = append(events, QuorumEvent{VS: q.name, Key: k, Removed: true, Script: q.down})
		}
		delete(m.quorum, k)
	}
	return m.sorted(built), events
}

// sorted returns built (destinations already sorted by address) in key
// order and remembers the order for the next call.
func (m *Membership) sorted(built []Service) []Service {
	idx := make([]int, len(built))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return compareKeys(built[a].Key, built[b].Key) })
	m.pos = make([]int, len(built))
	for p, i := range idx {
		m.pos[i] = p
	}
	m.keys = make([]Key, len(built))
	for i, s := range built {
		m.keys[i] = s.Key
	}
	out := make([]Service, len(built))
	for i, s := range built {
		out[m.pos[i]] = s
	}
	return out
}

// threshold is the weight sum the quorum is compared with: keepalived's
// quorum + (up ? -1 : 1) * hysteresis.
func threshold(up bool, quorum, hysteresis int) int {
	if up {
		return quorum - hysteresis
	}
	return quorum + hysteresis
}

// nextQuorum is keepalived's update_quorum_state as a pure function: the
// quorum state after seeing weight sum, and whether that is a change to
// report. At the first evaluation (!known) the state is sum >=
// quorum+hysteresis (set_quorum_states); keepalived then reports only
// "starting with quorum down" when a sorry server is configured (the sorry
// server goes in and quorum_down runs), nothing otherwise. Afterwards the
// quorum is gained at sum >= quorum+hysteresis and lost at sum <
// quorum-hysteresis or sum == 0.
func nextQuorum(prev, known bool, sum, quorum, hysteresis int, sorry bool) (up, changed bool) {
	if !known {
		up = sum >= quorum+hysteresis
		return up, !up && sorry
	}
	t := threshold(prev, quorum, hysteresis)
	switch {
	case !prev && sum >= t:
		return true, true
	case prev && (sum == 0 || sum < t):
		return false, true
	}
	return prev, false
}

// KeyOf is the IPVS key of a configured virtual server: protocol, address
// and port, or, for a fwmark service, mark and family.
func KeyOf(vs conf.VirtualServer) Key { return keyOf(&vs) }

// keyOf is KeyOf without copying the virtual server.
func keyOf(vs *conf.VirtualServer) Key {
	if vs.FWMark != 0 {
		return FWMarkKey(vs.FWMark, vs.Address.Addr().Is6())
	}
	return Key{Protocol: vs.Protocol, Addr: vs.Address}
}

// SchedFlags maps a virtual server's lvs_flags to IPVS service flags. conf
// has validated each name for the scheduler; a name that does not apply
// (only possible for a hand-built VirtualServer) is left out.
func SchedFlags(vs conf.VirtualServer) Flags {
	var f Flags
	for _, name := range vs.SchedFlags {
		if b, ok := FlagByName(vs.Sched, name); ok {
			f |= b
		}
	}
	return f
}

// rsMethod is the real server's forwarding method: its own lvs_method,
// else the virtual server's (conf cascades it; a hand-built RealServer may
// leave it empty).
func rsMethod(vs conf.VirtualServer, rs conf.RealServer) string {
	if rs.Method != "" {
		return rs.Method
	}
	return vs.Method
}

// TimeoutsOf converts the config's lvs_timeouts; ok is false when the
// config does not manage timeouts.
func TimeoutsOf(t *conf.LVSTimeouts) (Timeouts, bool) {
	if t == nil {
		return Timeouts{}, false
	}
	return Timeouts{TCP: t.TCP, TCPFin: t.TCPFin, UDP: t.UDP}, true
}
