package vrrp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/lvsd/lvsd/conf"
	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// openSystem opens the raw socket, the netlink handle and the ARP socket
// for cfg's interface.
func openSystem(cfg conf.VRRPInstance) (*system, error) {
	link, err := netlink.LinkByName(cfg.Interface)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", cfg.Interface, err)
	}
	ifi, err := net.InterfaceByIndex(link.Attrs().Index)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", cfg.Interface, err)
	}
	var (
		conn Conn
		ann  garper
	)
	if IsIPv6(cfg) {
		conn, ann, err = openIPv6(ifi, link, !cfg.V3ChecksumAsV2)
		if err != nil {
			return nil, err
		}
	} else {
		local := cfg.UnicastSrcIP
		if !local.IsValid() {
			var installed []netip.Prefix
			for _, a := range cfg.InstallAddrs() {
				installed = append(installed, a.Prefix)
			}
			if local, err = primaryIPv4(link, installed); err != nil {
				return nil, err
			}
		}
		rc, err := openRawConn(ifi, local, cfg.UnicastPeers, cfg.Version == Version3 && !cfg.V3ChecksumAsV2)
		if err != nil {
			return nil, err
		}
		a, err := openAnnouncer(ifi)
		if err != nil {
			rc.Close()
			return nil, err
		}
		conn, ann = rc, a
	}
	// A handle of its own: its socket lives in the network namespace
	// current now, whatever thread later changes VIPs.
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		conn.Close()
		ann.Close()
		return nil, fmt.Errorf("netlink: %w", err)
	}
	arp := &announcers{ifname: ifi.Name, v6: IsIPv6(cfg), def: ann, more: map[annKey]garper{}}
	return &system{conn: conn, vips: &netlinkVIPs{h: h, link: link}, arp: arp}, nil
}

// garper announces addresses of one family on one interface: the
// gratuitous ARP and neighbour advertisement senders below.
type garper interface {
	GARP(ip netip.Addr) error
	Close() error
}

// announcers is the instance's Announcer: its own interface and family go
// through the sender opened with the instance (def); an address on another
// interface (virtual_ipaddress "dev") or of the other family
// (virtual_ipaddress_excluded) gets a sender for that interface and family
// at its first announcement, kept until Close. Only the instance's
// goroutine uses it.
type announcers struct {
	ifname string
	v6     bool // def's family
	def    garper
	more   map[annKey]garper
}

type annKey struct {
	dev string
	v6  bool
}

func (a *announcers) GARP(dev string, ip netip.Addr) error {
	if dev == "" {
		dev = a.ifname
	}
	k := annKey{dev, ip.Is6()}
	if k == (annKey{a.ifname, a.v6}) {
		return a.def.GARP(ip)
	}
	g := a.more[k]
	if g == nil {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return fmt.Errorf("announce %v: interface %s: %w", ip, dev, err)
		}
		if k.v6 {
			g, err = openNDPAnnouncer(ifi)
		} else {
			g, err = openAnnouncer(ifi)
		}
		if err != nil {
			return err
		}
		a.more[k] = g
	}
	return g.GARP(ip)
}

func (a *announcers) Close() error {
	err := a.def.Close()
	for _, g := range a.more {
		if e := g.Close(); err == nil {
			err = e
		}
	}
	return err
}

// primaryIPv4 returns the interface's first primary IPv4 address that is not
// one of our VIPs (a VIP left over by a crashed run must not become our
// source address). It is read once, when Run starts.
func primaryIPv4(link netlink.Link, vips []netip.Prefix) (netip.Addr, error) {
	addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("list addresses of %s: %w", link.Attrs().Name, err)
	}
	isVIP := func(a netip.Addr) bool {
		for _, p := range vips {
			if p.Addr() == a {
				return true
			}
		}
		return false
	}
	for _, a := range addrs {
		if a.Flags&unix.IFA_F_SECONDARY != 0 {
			continue
		}
		ip, ok := netip.AddrFromSlice(a.IP.To4())
		if !ok || isVIP(ip) {
			continue
		}
		return ip, nil
	}
	return netip.Addr{}, fmt.Errorf("interface %s has no primary IPv4 address", link.Attrs().Name)
}

