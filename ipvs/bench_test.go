package ipvs

import (
	"fmt"
	"net/netip"
	"testing"
)

// benchTable builds n services x 10 DR destinations in the RFC 5737 ranges
// (ports vary so n can exceed the number of addresses).
func benchTable(n int) []Service {
	out := make([]Service, 0, n)
	for i := 0; i < n; i++ {
		vip := netip.AddrFrom4([4]byte{198, 51, 100, byte(i % 256)})
		s := Service{Key: Key{Protocol: TCP, Addr: netip.AddrPortFrom(vip, uint16(1024+i/256))}, Sched: "rr"}
		for j := 0; j < 10; j++ {
			rs := netip.AddrFrom4([4]byte{203, 0, 113, byte(j + 1)})
			s.Dests = append(s.Dests, Dest{Addr: netip.AddrPortFrom(rs, 3306), Weight: 1, Method: DR})
		}
		out = append(out, s)
	}
	sortTable(out)
	return out
}

// BenchmarkDiff measures the pure diff at scale: a steady-state resync
// (kernel equal to config: no ops), a start from an empty kernel, and a
// resync where one real server in every service changed weight.
func BenchmarkDiff(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		desired := benchTable(n)
		changed := benchTable(n)
		for i := range changed {
			changed[i].Dests[3].Weight = 2
		}
		for _, c := range []struct {
			name     string
			observed []Service
			ops      int
		}{
			{"steady", benchTable(n), 0},
			{"from-empty", nil, n * 11},
			{"one-weight-per-service", changed, n},
		} {
			b.Run(fmt.Sprintf("%s/%d-services", c.name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if ops := Diff(desired, c.observed, nil); len(ops) != c.ops {
						b.Fatalf("%d ops, want %d", len(ops), c.ops)
					}
				}
			})
		}
	}
}
