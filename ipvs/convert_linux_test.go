package ipvs

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"reflect"
	"testing"

	mipvs "github.com/moby/ipvs"
	"golang.org/x/sys/unix"
)

func TestToMoby(t *testing.T) {
	ms, err := toMobyService(svc(vip1, "rr"))
	if err != nil {
		t.Fatal(err)
	}
	want := &mipvs.Service{
		Address: net.IP{198, 51, 100, 30}, Protocol: unix.IPPROTO_TCP, Port: 3306,
		SchedName: "rr", Netmask: 0xffffffff, AddressFamily: unix.AF_INET,
	}
	if !reflect.DeepEqual(ms, want) {
		t.Errorf("service %+v, want %+v", ms, want)
	}
	md, err := toMobyDest(dr("198.51.100.10:3306", 1))
	if err != nil {
		t.Fatal(err)
	}
	wantD := &mipvs.Destination{
		Address: net.IP{198, 51, 100, 10}, Port: 3306, Weight: 1,
		ConnectionFlags: mipvs.ConnectionFlagDirectRoute, AddressFamily: unix.AF_INET,
	}
	if !reflect.DeepEqual(md, wantD) {
		t.Errorf("dest %+v, want %+v", md, wantD)
	}
}

func TestMobyRoundTrip(t *testing.T) {
	services := []Service{
		svc(vip1, "rr"),
		svc(Key{Protocol: UDP, Addr: ap("198.51.100.30:53")}, "sh"),
		svc(Key{Protocol: SCTP, Addr: ap("203.0.113.1:5060")}, "wlc"),
		svc(Key{Protocol: TCP, Addr: ap("[2001:db8::30]:3306")}, "mh"),
		{Key: tcp("198.51.100.30:80"), Sched: "sh", Flags: FlagSched1 | FlagSched2},
		{Key: Key{Protocol: UDP, Addr: ap("198.51.100.30:53")}, Sched: "rr", Flags: FlagOnePacket, Persistence: Persistence{Timeout: 60, Bits: 24}},
		{Key: FWMarkKey(1, false), Sched: "wlc"},
		{Key: FWMarkKey(2, true), Sched: "mh", Flags: FlagSched2, Persistence: Persistence{Timeout: 300, Bits: 64}},
		// A v4-mapped address is the same service as the plain one.
	}
	for _, s := range services {
		ms, err := toMobyService(s)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := fromMobyService(ms)
		if !ok || !reflect.DeepEqual(got, s) {
			t.Errorf("%v: round trip gave %+v %v", s.Key, got, ok)
		}
	}
	mapped, err := toMobyService(svc(tcp("[::ffff:198.51.100.30]:3306"), "rr"))
	if err != nil || mapped.AddressFamily != unix.AF_INET || len(mapped.Address) != 4 {
		t.Errorf("v4-mapped service %+v %v", mapped, err)
	}
	for _, d := range []Dest{
		dr("198.51.100.10:3306", 1),
		nat("198.51.100.11:3306", 0),
		{Addr: ap("198.51.100.12:3306"), Weight: 65535, Method: TUN},
		{Addr: ap("[2001:db8::10]:3306"), Weight: 2, Method: DR},
		{Addr: ap("198.51.100.13:3306"), Weight: 1, Method: NAT, UThreshold: 100, LThreshold: 50},
	} {
		md, err := toMobyDest(d)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fromMobyDest(md)
		if err != nil || got != d {
			t.Errorf("%v: round trip gave %+v %v", d, got, err)
		}
	}
}

func TestFromMobyDumpShapes(t *testing.T) {
	// The kernel dump gives IPv4 addresses as 4 bytes (moby cuts them by
	// family); fwmark services have no address: their key is the mark and
	// the unspecified address of their family.
	for _, tc := range []struct {
		ms   mipvs.Service
		want Service
	}{
		{mipvs.Service{FWMark: 7, AddressFamily: unix.AF_INET, SchedName: "rr"}, Service{Key: FWMarkKey(7, false), Sched: "rr"}},
		{mipvs.Service{FWMark: 8, AddressFamily: unix.AF_INET6, SchedName: "sh", Flags: 0x2 | 0x8 | 0x10}, Service{Key: FWMarkKey(8, true), Sched: "sh", Flags: FlagSched1 | FlagSched2}},
	} {
		got, ok := fromMobyService(&tc.ms)
		if !ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("fwmark %+v: got %+v %v, want %+v", tc.ms, got, ok, tc.want)
		}
	}
	if _, ok := fromMobyService(&mipvs.Service{FWMark: 7, AddressFamily: 99}); ok {
		t.Error("fwmark service of an unknown family not skipped")
	}
	if _, ok := fromMobyService(&mipvs.Service{Protocol: 99, Address: net.IP{198, 51, 100, 1}, AddressFamily: unix.AF_INET}); ok {
		t.Error("unknown protocol not skipped")
	}
	d, err := fromMobyDest(&mipvs.Destination{Address: net.IP{198, 51, 100, 10}, Port: 80, Weight: 1, ConnectionFlags: 1})
	if err != nil || d.Method != Local {
		t.Errorf("local dest %+v %v", d, err)
	}
	d, err = fromMobyDest(&mipvs.Destination{Address: net.IP{198, 51, 100, 10}, Port: 80, ConnectionFlags: 0x0107})
	if err != nil || d.Method != "fwd(7)" {
		t.Errorf("odd dest %+v %v", d, err)
	}
}

