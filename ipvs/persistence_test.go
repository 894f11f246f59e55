package ipvs

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

func persistent(s Service, timeout uint32, bits int) Service {
	s.Persistence = Persistence{Timeout: timeout, Bits: bits}
	return s
}

// A persistence change is an in-place service update: deleting and
// re-adding the service would reset every connection on it.
func TestDiffPersistence(t *testing.T) {
	plain := svc(vip1, "rr", dr("198.51.100.10:3306", 1))
	p300 := persistent(plain, 300, 24)
	for _, tc := range []struct {
		name          string
		desired, have Service
		want          []string
	}{
		{"add persistent", p300, Service{}, []string{
			"add service TCP 198.51.100.30:3306 rr persistent 300 mask 255.255.255.0",
			"add dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 route weight 1",
		}},
		{"turn on", p300, plain, []string{"update service TCP 198.51.100.30:3306 not persistent->persistent 300 mask 255.255.255.0"}},
		{"turn off", plain, p300, []string{"update service TCP 198.51.100.30:3306 persistent 300 mask 255.255.255.0->not persistent"}},
		{"timeout", persistent(plain, 60, 24), p300, []string{"update service TCP 198.51.100.30:3306 persistent 300 mask 255.255.255.0->persistent 60 mask 255.255.255.0"}},
		{"granularity", persistent(plain, 300, 32), p300, []string{"update service TCP 198.51.100.30:3306 persistent 300 mask 255.255.255.0->persistent 300 mask 255.255.255.255"}},
		{"sched and persistence", persistent(svc(vip1, "wlc", dr("198.51.100.10:3306", 1)), 300, 24), plain, []string{"update service TCP 198.51.100.30:3306 sched rr->wlc not persistent->persistent 300 mask 255.255.255.0"}},
		{"same", p300, p300, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var observed []Service
			if tc.have.Sched != "" {
				observed = []Service{tc.have}
			}
			var got []string
			for _, o := range Diff([]Service{tc.desired}, observed, nil) {
				got = append(got, o.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ops %q\nwant %q", got, tc.want)
			}
		})
	}
	v6 := persistent(svc(Key{Protocol: TCP, Addr: ap("[2001:db8::1]:80")}, "rr"), 60, 64)
	if got := (Op{Kind: AddService, Service: v6}).String(); got != "add service TCP [2001:db8::1]:80 rr persistent 60 mask /64" {
		t.Errorf("v6: %q", got)
	}
}

// Desired carries conf's persistence in the kernel's units, and leaves a
// non-persistent service's granularity out so it never causes a diff.
func TestDesiredPersistence(t *testing.T) {
	vss := []conf.VirtualServer{
		{Address: ap("198.51.100.30:80"), Protocol: TCP, Sched: "rr", Method: NAT, PersistenceTimeout: 5 * time.Minute, PersistenceGranularity: 24},
		{Address: ap("198.51.100.31:80"), Protocol: TCP, Sched: "rr", Method: NAT, PersistenceGranularity: 32},
	}
	got := Desired(vss, AllUp)
	want := []Service{
		persistent(svc(tcp("198.51.100.30:80"), "rr"), 300, 24),
		svc(tcp("198.51.100.31:80"), "rr"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// After a persistence update, Status (the observed table with applied ops
// folded in) shows the new persistence without waiting for the next dump.
func TestReconcilerStatusPersistence(t *testing.T) {
	plain := svc(vip1, "rr", dr("198.51.100.10:3306", 1))
	want := persistent(plain, 300, 24)
	k := newFake(cloneTable([]Service{plain})...)
	r, _ := newTestReconciler(k)
	r.SetDesired([]Service{want})
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := r.Status(); !reflect.DeepEqual(got, []Service{want}) {
		t.Errorf("status %+v, want %+v", got, want)
	}
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if a := k.takeApplied(); len(a) != 1 {
		t.Errorf("applied %v, want the one update only", a)
	}
}

// A down real server with InhibitOnFailure stays with weight 0 (its
// established connections are not cut); without it, it is left out.
func TestDesiredInhibitOnFailure(t *testing.T) {
	vss := []conf.VirtualServer{{Address: ap("198.51.100.30:3306"), Protocol: TCP, Sched: "rr", Method: DR, RealServers: []conf.RealServer{
		{Name: "up", Address: ap("198.51.100.10:3306"), Weight: 3, InhibitOnFailure: true},
		{Name: "down-inhibit", Address: ap("198.51.100.11:3306"), Weight: 3, InhibitOnFailure: true},
		{Name: "down", Address: ap("198.51.100.12:3306"), Weight: 3},
	}}}
	up := func(_ conf.VirtualServer, rs conf.RealServer) Health { return Health{Up: rs.Name == "up"} }
	got := Desired(vss, up)
	want := []Service{svc(vip1, "rr", dr("198.51.100.10:3306", 3), dr("198.51.100.11:3306", 0))}
	want[0].Down = []netip.AddrPort{ap("198.51.100.12:3306")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// Going down is then a weight update, not a delete.
	allUp := Desired(vss, AllUp)
	ops := Diff(got, allUp, nil)
	var s []string
	for _, o := range ops {
		s = append(s, o.String())
	}
	wantOps := []string{
		"update dest TCP 198.51.100.30:3306 -> 198.51.100.11:3306 weight 3->0",
		"delete dest TCP 198.51.100.30:3306 -> 198.51.100.12:3306",
	}
	if !reflect.DeepEqual(s, wantOps) {
		t.Errorf("ops %q\nwant %q", s, wantOps)
	}
}
