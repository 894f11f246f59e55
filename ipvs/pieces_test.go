package ipvs

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestSyncPiecesSameOpsAsWhole: the pieces partition both tables, and
// their ops together are the whole table's ops (adds, updates, deletes of
// destinations and of services only observed), each once.
func TestSyncPiecesSameOpsAsWhole(t *testing.T) {
	desired := foldTable(2*pieceServices+500, 3, 1)
	// Observed: every third desired service absent, every fifth with
	// another weight and a destination less, plus managed services that
	// are no longer desired, spread over the whole key range.
	var observed []Service
	managed := map[Key]bool{}
	for i, s := range cloneTable(desired) {
		managed[s.Key] = true
		switch {
		case i%3 == 0:
			continue
		case i%5 == 0:
			s.Dests[0].Weight = 9
			s.Dests = s.Dests[:2]
		}
		observed = append(observed, s)
	}
	for i, s := range foldTable(3*pieceServices, 1, 1)[len(desired):] {
		if i%100 == 0 {
			managed[s.Key] = true
			observed = append(observed, s)
		}
	}
	sortTable(observed)

	ps := syncPieces(desired, observed, managed, true)
	if len(ps) != 3 {
		t.Fatalf("%d pieces, want 3", len(ps))
	}
	var d, o []Service
	var got []string
	for _, p := range ps {
		d = append(d, p.desired...)
		o = append(o, p.observed...)
		for _, op := range Diff(p.desired, p.observed, p.managed) {
			if len(p.managed) > len(p.observed) {
				t.Fatalf("a piece got %d managed keys for %d observed services", len(p.managed), len(p.observed))
			}
			got = append(got, op.String())
		}
	}
	if !reflect.DeepEqual(d, desired) || !reflect.DeepEqual(o, observed) {
		t.Fatal("pieces do not partition the tables")
	}
	var want []string
	for _, op := range Diff(desired, observed, managed) {
		want = append(want, op.String())
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("pieces give %d ops, the whole table %d", len(got), len(want))
	}
	if len(want) < len(desired) {
		t.Fatalf("only %d ops: the test tables hardly differ", len(want))
	}

	for _, c := range []struct {
		name              string
		desired, observed []Service
		split             bool
	}{
		{"resync", desired, observed, false},
		{"small", desired[:pieceServices], observed, true},
		{"unsorted observed", desired, append(slices.Clone(observed[1:]), observed[0]), true},
	} {
		if ps := syncPieces(c.desired, c.observed, managed, c.split); len(ps) != 1 {
			t.Errorf("%s: %d pieces, want 1", c.name, len(ps))
		}
	}
}

// TestSyncFromEmptyInPieces: a start from empty larger than a piece ends
// with the whole table in the kernel and in Status, and one summary line
// per piece.
func TestSyncFromEmptyInPieces(t *testing.T) {
	k := newFake()
	r, logs := newTestReconciler(k)
	want := foldTable(2*pieceServices+100, 2, 1) // the last piece: 300 ops
	r.SetDesired(want)
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := k.tableCopy(); !equalKernelTables(got, want) {
		t.Fatalf("kernel has %d services, want %d", len(got), len(want))
	}
	if got := r.Status(); !equalKernelTables(got, want) {
		t.Fatalf("status has %d services, want %d", len(got), len(want))
	}
	n := 0
	for _, l := range logs.take() {
		if strings.HasPrefix(l, "INFO ipvs ops applied") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d summary lines, want one per piece (3)", n)
	}
	// Nothing left to do: the next sync is a quiet resync.
	if ops := k.takeApplied(); len(ops) != 3*len(want) {
		t.Fatalf("start applied %d ops, want %d", len(ops), 3*len(want))
	}
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if ops := k.takeApplied(); len(ops) != 0 {
		t.Fatalf("resync applied %d ops", len(ops))
	}
}

func equalKernelTables(a, b []Service) bool {
	a, b = cloneTable(a), cloneTable(b)
	sortTable(a)
	sortTable(b)
	for _, t := range [][]Service{a, b} {
		for i := range t {
			t[i].Down, t[i].DrainTimeout = nil, 0
			for j := range t[i].Dests {
				t[i].Dests[j] = t[i].Dests[j].kernelPart()
			}
		}
	}
	return reflect.DeepEqual(a, b)
}
