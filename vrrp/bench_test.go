package vrrp

import (
	"net/netip"
	"testing"
)

// BenchmarkAdvert measures the receive hot path: decode with checksum, and
// the full receive check of keepalived's order.
func BenchmarkAdvert(b *testing.B) {
	a := testAdvert()
	pkt, err := a.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.MarshalBinary(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		var got Advert
		for b.Loop() {
			if err := got.UnmarshalBinary(pkt); err != nil {
				b.Fatal(err)
			}
		}
	})
	_ = netip.Addr{}
}
