//go:build vm

package ipvs

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// TestShapesKernel programs scheduler flags, fwmark services of both
// families, per destination methods and thresholds through Desired, Diff
// and the netlink adapter; a dump reads back exactly what was programmed,
// changes are in-place updates, services and flags made by hand with
// ipvsadm read the same, and the global timeouts round-trip.
func TestShapesKernel(t *testing.T) {
	ns, path := netnsNamed(t, fmt.Sprintf("sh-kernel-%d", os.Getpid()))
	k, err := NewKernelAt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	desired := func(src string) []Service { t.Helper(); return desiredFrom(t, src) }
	apply := func(want []Service) []Op { t.Helper(); return applyChecked(t, k, want) }
	table := func(args []string, lines ...string) {
		t.Helper()
		out := ipvsadm(t, ns, args...)
		for _, l := range lines {
			if !loose(l).MatchString(out) {
				t.Errorf("ipvsadm %v lacks %q:\n%s", args, l, out)
			}
		}
	}
	const shapes = `virtual_server "sh" {
  address   = "198.51.100.30:80"
  lvs_sched = "sh"
  lvs_flags = [%s]
  lvs_method = "DR"
  real_server "a" {
    address    = "198.51.100.10:80"
    uthreshold = %d
    lthreshold = 5
  }
  real_server "b" {
    address    = "198.51.100.11:80"
    lvs_method = "%s"
  }
}
virtual_server "dns" {
  address   = "198.51.100.30:53"
  protocol  = "UDP"
  lvs_sched = "rr"
  lvs_flags = ["ops"]
}
virtual_server "mark" {
  fwmark    = 9
  lvs_sched = "mh"
  lvs_flags = ["mh-port"]
  real_server "a" {
    address = "198.51.100.10"
  }
}
virtual_server "mark6" {
  fwmark    = 9
  ip_family = "inet6"
  lvs_sched = "wlc"
  persistence_timeout = 30
  real_server "a" {
    address = "[2001:db8::10]:443"
  }
}
`
	apply(desired(fmt.Sprintf(shapes, `"sh-port", "sh-fallback"`, 100, "TUN")))
	table([]string{"-Ln"},
		"TCP 198.51.100.30:80 sh (sh-fallback,sh-port)",
		"-> 198.51.100.10:80 Route 1",
		"-> 198.51.100.11:80 Tunnel 1",
		"UDP 198.51.100.30:53 rr ops",
		"FWM 9 mh (mh-port)",
		"-> 198.51.100.10:0 Masq 1",
		"FWM 9 IPv6 wlc persistent 30",
		"-> [2001:db8::10]:443 Masq 1")
	table([]string{"-Ln", "--thresholds"}, "-> 198.51.100.10:80 100 5")

	// Flags, threshold and one destination's method change in place.
	ops := apply(desired(fmt.Sprintf(shapes, `"sh-fallback"`, 50, "NAT")))
	var kinds []OpKind
	for _, o := range ops {
		kinds = append(kinds, o.Kind)
	}
	if !reflect.DeepEqual(kinds, []OpKind{UpdateService, UpdateDest, UpdateDest}) {
		t.Errorf("ops %v, want one service update and two dest updates", ops)
	}
	table([]string{"-Ln"}, "TCP 198.51.100.30:80 sh (sh-fallback)", "-> 198.51.100.11:80 Masq 1")
	table([]string{"-Ln", "--thresholds"}, "-> 198.51.100.10:80 50 5")

	// Made by hand: the same shapes read back.
	ipvsadm(t, ns, "-A", "-f", "10", "-6", "-s", "sh", "-b", "sh-port")
	ipvsadm(t, ns, "-a", "-f", "10", "-6", "-r", "[2001:db8::11]:0", "-g", "-x", "9", "-y", "2")
	got, err := k.Dump()
	if err != nil {
		t.Fatal(err)
	}
	wantHand := Service{Key: FWMarkKey(10, true), Sched: "sh", Flags: FlagSched2, Dests: []Dest{
		{Addr: ap("[2001:db8::11]:0"), Weight: 1, Method: DR, UThreshold: 9, LThreshold: 2},
	}}
	found := false
	for _, s := range got {
		if s.Key == wantHand.Key {
			found = reflect.DeepEqual(s, wantHand)
			if !found {
				t.Errorf("hand-made fwmark service dumped as %+v, want %+v", s, wantHand)
			}
		}
	}
	if !found {
		t.Errorf("hand-made fwmark service not in the dump %+v", got)
	}

	// Timeouts: set, read back, zero fields left as they are.
	orig, err := k.Timeouts()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.SetTimeouts(orig) })
	if err := k.SetTimeouts(Timeouts{TCP: 1000 * time.Second, TCPFin: 100 * time.Second, UDP: 200 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := k.SetTimeouts(Timeouts{UDP: 250 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Timeouts(); err != nil || got != (Timeouts{TCP: 1000 * time.Second, TCPFin: 100 * time.Second, UDP: 250 * time.Second}) {
		t.Errorf("timeouts %v (%v), want tcp 1000 tcpfin 100 udp 250", got, err)
	}
	if out := ipvsadm(t, ns, "-L", "--timeout"); !regexp.MustCompile(`1000\s+100\s+250`).MatchString(out) {
		t.Errorf("ipvsadm -L --timeout: %s", out)
	}
	if err := k.SetTimeouts(Timeouts{TCP: 1500 * time.Millisecond}); err == nil {
		t.Error("a timeout that is not whole seconds was accepted")
	}
	ipvsadm(t, ns, "-C")
}

// kernelView is svcs without what the kernel does not program: the desired
// side's drain bookkeeping and the dump's connection counts.
func kernelView(svcs []Service) []Service {
	if len(svcs) == 0 {
		return nil // an empty dump and an empty desired table are equal
	}
	out := cloneTable(svcs)
	for i := range out {
		out[i].Down, out[i].DrainTimeout = nil, 0
		for j := range out[i].Dests {
			out[i].Dests[j] = out[i].Dests[j].kernelPart()
		}
	}
	return out
}

// desiredFrom is the desired table of a director config, every real server up.
func desiredFrom(t *testing.T, src string) []Service {
	t.Helper()
	cfg, diags := conf.Parse([]byte(src), "lvs.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return Desired(cfg.VirtualServers, AllUp)
}

// applyChecked diffs want against k's dump, applies the ops one by one and
// checks the kernel then dumps want back; it returns the ops.
func applyChecked(t *testing.T, k *Netlink, want []Service) []Op {
	t.Helper()
	have, err := k.Dump()
	if err != nil {
		t.Fatal(err)
	}
	ops := Diff(want, have, nil)
	for _, o := range ops {
		t.Logf("op: %s", o)
		if err := k.Apply(o); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := k.Dump(); err != nil || !reflect.DeepEqual(kernelView(got), kernelView(want)) {
		t.Fatalf("dump after apply\n got %+v (%v)\nwant %+v", got, err, want)
	}
	return ops
}
