package vrrp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

func testConfig() conf.VRRPInstance {
	return conf.VRRPInstance{
		Name: "vi1", State: conf.StateBackup, Interface: "veth0", VRID: 51, Priority: 100,
		AdvertInt: time.Second, Version: 2, AuthType: "PASS", AuthPass: "secret",
		VIPs: []netip.Prefix{netip.MustParsePrefix("192.0.2.100/32")},
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

	noAuth := testConfig()
	noAuth.AuthType, noAuth.AuthPass = "", ""

	for _, tc := range []struct {
		name     string
		ttl      int
		src      netip.Addr
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ttl == 0 {
				tc.ttl = 255
			}
			if !tc.src.IsValid() {
				tc.src = peer
			}
			if tc.cfg.VRID == 0 {
				tc.cfg = testConfig()
			}
			res := CheckAdvert(tc.ttl, tc.src, tc.b, tc.cfg)
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
	}
	for r, s := range want {
		if r.String() != s {
			t.Errorf("%d: got %q want %q", r, r.String(), s)
		}
	}
}
