package ipvs

import (
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

func conns(d Dest, active, inact int) Dest {
	d.ActiveConns, d.InactConns = active, inact
	return d
}

func draining(addr string) Dest {
	return Dest{Addr: ap(addr), Weight: 0, Method: DR, Draining: true}
}

// planDrain on tables: which destinations drain, which go at once, when a
// drain ends.
func TestPlanDrain(t *testing.T) {
	now := epoch
	const timeout = time.Minute
	a, b := "198.51.100.10:3306", "198.51.100.11:3306"
	ka, kb := DestKey{vip1, ap(a)}, DestKey{vip1, ap(b)}
	withTimeout := func(s Service, d time.Duration, down ...netip.AddrPort) Service {
		s.DrainTimeout, s.Down = d, down
		return s
	}
	tests := []struct {
		name       string
		desired    []Service
		observed   []Service
		since      map[DestKey]time.Time
		wantEff    []Service
		wantActive []Drain
		wantEnded  []DrainEnd
	}{
		{
			name:       "removed from config with connections: kept at weight 0",
			desired:    []Service{withTimeout(svc(vip1, "rr", dr(a, 1)), timeout)},
			observed:   []Service{svc(vip1, "rr", dr(a, 1), conns(dr(b, 1), 3, 1))},
			wantEff:    []Service{withTimeout(svc(vip1, "rr", dr(a, 1), draining(b)), timeout)},
			wantActive: []Drain{{DestKey: kb, Since: now, Deadline: now.Add(timeout), ActiveConns: 3, InactConns: 1}},
		},
		{
			name:      "removed without connections: deleted now",
			desired:   []Service{withTimeout(svc(vip1, "rr", dr(a, 1)), timeout)},
			observed:  []Service{svc(vip1, "rr", dr(a, 1), dr(b, 0))},
			wantEff:   []Service{withTimeout(svc(vip1, "rr", dr(a, 1)), timeout)},
			wantEnded: []DrainEnd{{Drain: Drain{DestKey: kb, Since: now, Deadline: now.Add(timeout)}, Reason: "no connections"}},
		},
		{
			name:     "removed, drain_timeout 0: deleted at once (keepalived)",
			desired:  []Service{withTimeout(svc(vip1, "rr", dr(a, 1)), 0)},
			observed: []Service{svc(vip1, "rr", dr(a, 1), conns(dr(b, 1), 3, 1))},
			wantEff:  []Service{withTimeout(svc(vip1, "rr", dr(a, 1)), 0)},
		},
		{
			name:     "failed its check (Down): deleted at once",
			desired:  []Service{withTimeout(svc(vip1, "rr", dr(a, 1)), timeout, ap(b))},
			observed: []Service{svc(vip1, "rr", dr(a, 1), conns(dr(b, 1), 3, 1))},
			wantEff:  []Service{withTimeout(svc(vip1, "rr", dr(a, 1)), timeout, ap(b))},
		},
		{
			name:       "draining, deadline not reached: start time kept",
			desired:    []Service{withTimeout(svc(vip1, "rr", dr(a, 1)), timeout)},
			observed:   []Service{svc(vip1, "rr", dr(a, 1), conns(dr(b, 0), 1, 0))},
			since:      map[DestKey]time.Time{kb: now.Add(-59 * time.Second)},
			wantEff:    []Service{withTimeout(svc(vip1, "rr", dr(a, 1), draining(b)), timeout)},
			wantActive: []Drain{{DestKey: kb, Since: now.Add(-59 * time.Second), Deadline: now.Add(time.Second), ActiveConns: 1}},
		},
		{
			name:      "draining, deadline reached: deleted",
			desired:   []Service{withTimeout(svc(vip1, "rr", dr(a, 1)), timeout)},
			observed:  []Service{svc(vip1, "rr", dr(a, 1), conns(dr(b, 0), 1, 0))},
			since:     map[DestKey]time.Time{kb: now.Add(-timeout)},
			wantEff:   []Service{withTimeout(svc(vip1, "rr", dr(a, 1)), timeout)},
			wantEnded: []DrainEnd{{Drain: Drain{DestKey: kb, Since: now.Add(-timeout), Deadline: now, ActiveConns: 1}, Reason: "timeout"}},
		},
		{
			name:       "manual drain with connections: weight 0",
			desired:    []Service{withTimeout(svc(vip1, "rr", draining(a), dr(b, 1)), timeout)},
			observed:   []Service{svc(vip1, "rr", conns(dr(a, 1), 0, 2), dr(b, 1))},
			wantEff:    []Service{withTimeout(svc(vip1, "rr", draining(a), dr(b, 1)), timeout)},
			wantActive: []Drain{{DestKey: ka, Manual: true, Since: now, Deadline: now.Add(timeout), InactConns: 2}},
		},
		{
			name:       "manual drain, drain_timeout 0: waits for connections without deadline",
			desired:    []Service{withTimeout(svc(vip1, "rr", draining(a), dr(b, 1)), 0)},
			observed:   []Service{svc(vip1, "rr", conns(dr(a, 0), 1, 0), dr(b, 1))},
			since:      map[DestKey]time.Time{ka: now.Add(-time.Hour)},
			wantEff:    []Service{withTimeout(svc(vip1, "rr", draining(a), dr(b, 1)), 0)},
			wantActive: []Drain{{DestKey: ka, Manual: true, Since: now.Add(-time.Hour), ActiveConns: 1}},
		},
		{
			name:      "manual drain, connections gone: taken out so Diff deletes it",
			desired:   []Service{withTimeout(svc(vip1, "rr", draining(a), dr(b, 1)), timeout)},
			observed:  []Service{svc(vip1, "rr", dr(a, 0), dr(b, 1))},
			since:     map[DestKey]time.Time{ka: now.Add(-time.Second)},
			wantEff:   []Service{withTimeout(svc(vip1, "rr", dr(b, 1)), timeout)},
			wantEnded: []DrainEnd{{Drain: Drain{DestKey: ka, Manual: true, Since: now.Add(-time.Second), Deadline: now.Add(59 * time.Second)}, Reason: "no connections"}},
		},
		{
			name:     "manually drained and already gone: not added back",
			desired:  []Service{withTimeout(svc(vip1, "rr", draining(a), dr(b, 1)), timeout)},
			observed: []Service{svc(vip1, "rr", dr(b, 1))},
			wantEff:  []Service{withTimeout(svc(vip1, "rr", dr(b, 1)), timeout)},
		},
		{
			name:    "manually drained, service not in the kernel: not added",
			desired: []Service{withTimeout(svc(vip1, "rr", draining(a), dr(b, 1)), timeout)},
			wantEff: []Service{withTimeout(svc(vip1, "rr", dr(b, 1)), timeout)},
		},
		{
			name:     "undrained (desired again): no drain, Diff restores the weight",
			desired:  []Service{withTimeout(svc(vip1, "rr", dr(a, 1), dr(b, 1)), timeout)},
			observed: []Service{svc(vip1, "rr", conns(dr(a, 0), 5, 0), dr(b, 1))},
			since:    map[DestKey]time.Time{ka: now.Add(-time.Second)},
			wantEff:  []Service{withTimeout(svc(vip1, "rr", dr(a, 1), dr(b, 1)), timeout)},
		},
		{
			name:     "service removed: nothing drains, Diff deletes the service",
			desired:  nil,
			observed: []Service{svc(vip1, "rr", conns(dr(a, 1), 5, 0))},
			wantEff:  nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eff, active, ended := planDrain(tc.desired, tc.observed, tc.since, now)
			if !reflect.DeepEqual(eff, tc.wantEff) {
				t.Errorf("eff\n got  %+v\n want %+v", eff, tc.wantEff)
			}
			if !reflect.DeepEqual(active, tc.wantActive) {
				t.Errorf("active\n got  %+v\n want %+v", active, tc.wantActive)
			}
			if !reflect.DeepEqual(ended, tc.wantEnded) {
				t.Errorf("ended\n got  %+v\n want %+v", ended, tc.wantEnded)
			}
		})
	}
}

