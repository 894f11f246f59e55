package ipvs

import (
	"cmp"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func keys(ks ...Key) map[Key]bool {
	m := map[Key]bool{}
	for _, k := range ks {
		m[k] = true
	}
	return m
}

func TestDiff(t *testing.T) {
	full := []Service{
		svc(vip1, "rr", dr("198.51.100.10:3306", 1), dr("198.51.100.11:3306", 1)),
		svc(vip2, "wlc", dr("198.51.100.12:3306", 2)),
	}
	tests := []struct {
		name     string
		desired  []Service
		observed []Service
		managed  map[Key]bool
		want     []string
	}{
		{
			name:    "empty to full",
			desired: full,
			want: []string{
				"add service TCP 198.51.100.30:3306 rr",
				"add service TCP 198.51.100.31:3306 wlc",
				"add dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 route weight 1",
				"add dest TCP 198.51.100.30:3306 -> 198.51.100.11:3306 route weight 1",
				"add dest TCP 198.51.100.31:3306 -> 198.51.100.12:3306 route weight 2",
			},
		},
		{
			name:     "adopt identical table",
			desired:  full,
			observed: full,
		},
		{
			name:    "adopt identical table given in another order",
			desired: full,
			observed: []Service{
				svc(vip2, "wlc", dr("198.51.100.12:3306", 2)),
				svc(vip1, "rr", dr("198.51.100.11:3306", 1), dr("198.51.100.10:3306", 1)),
			},
		},
		{
			name:     "weight change",
			desired:  []Service{svc(vip1, "rr", dr("198.51.100.10:3306", 0))},
			observed: []Service{svc(vip1, "rr", dr("198.51.100.10:3306", 1))},
			want:     []string{"update dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 weight 1->0"},
		},
		{
			name:     "scheduler change updates in place",
			desired:  []Service{svc(vip1, "wlc", dr("198.51.100.10:3306", 1))},
			observed: []Service{svc(vip1, "rr", dr("198.51.100.10:3306", 1))},
			want:     []string{"update service TCP 198.51.100.30:3306 sched rr->wlc"},
		},
		{
			name:     "dest removed",
			desired:  []Service{svc(vip1, "rr", dr("198.51.100.10:3306", 1))},
			observed: []Service{svc(vip1, "rr", dr("198.51.100.10:3306", 1), dr("198.51.100.11:3306", 1))},
			want:     []string{"delete dest TCP 198.51.100.30:3306 -> 198.51.100.11:3306"},
		},
		{
			name:     "dest replaced: add before delete",
			desired:  []Service{svc(vip1, "rr", dr("198.51.100.11:3306", 1))},
			observed: []Service{svc(vip1, "rr", dr("198.51.100.10:3306", 1))},
			want: []string{
				"add dest TCP 198.51.100.30:3306 -> 198.51.100.11:3306 route weight 1",
				"delete dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306",
			},
		},
		{
			name:     "dest method change",
			desired:  []Service{svc(vip1, "rr", dr("198.51.100.10:3306", 1))},
			observed: []Service{svc(vip1, "rr", nat("198.51.100.10:3306", 1))},
			want:     []string{"update dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 method masq->route"},
		},
		{
			name:     "service removed from config but managed is deleted with one op",
			desired:  full[:1],
			observed: full,
			managed:  keys(vip1, vip2),
			want:     []string{"delete service TCP 198.51.100.31:3306"},
		},
		{
			name:     "managed, not desired, already gone",
			desired:  nil,
			observed: nil,
			managed:  keys(vip1),
		},
		{
			name:     "unmanaged service untouched",
			desired:  []Service{svc(vip1, "rr", dr("198.51.100.10:3306", 1))},
			observed: []Service{svc(vip1, "rr", dr("198.51.100.10:3306", 1)), svc(other, "wlc", nat("203.0.113.9:80", 1))},
			managed:  keys(vip1),
		},
		{
			name:    "desired keys are managed even if managed is nil",
			desired: []Service{svc(vip1, "rr")},
			observed: []Service{
				svc(vip1, "rr", dr("198.51.100.10:3306", 1)),
				svc(vip2, "rr", dr("198.51.100.10:3306", 1)),
			},
			want: []string{"delete dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306"},
		},
		{
			name:     "managed set to false is not managed",
			observed: []Service{svc(vip2, "rr")},
			managed:  map[Key]bool{vip2: false},
		},
		{
			name: "global order: service adds, updates, dest adds, updates, deletes, service deletes",
			desired: []Service{
				svc(vip1, "wlc", dr("198.51.100.10:3306", 2), dr("198.51.100.12:3306", 1)),
				svc(tcp("198.51.100.29:80"), "rr", dr("198.51.100.10:80", 1)),
			},
			observed: []Service{
				svc(vip1, "rr", dr("198.51.100.10:3306", 1), dr("198.51.100.11:3306", 1)),
				svc(vip2, "rr", dr("198.51.100.10:3306", 1)),
			},
			managed: keys(vip2),
			want: []string{
				"add service TCP 198.51.100.29:80 rr",
				"update service TCP 198.51.100.30:3306 sched rr->wlc",
				"add dest TCP 198.51.100.29:80 -> 198.51.100.10:80 route weight 1",
				"add dest TCP 198.51.100.30:3306 -> 198.51.100.12:3306 route weight 1",
				"update dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 weight 1->2",
				"delete dest TCP 198.51.100.30:3306 -> 198.51.100.11:3306",
				"delete service TCP 198.51.100.31:3306",
			},
		},
		{
			name:     "protocol is part of the key",
			desired:  []Service{svc(Key{Protocol: UDP, Addr: vip1.Addr}, "rr")},
			observed: []Service{svc(vip1, "rr")},
			managed:  keys(vip1),
			want: []string{
				"add service UDP 198.51.100.30:3306 rr",
				"delete service TCP 198.51.100.30:3306",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := Diff(tt.desired, tt.observed, tt.managed)
			var got []string
			for _, o := range ops {
				got = append(got, o.String())
				if o.Service.Dests != nil {
					t.Errorf("%s: op carries dests", o)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			// Applying the ops must make the managed part equal desired and
			// leave the rest alone.
			after := applyAll(tt.observed, ops)
			if ops2 := Diff(tt.desired, after, tt.managed); len(ops2) != 0 {
				t.Errorf("not converged, still %v", ops2)
			}
		})
	}
}

func TestDiffDoesNotMutateInputs(t *testing.T) {
	desired := []Service{svc(vip1, "rr", dr("198.51.100.11:3306", 1), dr("198.51.100.10:3306", 1))}
	observed := []Service{svc(vip1, "rr", dr("198.51.100.12:3306", 1), dr("198.51.100.10:3306", 1))}
	d0, o0 := cloneTable(desired), cloneTable(observed)
	Diff(desired, observed, nil)
	if !reflect.DeepEqual(desired, d0) || !reflect.DeepEqual(observed, o0) {
		t.Fatal("Diff changed its inputs")
	}
}

func applyAll(table []Service, ops []Op) []Service {
	table = cloneTable(table)
	for _, o := range ops {
		table = applyOp(table, o)
	}
	return table
}

// TestGroupByKind compares groupByKind with a stable sort by kind on
// random sequences of ops, each op told apart by its destination port.
func TestGroupByKind(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 200 {
		ops := make([]Op, n)
		var counts [DeleteService + 1]int
		kinds := 1 + rng.IntN(int(DeleteService))
		for i := range ops {
			k := OpKind(1 + rng.IntN(kinds))
			ops[i] = Op{Kind: k, Dest: Dest{Addr: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(i))}}
			counts[k]++
		}
		want := slices.Clone(ops)
		slices.SortStableFunc(want, func(a, b Op) int { return cmp.Compare(a.Kind, b.Kind) })
		groupByKind(ops, &counts)
		for i := range ops {
			if ops[i].Kind != want[i].Kind || ops[i].Dest.Addr != want[i].Dest.Addr {
				t.Fatalf("n=%d: at %d got %v %v, want %v %v", n, i, ops[i].Kind, ops[i].Dest.Addr, want[i].Kind, want[i].Dest.Addr)
			}
		}
	}
}
