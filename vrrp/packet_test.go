package vrrp

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

// specAdvert is a VRRPv2 advert built by hand from RFC 3768 §5.1: VRID 51,
// priority 100, one address 192.0.2.100, PASS "secret", interval 1 s.
var specAdvert = mustHex("2133640101010000c00002647365637265740000")

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	// Fill in the checksum so the seed is valid whatever the bytes above.
	b[6], b[7] = 0, 0
	sum := Checksum(b)
	b[6], b[7] = byte(sum>>8), byte(sum)
	return b
}

// capturedKeepalived is an advert captured with tcpdump from keepalived
// 2.2.7 (VRID 51, priority 150, PASS "secret", 1 s, 192.0.2.100), checksum
// as sent.
var capturedKeepalived = []byte{
	0x21, 0x33, 0x96, 0x01, 0x01, 0x01, 0x49, 0x19,
	0xc0, 0x00, 0x02, 0x64,
	's', 'e', 'c', 'r', 'e', 't', 0, 0,
}

func TestKeepalivedCapture(t *testing.T) {
	var a Advert
	if err := a.UnmarshalBinary(capturedKeepalived); err != nil {
		t.Fatal(err)
	}
	want := testAdvert()
	want.Priority = 150
	want.Checksum = 0x4919
	if !reflect.DeepEqual(&a, want) {
		t.Fatalf("got %+v\nwant %+v", a, want)
	}
	b, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b, capturedKeepalived) {
		t.Fatalf("re-encoded %x\nwant       %x", b, capturedKeepalived)
	}
	if r := CheckAdvert(255, peer, Group, capturedKeepalived, testConfig()); r.Reason != ReasonNone || r.AddrMismatch {
		t.Fatalf("check: %+v", r)
	}
}

func testAdvert() *Advert {
	return &Advert{
		Version: 2, Type: 1, VRID: 51, Priority: 100, AuthType: AuthPass, AdvertInt: 1,
		Addrs:    []netip.Addr{netip.MustParseAddr("192.0.2.100")},
		AuthData: [8]byte{'s', 'e', 'c', 'r', 'e', 't'},
	}
}

func TestMarshalKnownBytes(t *testing.T) {
	b, err := testAdvert().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b, specAdvert) {
		t.Fatalf("got  %x\nwant %x", b, specAdvert)
	}
	// RFC 1071: summing a message with its checksum gives 0.
	if Checksum(b) != 0 {
		t.Fatalf("checksum does not verify")
	}
}

func TestRoundTrip(t *testing.T) {
	for _, a := range []*Advert{
		testAdvert(),
		{Version: 2, Type: 1, VRID: 1, Priority: 255, AdvertInt: 255},
		{Version: 2, Type: 1, VRID: 255, Priority: 0, AdvertInt: 3, Addrs: []netip.Addr{
			netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("192.0.2.9"),
		}},
	} {
		b, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got Advert
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		want := *a
		want.Checksum = got.Checksum
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
		}
	}
}

func TestUnmarshalErrors(t *testing.T) {
	good := append([]byte(nil), specAdvert...)
	badSum := append([]byte(nil), good...)
	badSum[7] ^= 0xff
	v4 := append([]byte(nil), good...)
	v4[0] = 0x41
	moreAddrs := append([]byte(nil), good...)
	moreAddrs[3] = 2
	trailing := append(append([]byte(nil), good...), 0xde, 0xad)
	for _, tc := range []struct {
		name  string
		b     []byte
		field string
		err   error
	}{
		{"empty", nil, "length", ErrTooShort},
		{"truncated", good[:15], "length", ErrTooShort},
		{"count says more", moreAddrs, "length", ErrLength},
		{"version 4", v4, "version", ErrVersion},
		{"v3 header truncated", []byte{0x31, 51, 100, 0, 0, 100, 0}, "length", ErrTooShort},
		{"v3 count says more", func() []byte { b := v3Advert(t); b[3] = 2; return b }(), "length", ErrLength},
		{"v3 checksum not verified without IP header", func() []byte { b := v3Advert(t); b[7] ^= 0xff; return b }(), "", nil},
		{"bad checksum", badSum, "checksum", ErrChecksum},
		{"trailing bytes ignored", trailing, "", nil},
		{"good", good, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Advert
			err := a.UnmarshalBinary(tc.b)
			if tc.err == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want field %q error %v", err, tc.field, tc.err)
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	for name, a := range map[string]*Advert{
		"version":     {Version: 4, Type: 1},
		"v3 interval": {Version: 3, Type: 1, MaxAdvertInt: 4096},
		"type":        {Version: 2, Type: 16},
		"ipv6":        {Version: 2, Type: 1, Addrs: []netip.Addr{netip.MustParseAddr("2001:db8::1")}},
		"count":       {Version: 2, Type: 1, Addrs: make([]netip.Addr, 256)},
	} {
		if _, err := a.MarshalBinary(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// v3Advert is a VRRPv3 advert: VRID 51, priority 100, 100 ms (10 cs),
// 192.0.2.100, checksum over the message only.
func v3Advert(t testing.TB) []byte {
	a := &Advert{Version: 3, Type: 1, VRID: 51, Priority: 100, MaxAdvertInt: 10, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.100")}}
	b, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestV3Layout(t *testing.T) {
	b := v3Advert(t)
	// RFC 5798 §5.1: no auth data; 4 reserved bits then 12 bits of
	// centiseconds.
	want := []byte{0x31, 51, 100, 1, 0x00, 0x0a, b[6], b[7], 192, 0, 2, 100}
	if !reflect.DeepEqual(b, want) {
		t.Fatalf("got %x want %x", b, want)
	}
	var a Advert
	if err := a.UnmarshalBinary(b); err != nil || a.Version != 3 || a.MaxAdvertInt != 10 || a.AuthType != 0 || len(a.Addrs) != 1 {
		t.Fatalf("%v %+v", err, a)
	}
	// Reserved bits are ignored on receive.
	b[4] |= 0xf0
	if err := a.UnmarshalBinary(b); err != nil || a.MaxAdvertInt != 10 {
		t.Fatalf("reserved bits: %v %+v", err, a)
	}
}

func TestChecksumV3(t *testing.T) {
	src, dst := netip.MustParseAddr("192.0.2.1"), Group
	b := v3Advert(t)
	if VerifyChecksumV3(b, src, dst) {
		t.Fatal("message-only checksum passes as a pseudo-header checksum")
	}
	SetChecksumV3(b, src, dst)
	// Independently: the Internet checksum of pseudo-header + message
	// (checksum field included) is 0.
	pseudo := []byte{192, 0, 2, 1, 224, 0, 0, 18, 0, 112, 0, byte(len(b))}
	if Checksum(append(pseudo, b...)) != 0 {
		t.Fatalf("pseudo-header checksum wrong: %x", b)
	}
	if !VerifyChecksumV3(b, src, dst) {
		t.Fatal("VerifyChecksumV3 rejects a good checksum")
	}
	if VerifyChecksumV3(b, src, netip.MustParseAddr("192.0.2.2")) {
		t.Fatal("checksum does not depend on the destination")
	}
	// v2-style (v3_checksum_as_v2): the message alone sums to 0.
	if Checksum(v3Advert(t)) != 0 {
		t.Fatal("MarshalBinary v3 checksum is not over the message")
	}
}
