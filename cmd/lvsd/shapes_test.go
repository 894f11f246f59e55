package main

import (
	"log/slog"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/ipvs"
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
		// Back to a scheduler seen before the run: its verdict is kept.
		{Name: "back", Address: netip.MustParseAddrPort("198.51.100.30:82"), Protocol: "TCP", Sched: "rr"},
		{Name: "again", Address: netip.MustParseAddrPort("198.51.100.30:83"), Protocol: "TCP", Sched: "ovf"},
	}
	got := schedProblems(vss)
	want := []string{
		`virtual_server "odd" (TCP 198.51.100.30:81): scheduler "ovf" is not available: the running kernel has no module ip_vs_ovf; the service cannot be added`,
		`virtual_server "mark" (FWM 3): scheduler "ovf" is not available: the running kernel has no module ip_vs_ovf; the service cannot be added`,
		`virtual_server "again" (TCP 198.51.100.30:83): scheduler "ovf" is not available: the running kernel has no module ip_vs_ovf; the service cannot be added`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if asked["ovf"] != 1 || asked["rr"] != 1 {
		t.Errorf("asked %v, want each scheduler once", asked)
	}
}

type fakeTimeouts struct {
	cur ipvs.Timeouts
	set []ipvs.Timeouts
}

func (f *fakeTimeouts) Timeouts() (ipvs.Timeouts, error) { return f.cur, nil }
func (f *fakeTimeouts) SetTimeouts(t ipvs.Timeouts) error {
	f.set = append(f.set, t)
	f.cur = t.Overlay(f.cur)
	return nil
}

func TestPlanTimeouts(t *testing.T) {
	k := &fakeTimeouts{cur: ipvs.Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second}}
	for _, tc := range []struct {
		name string
		t    *conf.LVSTimeouts
		want string
	}{
		{"not managed", nil, ""},
		{"same", &conf.LVSTimeouts{TCP: 900 * time.Second}, ""},
		{"udp changes", &conf.LVSTimeouts{UDP: 60 * time.Second}, "~ set timeouts tcp 900 tcpfin 120 udp 300 -> tcp 900 tcpfin 120 udp 60"},
	} {
		got, err := planTimeouts(&conf.Config{LVSTimeouts: tc.t}, k)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q %v, want %q", tc.name, got, err, tc.want)
		}
	}
	if len(k.set) != 0 {
		t.Errorf("plan set timeouts: %v", k.set)
	}
}

// timeoutKernel is an empty IPVS table that also owns timeouts.
type timeoutKernel struct{ fakeTimeouts }

func (*timeoutKernel) Dump() ([]ipvs.Service, error) { return nil, nil }
func (*timeoutKernel) Apply(ipvs.Op) error           { return nil }

func TestApplyTimeouts(t *testing.T) {
	k := &timeoutKernel{fakeTimeouts{cur: ipvs.Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second}}}
	log := slog.New(slog.DiscardHandler)
	d := &director{log: log, kernel: k, rec: ipvs.NewReconciler(k, log)}
	cfg := &conf.Config{LVSTimeouts: &conf.LVSTimeouts{TCP: time.Hour}}
	d.applyTimeouts(cfg)
	d.applyTimeouts(cfg) // unchanged: nothing written
	d.applyTimeouts(&conf.Config{})
	if want := []ipvs.Timeouts{{TCP: time.Hour}}; !slices.Equal(k.set, want) {
		t.Errorf("set %v, want %v", k.set, want)
	}
}
