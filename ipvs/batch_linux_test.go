package ipvs

import (
	"bytes"
	"encoding/binary"
	"net"
	"syscall"
	"testing"

	mipvs "github.com/moby/ipvs"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// mobyService is the IPVS_CMD_ATTR_SERVICE attribute as moby/ipvs v1.1.0's
// fillService builds it with vishvananda/netlink's nl package: the
// reference the batched encoder must reproduce byte for byte.
func mobyService(s *mipvs.Service) []byte {
	a := nl.NewRtAttr(ipvsCmdAttrService, nil)
	a.AddRtAttr(ipvsSvcAttrAF, nl.Uint16Attr(s.AddressFamily))
	if s.FWMark != 0 {
		a.AddRtAttr(ipvsSvcAttrFWMark, nl.Uint32Attr(s.FWMark))
	} else {
		a.AddRtAttr(ipvsSvcAttrProtocol, nl.Uint16Attr(s.Protocol))
		ip := s.Address.To4()
		if ip == nil {
			ip = s.Address
		}
		a.AddRtAttr(ipvsSvcAttrAddr, ip)
		a.AddRtAttr(ipvsSvcAttrPort, binary.BigEndian.AppendUint16(nil, s.Port))
	}
	a.AddRtAttr(ipvsSvcAttrSchedName, nl.ZeroTerminated(s.SchedName))
	if s.PEName != "" {
		a.AddRtAttr(ipvsSvcAttrPEName, nl.ZeroTerminated(s.PEName))
	}
	flags := append(nl.Uint32Attr(s.Flags), nl.Uint32Attr(0xffffffff)...)
	a.AddRtAttr(ipvsSvcAttrFlags, flags)
	a.AddRtAttr(ipvsSvcAttrTimeout, nl.Uint32Attr(s.Timeout))
	a.AddRtAttr(ipvsSvcAttrNetmask, nl.Uint32Attr(s.Netmask))
	return a.Serialize()
}

// mobyDest is moby/ipvs's fillDestination, the same way.
func mobyDest(d *mipvs.Destination) []byte {
	a := nl.NewRtAttr(ipvsCmdAttrDest, nil)
	ip := d.Address.To4()
	if ip == nil {
		ip = d.Address
	}
	a.AddRtAttr(ipvsDestAttrAddr, ip)
	a.AddRtAttr(ipvsDestAttrPort, binary.BigEndian.AppendUint16(nil, d.Port))
	a.AddRtAttr(ipvsDestAttrFwdMethod, nl.Uint32Attr(d.ConnectionFlags&mipvs.ConnectionFlagFwdMask))
	a.AddRtAttr(ipvsDestAttrWeight, nl.Uint32Attr(uint32(d.Weight)))
	a.AddRtAttr(ipvsDestAttrUThreshold, nl.Uint32Attr(d.UpperThreshold))
	a.AddRtAttr(ipvsDestAttrLThreshold, nl.Uint32Attr(d.LowerThreshold))
	return a.Serialize()
}

func TestEncodeServiceLikeMoby(t *testing.T) {
	for _, svc := range []Service{
		{Key: Key{Protocol: TCP, Addr: ap("198.51.100.30:3306")}, Sched: "rr"},
		{Key: Key{Protocol: UDP, Addr: ap("203.0.113.1:53")}, Sched: "wlc", Persistence: Persistence{Timeout: 300, Bits: 24}},
		{Key: Key{Protocol: SCTP, Addr: ap("[2001:db8::1]:80")}, Sched: "sh", Persistence: Persistence{Timeout: 60, Bits: 64}},
		{Key: Key{Protocol: TCP, Addr: ap("192.0.2.1:1")}, Sched: "mh"}, // odd-length name: padding
	} {
		ms, err := toMobyService(svc)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := appendService(nil, ms), mobyService(ms); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got % x\nwant % x", svc.Key, got, want)
		}
	}
	// Shapes lvsd does not build yet but moby encodes: fwmark, a
	// persistence engine, flags.
	for _, ms := range []*mipvs.Service{
		{AddressFamily: unix.AF_INET, FWMark: 7, SchedName: "wrr", Netmask: 0xffffffff},
		{AddressFamily: unix.AF_INET6, Protocol: unix.IPPROTO_UDP, Address: net.ParseIP("2001:db8::2"), Port: 5060, SchedName: "rr", PEName: "sip", Flags: 3, Timeout: 10, Netmask: 128},
	} {
		if got, want := appendService(nil, ms), mobyService(ms); !bytes.Equal(got, want) {
			t.Errorf("%+v:\n got % x\nwant % x", ms, got, want)
		}
	}
}

