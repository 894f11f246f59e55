package ipvs

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Protocols of an IPVS service, as written in the config.
const (
	TCP  = "TCP"
	UDP  = "UDP"
	SCTP = "SCTP"
)

// Forwarding methods of a destination, as written in the config (lvs_method).
// Local is only ever observed (ipvsadm shows "Local": the kernel chose local
// delivery because the destination is an address of this host); lvsd never
// programs it.
const (
	NAT   = "NAT"
	DR    = "DR"
	TUN   = "TUN"
	Local = "LOCAL"
)

// Key is the identity of an IPVS service: the kernel looks services up by
// protocol, address and port, or, for a firewall-mark service, by mark and
// address family (ip_vs_ctl.c keeps two hash tables), so two services with
// the same Key cannot coexist.
//
// A fwmark key has FWMark set, Protocol "" and Addr the unspecified address
// of its family with port 0 (0.0.0.0:0 or [::]:0): the kernel neither
// stores nor dumps an address, protocol or port for it.
type Key struct {
	Protocol string         `json:"protocol,omitempty"` // TCP, UDP, SCTP; "" for fwmark
	Addr     netip.AddrPort `json:"addr"`
	FWMark   uint32         `json:"fwmark,omitzero"`
}

// FWMarkKey is the key of the firewall-mark service mark of the family of
// IPv6 (true) or IPv4.
func FWMarkKey(mark uint32, v6 bool) Key {
	a := netip.IPv4Unspecified()
	if v6 {
		a = netip.IPv6Unspecified()
	}
	return Key{Addr: netip.AddrPortFrom(a, 0), FWMark: mark}
}

// String renders the key the way ipvsadm -Ln does: "TCP 198.51.100.30:3306",
// "FWM 1" or, for IPv6, "FWM 1 IPv6".
func (k Key) String() string {
	if k.FWMark != 0 {
		s := "FWM " + strconv.FormatUint(uint64(k.FWMark), 10)
		if k.Addr.Addr().Is6() {
			s += " IPv6"
		}
		return s
	}
	return k.Protocol + " " + k.Addr.String()
}

// compareKeys orders keys by protocol, then address, then port, then mark
// (fwmark keys, whose protocol is "", come first), so that every listing
// and every op sequence is deterministic.
func compareKeys(a, b Key) int {
	if c := cmp.Compare(a.Protocol, b.Protocol); c != 0 {
		return c
	}
	if c := a.Addr.Compare(b.Addr); c != 0 {
		return c
	}
	return cmp.Compare(a.FWMark, b.FWMark)
}

// Service is one virtual service with its destinations.
type Service struct {
	Key
	Sched string `json:"sched"` // scheduler name: rr, wrr, lc, wlc, ...
	// Flags are the scheduler and one-packet flags (FlagSched1..3,
	// FlagOnePacket); the persistent flag lives in Persistence.
	Flags Flags `json:"flags,omitzero"`
	// Persistence is the zero value for a service that is not persistent.
	Persistence Persistence `json:"persistence,omitzero"`
	Dests       []Dest      `json:"dests"` // sorted by Addr, unique Addr

	// Desired side only (see drain.go): Down are configured real servers
	// left out because they are down, deleted at once; other observed
	// destinations missing from Dests are drained for at most
	// DrainTimeout (0 = deleted at once).
	Down         []netip.AddrPort `json:"-"`
	DrainTimeout time.Duration    `json:"-"`
}

// Persistence is IPVS service persistence (ipvsadm -p and -M): a client's
// new connections go to the real server its earlier ones went to while a
// connection or template younger than Timeout exists.
type Persistence struct {
	// Timeout in seconds (the kernel's unit); 0 = not persistent.
	Timeout uint32 `json:"timeout"`
	// Bits is the prefix length of client addresses sharing persistence
	// (the granularity: 24 groups a /24). Always 0 when Timeout is 0, so
	// that two non-persistent services compare equal whatever netmask the
	// kernel kept.
	Bits int `json:"bits"`
}

// describe renders persistence the way ipvsadm -Ln ends a service line
// ("persistent 300 mask 255.255.255.0"; IPv6 masks as a prefix length).
func (p Persistence) describe(k Key) string {
	if p.Timeout == 0 {
		return "not persistent"
	}
	mask := "/" + strconv.Itoa(p.Bits)
	if k.Addr.Addr().Is4() && p.Bits >= 0 && p.Bits <= 32 {
		m := ^uint32(0) << (32 - p.Bits) // a shift by 32 yields 0: /0
		mask = netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
	}
	return fmt.Sprintf("persistent %d mask %s", p.Timeout, mask)
}

