package ipvs

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"net"
	"net/netip"
	"sync"
	"time"

	mipvs "github.com/moby/ipvs"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Netlink is the Kernel on Linux: the IPVS generic netlink family, spoken
// through github.com/moby/ipvs.
type Netlink struct {
	// mu serializes requests: moby/ipvs matches replies by sequence number
	// on one socket and is not safe for concurrent requests.
	mu sync.Mutex
	h  *mipvs.Handle
	// b is the batched write path (netlink_linux.go), on its own socket.
	b *batchConn
}

var _ Kernel = (*Netlink)(nil)

// NewKernel opens the IPVS table of the current network namespace.
func NewKernel() (*Netlink, error) { return NewKernelAt("") }

// NewKernelAt opens the IPVS table of the network namespace at nsPath (for
// example /var/run/netns/NAME); "" is the current one.
func NewKernelAt(nsPath string) (*Netlink, error) {
	h, err := mipvs.New(nsPath)
	if err != nil {
		return nil, fmt.Errorf("open ipvs netlink: %w", err)
	}
	// moby/ipvs only logs when the IPVS family is missing and then sends
	// requests with family 0, which the kernel acks as no-ops: every call
	// would "succeed" and Dump would always be empty. Ask for the family
	// ourselves so a kernel without IPVS is an error here.
	fam, err := netlink.GenlFamilyGet("IPVS")
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("ipvs generic netlink family (is ip_vs loaded?): %w", err)
	}
	b, err := newBatchConn(nsPath, fam.ID)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("open ipvs netlink: %w", err)
	}
	return &Netlink{h: h, b: b}, nil
}

// Close releases the netlink socket. The kernel table is left as it is.
func (n *Netlink) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.h != nil {
		n.h.Close()
		n.h = nil
	}
	if n.b != nil {
		n.b.close()
		n.b = nil
	}
	return nil
}

// Dump lists every service, then the destinations of each. The kernel has
// no "all destinations" dump (IPVS_CMD_GET_DEST needs a service), so this is
// one service dump plus one destination dump per service, never a lookup
// per desired service. Services lvsd cannot express (unknown protocols)
// are skipped: they can never be managed. The replies are decoded in place
// (batchConn.dump); dumpMoby (dump_vm_test.go) is the same read through
// moby/ipvs.
func (n *Netlink) Dump() ([]Service, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.h == nil || n.b == nil {
		return nil, fmt.Errorf("list services: %w", net.ErrClosed)
	}
	return n.b.dump()
}

// Apply performs one op. The error reads like the op ("add service TCP
// 198.51.100.30:3306: file exists") and wraps the errno.
func (n *Netlink) Apply(o Op) error {
	if err := n.apply(o); err != nil {
		return opError(o, err)
	}
	return nil
}

// Timeouts reads the kernel's global IPVS timeouts (ipvsadm -L --timeout).
func (n *Netlink) Timeouts() (Timeouts, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.h == nil {
		return Timeouts{}, fmt.Errorf("get ipvs timeouts: %w", net.ErrClosed)
	}
	c, err := n.h.GetConfig()
	if err != nil {
		return Timeouts{}, fmt.Errorf("get ipvs timeouts: %w", err)
	}
	return Timeouts{TCP: c.TimeoutTCP, TCPFin: c.TimeoutTCPFin, UDP: c.TimeoutUDP}, nil
}

