//go:build vm

package ipvs

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// batchShapes is a table of every shape the adapter encodes (TCP, UDP,
// SCTP, IPv4 and IPv6, NAT/DR/TUN, persistence with a granularity, weight
// 0 and 65535), large enough to span several batches.
func batchShapes() []Service {
	var out []Service
	protos := []string{TCP, UDP, SCTP}
	scheds := []string{"rr", "wrr", "wlc"}
	for i := range 300 {
		s := Service{
			Key:   Key{Protocol: protos[i%3], Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(1 + i%200)}), uint16(1000+i/200))},
			Sched: scheds[i%3],
		}
		if i%7 == 0 {
			s.Persistence = Persistence{Timeout: 300, Bits: 24}
		}
		methods := []string{NAT, DR, TUN}
		for j := range 3 {
			s.Dests = append(s.Dests, Dest{
				Addr:   netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + j)}), s.Addr.Port()),
				Weight: []int{0, 1, 65535}[(i+j)%3], Method: methods[(i+j)%3],
			})
		}
		out = append(out, s)
	}
	for i := range 10 {
		s := Service{Key: Key{Protocol: TCP, Addr: netip.MustParseAddrPort(fmt.Sprintf("[2001:db8::%x]:443", i+1))}, Sched: "wlc"}
		if i%2 == 0 {
			s.Persistence = Persistence{Timeout: 60, Bits: 64}
		}
		s.Dests = []Dest{{Addr: netip.MustParseAddrPort("[2001:db8:1::10]:443"), Weight: 2, Method: NAT}, {Addr: netip.MustParseAddrPort("[2001:db8:1::11]:443"), Weight: 3, Method: DR}}
		out = append(out, s)
	}
	sortTable(out)
	return out
}

// TestBatchSameTableAsMoby programs the same ops through moby/ipvs one by
// one in one namespace and through the batched path in another: ipvsadm
// -Ln (with --persistent-conn's details in -Ln itself) must be identical
// after adding every shape, and again after updates and deletes.
func TestBatchSameTableAsMoby(t *testing.T) {
	nsA, pathA := netnsNamed(t, fmt.Sprintf("bn-moby-%d", os.Getpid()))
	nsB, pathB := netnsNamed(t, fmt.Sprintf("bn-batch-%d", os.Getpid()))
	kA, err := NewKernelAt(pathA)
	if err != nil {
		t.Fatal(err)
	}
	defer kA.Close()
	kB, err := NewKernelAt(pathB)
	if err != nil {
		t.Fatal(err)
	}
	defer kB.Close()

	step := func(name string, desired []Service) {
		t.Helper()
		observed, err := kB.Dump()
		if err != nil {
			t.Fatal(err)
		}
		managed := map[Key]bool{}
		for _, s := range observed {
			managed[s.Key] = true
		}
		ops := Diff(desired, observed, managed)
		for _, o := range ops {
			if err := kA.Apply(o); err != nil {
				t.Fatalf("%s: moby: %v", name, err)
			}
		}
		before := kB.Counters()
		for i, err := range kB.ApplyBatch(ops) {
			if err != nil {
				t.Fatalf("%s: batch op %d: %v", name, i, err)
			}
		}
		c := kB.Counters()
		t.Logf("%s: %d ops in %d sendmsg, %d recvmsg", name, c.Msgs-before.Msgs, c.Sends-before.Sends, c.Recvs-before.Recvs)
		if c.Msgs-before.Msgs != uint64(len(ops)) || c.Sends-before.Sends > uint64(len(ops)/batchMaxMsgs+1) {
			t.Errorf("%s: %+v for %d ops", name, c, len(ops))
		}
		a, b := ipvsadm(t, nsA, "-Ln"), ipvsadm(t, nsB, "-Ln")
		if a != b {
			t.Fatalf("%s: tables differ\nmoby:\n%s\nbatch:\n%s", name, a, b)
		}
		if got, _ := kB.Dump(); !equalTables(got, desired) {
			for i := range min(len(got), len(desired)) {
				if fmt.Sprint(got[i]) != fmt.Sprint(desired[i]) {
					t.Logf("first difference:\n got %+v\nwant %+v", got[i], desired[i])
					break
				}
			}
			t.Fatalf("%s: batched table (%d services) does not dump back as desired (%d)", name, len(got), len(desired))
		}
		if n := strings.Count(a, "\n"); n < len(desired) {
			t.Fatalf("%s: ipvsadm -Ln has %d lines", name, n)
		}
	}

	shapes := batchShapes()
	step("add", shapes)
	changed := cloneTable(shapes)
	for i := range changed {
		switch i % 4 {
		case 0:
			changed[i].Sched = "rr"
			changed[i].Persistence = Persistence{Timeout: 600, Bits: 16}
			if changed[i].Addr.Addr().Is6() {
				changed[i].Persistence.Bits = 48
			}
		case 1:
			changed[i].Dests[0].Weight = 7
			changed[i].Dests[1].Method = NAT
		case 2:
			changed[i].Dests = changed[i].Dests[:1]
		}
	}
	changed = changed[:len(changed)-20] // deletes services
	step("update", changed)
	step("delete all", nil)
}