// Flags are IPVS service flags lvsd manages besides persistence
// (IP_VS_SVC_F_* in linux/ip_vs.h).
type Flags uint32

// The flags of Service.Flags. The kernel names the scheduler flags
// generically; sh and mh read SCHED1 as "fallback" and SCHED2 as "port"
// (ip_vs_sh.c, ip_vs_mh.c), which is how keepalived and ipvsadm spell them.
const (
	FlagOnePacket Flags = 0x0004 // ops: schedule each UDP datagram on its own
	FlagSched1    Flags = 0x0008 // flag-1: sh-fallback, mh-fallback
	FlagSched2    Flags = 0x0010 // flag-2: sh-port, mh-port
	FlagSched3    Flags = 0x0020 // flag-3: unused by the kernel's schedulers
	// FlagsMask are all the flags Service.Flags may hold.
	FlagsMask = FlagOnePacket | FlagSched1 | FlagSched2 | FlagSched3
)

// FlagByName maps a keepalived flag keyword (ipvsadm -b names, and "ops")
// to its flag for scheduler sched; ok is false for a name that does not
// apply to sched (sh-port on rr, say). flag-1..3 apply to every scheduler,
// as in keepalived.
func FlagByName(sched, name string) (Flags, bool) {
	switch name {
	case "ops":
		return FlagOnePacket, true
	case "flag-1":
		return FlagSched1, true
	case "flag-2":
		return FlagSched2, true
	case "flag-3":
		return FlagSched3, true
	case "sh-fallback", "mh-fallback":
		return FlagSched1, sched == name[:2]
	case "sh-port", "mh-port":
		return FlagSched2, sched == name[:2]
	}
	return 0, false
}

// describe names the flags for scheduler sched the way ipvsadm prints them
// after the scheduler ("sh-fallback,sh-port"), "" when there are none.
func (f Flags) describe(sched string) string {
	var names []string
	for _, b := range []struct {
		f          Flags
		generic    string
		shmh       string // suffix after "sh-"/"mh-"
		namedForSh bool
	}{
		{FlagSched1, "flag-1", "fallback", true},
		{FlagSched2, "flag-2", "port", true},
		{FlagSched3, "flag-3", "", false},
	} {
		if f&b.f == 0 {
			continue
		}
		if b.namedForSh && (sched == "sh" || sched == "mh") {
			names = append(names, sched+"-"+b.shmh)
		} else {
			names = append(names, b.generic)
		}
	}
	if f&FlagOnePacket != 0 {
		names = append(names, "ops")
	}
	if rest := f &^ FlagsMask; rest != 0 {
		names = append(names, fmt.Sprintf("0x%x", uint32(rest)))
	}
	return strings.Join(names, ",")
}

// Dest is one destination (real server) of a service.
type Dest struct {
	Addr   netip.AddrPort `json:"addr"`
	Weight int            `json:"weight"`
	Method string         `json:"method"` // NAT, DR, TUN (LOCAL only when observed)
	// UThreshold stops new connections to the destination while it has
	// this many (active + inactive); LThreshold lets them resume below it
	// (ipvsadm -x/-y, keepalived uthreshold/lthreshold). 0 = no limit.
	UThreshold uint32 `json:"uthreshold,omitzero"`
	LThreshold uint32 `json:"lthreshold,omitzero"`
	// Observed only: the kernel's connection counts (ipvsadm's ActiveConn
	// and InActConn), read by the same dump, for draining.
	ActiveConns int `json:"active_conns,omitempty"`
	InactConns  int `json:"inact_conns,omitempty"`
	// Desired only: drained by hand; kept at weight 0 until its
	// connections are gone. Diff ignores these three fields.
	Draining bool `json:"draining,omitempty"`
}

// kernelPart is d without the fields the kernel does not program, for
// comparisons.
func (d Dest) kernelPart() Dest {
	d.ActiveConns, d.InactConns, d.Draining = 0, 0, false
	return d
}

// describeThresholds renders non-zero thresholds for a log line.
func (d Dest) describeThresholds() string {
	if d.UThreshold == 0 && d.LThreshold == 0 {
		return ""
	}
	return fmt.Sprintf(" uthreshold %d lthreshold %d", d.UThreshold, d.LThreshold)
}

