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
	if r := CheckAdvert(255, peer, capturedKeepalived, testConfig()); r.Reason != ReasonNone || r.AddrMismatch {
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
	v3 := append([]byte(nil), good...)
	v3[0] = 0x31
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
		{"version 3", v3, "version", ErrVersion},
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
		"version": {Version: 3, Type: 1},
		"type":    {Version: 2, Type: 16},
		"ipv6":    {Version: 2, Type: 1, Addrs: []netip.Addr{netip.MustParseAddr("2001:db8::1")}},
		"count":   {Version: 2, Type: 1, Addrs: make([]netip.Addr, 256)},
	} {
		if _, err := a.MarshalBinary(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
