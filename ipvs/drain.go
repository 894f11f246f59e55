package ipvs

import (
	"net/netip"
	"slices"
	"time"
)

// Graceful drain, kube-proxy's graceful termination adapted: a destination
// that should go away while it still carries connections is first set to
// weight 0 (the kernel schedules nothing new to it, established connections
// go on) and deleted when its ActiveConn+InActConn reach zero or its
// deadline passes. Deleting at once would not just stop new connections:
// with net.ipv4.vs.expire_nodest_conn=0 (the default) the kernel silently
// drops the packets of connections to a deleted destination, so clients
// hang until they time out.
//
// What drains: a destination of a service that stays desired but whose real
// server left the configuration (a reload), or was drained by hand
// (Dest.Draining). What does not: a real server that failed its checks
// (Service.Down; keepalived deletes it at once, inhibit_on_failure keeps it
// at weight 0) and a whole service removed from the configuration (deleted
// with all its destinations, as keepalived does).

// sameAddrs reports whether desired and observed destinations have the
// same addresses in the same order and none is drained by hand: then
// there is nothing to drain.
func sameAddrs(w, h []Dest) bool {
	if len(w) != len(h) {
		return false
	}
	for i := range w {
		if w[i].Addr != h[i].Addr || w[i].Draining {
			return false
		}
	}
	return true
}

// DestKey names one destination of one service.
type DestKey struct {
	Service Key            `json:"service"`
	Dest    netip.AddrPort `json:"dest"`
}

// Drain is one destination being drained, as of the last sync.
type Drain struct {
	DestKey
	// Manual: drained by `lvsd drain` (else: removed from the config).
	Manual bool      `json:"manual"`
	Since  time.Time `json:"since"`
	// Deadline is when it is deleted whatever its connections; zero for
	// none (a manual drain with drain_timeout 0).
	Deadline    time.Time `json:"deadline,omitzero"`
	ActiveConns int       `json:"active_conns"`
	InactConns  int       `json:"inact_conns"`
}

// DrainEnd is a drain that finished at this sync: its destination is
// deleted.
type DrainEnd struct {
	Drain
	// Reason is "no connections" or "timeout".
	Reason string
}

// planDrain applies graceful drain to one sync. desired is the table from
// SetDesired, observed the kernel's dump (with connection counts), since
// the start times of the drains in progress. It returns the table to diff
// against (desired with each draining destination kept at weight 0 and each
// finished manual drain taken out), the drains still in progress (sorted)
// and the drains that end now. It is pure.
func planDrain(desired, observed []Service, since map[DestKey]time.Time, now time.Time) (eff []Service, active []Drain, ended []DrainEnd) {
	// Both tables are sorted by key (SetDesired sorts, Dump's contract):
	// one merge walk, and eff is desired itself unless a service changes,
	// so a steady resync at 10k services allocates nothing here.
	eff = desired
	copied := false
	j := 0
	for i, w := range desired {
		for j < len(observed) && compareKeys(observed[j].Key, w.Key) < 0 {
			j++
		}
		var h Service
		ok := j < len(observed) && observed[j].Key == w.Key
		if ok {
			h = observed[j]
		}
		if ok && sameAddrs(w.Dests, h.Dests) {
			continue // nothing missing, nothing drained by hand
		}
		set := func(s Service) {
			if !copied {
				eff, copied = slices.Clone(desired), true
			}
			eff[i] = s
		}
		if !ok {
			// Not in the kernel: nothing to drain, and a drained
			// destination is not added back.
			if slices.ContainsFunc(w.Dests, func(d Dest) bool { return d.Draining }) {
				s := w
				s.Dests = slices.DeleteFunc(slices.Clone(w.Dests), func(d Dest) bool { return d.Draining })
				set(s)
			}
			continue
		}
		var dests []Dest // built only when something drains
		touched := false
		for _, od := range h.Dests {
			wi := slices.IndexFunc(w.Dests, func(d Dest) bool { return d.Addr == od.Addr })
			manual := wi >= 0 && w.Dests[wi].Draining
			switch {
			case wi >= 0 && !manual:
				continue // wanted: Diff makes it right
			case wi < 0 && (w.DrainTimeout == 0 || slices.Contains(w.Down, od.Addr)):
				continue // deleted at once
			}
			k := DestKey{Service: w.Key, Dest: od.Addr}
			dr := Drain{DestKey: k, Manual: manual, Since: now, ActiveConns: od.ActiveConns, InactConns: od.InactConns}
			if t, ok := since[k]; ok {
				dr.Since = t
			}
			if w.DrainTimeout > 0 {
				dr.Deadline = dr.Since.Add(w.DrainTimeout)
			}
			if !touched {
				dests, touched = slices.Clone(w.Dests), true
			}
			var end string
			switch {
			case od.ActiveConns+od.InactConns == 0:
				end = "no connections"
			case !dr.Deadline.IsZero() && !now.Before(dr.Deadline):
				end = "timeout"
			}
			if end != "" {
				ended = append(ended, DrainEnd{Drain: dr, Reason: end})
				if manual { // let Diff delete it
					dests = slices.DeleteFunc(dests, func(d Dest) bool { return d.Addr == od.Addr })
				}
				continue
			}
			active = append(active, dr)
			keep := Dest{Addr: od.Addr, Weight: 0, Method: od.Method, Draining: true}
			if manual {
				i := slices.IndexFunc(dests, func(d Dest) bool { return d.Addr == od.Addr })
				dests[i] = keep
			} else {
				dests = append(dests, keep)
			}
		}
		// A manually drained destination the kernel no longer has stays
		// out.
		for _, d := range w.Dests {
			if d.Draining && !slices.ContainsFunc(h.Dests, func(o Dest) bool { return o.Addr == d.Addr }) {
				if !touched {
					dests, touched = slices.Clone(w.Dests), true
				}
				dests = slices.DeleteFunc(dests, func(x Dest) bool { return x.Addr == d.Addr })
			}
		}
		if touched {
			slices.SortFunc(dests, func(a, b Dest) int { return a.Addr.Compare(b.Addr) })
			s := w
			s.Dests = dests
			set(s)
		}
	}
	slices.SortFunc(active, func(a, b Drain) int {
		if c := compareKeys(a.Service, b.Service); c != 0 {
			return c
		}
		return a.Dest.Compare(b.Dest)
	})
	return eff, active, ended
}