// methodWord is how ipvsadm -Ln names a forwarding method in its Forward
// column, so lvsd's log lines read like the tool users check them with.
func methodWord(m string) string {
	switch m {
	case NAT:
		return "masq"
	case DR:
		return "route"
	case TUN:
		return "tunnel"
	case Local:
		return "local"
	}
	return strings.ToLower(m)
}

// OpKind says what an Op does.
type OpKind int

// The operations Diff emits. Their order here is the order in which Diff
// emits them (see Diff).
const (
	AddService OpKind = iota + 1
	UpdateService
	AddDest
	UpdateDest
	DeleteDest
	DeleteService
)

// isDest says whether the op is about a destination (Op.Dest is set).
func (k OpKind) isDest() bool { return k == AddDest || k == UpdateDest || k == DeleteDest }

func (k OpKind) String() string {
	switch k {
	case AddService:
		return "add service"
	case UpdateService:
		return "update service"
	case DeleteService:
		return "delete service"
	case AddDest:
		return "add dest"
	case UpdateDest:
		return "update dest"
	case DeleteDest:
		return "delete dest"
	}
	return "op(" + strconv.Itoa(int(k)) + ")"
}

// Op is one change to the kernel table. Service always carries the key and
// the desired scheduler (never Dests: each destination change is its own
// Op). Dest is set for the dest kinds. For updates, Old holds the values
// observed before the change so that the op can be logged as "a->b".
type Op struct {
	Kind    OpKind
	Service Service
	Dest    Dest
	// Old is what an update changes (UpdateService, UpdateDest); nil for
	// the other kinds. Behind a pointer, it costs an add nothing: a
	// from-empty sync at 10k services holds 110,000 adds at once.
	Old *OpOld
}

// OpOld holds the observed values an update replaces.
type OpOld struct {
	// Sched, Persistence and Flags are the observed service's
	// (UpdateService).
	Sched       string
	Persistence Persistence
	Flags       Flags
	// Dest is the observed destination (UpdateDest).
	Dest Dest
}

// String renders an op as one readable log line, for example
//
//	add service TCP 198.51.100.30:3306 rr
//	add service TCP 198.51.100.30:3306 rr persistent 300 mask 255.255.255.0
//	update service TCP 198.51.100.30:3306 sched rr->wrr
//	update service TCP 198.51.100.30:3306 not persistent->persistent 300 mask 255.255.255.255
//	add dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 route weight 1
//	update dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 weight 1->0
//	delete service TCP 198.51.100.30:3306
func (o Op) String() string {
	var b strings.Builder
	b.WriteString(o.Kind.String())
	b.WriteByte(' ')
	b.WriteString(o.Service.Key.String())
	switch o.Kind {
	case AddService:
		b.WriteString(" " + o.Service.Sched)
		if f := o.Service.Flags.describe(o.Service.Sched); f != "" {
			b.WriteString(" (" + f + ")")
		}
		if o.Service.Persistence.Timeout != 0 {
			b.WriteString(" " + o.Service.Persistence.describe(o.Service.Key))
		}
	case UpdateService:
		// Only what changes, so a log line says why the service was touched.
		old := o.old()
		if old.Sched != o.Service.Sched {
			fmt.Fprintf(&b, " sched %s->%s", old.Sched, o.Service.Sched)
		}
		if old.Persistence != o.Service.Persistence {
			fmt.Fprintf(&b, " %s->%s", old.Persistence.describe(o.Service.Key), o.Service.Persistence.describe(o.Service.Key))
		}
		if old.Flags != o.Service.Flags {
			fmt.Fprintf(&b, " flags (%s)->(%s)", old.Flags.describe(old.Sched), o.Service.Flags.describe(o.Service.Sched))
		}
	case AddDest:
		fmt.Fprintf(&b, " -> %s %s weight %d%s", o.Dest.Addr, methodWord(o.Dest.Method), o.Dest.Weight, o.Dest.describeThresholds())
	case UpdateDest:
		fmt.Fprintf(&b, " -> %s", o.Dest.Addr)
		old := o.old().Dest
		if old.Method != o.Dest.Method {
			fmt.Fprintf(&b, " method %s->%s", methodWord(old.Method), methodWord(o.Dest.Method))
		}
		if old.Weight != o.Dest.Weight {
			fmt.Fprintf(&b, " weight %d->%d", old.Weight, o.Dest.Weight)
		}
		if old.UThreshold != o.Dest.UThreshold || old.LThreshold != o.Dest.LThreshold {
			fmt.Fprintf(&b, " thresholds %d/%d->%d/%d", old.UThreshold, old.LThreshold, o.Dest.UThreshold, o.Dest.LThreshold)
		}
	case DeleteDest:
		fmt.Fprintf(&b, " -> %s", o.Dest.Addr)
	}
	return b.String()
}

