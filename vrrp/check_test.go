package vrrp

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

func testConfig() conf.VRRPInstance {
	return conf.VRRPInstance{
		Name: "vi1", State: conf.StateBackup, Interface: "veth0", VRID: 51, Priority: 100,
		AdvertInt: time.Second, Version: 2, AuthType: "PASS", AuthPass: "secret",
		VIPs:            []netip.Prefix{netip.MustParsePrefix("192.0.2.100/32")},
		GARPMasterDelay: 5 * time.Second, GARPMasterRepeat: 5, // conf.Load's defaults
	}
}

var peer = netip.MustParseAddr("192.0.2.2")

func TestCheckAdvert(t *testing.T) {
	mod := func(f func(a *Advert)) []byte {
		a := testAdvert()
		f(a)
		b, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := mod(func(*Advert) {})
	badSum := append([]byte(nil), good...)
	badSum[6] ^= 1
	// A packet failing several checks reports the first in keepalived's
	// order.
	ttlAndPass := mod(func(a *Advert) { a.AuthData[0] = 'x' })

	uni := testConfig()
	uni.UnicastPeers = []netip.Addr{netip.MustParseAddr("192.0.2.3"), peer}
	stranger := netip.MustParseAddr("192.0.2.9")

	noAuth := testConfig()
	noAuth.AuthType, noAuth.AuthPass = "", ""

	for _, tc := range []struct {
		name     string
		ttl      int
		src, dst netip.Addr
		b        []byte
		cfg      conf.VRRPInstance
		want     Reason
		mismatch bool
	}{
		{name: "good", b: good, want: ReasonNone},
		{name: "short", b: good[:MinLen-1], want: ReasonLength},
		{name: "count beyond packet", b: mod(func(a *Advert) {})[:MinLen], want: ReasonLength},
		{name: "ttl 254", ttl: 254, b: good, want: ReasonTTL},
		{name: "ttl before auth", ttl: 64, b: ttlAndPass, want: ReasonTTL},
		{name: "version 3", b: func() []byte { b := append([]byte(nil), good...); b[0] = 0x31; return b }(), want: ReasonVersion},
		{name: "other vrid", b: mod(func(a *Advert) { a.VRID = 52 }), want: ReasonVRID},
		{name: "auth type none", b: mod(func(a *Advert) { a.AuthType = AuthNone; a.AuthData = [8]byte{} }), want: ReasonAuthType},
		{name: "auth type AH", b: mod(func(a *Advert) { a.AuthType = 2 }), want: ReasonAuthType},
		{name: "wrong pass", b: ttlAndPass, want: ReasonAuthPass},
		{name: "pass prefix only", b: mod(func(a *Advert) { a.AuthData = [8]byte{'s', 'e', 'c', 'r', 'e', 't', 'x'} }), want: ReasonAuthPass},
		{name: "we have no auth", b: good, cfg: noAuth, want: ReasonAuthType},
		{name: "no auth both", b: mod(func(a *Advert) { a.AuthType = AuthNone }), cfg: noAuth, want: ReasonNone},
		{name: "advert int", b: mod(func(a *Advert) { a.AdvertInt = 2 }), want: ReasonAdvertInt},
		{name: "type 2", b: mod(func(a *Advert) { a.Type = 2 }), want: ReasonType},
		{name: "checksum", b: badSum, want: ReasonChecksum},
		{name: "multicast source", src: Group, b: good, want: ReasonSource},
		{name: "other addresses accepted", b: mod(func(a *Advert) { a.Addrs = []netip.Addr{netip.MustParseAddr("192.0.2.101")} }), want: ReasonNone, mismatch: true},
		{name: "no addresses accepted", b: mod(func(a *Advert) { a.Addrs = nil }), want: ReasonNone, mismatch: true},
		{name: "multicast mode, unicast destination", dst: ipLow, b: good, want: ReasonMode},
		{name: "unknown destination not held against", dst: netip.Addr{}, b: good, want: ReasonNone},

		// Unicast mode (unicast_peer set).
		{name: "unicast good", dst: ipLow, b: good, cfg: uni, want: ReasonNone},
		{name: "unicast ttl not checked (keepalived 2.2.7)", ttl: 64, dst: ipLow, b: good, cfg: uni, want: ReasonNone},
		{name: "unicast stranger", src: stranger, dst: ipLow, b: good, cfg: uni, want: ReasonUnicastPeer},
		{name: "unicast stranger before auth", src: stranger, dst: ipLow, b: ttlAndPass, cfg: uni, want: ReasonUnicastPeer},
		{name: "unicast peer wrong pass", dst: ipLow, b: ttlAndPass, cfg: uni, want: ReasonAuthPass},
		{name: "unicast mode, multicast destination", dst: Group, b: good, cfg: uni, want: ReasonMode},
		{name: "unicast checksum before mode", dst: Group, b: badSum, cfg: uni, want: ReasonChecksum},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ttl == 0 {
				tc.ttl = 255
			}
			if !tc.src.IsValid() {
				tc.src = peer
			}
			if tc.dst == (netip.Addr{}) && !strings.HasPrefix(tc.name, "unknown") {
				tc.dst = Group
			}
			if tc.cfg.VRID == 0 {
				tc.cfg = testConfig()
			}
			res := CheckAdvert(tc.ttl, tc.src, tc.dst, tc.b, tc.cfg)
			if res.Reason != tc.want || res.AddrMismatch != tc.mismatch {
				t.Fatalf("got %v mismatch=%v, want %v mismatch=%v", res.Reason, res.AddrMismatch, tc.want, tc.mismatch)
			}
			if tc.want == ReasonNone && res.Advert.VRID != 51 {
				t.Fatalf("advert not returned: %+v", res.Advert)
			}
		})
	}
}

