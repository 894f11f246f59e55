package vrrp

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// capturedKeepalivedIPv6 is a VRRPv3 advert over IPv6 captured with tcpdump
// from keepalived 2.2.7 (VRID 51, priority 100, advert_int 0.1,
// virtual_ipaddress 2001:db8::100/64), sent from kaLinkLocal to ff02::12.
// keepalived lists the configured addresses only: it does not put the
// link-local virtual address first as RFC 5798 §5.2.9 asks.
var capturedKeepalivedIPv6 = []byte{
	0x31, 0x33, 0x64, 0x01, 0x00, 0x0a, 0xda, 0xc7,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
}

var kaLinkLocal = netip.MustParseAddr("fe80::688e:ebff:fe6c:1027")

func v6Config() conf.VRRPInstance {
	return conf.VRRPInstance{
		Name: "V6", State: conf.StateBackup, Interface: "eth0", VRID: 51, Priority: 100,
		AdvertInt: 100 * time.Millisecond, Version: 3,
		VIPs: []netip.Prefix{netip.MustParsePrefix("2001:db8::100/64")},
	}
}

func TestKeepalivedCaptureIPv6(t *testing.T) {
	b := capturedKeepalivedIPv6
	if !VerifyChecksumV3(b, kaLinkLocal, GroupIPv6) {
		t.Fatal("keepalived's IPv6 pseudo-header checksum does not verify")
	}
	var a Advert
	if err := a.UnmarshalIPv6(b); err != nil {
		t.Fatal(err)
	}
	want := Advert{Version: 3, Type: 1, VRID: 51, Priority: 100, MaxAdvertInt: 10, Checksum: 0xdac7,
		Addrs: []netip.Addr{netip.MustParseAddr("2001:db8::100")}}
	if !reflect.DeepEqual(a, want) {
		t.Fatalf("got %+v\nwant %+v", a, want)
	}
	enc, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	SetChecksumV3(enc, kaLinkLocal, GroupIPv6)
	if !bytes.Equal(enc, b) {
		t.Fatalf("re-encoded %x\nwant       %x", enc, b)
	}
	if r := CheckAdvert(255, kaLinkLocal, GroupIPv6, b, v6Config()); r.Reason != ReasonNone || r.AddrMismatch {
		t.Fatalf("check: %+v", r)
	}
}

func TestIPv6Codec(t *testing.T) {
	a1, a2 := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8:0:1::ffff")
	for _, tc := range []struct {
		name string
		adv  Advert
		err  error // from MarshalBinary
		size int
	}{
		{"one", Advert{Version: 3, Type: 1, VRID: 1, Priority: 100, MaxAdvertInt: 2, Addrs: []netip.Addr{a1}}, nil, 24},
		{"two", Advert{Version: 3, Type: 1, VRID: 255, Priority: 255, MaxAdvertInt: MaxAdvertIntV3, Addrs: []netip.Addr{a1, a2}}, nil, 40},
		{"mixed v6 then v4", Advert{Version: 3, Type: 1, Addrs: []netip.Addr{a1, netip.MustParseAddr("192.0.2.1")}}, ErrFamily, 0},
		{"mixed v4 then v6", Advert{Version: 3, Type: 1, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1"), a1}}, ErrFamily, 0},
		{"v6 in v2", Advert{Version: 2, Type: 1, Addrs: []netip.Addr{a1}}, ErrFamily, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.adv.MarshalBinary()
			if !errors.Is(err, tc.err) {
				t.Fatalf("marshal: %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if len(b) != tc.size {
				t.Fatalf("%d bytes, want %d", len(b), tc.size)
			}
			SetChecksumV3(b, kaLinkLocal, GroupIPv6)
			if !VerifyChecksumV3(b, kaLinkLocal, GroupIPv6) || VerifyChecksumV3(b, netip.MustParseAddr("fe80::1"), GroupIPv6) {
				t.Fatal("pseudo-header checksum must verify for its source only")
			}
			var got Advert
			if err := got.UnmarshalIPv6(b); err != nil {
				t.Fatal(err)
			}
			got.Checksum = 0
			if !reflect.DeepEqual(got, tc.adv) {
				t.Fatalf("round trip\n got %+v\nwant %+v", got, tc.adv)
			}
		})
	}
	// Decoding errors.
	for _, tc := range []struct {
		name  string
		b     []byte
		field string
	}{
		{"v2 over IPv6", specAdvert, "version"},
		{"truncated address", capturedKeepalivedIPv6[:20], "length"},
		{"header only", capturedKeepalivedIPv6[:7], "length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Advert
			var fe *FieldError
			if err := a.UnmarshalIPv6(tc.b); !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("got %v, want field %s", err, tc.field)
			}
		})
	}
	// Mixed-family pseudo-header: no checksum is valid.
	if VerifyChecksumV3(capturedKeepalivedIPv6, netip.MustParseAddr("192.0.2.1"), GroupIPv6) {
		t.Fatal("IPv4 source with IPv6 destination verified")
	}
}

