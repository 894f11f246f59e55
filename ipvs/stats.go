package ipvs

import "net/netip"

// Counters are the kernel's traffic counters of a service or a destination,
// what `ipvsadm -Ln --stats` and `--rate` print. Totals count since the
// entry was created; the rates are the kernel's own estimates (averaged
// over a few seconds), per second.
type Counters struct {
	Conns    uint64 `json:"conns"`
	InPkts   uint64 `json:"inpkts"`
	OutPkts  uint64 `json:"outpkts"`
	InBytes  uint64 `json:"inbytes"`
	OutBytes uint64 `json:"outbytes"`
	CPS      uint64 `json:"cps"`
	InPPS    uint64 `json:"inpps"`
	OutPPS   uint64 `json:"outpps"`
	InBPS    uint64 `json:"inbps"`
	OutBPS   uint64 `json:"outbps"`
}

// DestStats are the counters of one destination.
type DestStats struct {
	Addr        netip.AddrPort `json:"addr"`
	Weight      int            `json:"weight"`
	ActiveConns int            `json:"active_conns"`
	InactConns  int            `json:"inact_conns"`
	Counters
}

// ServiceStats are the counters of one service and of its destinations
// (sorted by address).
type ServiceStats struct {
	Key
	Counters
	Dests []DestStats `json:"dests"`
}

// StatsReader reads the kernel's counters. It is separate from Kernel
// because the Reconciler never needs them: only status output does, and it
// must be able to read them without taking part in a sync.
type StatsReader interface {
	// Stats dumps every service lvsd can express with its destinations,
	// sorted by key. It is read-only.
	Stats() ([]ServiceStats, error)
}

var _ StatsReader = (*Netlink)(nil)
