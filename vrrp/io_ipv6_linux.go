package vrrp

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/mdlayher/ndp"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/ipv6"
)

// openIPv6 opens the VRRPv3-over-IPv6 socket and the neighbour advertisement
// sender for ifi. pseudo selects the RFC 5798 §5.2.8 checksum (false is
// v3_checksum_as_v2).
func openIPv6(ifi *net.Interface, link netlink.Link, pseudo bool) (Conn, garper, error) {
	local, err := linkLocal(link)
	if err != nil {
		return nil, nil, err
	}
	conn, err := openRawConn6(ifi, local, pseudo)
	if err != nil {
		return nil, nil, err
	}
	ann, err := openNDPAnnouncer(ifi)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, ann, nil
}

// linkLocal returns the interface's IPv6 link-local address: the source of
// VRRPv3 adverts over IPv6 (RFC 5798 §5.1.2.1), as keepalived sends them. It
// is read once, when Run starts; a tentative address (DAD still running) is
// taken anyway: sends fail, and are logged, until DAD completes.
func linkLocal(link netlink.Link) (netip.Addr, error) {
	addrs, err := netlink.AddrList(link, netlink.FAMILY_V6)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("list addresses of %s: %w", link.Attrs().Name, err)
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if ok && ip.Is6() && ip.IsLinkLocalUnicast() {
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("interface %s has no IPv6 link-local address (is IPv6 disabled on it?)", link.Attrs().Name)
}

// rawConn6 is Conn over a raw IPv6 socket for protocol 112, multicast to
// ff02::12. IPv6 raw sockets never carry the IP header: hop limit, traffic
// class and source are socket options and control messages.
type rawConn6 struct {
	c      *ipv6.PacketConn
	ifi    *net.Interface
	local  netip.Addr
	pseudo bool
	buf    []byte
	wcm    *ipv6.ControlMessage
}

func openRawConn6(ifi *net.Interface, local netip.Addr, pseudo bool) (*rawConn6, error) {
	pc, err := listenBound("ip6:112", "::", ifi.Name, "VRRP IPv6 socket")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			pc.Close()
		}
	}()
	c := ipv6.NewPacketConn(pc)
	steps := []struct {
		what string
		f    func() error
	}{
		// RFC 5798 §5.1.2.3: hop limit 255, checked by the receiver.
		{"multicast hop limit 255", func() error { return c.SetMulticastHopLimit(TTL) }},
		{"hop limit 255", func() error { return c.SetHopLimit(TTL) }},
		// keepalived sends with traffic class 0xc0 (CS6) over IPv6 too.
		{"traffic class", func() error { return c.SetTrafficClass(TOS) }},
		{"multicast interface", func() error { return c.SetMulticastInterface(ifi) }},
		{"multicast loop off", func() error { return c.SetMulticastLoopback(false) }},
		{"control messages", func() error { return c.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst, true) }},
		{"join ff02::12", func() error {
			return c.JoinGroup(ifi, &net.IPAddr{IP: net.IP(GroupIPv6.AsSlice())})
		}},
	}
	for _, s := range steps {
		if err := s.f(); err != nil {
			return nil, fmt.Errorf("VRRP IPv6 socket on %s: %s: %w", ifi.Name, s.what, err)
		}
	}
	ok = true
	return &rawConn6{
		c: c, ifi: ifi, local: local, pseudo: pseudo, buf: make([]byte, 65536),
		// The source is pinned to the link-local address (IPV6_PKTINFO):
		// it is our identity for the equal-priority tie break, and must not
		// become a VIP the kernel might prefer.
		wcm: &ipv6.ControlMessage{Src: net.IP(local.AsSlice()), IfIndex: ifi.Index, HopLimit: TTL},
	}, nil
}

