package ipvs

import (
	"net/netip"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// Desired builds the table lvsd wants in the kernel from the configured
// virtual servers. up(vs, rs) reports whether real server rs of virtual
// server vs is healthy (the health checker's verdict; the caller picks the
// key it uses, so ipvs does not depend on how checks are named); unhealthy real servers are left
// out, so their destination is deleted and the kernel stops scheduling new
// connections to them, except those with InhibitOnFailure, which stay with
// weight 0. (A real server without a checker is always up; that
// is the caller's decision, made inside up.)
//
// Every configured virtual server yields a service, even when all its real
// servers are down: keeping the empty service makes the kernel refuse new
// connections quickly instead of letting them reach the director's own
// stack, and keeps the key managed.
//
// The result is sorted by key, destinations by address. Duplicate keys or
// duplicate real-server addresses (which conf rejects) keep the first.
func Desired(vss []conf.VirtualServer, up func(vs conf.VirtualServer, rs conf.RealServer) bool) []Service {
	out := make([]Service, 0, len(vss))
	seen := make(map[Key]bool, len(vss))
	for _, vs := range vss {
		key := KeyOf(vs)
		if seen[key] {
			continue
		}
		seen[key] = true
		svc := Service{Key: key, Sched: vs.Sched, Flags: SchedFlags(vs)}
		if vs.PersistenceTimeout > 0 {
			// conf guarantees whole seconds within the kernel's range.
			svc.Persistence = Persistence{Timeout: uint32(vs.PersistenceTimeout / time.Second), Bits: vs.PersistenceGranularity}
		}
		addrs := make(map[netip.AddrPort]bool, len(vs.RealServers))
		for _, rs := range vs.RealServers {
			if addrs[rs.Address] {
				continue
			}
			w := rs.Weight
			if !up(vs, rs) {
				if !rs.InhibitOnFailure {
					continue
				}
				// Weight 0 stops new connections but, unlike removal,
				// lets established ones finish (keepalived's
				// inhibit_on_failure).
				w = 0
			}
			addrs[rs.Address] = true
			svc.Dests = append(svc.Dests, Dest{
				Addr: rs.Address, Weight: w, Method: rsMethod(vs, rs),
				UThreshold: rs.UThreshold, LThreshold: rs.LThreshold,
			})
		}
		out = append(out, svc)
	}
	sortTable(out)
	return out
}

// KeyOf is the IPVS key of a configured virtual server: protocol, address
// and port, or, for a fwmark service, mark and family.
func KeyOf(vs conf.VirtualServer) Key {
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
