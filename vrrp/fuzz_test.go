package vrrp

import (
	"net/netip"
	"reflect"
	"testing"
)

// FuzzUnmarshal checks that decoding never panics and that anything decoded
// re-encodes to bytes that decode to the same Advert.
func FuzzUnmarshal(f *testing.F) {
	good := append([]byte(nil), specAdvert...)
	f.Add(good)
	f.Add(capturedKeepalived)
	f.Add(good[:10])                                                   // truncated
	f.Add(append(append([]byte(nil), good...), make([]byte, 2000)...)) // oversize
	bad := append([]byte(nil), good...)
	bad[6] ^= 0x55 // bad checksum
	f.Add(bad)
	many := append([]byte(nil), good...)
	many[3] = 255 // count larger than the packet
	f.Add(many)
	f.Add([]byte{})

	f.Fuzz(roundTrip)
}

// roundTrip: anything decoded re-encodes to bytes that decode to the same
// Advert. A v3 checksum is not verified by UnmarshalBinary (it needs the IP
// header) and is recomputed by MarshalBinary, so it is left out of the
// comparison; the pseudo-header checksum must verify after SetChecksumV3.
func roundTrip(t *testing.T, b []byte) {
	var a Advert
	if err := a.UnmarshalBinary(b); err != nil {
		return
	}
	enc, err := a.MarshalBinary()
	if err != nil {
		t.Fatalf("decoded advert does not encode: %v (%+v)", err, a)
	}
	var again Advert
	if err := again.UnmarshalBinary(enc); err != nil {
		t.Fatalf("re-encoded advert does not decode: %v", err)
	}
	if a.Version == Version3 {
		a.Checksum, again.Checksum = 0, 0
		src, dst := netip.MustParseAddr("192.0.2.1"), Group
		SetChecksumV3(enc, src, dst)
		if !VerifyChecksumV3(enc, src, dst) {
			t.Fatalf("pseudo-header checksum does not verify: %x", enc)
		}
	}
	if !reflect.DeepEqual(a, again) {
		t.Fatalf("round trip differs:\n%+v\n%+v", a, again)
	}
}

// FuzzUnmarshalV3 is FuzzUnmarshal seeded with VRRPv3 adverts: good,
// truncated, oversize, bad checksum, reserved bits set, count beyond the
// packet, many addresses.
func FuzzUnmarshalV3(f *testing.F) {
	good := v3Advert(f)
	f.Add(good)
	f.Add(good[:7])
	f.Add(append(append([]byte(nil), good...), make([]byte, 2000)...))
	bad := append([]byte(nil), good...)
	bad[6] ^= 0x55
	f.Add(bad)
	rsvd := append([]byte(nil), good...)
	rsvd[4] |= 0xf0
	f.Add(rsvd)
	many := append([]byte(nil), good...)
	many[3] = 255
	f.Add(many)
	big := &Advert{Version: 3, Type: 1, VRID: 1, Priority: 255, MaxAdvertInt: MaxAdvertIntV3, Addrs: make([]netip.Addr, 255)}
	for k := range big.Addrs {
		big.Addrs[k] = netip.AddrFrom4([4]byte{198, 51, 100, byte(k)})
	}
	if b, err := big.MarshalBinary(); err == nil {
		f.Add(b)
	}
	f.Fuzz(roundTrip)
}
