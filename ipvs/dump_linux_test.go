package ipvs

import (
	"encoding/binary"
	"reflect"
	"testing"

	mipvs "github.com/moby/ipvs"
	"golang.org/x/sys/unix"
)

// dumpedService is a service as the kernel dumps it
// (ip_vs_genl_fill_service): the address always 16 bytes, statistics
// nested, and flags with their mask.
func dumpedService(af, proto uint16, addr []byte, port uint16, fwmark uint32, sched string, flags, timeout, netmask uint32) []byte {
	var b []byte
	b = appendU16Attr(b, ipvsSvcAttrAF, af)
	b = appendU16Attr(b, ipvsSvcAttrProtocol, proto)
	a16 := make([]byte, 16)
	copy(a16, addr)
	b = appendAttr(b, ipvsSvcAttrAddr, a16)
	b = appendAttr(b, ipvsSvcAttrPort, binary.BigEndian.AppendUint16(nil, port))
	b = appendU32Attr(b, ipvsSvcAttrFWMark, fwmark)
	b = appendAttr(b, ipvsSvcAttrSchedName, append([]byte(sched), 0))
	b = appendAttr(b, ipvsSvcAttrFlags, binary.NativeEndian.AppendUint32(binary.NativeEndian.AppendUint32(nil, flags), 0xffffffff))
	b = appendU32Attr(b, ipvsSvcAttrTimeout, timeout)
	b = appendU32Attr(b, ipvsSvcAttrNetmask, netmask)
	stats := len(b)
	b = appendAttrHdr(b, 10|0x8000) // IPVS_SVC_ATTR_STATS, NLA_F_NESTED
	b = appendU32Attr(b, 1, 42)
	return endNest(b, stats)
}

func dumpedDest(af uint16, addr []byte, port uint16, fwd, weight, uth, lth, active, inact uint32) []byte {
	var b []byte
	a16 := make([]byte, 16)
	copy(a16, addr)
	b = appendAttr(b, ipvsDestAttrAddr, a16)
	b = appendAttr(b, ipvsDestAttrPort, binary.BigEndian.AppendUint16(nil, port))
	b = appendU32Attr(b, ipvsDestAttrFwdMethod, fwd)
	b = appendU32Attr(b, ipvsDestAttrWeight, weight)
	b = appendU32Attr(b, ipvsDestAttrUThreshold, uth)
	b = appendU32Attr(b, ipvsDestAttrLThreshold, lth)
	b = appendU32Attr(b, ipvsDestAttrActiveConns, active)
	b = appendU32Attr(b, ipvsDestAttrInactConns, inact)
	if af != 0 {
		b = appendU16Attr(b, ipvsDestAttrAddrFamily, af)
	}
	return b
}

func TestDecodeDumped(t *testing.T) {
	v6 := ap("[2001:db8::1]:443").Addr().AsSlice()
	for _, c := range []struct {
		name string
		raw  []byte
		want Service
	}{
		{"tcp v4 persistent", dumpedService(unix.AF_INET, unix.IPPROTO_TCP, []byte{203, 0, 113, 5}, 80, 0, "wrr", svcFlagPersistent|2, 300, 0x00ffffff),
			Service{Key: tcp("203.0.113.5:80"), Sched: "wrr", Persistence: Persistence{Timeout: 300, Bits: 24}}},
		{"udp v6 ops", dumpedService(unix.AF_INET6, unix.IPPROTO_UDP, v6, 53, 0, "mh", uint32(FlagOnePacket|FlagSched2), 0, 128),
			Service{Key: Key{Protocol: UDP, Addr: ap("[2001:db8::1]:53")}, Sched: "mh", Flags: FlagOnePacket | FlagSched2}},
		{"fwmark", dumpedService(unix.AF_INET, 0, nil, 0, 9, "a-new-one", 0, 0, 0xffffffff),
			Service{Key: FWMarkKey(9, false), Sched: "a-new-one"}},
	} {
		var ms mipvs.Service
		decodeService(c.raw, &ms)
		got, ok := fromMobyService(&ms)
		if !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v %v, want %+v", c.name, got, ok, c.want)
		}
	}
	for _, c := range []struct {
		name string
		raw  []byte
		v4   bool
		want Dest
	}{
		{"v4", dumpedDest(unix.AF_INET, []byte{198, 51, 100, 1}, 80, mipvs.ConnectionFlagMasq, 65535, 10, 5, 3, 4), true,
			Dest{Addr: ap("198.51.100.1:80"), Weight: 65535, Method: NAT, UThreshold: 10, LThreshold: 5, ActiveConns: 3, InactConns: 4}},
		{"v6 in a v4 service (tunnel)", dumpedDest(unix.AF_INET6, v6, 0, mipvs.ConnectionFlagTunnel, 1, 0, 0, 0, 0), true,
			Dest{Addr: ap("[2001:db8::1]:0"), Weight: 1, Method: TUN}},
		{"no family attribute (kernel < 3.18)", dumpedDest(0, []byte{198, 51, 100, 2}, 1, mipvs.ConnectionFlagDirectRoute, 0, 0, 0, 0, 0), true,
			Dest{Addr: ap("198.51.100.2:1"), Method: DR}},
	} {
		var md mipvs.Destination
		decodeDest(c.raw, &md, c.v4)
		got, err := fromMobyDest(&md)
		if err != nil || got != c.want {
			t.Errorf("%s: got %+v %v, want %+v", c.name, got, err, c.want)
		}
	}
	if got := schedName([]byte("wrr\x00")); got != "wrr" {
		t.Errorf("schedName %q", got)
	}
}

// FuzzDecodeDumped: whatever the kernel (or a corrupted buffer) sends, the
// decoders neither panic nor read outside their input.
func FuzzDecodeDumped(f *testing.F) {
	f.Add(dumpedService(unix.AF_INET, unix.IPPROTO_TCP, []byte{203, 0, 113, 5}, 80, 0, "wrr", 0, 0, 0xffffffff))
	f.Add(dumpedDest(unix.AF_INET6, make([]byte, 16), 80, 0, 1, 0, 0, 0, 0))
	f.Add([]byte{5, 0, 3, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var ms mipvs.Service
		decodeService(b, &ms)
		_, _ = fromMobyService(&ms)
		var md mipvs.Destination
		decodeDest(b, &md, len(b)%2 == 0)
		_, _ = fromMobyDest(&md)
		n := 0
		eachAttr(b, func(typ uint16, v []byte) {
			if len(v) > len(b) {
				t.Fatalf("attribute of %d bytes in %d", len(v), len(b))
			}
			n++
		})
		if n > len(b)/4 {
			t.Fatalf("%d attributes in %d bytes", n, len(b))
		}
	})
}