func TestToMobyErrors(t *testing.T) {
	if _, err := toMobyService(Service{Key: Key{Protocol: "ICMP", Addr: vip1.Addr}}); !errors.Is(err, unix.EPROTONOSUPPORT) {
		t.Errorf("protocol: %v", err)
	}
	if _, err := toMobyService(Service{Key: Key{Protocol: TCP}}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("address: %v", err)
	}
	if _, err := toMobyDest(Dest{Addr: ap("198.51.100.10:1"), Method: "FOO"}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("method: %v", err)
	}
	if _, err := toMobyDest(Dest{Addr: ap("198.51.100.10:1"), Method: DR, Weight: -1}); !errors.Is(err, unix.ERANGE) {
		t.Errorf("weight: %v", err)
	}
}

// On a kernel without IPVS (like the build host), NewKernel must fail
// rather than hand out a handle whose requests the kernel silently acks.
// It runs only where IPVS is neither loaded nor loadable, since NewKernel
// runs modprobe and a unit test must not load modules.
func TestNewKernelWithoutIPVS(t *testing.T) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Skip(err)
	}
	release := unix.ByteSliceToString(u.Release[:])
	for _, p := range []string{"/proc/net/ip_vs", "/lib/modules/" + release + "/kernel/net/netfilter/ipvs"} {
		if _, err := os.Stat(p); err == nil {
			t.Skip("IPVS available here:", p)
		}
	}
	n, err := NewKernel()
	if err == nil {
		n.Close()
		t.Fatal("NewKernel succeeded without IPVS")
	}
	if !errors.Is(err, unix.ENOENT) {
		t.Errorf("err %v, want ENOENT (no such generic netlink family)", err)
	}
}

// Persistence goes out as IP_VS_SVC_F_PERSISTENT, the timeout in seconds
// and the netmask in the kernel's encoding (IPv4: network byte order, as
// ipvsadm sends it; IPv6: a prefix length), and comes back unchanged.
func TestMobyPersistence(t *testing.T) {
	ms, err := toMobyService(persistent(svc(vip1, "rr"), 300, 24))
	if err != nil {
		t.Fatal(err)
	}
	var wire [4]byte
	binary.NativeEndian.PutUint32(wire[:], ms.Netmask)
	if ms.Flags != svcFlagPersistent || ms.Timeout != 300 || wire != [4]byte{255, 255, 255, 0} {
		t.Errorf("flags %#x timeout %d netmask on the wire %v", ms.Flags, ms.Timeout, wire)
	}
	for _, s := range []Service{
		persistent(svc(vip1, "rr"), 300, 24),
		persistent(svc(vip1, "rr"), 1, 32),
		persistent(svc(vip1, "rr"), 2147483, 0),
		persistent(svc(Key{Protocol: TCP, Addr: ap("[2001:db8::30]:80")}, "rr"), 60, 64),
	} {
		ms, err := toMobyService(s)
		if err != nil {
			t.Fatal(err)
		}
		// The kernel adds IP_VS_SVC_F_HASHED to every dumped service.
		ms.Flags |= 0x0002
		if got, ok := fromMobyService(ms); !ok || !reflect.DeepEqual(got, s) {
			t.Errorf("%v: round trip gave %+v", s.Persistence, got)
		}
	}
	// A non-persistent service reads back without persistence whatever
	// timeout and netmask the kernel kept.
	if got, _ := fromMobyService(&mipvs.Service{Address: net.IP{198, 51, 100, 30}, Protocol: unix.IPPROTO_TCP, Port: 3306,
		SchedName: "rr", Flags: 0x0002, Timeout: 300, Netmask: 0x00ffffff, AddressFamily: unix.AF_INET}); got.Persistence != (Persistence{}) {
		t.Errorf("non-persistent read as %+v", got.Persistence)
	}
	// A non-contiguous mask (ipvsadm -M 255.0.255.0) cannot equal any
	// configured granularity, so it is read as one that never matches.
	if got, _ := fromMobyService(&mipvs.Service{Address: net.IP{198, 51, 100, 30}, Protocol: unix.IPPROTO_TCP, Port: 3306,
		SchedName: "rr", Flags: svcFlagPersistent, Timeout: 300, Netmask: binary.NativeEndian.Uint32([]byte{255, 0, 255, 0}), AddressFamily: unix.AF_INET}); got.Persistence.Bits != -1 {
		t.Errorf("non-contiguous mask read as %+v", got.Persistence)
	}
	for _, bad := range []Service{
		persistent(svc(vip1, "rr"), 300, 33),
		persistent(svc(Key{Protocol: TCP, Addr: ap("[2001:db8::30]:80")}, "rr"), 60, 0),
	} {
		if _, err := toMobyService(bad); !errors.Is(err, unix.EINVAL) {
			t.Errorf("%+v: %v, want EINVAL", bad.Persistence, err)
		}
	}
}