func TestReasonNamesStable(t *testing.T) {
	want := map[Reason]string{
		ReasonLength: "length", ReasonTTL: "ttl", ReasonVersion: "version", ReasonVRID: "vrid",
		ReasonAuthType: "auth_type", ReasonAuthPass: "auth_pass", ReasonAdvertInt: "advert_int",
		ReasonType: "type", ReasonChecksum: "checksum", ReasonSource: "source", Reason(200): "unknown",
		ReasonUnicastPeer: "unicast_peer", ReasonMode: "mode",
	}
	for r, s := range want {
		if r.String() != s {
			t.Errorf("%d: got %q want %q", r, r.String(), s)
		}
	}
}

func TestCheckAdvertV3(t *testing.T) {
	cfg := testConfig()
	cfg.Version, cfg.AuthType, cfg.AuthPass, cfg.AdvertInt = 3, "", "", 100*time.Millisecond
	asV2 := cfg
	asV2.V3ChecksumAsV2 = true
	uni := cfg
	uni.UnicastPeers = []netip.Addr{peer}
	v3 := func(src, dst netip.Addr, mut func(*Advert)) []byte {
		a := &Advert{Version: 3, Type: 1, VRID: 51, Priority: 150, MaxAdvertInt: 10, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.100")}}
		if mut != nil {
			mut(a)
		}
		b, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if src.IsValid() {
			SetChecksumV3(b, src, dst)
		}
		return b
	}
	good := v3(peer, Group, nil)
	for _, tc := range []struct {
		name string
		dst  netip.Addr
		b    []byte
		cfg  conf.VRRPInstance
		want Reason
	}{
		{"good", Group, good, cfg, ReasonNone},
		{"other interval accepted (adopted)", Group, v3(peer, Group, func(a *Advert) { a.MaxAdvertInt = 100 }), cfg, ReasonNone},
		{"checksum for another source", Group, v3(ipLow, Group, nil), cfg, ReasonChecksum},
		{"message-only checksum", Group, v3(netip.Addr{}, Group, nil), cfg, ReasonChecksum},
		{"v3_checksum_as_v2", Group, v3(netip.Addr{}, Group, nil), asV2, ReasonNone},
		{"v3_checksum_as_v2 rejects pseudo", Group, good, asV2, ReasonChecksum},
		{"v2 advert to v3 instance", Group, specAdvert, cfg, ReasonVersion},
		{"truncated", Group, good[:7], cfg, ReasonLength},
		{"count beyond packet", Group, good[:8], cfg, ReasonLength},
		{"type 2", Group, v3(peer, Group, func(a *Advert) { a.Type = 2 }), cfg, ReasonType},
		{"unicast: checksum with our address", ipLow, v3(peer, ipLow, nil), uni, ReasonNone},
		{"unicast: multicast checksum", ipLow, good, uni, ReasonChecksum},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := CheckAdvert(255, peer, tc.dst, tc.b, tc.cfg)
			if res.Reason != tc.want {
				t.Fatalf("got %v, want %v", res.Reason, tc.want)
			}
		})
	}
}
