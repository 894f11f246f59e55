package ipvs

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// foldTable is n services x d destinations, the benchmark's shape.
func foldTable(n, d, weight int) []Service {
	out := make([]Service, n)
	for i := range out {
		out[i] = Service{Key: Key{Protocol: TCP, Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(1 + i%250)}), uint16(1000+i/250))}, Sched: "wrr"}
		for j := range d {
			out[i].Dests = append(out[i].Dests, Dest{Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + j)}), 80), Weight: weight, Method: NAT})
		}
	}
	sortTable(out)
	return out
}

// TestFoldOpsMatchesOneByOne: folding a whole sync's ops at once gives the
// table that applying them one by one gives, failed ops left out.
func TestFoldOpsMatchesOneByOne(t *testing.T) {
	cases := []struct{ desired, observed []Service }{
		{foldTable(300, 4, 1), nil},
		{foldTable(300, 4, 2), foldTable(300, 4, 1)},
		{foldTable(100, 2, 1), foldTable(300, 4, 1)},
		{nil, foldTable(50, 3, 1)},
		{append(foldTable(10, 1, 1), config1...), config1[:1]},
	}
	for n, tc := range cases {
		sortTable(tc.desired)
		managed := map[Key]bool{}
		for _, s := range append(cloneTable(tc.desired), tc.observed...) {
			managed[s.Key] = true
		}
		ops := Diff(tc.desired, tc.observed, managed)
		if got, want := foldOps(cloneTable(tc.observed), ops, nil), applyAll(tc.observed, ops); !reflect.DeepEqual(got, want) {
			t.Errorf("case %d: fold differs from one by one", n)
		}
		if got := foldOps(cloneTable(tc.observed), ops, nil); len(tc.desired) > 0 && !reflect.DeepEqual(got, tc.desired) {
			t.Errorf("case %d: fold of Diff is not the desired table", n)
		}
		// Every third op fails: the fold leaves exactly those out.
		errs := make([]error, len(ops))
		var ok []Op
		for i := range ops {
			if i%3 == 0 {
				errs[i] = errors.New("EEXIST")
			} else {
				ok = append(ok, ops[i])
			}
		}
		if got, want := foldOps(cloneTable(tc.observed), ops, errs), applyAll(tc.observed, ok); !reflect.DeepEqual(got, want) {
			t.Errorf("case %d: fold with failures differs from one by one", n)
		}
	}
}

// skipKernel fails every AddService of one key and records what was sent.
type skipKernel struct {
	bad  Key
	sent []Op
}

func (k *skipKernel) Dump() ([]Service, error) { return nil, nil }
func (k *skipKernel) Apply(o Op) error {
	k.sent = append(k.sent, o)
	if o.Kind == AddService && o.Service.Key == k.bad {
		return opError(o, fmt.Errorf("file exists"))
	}
	return nil
}

func TestApplyOpsSkipsDestsOfFailedAdd(t *testing.T) {
	want := foldTable(3, 2, 1)
	ops := Diff(want, nil, nil)
	k := &skipKernel{bad: want[1].Key}
	errs := applyOps(k, ops)
	for i, o := range ops {
		switch {
		case o.Service.Key != k.bad:
			if errs[i] != nil {
				t.Errorf("%s: %v", o, errs[i])
			}
		case o.Kind == AddService:
			if errs[i] == nil || errors.Is(errs[i], ErrSkipped) {
				t.Errorf("%s: %v, want the kernel's error", o, errs[i])
			}
		default:
			if !errors.Is(errs[i], ErrSkipped) {
				t.Errorf("%s: %v, want skipped", o, errs[i])
			}
		}
	}
	if len(k.sent) != len(ops)-2 {
		t.Errorf("sent %d ops, want %d (the failed service's 2 dests not sent)", len(k.sent), len(ops)-2)
	}
}

// TestReconcilerLogsLargeSyncsAsSummary: a sync of more than opLogLimit
// ops logs each success at Debug only and one Info summary; failures stay
// Errors, one each.
func TestReconcilerLogsLargeSyncsAsSummary(t *testing.T) {
	k := newFake()
	r, logs := newTestReconciler(k)
	r.SetDesired(foldTable(60, 2, 1)) // 180 ops
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	var info, debug int
	for _, l := range logs.take() {
		switch {
		case strings.HasPrefix(l, "INFO ipvs op "):
			info++
		case strings.HasPrefix(l, "DEBUG ipvs op "):
			debug++
		case l == `INFO ipvs ops applied ops="180" failed="0"`:
			info += 1000
		default:
			t.Errorf("unexpected line %s", l)
		}
	}
	if info != 1000 || debug != 180 {
		t.Errorf("%d info (1000 = the summary alone), %d debug lines", info, debug)
	}
}

// TestFoldOpsSizesOnce: destinations added to a new service get a slice of
// exactly their number (grown once, not by doubling).
func TestFoldOpsSizesOnce(t *testing.T) {
	desired := foldTable(20, 10, 1)
	ops := Diff(desired, nil, nil)
	got := foldOps(nil, ops, nil)
	for _, s := range got {
		if len(s.Dests) != 10 || cap(s.Dests) != 10 {
			t.Fatalf("%s: %d destinations in a slice of cap %d, want 10 in 10", s.Key, len(s.Dests), cap(s.Dests))
		}
	}
	// A failed add leaves a slice sized for what was added.
	errs := make([]error, len(ops))
	for i, o := range ops {
		if o.Kind == AddDest && i%10 == 3 {
			errs[i] = errors.New("EEXIST")
		}
	}
	for _, s := range foldOps(nil, ops, errs) {
		if cap(s.Dests) > len(s.Dests)+len(s.Dests)/4 {
			t.Fatalf("%s: %d destinations in a slice of cap %d", s.Key, len(s.Dests), cap(s.Dests))
		}
	}
}

// TestShareDests: a service whose destinations equal the desired ones
// shares the desired slice; one that differs, or is not desired, keeps
// its own; the table is otherwise unchanged.
func TestShareDests(t *testing.T) {
	desired := foldTable(6, 3, 1)
	observed := cloneTable(desired)
	observed[1].Dests[0].Weight = 7      // differs
	observed[2].Dests[1].ActiveConns = 4 // an observed-only field differs too
	extra := Service{Key: Key{Protocol: UDP, Addr: netip.MustParseAddrPort("203.0.113.9:53")}, Sched: "rr", Dests: []Dest{{Addr: netip.MustParseAddrPort("198.51.100.9:53"), Weight: 1, Method: NAT}}}
	observed = append(observed, extra)
	sortTable(observed)
	want := cloneTable(observed)
	got := shareDests(observed, desired[:5]) // desired[5] is left out
	if !reflect.DeepEqual(got, want) {
		t.Fatal("shareDests changed the table's values")
	}
	for _, s := range got {
		i := slices.IndexFunc(desired, func(d Service) bool { return d.Key == s.Key })
		shared := i >= 0 && i < 5 && &s.Dests[0] == &desired[i].Dests[0]
		wantShared := i >= 0 && i < 5 && i != 1 && i != 2
		if shared != wantShared {
			t.Errorf("%s (desired %d): shared %v, want %v", s.Key, i, shared, wantShared)
		}
	}
}