func TestCheckAdvertIPv6(t *testing.T) {
	cfg := v6Config()
	good := capturedKeepalivedIPv6
	v4 := testConfig()
	v4.Version, v4.AuthType, v4.AuthPass, v4.AdvertInt = 3, "", "", 100*time.Millisecond
	other := append([]byte(nil), good...)
	other[len(other)-1] = 0x99 // another address: accepted, flagged
	SetChecksumV3(other, kaLinkLocal, GroupIPv6)
	for _, tc := range []struct {
		name     string
		hop      int
		src, dst netip.Addr
		b        []byte
		cfg      conf.VRRPInstance
		want     Reason
		mismatch bool
	}{
		{"good", 255, kaLinkLocal, GroupIPv6, good, cfg, ReasonNone, false},
		{"hop limit 254", 254, kaLinkLocal, GroupIPv6, good, cfg, ReasonTTL, false},
		{"hop limit unknown", -1, kaLinkLocal, GroupIPv6, good, cfg, ReasonTTL, false},
		{"other source, checksum", 255, netip.MustParseAddr("fe80::1"), GroupIPv6, good, cfg, ReasonChecksum, false},
		{"IPv4 source", 255, peer, GroupIPv6, good, cfg, ReasonSource, false},
		{"multicast source", 255, GroupIPv6, GroupIPv6, good, cfg, ReasonSource, false},
		{"unicast destination", 255, kaLinkLocal, netip.MustParseAddr("2001:db8::2"), good, cfg, ReasonChecksum, false},
		{"truncated", 255, kaLinkLocal, GroupIPv6, good[:20], cfg, ReasonLength, false},
		{"v2 packet", 255, kaLinkLocal, GroupIPv6, specAdvert, cfg, ReasonVersion, false},
		{"other address list", 255, kaLinkLocal, GroupIPv6, other, cfg, ReasonNone, true},
		// An IPv4 instance reads 24 bytes as 4 addresses: wrong length
		// for count 1 is fine (extra bytes ignored), but the pseudo-header
		// of an IPv6 source does not apply.
		{"IPv6 advert to IPv4 instance", 255, kaLinkLocal, GroupIPv6, good, v4, ReasonSource, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := CheckAdvert(tc.hop, tc.src, tc.dst, tc.b, tc.cfg)
			if res.Reason != tc.want || res.AddrMismatch != tc.mismatch {
				t.Fatalf("got %v (mismatch %v), want %v (%v)", res.Reason, res.AddrMismatch, tc.want, tc.mismatch)
			}
		})
	}
}

func TestValidateFamily(t *testing.T) {
	ok := v6Config()
	v2 := ok
	v2.Version = 2
	mixed := ok
	mixed.VIPs = append([]netip.Prefix{netip.MustParsePrefix("192.0.2.1/32")}, ok.VIPs...)
	uni := ok
	uni.UnicastPeers = []netip.Addr{peer}
	for _, tc := range []struct {
		name string
		cfg  conf.VRRPInstance
		ok   bool
	}{
		{"v3 IPv6", ok, true},
		{"v2 IPv6", v2, false},
		{"mixed", mixed, false},
		{"unicast IPv6", uni, false},
	} {
		if _, err := New(tc.cfg, nil); (err == nil) != tc.ok {
			t.Errorf("%s: New: %v", tc.name, err)
		}
	}
}

// FuzzUnmarshalIPv6: decoding a v3 IPv6 message never panics, and anything
// decoded re-encodes to the same advert, with a pseudo-header checksum that
// verifies.
func FuzzUnmarshalIPv6(f *testing.F) {
	good := capturedKeepalivedIPv6
	f.Add(good)
	f.Add(good[:7])
	f.Add(good[:20])
	f.Add(append(append([]byte(nil), good...), make([]byte, 4200)...))
	bad := append([]byte(nil), good...)
	bad[6] ^= 0x55
	f.Add(bad)
	many := append([]byte(nil), good...)
	many[3] = 255
	f.Add(many)
	f.Add(specAdvert)
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Advert
		if err := a.UnmarshalIPv6(b); err != nil {
			return
		}
		enc, err := a.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded advert does not encode: %v (%+v)", err, a)
		}
		SetChecksumV3(enc, kaLinkLocal, GroupIPv6)
		if !VerifyChecksumV3(enc, kaLinkLocal, GroupIPv6) {
			t.Fatalf("pseudo-header checksum does not verify: %x", enc)
		}
		var again Advert
		if err := again.UnmarshalIPv6(enc); err != nil {
			t.Fatalf("re-encoded advert does not decode: %v", err)
		}
		a.Checksum, again.Checksum = 0, 0
		if !reflect.DeepEqual(a, again) {
			t.Fatalf("round trip differs:\n%+v\n%+v", a, again)
		}
		if len(b) >= len(enc) && !bytes.Equal(b[8:len(enc)], enc[8:]) {
			t.Fatalf("addresses re-encode differently")
		}
	})
}
