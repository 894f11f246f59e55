package ipvs

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	mipvs "github.com/moby/ipvs"
	"golang.org/x/sys/unix"
)

// Stats dumps services and destinations with their counters: one service
// dump plus one destination dump per service, like Dump, and read-only.
func (n *Netlink) Stats() ([]ServiceStats, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.h == nil {
		return nil, fmt.Errorf("read ipvs stats: %w", net.ErrClosed)
	}
	msvcs, err := n.h.GetServices()
	if err != nil {
		return nil, fmt.Errorf("read ipvs stats: list services: %w", err)
	}
	out := make([]ServiceStats, 0, len(msvcs))
	for _, ms := range msvcs {
		svc, ok := fromMobyService(ms)
		if !ok {
			continue
		}
		st := ServiceStats{Key: svc.Key, Counters: counters(mipvs.DstStats(ms.Stats))}
		mds, err := n.h.GetDestinations(ms)
		if errors.Is(err, unix.ESRCH) {
			continue // deleted between the two dumps
		}
		if err != nil {
			return nil, fmt.Errorf("read ipvs stats: list dests of %s: %w", svc.Key, err)
		}
		for _, md := range mds {
			a, ok := netip.AddrFromSlice(md.Address)
			if !ok {
				continue
			}
			st.Dests = append(st.Dests, DestStats{
				Addr:        netip.AddrPortFrom(a.Unmap(), md.Port),
				Weight:      md.Weight,
				ActiveConns: md.ActiveConnections,
				InactConns:  md.InactiveConnections,
				Counters:    counters(md.Stats),
			})
		}
		slices.SortFunc(st.Dests, func(a, b DestStats) int { return a.Addr.Compare(b.Addr) })
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b ServiceStats) int { return compareKeys(a.Key, b.Key) })
	return out, nil
}

func counters(s mipvs.DstStats) Counters {
	return Counters{
		Conns:    uint64(s.Connections),
		InPkts:   uint64(s.PacketsIn),
		OutPkts:  uint64(s.PacketsOut),
		InBytes:  s.BytesIn,
		OutBytes: s.BytesOut,
		CPS:      uint64(s.CPS),
		InPPS:    uint64(s.PPSIn),
		OutPPS:   uint64(s.PPSOut),
		InBPS:    uint64(s.BPSIn),
		OutBPS:   uint64(s.BPSOut),
	}
}