// rawConn is Conn over a raw IPv4 socket for protocol 112. It writes its
// own IP header (IP_HDRINCL, via ipv4.RawConn) so TTL, TOS and source are
// exactly RFC 3768 §5.2's whatever the routing table says.
type rawConn struct {
	c     *ipv4.RawConn
	local netip.Addr
	peers []netip.Addr // unicast mode when non-empty
	// pseudo: VRRPv3 checksum over the IP pseudo-header, finished here
	// per destination (RFC 5798 §5.2.8).
	pseudo bool
	buf    []byte
	// id is the IP identification of the last advert. Like keepalived
	// (vrrp_build_ip4) we number adverts 1, 2, 3, ... per instance instead
	// of letting the kernel choose: peers ignore the field (adverts are
	// never fragmented), and with it our packets match keepalived's byte
	// for byte. Only the FSM goroutine writes.
	id uint16
}

// listenBound opens a raw IP socket (network "ip4:112" or "ip6:112") bound
// to the device ifName: only this interface's adverts are read, and
// instances on two interfaces with the same VRID stay apart. what names the
// socket in errors.
func listenBound(network, laddr, ifName, what string) (net.PacketConn, error) {
	pc, err := net.ListenPacket(network, laddr)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", what, err)
	}
	sc, err := pc.(*net.IPConn).SyscallConn()
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var serr error
	if err := sc.Control(func(fd uintptr) { serr = unix.BindToDevice(int(fd), ifName) }); err != nil {
		pc.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if serr != nil {
		pc.Close()
		return nil, fmt.Errorf("bind %s to %s: %w", what, ifName, serr)
	}
	return pc, nil
}

// openRawConn opens the VRRP socket. In unicast mode (peers given) it joins
// no multicast group: adverts arrive addressed to one of our addresses.
func openRawConn(ifi *net.Interface, local netip.Addr, peers []netip.Addr, pseudo bool) (*rawConn, error) {
	pc, err := listenBound("ip4:112", "0.0.0.0", ifi.Name, "VRRP socket")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			pc.Close()
		}
	}()
	rc, err := ipv4.NewRawConn(pc)
	if err != nil {
		return nil, fmt.Errorf("VRRP socket: %w", err)
	}
	if err := rc.SetMulticastInterface(ifi); err != nil {
		return nil, fmt.Errorf("VRRP socket: set multicast interface %s: %w", ifi.Name, err)
	}
	// Our own adverts must not come back to us as if from a peer.
	if err := rc.SetMulticastLoopback(false); err != nil {
		return nil, fmt.Errorf("VRRP socket: multicast loop off: %w", err)
	}
	if len(peers) == 0 {
		if err := rc.JoinGroup(ifi, &net.IPAddr{IP: net.IP(Group.AsSlice())}); err != nil {
			return nil, fmt.Errorf("VRRP socket: join %v on %s: %w", Group, ifi.Name, err)
		}
	}
	ok = true
	return &rawConn{c: rc, local: local, peers: peers, pseudo: pseudo, buf: make([]byte, 65536)}, nil
}

func (c *rawConn) ReadAdvert(b []byte) (int, int, netip.Addr, netip.Addr, error) {
	for {
		h, p, _, err := c.c.ReadFrom(c.buf)
		if err != nil {
			return 0, 0, netip.Addr{}, netip.Addr{}, fmt.Errorf("read VRRP socket: %w", err)
		}
		if h == nil || h.Protocol != Protocol {
			continue
		}
		src, ok := netip.AddrFromSlice(h.Src.To4())
		if !ok {
			continue
		}
		dst, _ := netip.AddrFromSlice(h.Dst.To4())
		return copy(b, p), h.TTL, src, dst, nil
	}
}

