package vrrp

import (
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

	f.Fuzz(func(t *testing.T, b []byte) {
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
		if !reflect.DeepEqual(a, again) {
			t.Fatalf("round trip differs:\n%+v\n%+v", a, again)
		}
	})
}