func TestEncodeDestLikeMoby(t *testing.T) {
	for _, d := range []Dest{
		{Addr: ap("198.51.100.10:3306"), Weight: 1, Method: DR},
		{Addr: ap("198.51.100.11:8080"), Weight: 65535, Method: NAT},
		{Addr: ap("[2001:db8::10]:80"), Weight: 0, Method: TUN},
	} {
		md, err := toMobyDest(d)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := appendDest(nil, md), mobyDest(md); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got % x\nwant % x", d.Addr, got, want)
		}
	}
	md := &mipvs.Destination{Address: net.ParseIP("192.0.2.9"), Port: 1, Weight: 3, ConnectionFlags: mipvs.ConnectionFlagMasq, UpperThreshold: 100, LowerThreshold: 10}
	if got, want := appendDest(nil, md), mobyDest(md); !bytes.Equal(got, want) {
		t.Errorf("thresholds:\n got % x\nwant % x", got, want)
	}
}

// TestEncodeBatch checks the framing: every message parses back with its
// own sequence number, command and attributes, and only the one setAck
// names asks for an ack.
func TestEncodeBatch(t *testing.T) {
	s := Service{Key: Key{Protocol: TCP, Addr: ap("198.51.100.30:80")}, Sched: "wrr"}
	ops := []Op{
		{Kind: AddService, Service: s},
		{Kind: AddDest, Service: s, Dest: Dest{Addr: ap("198.51.100.10:80"), Weight: 1, Method: NAT}},
		{Kind: UpdateDest, Service: s, Dest: Dest{Addr: ap("198.51.100.10:80"), Weight: 2, Method: NAT}},
		{Kind: UpdateService, Service: s},
		{Kind: DeleteDest, Service: s, Dest: Dest{Addr: ap("198.51.100.10:80"), Method: NAT}},
		{Kind: DeleteService, Service: s},
	}
	cmds := []uint8{ipvsCmdNewService, ipvsCmdNewDest, ipvsCmdSetDest, ipvsCmdSetService, ipvsCmdDelDest, ipvsCmdDelService}
	var b []byte
	for i, o := range ops {
		var err error
		if b, err = appendOpMsg(b, 42, uint32(100+i), 7, o); err != nil {
			t.Fatal(err)
		}
	}
	setAck(b, len(ops)-1)
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(ops) {
		t.Fatalf("%d messages, want %d", len(msgs), len(ops))
	}
	ms, _ := toMobyService(s)
	for i, m := range msgs {
		h := m.Header
		wantFlags := uint16(unix.NLM_F_REQUEST)
		if i == len(ops)-1 {
			wantFlags |= unix.NLM_F_ACK
		}
		if h.Type != 42 || h.Seq != uint32(100+i) || h.Pid != 7 || h.Flags != wantFlags {
			t.Errorf("message %d header %+v", i, h)
		}
		if m.Data[0] != cmds[i] || m.Data[1] != ipvsGenlVersion {
			t.Errorf("message %d genl header % x, want cmd %d", i, m.Data[:4], cmds[i])
		}
		want := mobyService(ms)
		if ops[i].Kind.isDest() {
			md, _ := toMobyDest(ops[i].Dest)
			want = append(want, mobyDest(md)...)
		}
		if !bytes.Equal(m.Data[4:], want) {
			t.Errorf("message %d attributes differ from moby's", i)
		}
	}
	if _, err := appendOpMsg(nil, 42, 1, 7, Op{Kind: AddService, Service: Service{Key: Key{Protocol: "ICMP", Addr: ap("192.0.2.1:0")}}}); err == nil {
		t.Error("unknown protocol encoded")
	}
}