func (c *rawConn6) ReadAdvert(b []byte) (int, int, netip.Addr, netip.Addr, error) {
	for {
		n, cm, from, err := c.c.ReadFrom(c.buf)
		if err != nil {
			return 0, 0, netip.Addr{}, netip.Addr{}, fmt.Errorf("read VRRP IPv6 socket: %w", err)
		}
		ia, ok := from.(*net.IPAddr)
		if !ok {
			continue
		}
		src, ok := netip.AddrFromSlice(ia.IP)
		if !ok {
			continue
		}
		// No control message: hop limit unknown, which fails the check
		// (never accept what we cannot verify).
		ttl := -1
		var dst netip.Addr
		if cm != nil {
			ttl = cm.HopLimit
			dst, _ = netip.AddrFromSlice(cm.Dst)
		}
		return copy(b, c.buf[:n]), ttl, src.Unmap(), dst, nil
	}
}

// WriteAdvert sends b to ff02::12 from the link-local address, with the
// RFC 5798 §5.2.8 IPv6 pseudo-header checksum (unless v3_checksum_as_v2).
func (c *rawConn6) WriteAdvert(b []byte) error {
	if c.pseudo {
		SetChecksumV3(b, c.local, GroupIPv6)
	}
	dst := &net.IPAddr{IP: net.IP(GroupIPv6.AsSlice()), Zone: c.ifi.Name}
	if _, err := c.c.WriteTo(b, c.wcm, dst); err != nil {
		return fmt.Errorf("send VRRP advert to %v: %w", GroupIPv6, err)
	}
	return nil
}

func (c *rawConn6) LocalAddr() netip.Addr { return c.local }

func (c *rawConn6) Close() error { return c.c.Close() }

// allNodes is the destination of unsolicited neighbour advertisements
// (RFC 4861 §7.2.6).
var allNodes = netip.MustParseAddr("ff02::1")

// ndpAnnouncer is Announcer for IPv6 VIPs: unsolicited neighbour
// advertisements (RFC 4861 §7.2.6), the IPv6 counterpart of gratuitous ARP.
type ndpAnnouncer struct {
	ifi *net.Interface
	c   *ndp.Conn
}

func openNDPAnnouncer(ifi *net.Interface) (*ndpAnnouncer, error) {
	c, _, err := ndp.Listen(ifi, ndp.Unspecified)
	if err != nil {
		return nil, fmt.Errorf("open NDP socket on %s: %w", ifi.Name, err)
	}
	// Send only: block every ICMPv6 type so nothing queues on the socket.
	var f ipv6.ICMPFilter
	f.SetAll(true)
	if err := c.SetICMPFilter(&f); err != nil {
		c.Close()
		return nil, fmt.Errorf("NDP socket on %s: ICMPv6 filter: %w", ifi.Name, err)
	}
	return &ndpAnnouncer{ifi: ifi, c: c}, nil
}

// GARP sends one unsolicited neighbour advertisement for ip to all nodes,
// as keepalived 2.2.7 does (ndisc.c): source address the VIP itself, hop
// limit 255, Override set so caches replace the old master's MAC, the
// target link-layer address option, and Router set only when IPv6
// forwarding is on for the interface.
func (a *ndpAnnouncer) GARP(ip netip.Addr) error {
	na := &ndp.NeighborAdvertisement{
		Router:        ipv6Forwarding(a.ifi.Name),
		Override:      true,
		TargetAddress: ip,
		Options: []ndp.Option{&ndp.LinkLayerAddress{
			Direction: ndp.Target,
			Addr:      a.ifi.HardwareAddr,
		}},
	}
	cm := &ipv6.ControlMessage{Src: net.IP(ip.AsSlice()), IfIndex: a.ifi.Index, HopLimit: 255}
	if err := a.c.WriteTo(na, cm, allNodes); err != nil {
		return fmt.Errorf("neighbour advertisement for %v on %s: %w", ip, a.ifi.Name, err)
	}
	return nil
}

func (a *ndpAnnouncer) Close() error { return a.c.Close() }

// ipv6Forwarding reports whether the interface forwards IPv6 (it is a
// router, so its advertisements carry the Router flag, RFC 4861 §4.4).
func ipv6Forwarding(ifname string) bool {
	b, err := os.ReadFile("/proc/sys/net/ipv6/conf/" + ifname + "/forwarding")
	if err != nil {
		return false
	}
	return strings.TrimSpace(string(b)) == "1"
}
