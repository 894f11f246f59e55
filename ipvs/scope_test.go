package ipvs

import (
	"errors"
	"log/slog"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var vip3 = tcp("198.51.100.32:3306")

func TestChangedKeys(t *testing.T) {
	a := svc(vip1, "rr", dr("198.51.100.10:3306", 1), dr("198.51.100.11:3306", 1))
	b := svc(vip2, "wlc", dr("198.51.100.12:3306", 1))
	c := svc(vip3, "rr", dr("198.51.100.13:3306", 1))
	weight := svc(vip1, "rr", dr("198.51.100.10:3306", 1), dr("198.51.100.11:3306", 5))
	sched := svc(vip2, "rr", dr("198.51.100.12:3306", 1))
	down := b
	down.Down = []netip.AddrPort{ap("198.51.100.14:3306")}
	drainT := b
	drainT.DrainTimeout = time.Minute
	drained := svc(vip2, "wlc", draining("198.51.100.12:3306"))
	for _, tc := range []struct {
		name      string
		prev, cur []Service
		want      []Key
	}{
		{"both empty", nil, nil, nil},
		{"same", []Service{a, b}, []Service{a, b}, nil},
		{"from empty", nil, []Service{a, b}, []Key{vip1, vip2}},
		{"to empty", []Service{a, b}, nil, []Key{vip1, vip2}},
		{"one weight", []Service{a, b, c}, []Service{weight, b, c}, []Key{vip1}},
		{"scheduler", []Service{a, b, c}, []Service{a, sched, c}, []Key{vip2}},
		{"added in the middle", []Service{a, c}, []Service{a, b, c}, []Key{vip2}},
		{"removed at the end", []Service{a, b, c}, []Service{a, b}, []Key{vip3}},
		{"added and removed", []Service{a, b}, []Service{b, c}, []Key{vip1, vip3}},
		{"down list", []Service{b}, []Service{down}, []Key{vip2}},
		{"drain timeout", []Service{b}, []Service{drainT}, []Key{vip2}},
		{"drained by hand", []Service{b}, []Service{drained}, []Key{vip2}},
		{"dest added", []Service{b}, []Service{svc(vip2, "wlc", dr("198.51.100.12:3306", 1), dr("198.51.100.13:3306", 1))}, []Key{vip2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := changedKeys(tc.prev, tc.cur); !slices.Equal(got, tc.want) {
				t.Errorf("changedKeys = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMergeScoped(t *testing.T) {
	a := svc(vip1, "rr", dr("198.51.100.10:3306", 1))
	b := svc(vip2, "wlc", dr("198.51.100.12:3306", 1))
	c := svc(vip3, "rr", dr("198.51.100.13:3306", 1))
	b2 := svc(vip2, "wlc", dr("198.51.100.12:3306", 7))
	for _, tc := range []struct {
		name  string
		table []Service
		keys  []Key
		part  []Service
		want  []Service
	}{
		{"nothing in scope", []Service{a, b}, nil, nil, []Service{a, b}},
		{"replaced", []Service{a, b, c}, []Key{vip2}, []Service{b2}, []Service{a, b2, c}},
		{"deleted", []Service{a, b, c}, []Key{vip2}, nil, []Service{a, c}},
		{"added first", []Service{b, c}, []Key{vip1}, []Service{a}, []Service{a, b, c}},
		{"added last", []Service{a, b}, []Key{vip3}, []Service{c}, []Service{a, b, c}},
		{"into empty", nil, []Key{vip1, vip3}, []Service{a, c}, []Service{a, c}},
		{"key gone already", []Service{a, c}, []Key{vip2}, nil, []Service{a, c}},
		{"mixed", []Service{a, b}, []Key{vip1, vip2, vip3}, []Service{b2, c}, []Service{b2, c}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := cloneTable(tc.table)
			got := mergeScoped(table, tc.keys, tc.part)
			if !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("mergeScoped = %+v, want %+v", got, tc.want)
			}
			if !reflect.DeepEqual(table, tc.table) {
				t.Errorf("table modified: %+v", table)
			}
		})
	}
}

func TestPick(t *testing.T) {
	a := svc(vip1, "rr")
	b := svc(vip2, "rr")
	c := svc(vip3, "rr")
	got := pick([]Service{a, b, c}, []Key{vip1, tcp("198.51.100.31:80"), vip3})
	if !reflect.DeepEqual(got, []Service{a, c}) {
		t.Errorf("pick = %+v", got)
	}
}

// syncedReconciler returns a reconciler that has programmed config1 into
// an empty fake kernel with a full sync.
func syncedReconciler(t *testing.T) (*Reconciler, *fakeKernel, *logRecorder) {
	t.Helper()
	k := newFake(svc(other, "rr", dr("203.0.113.10:80", 1)))
	r, logs := newTestReconciler(k)
	r.SetDesired(config1)
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	k.takeApplied()
	logs.take()
	return r, k, logs
}

func TestSyncChangedUsesNoDump(t *testing.T) {
	r, k, _ := syncedReconciler(t)
	dumps := k.dumps
	cfg := cloneTable(config1)
	cfg[0].Dests[1].Weight = 5
	cfg = append(cfg, svc(vip3, "rr", dr("198.51.100.13:3306", 1)))
	r.SetDesired(cfg)
	if err := r.syncChanged(); err != nil {
		t.Fatal(err)
	}
	if k.dumps != dumps {
		t.Errorf("scoped sync dumped the kernel")
	}
	want := []string{
		"add service TCP 198.51.100.32:3306 rr",
		"add dest TCP 198.51.100.32:3306 -> 198.51.100.13:3306 route weight 1",
		"update dest TCP 198.51.100.30:3306 -> 198.51.100.11:3306 weight 1->5",
	}
	if got := k.takeApplied(); !slices.Equal(got, want) {
		t.Errorf("applied\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Status is the kernel's table, the service lvsd does not manage
	// included, without a dump.
	if got, kt := r.Status(), k.tableCopy(); !reflect.DeepEqual(got, kt) {
		t.Errorf("status %+v, kernel %+v", got, kt)
	}
	// Removing a service: deleted, still without a dump.
	r.SetDesired(cfg[:2])
	if err := r.syncChanged(); err != nil {
		t.Fatal(err)
	}
	if got := k.takeApplied(); !slices.Equal(got, []string{"delete service TCP 198.51.100.32:3306"}) {
		t.Errorf("applied %v", got)
	}
	if k.dumps != dumps {
		t.Errorf("scoped sync dumped the kernel")
	}
	if got, kt := r.Status(), k.tableCopy(); !reflect.DeepEqual(got, kt) {
		t.Errorf("status %+v, kernel %+v", got, kt)
	}
	st := r.SyncStatus()
	if !slices.Equal(st.Managed, []Key{vip1, vip2}) || st.Err != nil {
		t.Errorf("sync status %+v", st)
	}
	// Nothing changed: nothing applied, no dump.
	r.SetDesired(cfg[:2])
	if err := r.syncChanged(); err != nil {
		t.Fatal(err)
	}
	if got := k.takeApplied(); len(got) != 0 || k.dumps != dumps {
		t.Errorf("unchanged table: applied %v, %d dumps", got, k.dumps-dumps)
	}
}

func TestSyncChangedFallsBackToFullSync(t *testing.T) {
	t.Run("op fails on a stale view", func(t *testing.T) {
		r, k, logs := syncedReconciler(t)
		// Behind lvsd's back: the destination whose weight changes is gone.
		if err := k.Apply(Op{Kind: DeleteDest, Service: bare(config1[0]), Dest: config1[0].Dests[1]}); err != nil {
			t.Fatal(err)
		}
		k.takeApplied()
		dumps := k.dumps
		cfg := cloneTable(config1)
		cfg[0].Dests[1].Weight = 5
		r.SetDesired(cfg)
		if err := r.syncChanged(); err != nil {
			t.Fatalf("the full sync should have repaired it: %v", err)
		}
		if k.dumps != dumps+1 {
			t.Errorf("%d dumps, want 1 (the full sync)", k.dumps-dumps)
		}
		if got := k.tableCopy(); !reflect.DeepEqual(got[:2], cfg) {
			t.Errorf("kernel %+v", got)
		}
		if !logs.has(slog.LevelWarn, "ipvs sync of changed services failed") {
			t.Errorf("no warning logged: %v", logs.take())
		}
		if st := r.SyncStatus(); st.Err != nil {
			t.Errorf("status error %v", st.Err)
		}
	})
	t.Run("drain needs fresh counts", func(t *testing.T) {
		r, k, _ := syncedReconciler(t)
		dumps := k.dumps
		cfg := cloneTable(config1)
		cfg[0].Dests = cfg[0].Dests[:1]
		cfg[0].DrainTimeout = time.Minute
		r.SetDesired(cfg)
		if err := r.syncChanged(); err != nil {
			t.Fatal(err)
		}
		if k.dumps != dumps+1 {
			t.Errorf("%d dumps, want 1", k.dumps-dumps)
		}
		if len(r.Drains()) != 0 {
			// No connections in the fake: drained at once.
			t.Errorf("drains %v", r.Drains())
		}
	})
	t.Run("after a failed sync", func(t *testing.T) {
		r, k, _ := syncedReconciler(t)
		k.failOn["update dest TCP 198.51.100.31:3306 -> 198.51.100.12:3306 weight 1->2"] = unix.EPERM
		cfg := cloneTable(config1)
		cfg[1].Dests[0].Weight = 2
		r.SetDesired(cfg)
		if err := r.Sync(); !errors.Is(err, unix.EPERM) {
			t.Fatalf("Sync: %v", err)
		}
		delete(k.failOn, "update dest TCP 198.51.100.31:3306 -> 198.51.100.12:3306 weight 1->2")
		dumps := k.dumps
		r.SetDesired(cfg)
		if err := r.syncChanged(); err != nil {
			t.Fatal(err)
		}
		if k.dumps != dumps+1 {
			t.Errorf("%d dumps, want 1", k.dumps-dumps)
		}
		if got := k.takeApplied(); len(got) != 1 {
			t.Errorf("applied %v", got)
		}
	})
	t.Run("before any sync", func(t *testing.T) {
		k := newFake()
		r, _ := newTestReconciler(k)
		r.SetDesired(config1)
		if err := r.syncChanged(); err != nil {
			t.Fatal(err)
		}
		if k.dumps != 1 || !reflect.DeepEqual(k.tableCopy(), config1) {
			t.Errorf("%d dumps, kernel %+v", k.dumps, k.tableCopy())
		}
	})
}