// setConns sets the connection counts of a destination in the fake kernel.
func (f *fakeKernel) setConns(k Key, addr netip.AddrPort, active, inact int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.table[k]
	for i := range s.Dests {
		if s.Dests[i].Addr == addr {
			s.Dests[i].ActiveConns, s.Dests[i].InactConns = active, inact
		}
	}
	f.table[k] = s
}

// The Reconciler carries a drain over syncs on a fake clock: weight 0 at
// once, deleted when the connections are gone, and the deletion is not
// logged as drift repair.
func TestReconcilerDrain(t *testing.T) {
	a, b := "198.51.100.10:3306", "198.51.100.11:3306"
	k := newFake()
	r, logs := newTestReconciler(k)
	now := epoch
	r.now = func() time.Time { return now }
	full := svc(vip1, "rr", dr(a, 1), dr(b, 1))
	full.DrainTimeout = time.Minute
	r.SetDesired([]Service{full})
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	k.takeApplied()
	k.setConns(vip1, ap(b), 2, 0)

	less := svc(vip1, "rr", dr(a, 1))
	less.DrainTimeout = time.Minute
	r.SetDesired([]Service{less}) // a reload removes b
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if got, want := k.takeApplied(), []string{"update dest TCP 198.51.100.30:3306 -> 198.51.100.11:3306 weight 1->0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ops %q, want %q", got, want)
	}
	if d := r.Drains(); len(d) != 1 || d[0].Dest != ap(b) || d[0].ActiveConns != 2 || !d[0].Deadline.Equal(epoch.Add(time.Minute)) {
		t.Errorf("Drains = %+v", d)
	}
	now = now.Add(10 * time.Second)
	k.setConns(vip1, ap(b), 1, 0)
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := k.takeApplied(); len(got) != 0 {
		t.Errorf("ops while draining: %q", got)
	}
	if d := r.Drains(); len(d) != 1 || !d[0].Since.Equal(epoch) || d[0].ActiveConns != 1 {
		t.Errorf("Drains = %+v, want since kept", d)
	}
	k.setConns(vip1, ap(b), 0, 0)
	logs.take()
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if got, want := k.takeApplied(), []string{"delete dest TCP 198.51.100.30:3306 -> 198.51.100.11:3306"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ops %q, want %q", got, want)
	}
	if logs.has(slog.LevelWarn, "repaired") || !logs.has(slog.LevelInfo, "drained") {
		t.Errorf("logs %q: want drained, no repaired", logs.take())
	}
	if d := r.Drains(); len(d) != 0 {
		t.Errorf("Drains after the end = %+v", d)
	}
}

// BenchmarkPlanDrain: a steady resync at scale passes through planDrain
// without allocating; one removed real server per service drains.
func BenchmarkPlanDrain(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		desired := benchTable(n)
		for i := range desired {
			desired[i].DrainTimeout = time.Minute
		}
		removed := benchTable(n)
		for i := range removed {
			removed[i].Dests[3].ActiveConns = 1
			removed[i].Dests = append(removed[i].Dests, Dest{Addr: netip.MustParseAddrPort("192.0.2.1:3306"), Weight: 1, Method: DR, ActiveConns: 2})
			sortTable(removed[i : i+1])
		}
		for _, c := range []struct {
			name     string
			observed []Service
			active   int
		}{
			{"steady", benchTable(n), 0},
			{"one-draining-per-service", removed, n},
		} {
			b.Run(fmt.Sprintf("%s/%d-services", c.name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, active, _ := planDrain(desired, c.observed, nil, epoch); len(active) != c.active {
						b.Fatalf("%d drains, want %d", len(active), c.active)
					}
				}
			})
		}
	}
}