// WriteAdvert sends b to the group, or in unicast mode to every peer (one
// failing peer does not stop the others; the first error is returned). For
// VRRPv3 it rewrites b's checksum for each destination.
func (c *rawConn) WriteAdvert(b []byte) error {
	c.id++
	if c.id == 0 {
		c.id = 1 // 0 would let the kernel pick one
	}
	if len(c.peers) == 0 {
		return c.writeTo(b, Group)
	}
	var first error
	for _, p := range c.peers {
		if err := c.writeTo(b, p); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (c *rawConn) writeTo(b []byte, dst netip.Addr) error {
	if c.pseudo {
		SetChecksumV3(b, c.local, dst)
	}
	h := &ipv4.Header{
		Version:  ipv4.Version,
		Len:      ipv4.HeaderLen,
		TOS:      TOS,
		TotalLen: ipv4.HeaderLen + len(b),
		TTL:      TTL,
		Protocol: Protocol,
		Src:      net.IP(c.local.AsSlice()),
		Dst:      net.IP(dst.AsSlice()),
		ID:       int(c.id),
		// The header checksum is filled in by the kernel.
	}
	if err := c.c.WriteTo(h, b, nil); err != nil {
		return fmt.Errorf("send VRRP advert to %v: %w", dst, err)
	}
	return nil
}

func (c *rawConn) LocalAddr() netip.Addr { return c.local }

func (c *rawConn) Close() error { return c.c.Close() }

// netlinkVIPs is VIPs over rtnetlink.
type netlinkVIPs struct {
	h    *netlink.Handle
	link netlink.Link
}

// linkOf is the instance's link for dev "" (or its name), else dev looked
// up now: an interface re-created since the last transition is found
// under its new index.
func (v *netlinkVIPs) linkOf(dev string) (netlink.Link, error) {
	if dev == "" || dev == v.link.Attrs().Name {
		return v.link, nil
	}
	l, err := v.h.LinkByName(dev)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", dev, err)
	}
	return l, nil
}

func (v *netlinkVIPs) AddVIP(a conf.VIPAddr) error {
	link, err := v.linkOf(a.Dev)
	if err != nil {
		return fmt.Errorf("add %v: %w", a.Prefix, err)
	}
	if err := v.h.AddrAdd(link, vipAddr(a)); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add %v to %s: %w", a.Prefix, link.Attrs().Name, err)
	}
	return nil
}

func (v *netlinkVIPs) RemoveVIP(a conf.VIPAddr) error {
	link, err := v.linkOf(a.Dev)
	if err != nil {
		if errors.As(err, new(netlink.LinkNotFoundError)) {
			return nil // gone with its interface
		}
		return fmt.Errorf("remove %v: %w", a.Prefix, err)
	}
	if err := v.h.AddrDel(link, vipAddr(a)); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove %v from %s: %w", a.Prefix, link.Attrs().Name, err)
	}
	return nil
}

func (v *netlinkVIPs) Close() error {
	v.h.Close()
	return nil
}

// vipAddr is the netlink form of a VIP, with its label. IPv6 VIPs are
// added with IFA_F_NODAD, as keepalived does: duplicate address detection
// would keep the address tentative (unusable as a source, not answered)
// for a second or more after a failover, and VRRP already guarantees one
// owner.
func vipAddr(v conf.VIPAddr) *netlink.Addr {
	p := v.Prefix
	a := &netlink.Addr{IPNet: &net.IPNet{
		IP:   net.IP(p.Addr().AsSlice()),
		Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen()),
	}, Label: v.Label}
	if p.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	return a
}

// arpAnnouncer is Announcer over an AF_PACKET socket. The socket is opened
// for protocol 0 so the kernel queues no received frames on it: we only
// send.
type arpAnnouncer struct {
	ifi *net.Interface
	c   *arp.Client
}

func openAnnouncer(ifi *net.Interface) (*arpAnnouncer, error) {
	pc, err := packet.Listen(ifi, packet.Raw, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("open ARP socket on %s: %w", ifi.Name, err)
	}
	c, err := arp.New(ifi, pc)
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("ARP client on %s: %w", ifi.Name, err)
	}
	return &arpAnnouncer{ifi: ifi, c: c}, nil
}

// GARP sends a gratuitous ARP request (RFC 5227 §3 "ARP Announcement":
// sender and target protocol address both the VIP), broadcast, like
// keepalived.
func (a *arpAnnouncer) GARP(ip netip.Addr) error {
	p, err := arp.NewPacket(arp.OperationRequest, a.ifi.HardwareAddr, ip, ethernet.Broadcast, ip)
	if err != nil {
		return fmt.Errorf("gratuitous ARP for %v: %w", ip, err)
	}
	if err := a.c.WriteTo(p, ethernet.Broadcast); err != nil {
		return fmt.Errorf("gratuitous ARP for %v on %s: %w", ip, a.ifi.Name, err)
	}
	return nil
}

func (a *arpAnnouncer) Close() error { return a.c.Close() }
