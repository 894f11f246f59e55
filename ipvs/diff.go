package ipvs

import (
	"slices"
)

// Diff computes the operations that turn the observed kernel table into the
// desired one. It is pure: it only reads its arguments.
//
// Only managed services are considered: a key of desired is always managed,
// and managed adds keys lvsd owned before (for example services removed from
// the config by a reload), which are deleted when observed but no longer
// desired. Observed services that are not managed belong to someone else
// and are never touched.
//
// The ops are minimal: a service whose scheduler, flags or persistence differs is
// updated in place (deleting and re-adding it would drop every connection), a
// destination whose weight, method or thresholds differ is updated, and a service that
// goes away is deleted with one op (the kernel removes its destinations).
//
// The order is deterministic: all service adds, service updates, dest adds,
// dest updates, dest deletes, then service deletes; within each group by
// service key, then by destination address. Adding a service before its
// destinations is what the kernel requires; adding destinations before
// deleting others means a replaced real server never leaves a service
// without any destination in between.
func Diff(desired, observed []Service, managed map[Key]bool) []Op {
	want := indexTable(desired)
	have := indexTable(observed)

	keys := make([]Key, 0, len(want)+len(managed))
	for k := range want {
		keys = append(keys, k)
	}
	for k, ok := range managed {
		if _, dup := want[k]; ok && !dup {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, compareKeys)

	// One slice sized for the common worst case (every desired service and
	// destination added), then a stable sort by kind: per-kind slices grown
	// by append allocated about five times the result at 10k services.
	hint := len(observed)
	for _, w := range desired {
		hint += 1 + len(w.Dests)
	}
	var ops []Op
	var kinds [DeleteService + 1]int // ops of each kind
	emit := func(o Op) {
		if ops == nil { // a steady-state resync allocates nothing here
			ops = make([]Op, 0, hint)
		}
		ops = append(ops, o)
		kinds[o.Kind]++
	}

	for _, k := range keys {
		w, wok := want[k]
		h, hok := have[k]
		switch {
		case !wok && !hok:
			// Managed, not desired and already gone: nothing to do.
		case !wok:
			emit(Op{Kind: DeleteService, Service: bare(h)})
		case !hok:
			emit(Op{Kind: AddService, Service: bare(w)})
			for _, d := range w.Dests {
				emit(Op{Kind: AddDest, Service: bare(w), Dest: d.kernelPart()})
			}
		default:
			if w.Sched != h.Sched || w.Persistence != h.Persistence || w.Flags != h.Flags {
				emit(Op{Kind: UpdateService, Service: bare(w), Old: &OpOld{Sched: h.Sched, Persistence: h.Persistence, Flags: h.Flags}})
			}
			diffDests(w, h, emit)
		}
	}

	groupByKind(ops, &kinds)
	return ops
}

// groupByKind orders ops by kind, keeping their order within a kind (a
// stable sort on a key of six values): counts gives each kind's place,
// and each op is then moved once, by swaps along the cycles of the
// permutation. A comparison sort moved each 256-byte op log n times; at
// 10k services from empty it was two thirds of Diff, on the path of the
// first sync.
func groupByKind(ops []Op, counts *[DeleteService + 1]int) {
	var next [DeleteService + 1]int // where the next op of each kind goes
	at, present := 0, 0
	for k, n := range counts {
		next[k] = at
		at += n
		if n > 0 {
			present++
		}
	}
	if present < 2 {
		return
	}
	to := make([]int32, len(ops))
	sorted := true
	for i := range ops {
		k := ops[i].Kind
		to[i] = int32(next[k])
		next[k]++
		sorted = sorted && to[i] == int32(i)
	}
	if sorted {
		return
	}
	for i := range ops {
		for j := int(to[i]); j != i; j = int(to[i]) {
			ops[i], ops[j] = ops[j], ops[i]
			to[i], to[j] = to[j], to[i]
		}
	}
}

// diffDests emits the destination ops of one service present on both sides.
// Both destination lists are sorted by address (indexTable sorts them), so
// one merge walk finds adds, updates and deletes without building maps: at
// 10k services a resync would otherwise allocate two maps per service.
func diffDests(w, h Service, emit func(Op)) {
	svc := bare(w)
	i, j := 0, 0
	for i < len(w.Dests) || j < len(h.Dests) {
		var c int
		switch {
		case i == len(w.Dests):
			c = 1
		case j == len(h.Dests):
			c = -1
		default:
			c = w.Dests[i].Addr.Compare(h.Dests[j].Addr)
		}
		switch {
		case c < 0:
			emit(Op{Kind: AddDest, Service: svc, Dest: w.Dests[i].kernelPart()})
			i++
		case c > 0:
			emit(Op{Kind: DeleteDest, Service: svc, Dest: h.Dests[j]})
			j++
		default:
			if w.Dests[i].kernelPart() != h.Dests[j].kernelPart() {
				emit(Op{Kind: UpdateDest, Service: svc, Dest: w.Dests[i].kernelPart(), Old: &OpOld{Dest: h.Dests[j]}})
			}
			i++
			j++
		}
	}
}

// bare is a service without its destinations, as carried by an Op.
func bare(s Service) Service {
	s.Dests, s.Down, s.DrainTimeout = nil, nil, 0
	return s
}

// indexTable maps each key to its service with destinations sorted by
// address, so Diff does not depend on the order its inputs come in.
func indexTable(svcs []Service) map[Key]Service {
	m := make(map[Key]Service, len(svcs))
	for _, s := range svcs {
		if _, dup := m[s.Key]; dup {
			continue
		}
		// Both inputs normally come sorted (Desired, SetDesired and Dump
		// sort): a copy only for a list that is not, so a sync at 10k
		// services does not copy both tables once more.
		byAddr := func(a, b Dest) int { return a.Addr.Compare(b.Addr) }
		if !slices.IsSortedFunc(s.Dests, byAddr) {
			s.Dests = slices.Clone(s.Dests)
			slices.SortFunc(s.Dests, byAddr)
		}
		m[s.Key] = s
	}
	return m
}