// SetTimeouts sets the kernel's global IPVS timeouts; zero fields are left
// as they are (moby/ipvs sends all three attributes and the kernel skips a
// zero, ip_vs_set_timeout).
func (n *Netlink) SetTimeouts(t Timeouts) error {
	for _, d := range []time.Duration{t.TCP, t.TCPFin, t.UDP} {
		if d < 0 || d%time.Second != 0 || d/time.Second > math.MaxInt32/1000 {
			return fmt.Errorf("set ipvs timeouts %s: %v is not whole seconds within the kernel's range: %w", t, d, unix.EINVAL)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.h == nil {
		return fmt.Errorf("set ipvs timeouts: %w", net.ErrClosed)
	}
	if err := n.h.SetConfig(&mipvs.Config{TimeoutTCP: t.TCP, TimeoutTCPFin: t.TCPFin, TimeoutUDP: t.UDP}); err != nil {
		return fmt.Errorf("set ipvs timeouts %s: %w", t, err)
	}
	return nil
}

func (n *Netlink) apply(o Op) error {
	ms, err := toMobyService(o.Service)
	if err != nil {
		return err
	}
	var md *mipvs.Destination
	if o.Kind.isDest() {
		if md, err = toMobyDest(o.Dest); err != nil {
			return err
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.h == nil {
		return net.ErrClosed
	}
	switch o.Kind {
	case AddService:
		return n.h.NewService(ms)
	case UpdateService:
		return n.h.UpdateService(ms)
	case DeleteService:
		return n.h.DelService(ms)
	case AddDest:
		return n.h.NewDestination(ms, md)
	case UpdateDest:
		return n.h.UpdateDestination(ms, md)
	case DeleteDest:
		return n.h.DelDestination(ms, md)
	}
	return fmt.Errorf("unknown op kind %d: %w", int(o.Kind), unix.EINVAL)
}

var protoNumbers = map[string]uint16{
	TCP:  unix.IPPROTO_TCP,
	UDP:  unix.IPPROTO_UDP,
	SCTP: unix.IPPROTO_SCTP,
}

// family returns the address family and the netmask IPVS expects for it:
// a 32-bit mask for IPv4 (ipvsadm sends 0xffffffff) and a prefix length
// for IPv6 (128). The netmask only matters for persistence granularity.
func family(a netip.Addr) (af uint16, netmask uint32) {
	if a.Is4() {
		return unix.AF_INET, 0xffffffff
	}
	return unix.AF_INET6, 128
}

// svcFlagPersistent is IP_VS_SVC_F_PERSISTENT (linux/ip_vs.h); moby/ipvs
// does not name it.
const svcFlagPersistent = 0x0001

// toMobyService converts the key, scheduler, flags and persistence. Flags
// carries the persistent bit and Service.Flags: moby/ipvs sends flags with
// a full mask, so an update also clears flags lvsd does not model (hashed
// is the kernel's own and ignored on input) on an adopted service, which
// matches the config.
//
// A fwmark service goes out with IPVS_SVC_ATTR_FWMARK and its family only:
// moby/ipvs then leaves protocol, address and port out, as ipvsadm -f does.
func toMobyService(s Service) (*mipvs.Service, error) {
	if s.Flags&^FlagsMask != 0 {
		return nil, fmt.Errorf("service flags 0x%x: %w", uint32(s.Flags), unix.EINVAL)
	}
	a := s.Addr.Addr().Unmap()
	if !a.IsValid() {
		return nil, fmt.Errorf("service address %v: %w", s.Addr, unix.EINVAL)
	}
	af, mask := family(a)
	ms := &mipvs.Service{
		SchedName:     s.Sched,
		Flags:         uint32(s.Flags),
		Netmask:       mask,
		AddressFamily: af,
	}
	if s.FWMark != 0 {
		ms.FWMark = s.FWMark
	} else {
		proto, ok := protoNumbers[s.Protocol]
		if !ok {
			return nil, fmt.Errorf("protocol %q: %w", s.Protocol, unix.EPROTONOSUPPORT)
		}
		ms.Address, ms.Protocol, ms.Port = net.IP(a.AsSlice()), proto, s.Addr.Port()
	}
	if p := s.Persistence; p.Timeout > 0 {
		if p.Bits < 0 || p.Bits > a.BitLen() || (a.Is6() && p.Bits == 0) {
			// The kernel refuses an IPv6 prefix of 0 (ip_vs_ctl.c); say
			// which value instead of its bare EINVAL.
			return nil, fmt.Errorf("persistence granularity /%d: %w", p.Bits, unix.EINVAL)
		}
		ms.Flags |= svcFlagPersistent
		ms.Timeout = p.Timeout
		ms.Netmask = netmaskAttr(a.Is4(), p.Bits)
	}
	return ms, nil
}

// netmaskAttr encodes a granularity the way the kernel reads
// IPVS_SVC_ATTR_NETMASK: for IPv4 a mask in network byte order (__be32),
// which moby/ipvs sends as a native-endian uint32, hence the byte juggling;
// for IPv6 the prefix length itself.
func netmaskAttr(v4 bool, bits int) uint32 {
	if !v4 {
		return uint32(bits)
	}
	var be [4]byte
	// A shift by 32 yields 0 in Go, so /0 is the empty mask.
	binary.BigEndian.PutUint32(be[:], ^uint32(0)<<(32-bits))
	return binary.NativeEndian.Uint32(be[:])
}

// netmaskBits is netmaskAttr's inverse; ok is false for a non-contiguous
// IPv4 mask (ipvsadm -M accepts one, lvsd cannot express it).
func netmaskBits(v4 bool, attr uint32) (int, bool) {
	if !v4 {
		return int(attr), attr <= 128
	}
	var be [4]byte
	binary.NativeEndian.PutUint32(be[:], attr)
	m := binary.BigEndian.Uint32(be[:])
	ones := bits.LeadingZeros32(^m)
	return ones, m<<ones == 0
}

var methodFlags = map[string]uint32{
	NAT:   mipvs.ConnectionFlagMasq,
	DR:    mipvs.ConnectionFlagDirectRoute,
	TUN:   mipvs.ConnectionFlagTunnel,
	Local: mipvs.ConnectionFlagLocalNode,
}

func toMobyDest(d Dest) (*mipvs.Destination, error) {
	flags, ok := methodFlags[d.Method]
	if !ok {
		return nil, fmt.Errorf("forwarding method %q: %w", d.Method, unix.EINVAL)
	}
	a := d.Addr.Addr().Unmap()
	if !a.IsValid() {
		return nil, fmt.Errorf("dest address %v: %w", d.Addr, unix.EINVAL)
	}
	if d.Weight < 0 || d.Weight > 0xffff {
		// moby/ipvs reads weights back as 16 bits; refuse what would not
		// round-trip instead of diffing forever.
		return nil, fmt.Errorf("weight %d: %w", d.Weight, unix.ERANGE)
	}
	af, _ := family(a)
	return &mipvs.Destination{
		Address:         net.IP(a.AsSlice()),
		Port:            d.Addr.Port(),
		Weight:          d.Weight,
		ConnectionFlags: flags,
		AddressFamily:   af,
		UpperThreshold:  d.UThreshold,
		LowerThreshold:  d.LThreshold,
	}, nil
}

// fromMobyService converts a dumped service; ok is false for services lvsd
// cannot express (unknown protocol or family).
func fromMobyService(ms *mipvs.Service) (Service, bool) {
	if ms.FWMark != 0 {
		var v6 bool
		switch ms.AddressFamily {
		case unix.AF_INET:
		case unix.AF_INET6:
			v6 = true
		default:
			return Service{}, false
		}
		svc := Service{Key: FWMarkKey(ms.FWMark, v6), Sched: ms.SchedName}
		fromMobyOptions(ms, &svc)
		return svc, true
	}
	var proto string
	for name, num := range protoNumbers {
		if num == ms.Protocol {
			proto = name
		}
	}
	a, ok := netip.AddrFromSlice(ms.Address)
	if proto == "" || !ok {
		return Service{}, false
	}
	svc := Service{
		Key:   Key{Protocol: proto, Addr: netip.AddrPortFrom(a.Unmap(), ms.Port)},
		Sched: ms.SchedName,
	}
	fromMobyOptions(ms, &svc)
	return svc, true
}

// fromMobyOptions reads flags and persistence into svc, whose key is set.
func fromMobyOptions(ms *mipvs.Service, svc *Service) {
	svc.Flags = Flags(ms.Flags) & FlagsMask
	if ms.Flags&svcFlagPersistent != 0 {
		// A mask lvsd cannot express reads as -1 bits: never equal to a
		// desired value, so the service is updated to the config's.
		b, ok := netmaskBits(svc.Addr.Addr().Is4(), ms.Netmask)
		if !ok {
			b = -1
		}
		svc.Persistence = Persistence{Timeout: ms.Timeout, Bits: b}
	}
}

func fromMobyDest(md *mipvs.Destination) (Dest, error) {
	a, ok := netip.AddrFromSlice(md.Address)
	if !ok {
		return Dest{}, fmt.Errorf("dest address %v: %w", md.Address, unix.EINVAL)
	}
	method := ""
	for name, f := range methodFlags {
		if f == md.ConnectionFlags&mipvs.ConnectionFlagFwdMask {
			method = name
		}
	}
	if method == "" {
		method = fmt.Sprintf("fwd(%d)", md.ConnectionFlags&mipvs.ConnectionFlagFwdMask)
	}
	return Dest{
		Addr: netip.AddrPortFrom(a.Unmap(), md.Port), Weight: md.Weight, Method: method,
		UThreshold: md.UpperThreshold, LThreshold: md.LowerThreshold,
		ActiveConns: md.ActiveConnections, InactConns: md.InactiveConnections,
	}, nil
}
