package ipvs

import (
	"net/netip"
	"reflect"
	"testing"
)

// tablesFromBytes decodes fuzz input into two tables and a managed set over
// a small space of keys and destinations (so that collisions, and thus
// updates, are common). Each service takes 3 bytes: selector, scheduler,
// destination bitmap; each destination's weight and method come from the
// selector byte. Selector bit 5 picks a fwmark key; scheduler bits 2-3 are
// the scheduler flags; bitmap bits 6-7 the upper threshold.
func tablesFromBytes(b []byte) (desired, observed []Service, managed map[Key]bool) {
	scheds := []string{"rr", "wlc", "sh"}
	methods := []string{DR, NAT, TUN}
	managed = map[Key]bool{}
	inD, inO := map[Key]bool{}, map[Key]bool{}
	for ; len(b) >= 3; b = b[3:] {
		sel, sc, bits := b[0], b[1], b[2]
		key := Key{Protocol: []string{TCP, UDP}[sel&1], Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, 30 + (sel>>1)&3}), 3306)}
		if sel&0x20 != 0 {
			// fwmark services of both families share the key space.
			key = FWMarkKey(1+uint32(sel>>1)&3, sel&1 != 0)
		}
		s := Service{Key: key, Sched: scheds[int(sc)%len(scheds)], Flags: Flags(sc>>2&3) << 3}
		for i := range 4 {
			if bits&(1<<i) != 0 {
				s.Dests = append(s.Dests, Dest{
					Addr:   netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, 10 + byte(i)}), 3306),
					Weight: int(sc>>4) & 3,
					Method: methods[int(bits>>4)%len(methods)],
					// Thresholds vary with the bitmap's top bits.
					UThreshold: uint32(bits>>6) * 10,
				})
			}
		}
		// Destinations out of order on purpose: Diff must not care.
		if sel&0x80 != 0 && len(s.Dests) > 1 {
			s.Dests[0], s.Dests[len(s.Dests)-1] = s.Dests[len(s.Dests)-1], s.Dests[0]
		}
		// A table never holds a key twice (the kernel cannot, Desired
		// does not), so later duplicates are dropped.
		switch (sel >> 3) & 3 {
		case 0:
			if !inD[key] {
				desired = append(desired, s)
			}
			inD[key] = true
		case 1, 2:
			if !inO[key] {
				observed = append(observed, s)
			}
			inO[key] = true
			managed[key] = managed[key] || (sel>>3)&3 == 2
		case 3:
			managed[key] = true
		}
	}
	return desired, observed, managed
}

// FuzzDiff checks Diff's contract on arbitrary tables: ops come in group
// order, touch only managed or desired keys, and applying them converges
// (a second Diff is empty) without changing unmanaged services.
func FuzzDiff(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x00, 0x00, 0x03, 0x08, 0x01, 0x05})
	f.Add([]byte{0x00, 0x10, 0x13, 0x10, 0x21, 0x0c, 0x18, 0x00, 0x01, 0x82, 0x02, 0x0f})
	f.Add([]byte("100100")) // the same observed key twice

	f.Fuzz(func(t *testing.T, b []byte) {
		desired, observed, managed := tablesFromBytes(b)
		ops := Diff(desired, observed, managed)
		inDesired := indexTable(desired)
		for i, o := range ops {
			if i > 0 && o.Kind < ops[i-1].Kind {
				t.Fatalf("op %d %s before %s", i, ops[i-1], o)
			}
			if _, ok := inDesired[o.Service.Key]; !ok && !managed[o.Service.Key] {
				t.Fatalf("op on unmanaged service: %s", o)
			}
		}
		after := applyAll(observed, ops)
		if again := Diff(desired, after, managed); len(again) != 0 {
			t.Fatalf("not converged: %v", again)
		}
		for k, s := range indexTable(observed) {
			if _, ok := inDesired[k]; ok || managed[k] {
				continue
			}
			if got, ok := indexTable(after)[k]; !ok || !reflect.DeepEqual(got, s) {
				t.Fatalf("unmanaged %s changed: %+v -> %+v", k, s, got)
			}
		}
	})
}
