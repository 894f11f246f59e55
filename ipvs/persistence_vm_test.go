//go:build vm

package ipvs

import (
	"fmt"
	"os"
	"testing"
)

// TestPersistenceKernel programs persistence from a config file through
// Desired, Diff and the netlink adapter, then checks it the way an
// operator would (ipvsadm -Ln), that a dump reads back exactly what was
// programmed, that changing it is one in-place update, and that a
// persistent service made by hand with ipvsadm is read correctly.
func TestPersistenceKernel(t *testing.T) {
	ns, path := netnsNamed(t, fmt.Sprintf("pa-persist-%d", os.Getpid()))
	k, err := NewKernelAt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	desired := func(timeout, granularity string) []Service {
		t.Helper()
		src := fmt.Sprintf(`virtual_server "web" {
  address   = "198.51.100.30:80"
  lvs_sched = "rr"
  lvs_method = "DR"
%s
%s
  real_server "a" {
    address = "198.51.100.10:80"
  }
}
`, timeout, granularity)
		return desiredFrom(t, src)
	}
	apply := func(want []Service) []Op { t.Helper(); return applyChecked(t, k, want) }
	table := func(lines ...string) {
		t.Helper()
		out := ipvsadm(t, ns, "-Ln")
		for _, l := range lines {
			if !loose(l).MatchString(out) {
				t.Errorf("ipvsadm -Ln lacks %q:\n%s", l, out)
			}
		}
	}

	apply(desired("  persistence_timeout = 300", `  persistence_granularity = "255.255.255.0"`))
	table("TCP 198.51.100.30:80 rr persistent 300 mask 255.255.255.0", "-> 198.51.100.10:80 Route 1")

	// Timeout and granularity change in place: one update, no delete.
	ops := apply(desired(`  persistence_timeout = "1m"`, "  persistence_granularity = 32"))
	if len(ops) != 1 || ops[0].Kind != UpdateService {
		t.Errorf("ops %v, want one update service", ops)
	}
	table("TCP 198.51.100.30:80 rr persistent 60")

	// Persistence off again, still in place.
	ops = apply(desired("", ""))
	if len(ops) != 1 || ops[0].Kind != UpdateService {
		t.Errorf("ops %v, want one update service", ops)
	}
	table("TCP 198.51.100.30:80 rr")
	if out := ipvsadm(t, ns, "-Ln"); loose("persistent").MatchString(out) {
		t.Errorf("still persistent:\n%s", out)
	}

	// A service made with ipvsadm -p -M reads as the same persistence
	// (the IPv4 netmask's byte order is the kernel's, not moby's).
	ipvsadm(t, ns, "-A", "-t", "198.51.100.31:80", "-s", "rr", "-p", "120", "-M", "255.255.0.0")
	got, err := k.Dump()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Persistence != (Persistence{Timeout: 120, Bits: 16}) {
		t.Errorf("hand-made persistent service dumped as %+v", got)
	}
	ipvsadm(t, ns, "-C")
}
