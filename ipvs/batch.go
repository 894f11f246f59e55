package ipvs

import (
	"errors"
	"fmt"
	"slices"
	"syscall"
)

// BatchApplier is a Kernel that applies many ops with few system calls
// (Netlink on Linux: many netlink messages per sendmsg). The Reconciler
// uses it when the Kernel has it.
type BatchApplier interface {
	// ApplyBatch applies ops in order, with the outcome of Apply called on
	// each: it returns one error per op, nil where the op succeeded, each
	// naming its op like Apply's. An op on the destinations of a service
	// whose AddService failed earlier in ops gets an error wrapping
	// ErrSkipped.
	ApplyBatch(ops []Op) []error
}

// ErrSkipped marks an op that was not applied because an earlier op of the
// same sync added its service and failed: it could not succeed, and the
// next sync retries it.
var ErrSkipped = errors.New("skipped: its service could not be added")

// opError wraps err the way Netlink.Apply does: "add service TCP
// 198.51.100.30:3306: file exists".
func opError(o Op, err error) error {
	what := o.Kind.String() + " " + o.Service.Key.String()
	if o.Kind.isDest() {
		what += " -> " + o.Dest.Addr.String()
	}
	if (o.Kind == AddService || o.Kind == UpdateService) && errors.Is(err, syscall.ENOENT) {
		// The kernel answers ENOENT when request_module("ip_vs_%s")
		// found no scheduler (ip_vs_sched.c): say which, instead of
		// a bare "no such file or directory".
		return fmt.Errorf("%s: scheduler %q is not available in this kernel (module ip_vs_%s missing or will not load): %w", what, o.Service.Sched, o.Service.Sched, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// applyOps applies ops through k, batched when k can, and returns one
// error per op. One by one, the ops on the destinations of a service whose
// add failed are not sent at all (ErrSkipped).
func applyOps(k Kernel, ops []Op) []error {
	if b, ok := k.(BatchApplier); ok {
		return b.ApplyBatch(ops)
	}
	errs := make([]error, len(ops))
	failedAdd := map[Key]bool{}
	for i, o := range ops {
		if o.Kind != AddService && failedAdd[o.Service.Key] {
			errs[i] = opError(o, ErrSkipped)
			continue
		}
		if errs[i] = k.Apply(o); errs[i] != nil && o.Kind == AddService {
			failedAdd[o.Service.Key] = true
		}
	}
	return errs
}

// foldOps returns table with the ops whose error is nil applied, the way
// the kernel applies them, and sorted (sortTable). It is applyOp for a
// whole sync in one pass: services are found through an index instead of a
// scan, and the table is sorted once instead of after every op (at 10k
// services x 10 destinations from empty, the per-op scan and sort took
// longer than programming the kernel).
func foldOps(table []Service, ops []Op, errs []error) []Service {
	idx := make(map[Key]int, len(table))
	for i, s := range table {
		idx[s.Key] = i
	}
	deleted := make([]bool, len(table), len(table)+len(ops))
	// How many destinations each service gains: a service's slice grows
	// once, to its final size, instead of doubling through 1, 2, 4, 8 and
	// 16 entries (from empty at 10k services x 10 that was 36 MB of
	// garbage for a 9 MB table, in the middle of the start's peak).
	adds := map[Key]int{}
	for n, o := range ops {
		if o.Kind == AddDest && (errs == nil || errs[n] == nil) {
			adds[o.Service.Key]++
		}
	}
	for n, o := range ops {
		if errs != nil && errs[n] != nil {
			continue
		}
		i, ok := idx[o.Service.Key]
		switch o.Kind {
		case AddService:
			if !ok {
				idx[o.Service.Key] = len(table)
				table = append(table, bare(o.Service))
				deleted = append(deleted, false)
			}
		case UpdateService:
			if ok {
				table[i].Sched = o.Service.Sched
				table[i].Persistence = o.Service.Persistence
				table[i].Flags = o.Service.Flags
			}
		case DeleteService:
			if ok {
				deleted[i] = true
				delete(idx, o.Service.Key)
			}
		case AddDest, UpdateDest, DeleteDest:
			if !ok {
				break
			}
			ds := slices.DeleteFunc(table[i].Dests, func(d Dest) bool { return d.Addr == o.Dest.Addr })
			if o.Kind != DeleteDest {
				if len(ds) == cap(ds) {
					ds = slices.Grow(ds, max(1, adds[o.Service.Key]))
				}
				ds = append(ds, o.Dest)
			}
			if o.Kind == AddDest {
				adds[o.Service.Key]--
			}
			table[i].Dests = ds
		}
	}
	out := table[:0]
	for i, s := range table {
		if !deleted[i] {
			// Destinations added one by one got room for more (16
			// for 10): the table is kept until the next sync, so
			// keep it exactly sized.
			if cap(s.Dests) > len(s.Dests)+len(s.Dests)/4 {
				s.Dests = slices.Clone(s.Dests)
			}
			out = append(out, s)
		}
	}
	clear(table[len(out):])
	sortTable(out)
	return out
}

// shareDests points each service of observed (a sync's outcome, sorted by
// sortTable) whose destinations equal, field for field, those of the same
// service in desired (sorted by key) at desired's slice, and drops its own.
// After a sync the two tables mostly agree, and kept apart they held the
// same ~9 MB twice at 10k services x 10. Sharing is safe because neither
// side is written in place: the desired table is never mutated
// (SetDesired replaces it) and the observed one only through foldOps on a
// cloneTable copy.
func shareDests(observed, desired []Service) []Service {
	j := 0
	for i := range observed {
		for j < len(desired) && compareKeys(desired[j].Key, observed[i].Key) < 0 {
			j++
		}
		if j == len(desired) {
			break
		}
		if desired[j].Key == observed[i].Key && len(desired[j].Dests) > 0 && slices.Equal(desired[j].Dests, observed[i].Dests) {
			observed[i].Dests = desired[j].Dests
		}
	}
	return observed
}