// old is o.Old, or the zero OpOld for an op built without one.
func (o Op) old() OpOld {
	if o.Old == nil {
		return OpOld{}
	}
	return *o.Old
}

// sortTable puts services in key order and each service's destinations in
// address order, in place.
func sortTable(svcs []Service) {
	// Tables are usually sorted already (Desired's output handed to
	// SetDesired): checking is a compare per entry, sorting 10k services
	// was not free.
	byKey := func(a, b Service) int { return compareKeys(a.Key, b.Key) }
	if !slices.IsSortedFunc(svcs, byKey) {
		slices.SortFunc(svcs, byKey)
	}
	for i := range svcs {
		if !slices.IsSortedFunc(svcs[i].Dests, compareDests) {
			slices.SortFunc(svcs[i].Dests, compareDests)
		}
	}
}

// tableSorted says whether svcs is in sortTable's order with no duplicate
// key or destination address (sortTable would leave it as it is).
// sameKeys tells whether two tables have the same keys in the same order.
func sameKeys(a, b []Service) bool {
	return slices.EqualFunc(a, b, func(x, y Service) bool { return x.Key == y.Key })
}

// destsSortedBut tells whether the destinations of svcs are sorted,
// looking only at those not shared with the service at the same place in
// prev (a sorted table with the same keys).
func destsSortedBut(svcs, prev []Service) bool {
	for i := range svcs {
		ds, pd := svcs[i].Dests, prev[i].Dests
		if len(ds) > 0 && len(ds) == len(pd) && &ds[0] == &pd[0] {
			continue
		}
		for j := 1; j < len(ds); j++ {
			if compareDests(ds[j-1], ds[j]) >= 0 {
				return false
			}
		}
	}
	return true
}

func tableSorted(svcs []Service) bool {
	for i := range svcs {
		if i > 0 && compareKeys(svcs[i-1].Key, svcs[i].Key) >= 0 {
			return false
		}
		ds := svcs[i].Dests
		for j := 1; j < len(ds); j++ {
			if ds[j-1].Addr.Compare(ds[j].Addr) >= 0 {
				return false
			}
		}
	}
	return true
}

func compareDests(a, b Dest) int { return a.Addr.Compare(b.Addr) }

// cloneTable deep-copies a table so callers can keep or change their copy.
func cloneTable(svcs []Service) []Service {
	if svcs == nil {
		return nil
	}
	out := make([]Service, len(svcs))
	for i, s := range svcs {
		out[i] = s
		out[i].Dests = slices.Clone(s.Dests)
	}
	return out
}

// Timeouts are the kernel's global IPVS connection timeouts (ipvsadm
// --set tcp tcpfin udp; keepalived's lvs_timeouts). They apply to every
// service of the network namespace. A zero field leaves the kernel's value
// unchanged, as the kernel itself does with a zero (ip_vs_set_timeout).
type Timeouts struct {
	TCP    time.Duration `json:"tcp,omitzero"`
	TCPFin time.Duration `json:"tcpfin,omitzero"`
	UDP    time.Duration `json:"udp,omitzero"`
}

// Overlay returns cur with the non-zero fields of t: the table the kernel
// holds after SetTimeouts(t).
func (t Timeouts) Overlay(cur Timeouts) Timeouts {
	if t.TCP != 0 {
		cur.TCP = t.TCP
	}
	if t.TCPFin != 0 {
		cur.TCPFin = t.TCPFin
	}
	if t.UDP != 0 {
		cur.UDP = t.UDP
	}
	return cur
}

// String renders timeouts like ipvsadm -L --timeout, in seconds.
func (t Timeouts) String() string {
	return fmt.Sprintf("tcp %d tcpfin %d udp %d", int64(t.TCP/time.Second), int64(t.TCPFin/time.Second), int64(t.UDP/time.Second))
}

// TimeoutKernel is the part of a Kernel that owns the global timeouts;
// Netlink implements it.
type TimeoutKernel interface {
	Timeouts() (Timeouts, error)
	SetTimeouts(Timeouts) error
}
