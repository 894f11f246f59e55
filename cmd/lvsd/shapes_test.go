package main

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/lvsd/lvsd/conf"
)

func TestSchedProblems(t *testing.T) {
	orig := schedulerAvailable
	t.Cleanup(func() { schedulerAvailable = orig })
	asked := map[string]int{}
	schedulerAvailable = func(name string) (bool, string) {
		asked[name]++
		if name == "ovf" {
			return false, "the running kernel has no module ip_vs_ovf"
		}
		return true, ""
	}
	vss := []conf.VirtualServer{
		{Name: "web", Address: netip.MustParseAddrPort("198.51.100.30:80"), Protocol: "TCP", Sched: "rr"},
		{Name: "odd", Address: netip.MustParseAddrPort("198.51.100.30:81"), Protocol: "TCP", Sched: "ovf"},
		{Name: "mark", FWMark: 3, Address: netip.MustParseAddrPort("0.0.0.0:0"), Protocol: "TCP", Sched: "ovf"},
	}
	got := schedProblems(vss)
	want := []string{
		`virtual_server "odd" (TCP 198.51.100.30:81): scheduler "ovf" is not available: the running kernel has no module ip_vs_ovf; the service cannot be added`,
		`virtual_server "mark" (FWM 3): scheduler "ovf" is not available: the running kernel has no module ip_vs_ovf; the service cannot be added`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if asked["ovf"] != 1 || asked["rr"] != 1 {
		t.Errorf("asked %v, want each scheduler once", asked)
	}
}