func equalTables(a, b []Service) bool {
	return reflect.DeepEqual(kernelView(a), kernelView(b))
}

// TestBatchErrors: failing ops in the middle of a batch are reported with
// their own op and errno, the ops around them still apply, and the
// destinations of a service whose add failed are reported as skipped.
func TestBatchErrors(t *testing.T) {
	ns, path := netnsNamed(t, fmt.Sprintf("bn-err-%d", os.Getpid()))
	k, err := NewKernelAt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	ipvsadm(t, ns, "-A", "-t", "198.51.100.30:3306", "-s", "rr")

	exists := svc(vip1, "rr")
	fresh := svc(tcp("198.51.100.31:80"), "wrr")
	badSched := svc(tcp("198.51.100.32:80"), "nosuchsched")
	ops := []Op{
		{Kind: AddService, Service: exists},                                  // EEXIST
		{Kind: AddService, Service: fresh},                                   // ok
		{Kind: AddDest, Service: fresh, Dest: nat("198.51.100.10:80", 1)},    // ok
		{Kind: AddDest, Service: fresh, Dest: nat("198.51.100.10:80", 1)},    // EEXIST (duplicate)
		{Kind: DeleteDest, Service: fresh, Dest: nat("198.51.100.99:80", 1)}, // ENOENT
		{Kind: AddService, Service: badSched},                                // ENOENT (no such scheduler)
		{Kind: AddDest, Service: badSched, Dest: nat("198.51.100.10:80", 1)}, // skipped
		{Kind: AddDest, Service: fresh, Dest: nat("198.51.100.11:80", 4)},    // ok
		{Kind: UpdateDest, Service: fresh, Dest: nat("198.51.100.12:80", 1)}, // ENOENT (no such dest)
		{Kind: AddDest, Service: fresh, Dest: dr("198.51.100.12:80", 2)},     // ok
	}
	want := []error{unix.EEXIST, nil, nil, unix.EEXIST, unix.ENOENT, unix.ENOENT, ErrSkipped, nil, unix.ENOENT, nil}
	errs := k.ApplyBatch(ops)
	for i, err := range errs {
		switch {
		case want[i] == nil && err != nil:
			t.Errorf("op %d %s: %v", i, ops[i], err)
		case want[i] != nil && !errors.Is(err, want[i]):
			t.Errorf("op %d %s: %v, want %v", i, ops[i], err, want[i])
		case err != nil && !strings.Contains(err.Error(), ops[i].Service.Key.String()):
			t.Errorf("op %d: error %q does not name its service", i, err)
		}
		t.Logf("op %d %s: %v", i, ops[i], err)
	}
	out := ipvsadm(t, ns, "-Ln")
	for _, line := range []string{
		"TCP 198.51.100.31:80 wrr",
		"-> 198.51.100.10:80 Masq 1",
		"-> 198.51.100.11:80 Masq 4",
		"-> 198.51.100.12:80 Route 2",
	} {
		if !loose(line).MatchString(out) {
			t.Errorf("ipvsadm -Ln lacks %q:\n%s", line, out)
		}
	}
	if strings.Contains(out, "198.51.100.32") {
		t.Errorf("service with an unknown scheduler exists:\n%s", out)
	}
	// The next batch on the same socket is not confused by the errors.
	if errs := k.ApplyBatch([]Op{{Kind: DeleteService, Service: fresh}}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	ipvsadm(t, ns, "-C")
}
