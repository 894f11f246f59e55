//go:build vm

package ipvs

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDumpSameAsMoby programs every shape the adapter knows (batchShapes,
// fwmark services of both families, scheduler flags, thresholds, a service
// without destinations and one with 400, whose dump spans several netlink
// messages and reads) plus a service made by ipvsadm, then checks that the
// in-place decoder (Dump) and moby/ipvs (dumpMoby) read the same table,
// connection counts included, while a client keeps connections open.
func TestDumpSameAsMoby(t *testing.T) {
	ns, path := netnsNamed(t, fmt.Sprintf("mm-dump-%d", os.Getpid()))
	k, err := NewKernelAt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()

	want := batchShapes()
	want = append(want,
		Service{Key: FWMarkKey(7, false), Sched: "sh", Flags: FlagSched1 | FlagSched2,
			Dests: []Dest{{Addr: ap("198.51.100.7:0"), Weight: 3, Method: DR, UThreshold: 100, LThreshold: 50}}},
		Service{Key: FWMarkKey(8, true), Sched: "mh", Flags: FlagSched2, Persistence: Persistence{Timeout: 30, Bits: 64},
			Dests: []Dest{{Addr: ap("[2001:db8:2::8]:0"), Weight: 1, Method: TUN}}},
		Service{Key: Key{Protocol: UDP, Addr: ap("203.0.113.250:53")}, Sched: "rr", Flags: FlagOnePacket},
	)
	big := Service{Key: Key{Protocol: TCP, Addr: ap("203.0.113.251:80")}, Sched: "wlc"}
	for i := range 400 {
		big.Dests = append(big.Dests, Dest{
			Addr:   netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + i%250)}), uint16(8000+i/250)),
			Weight: i % 100, Method: NAT, UThreshold: uint32(i), LThreshold: uint32(i / 2),
		})
	}
	want = append(want, big)
	sortTable(want)
	for i, err := range k.ApplyBatch(Diff(want, nil, nil)) {
		if err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
	}
	// A service lvsd did not make, in ipvsadm's own encoding.
	ipvsadm(t, ns, "-A", "-t", "192.0.2.9:25", "-s", "lc")
	ipvsadm(t, ns, "-a", "-t", "192.0.2.9:25", "-r", "192.0.2.10:25", "-m", "-w", "4")

	got, err := k.Dump()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := k.dumpMoby()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ref) {
		for i := range min(len(got), len(ref)) {
			if !reflect.DeepEqual(got[i], ref[i]) {
				t.Fatalf("first difference at %d:\n  dump %+v\n  moby %+v", i, got[i], ref[i])
			}
		}
		t.Fatalf("dump has %d services, moby %d", len(got), len(ref))
	}
	if len(got) != len(want)+1 {
		t.Fatalf("dump has %d services, want %d", len(got), len(want)+1)
	}
	var mine []Service
	for _, s := range got {
		if s.Addr != ap("192.0.2.9:25") {
			mine = append(mine, s)
		}
	}
	if !equalTables(mine, want) {
		t.Fatal("the dump does not read back what was programmed")
	}
	for _, s := range got {
		// Exactly sized, up to the allocator's size class (400 x 88
		// bytes take a 40 KiB block: room for 465).
		if s.Key == big.Key && (len(s.Dests) != 400 || cap(s.Dests) > 465) {
			t.Fatalf("big service dumped with %d destinations (cap %d)", len(s.Dests), cap(s.Dests))
		}
	}
	ipvsadm(t, ns, "-C")
	if got, err := k.Dump(); err != nil || len(got) != 0 {
		t.Fatalf("dump of an empty table: %v %v", got, err)
	}
}

// dumpMoby is Dump through moby/ipvs's GetServices and GetDestinations:
// the reference the in-place decoder is tested against.
func (n *Netlink) dumpMoby() ([]Service, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.h == nil {
		return nil, fmt.Errorf("list services: %w", net.ErrClosed)
	}
	msvcs, err := n.h.GetServices()
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	out := make([]Service, 0, len(msvcs))
	for _, ms := range msvcs {
		svc, ok := fromMobyService(ms)
		if !ok {
			continue
		}
		mds, err := n.h.GetDestinations(ms)
		if errors.Is(err, unix.ESRCH) {
			continue // deleted between the two dumps
		}
		if err != nil {
			return nil, fmt.Errorf("list dests of %s: %w", svc.Key, err)
		}
		for _, md := range mds {
			d, err := fromMobyDest(md)
			if err != nil {
				return nil, fmt.Errorf("list dests of %s: %w", svc.Key, err)
			}
			svc.Dests = append(svc.Dests, d)
		}
		out = append(out, svc)
	}
	sortTable(out)
	return out, nil
}
