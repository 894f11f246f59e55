package ipvs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Kernel is the kernel IPVS table as the Reconciler sees it.
type Kernel interface {
	// Dump returns the whole table in one pass (all services with their
	// destinations), sorted like Desired. It is the only read per sync:
	// kube-proxy's IPVS proxier once issued a GET per service and paid for
	// it at scale (kubernetes #95881).
	Dump() ([]Service, error)
	// Apply performs one operation. Errors name the operation and wrap the
	// kernel's errno, so errors.Is(err, unix.EEXIST) works.
	Apply(Op) error
}

// SyncStatus tells how the last sync went, for `lvsd status`.
type SyncStatus struct {
	// Managed are the keys lvsd owns, sorted.
	Managed []Key
	// Synced is when the last sync finished; zero before the first one.
	Synced time.Time
	// Err is the error of the last sync, nil if it succeeded.
	Err error
}

// Reconciler keeps the kernel table equal to the desired table: each Sync
// reads the kernel once, diffs and applies the difference. It is safe for
// concurrent use; kernel access is serialized.
type Reconciler struct {
	k   Kernel
	log *slog.Logger

	// now and ticker are replaced by tests (no sleeping, no real time).
	now    func() time.Time
	ticker func(time.Duration) (<-chan time.Time, func())

	syncMu sync.Mutex // held for a whole Sync or Cleanup

	mu      sync.Mutex // guards the fields below
	desired []Service
	// managed are the keys lvsd owns: every key ever desired, until a sync
	// has made the kernel agree with a desired table that no longer has it.
	managed map[Key]bool
	// keysGen counts the desired tables whose keys differ from the table
	// before; managedGen is its value when the managed keys were last
	// made the desired ones.
	keysGen, managedGen uint64
	// gen counts SetDesired calls; syncedGen is the gen of the last
	// successful sync. When they are equal and a sync still finds work, the
	// kernel drifted behind lvsd's back.
	gen, syncedGen uint64
	synced         bool
	// observed is the kernel table after the last sync: its dump with the
	// successfully applied ops folded in, unmanaged services included.
	observed []Service
	// lastDesired is the desired table the kernel was made to agree with
	// by the last sync, if that sync succeeded with no newer table pending;
	// nil otherwise. syncChanged diffs only what differs from it.
	lastDesired []Service
	status      SyncStatus
	// drains are the destinations being drained as of the last sync
	// (drain.go); their start times carry over from sync to sync.
	drains []Drain
	// drainPoll is how often Run syncs while something drains, so a
	// drained destination goes soon after its last connection.
	drainPoll time.Duration
	// to are the global timeouts kept by every sync (timeouts.go).
	to timeoutsState

	trigger chan struct{} // one pending "sync soon", coalesced

	// busy, if set, is called around each full sync of Run (SetBusy).
	busy func() (end func())
}

// SetBusy makes Run call f before each full sync (the first one and the
// periodic resyncs, which dump and diff the whole table) and the function
// f returns after it. The daemon uses it to give such a sync every CPU
// while its steady state runs on one. Call it before Run.
func (r *Reconciler) SetBusy(f func() (end func())) { r.busy = f }

// NewReconciler returns a Reconciler that programs k and logs to log. Its
// desired table starts empty, so it manages nothing until SetDesired.
func NewReconciler(k Kernel, log *slog.Logger) *Reconciler {
	return &Reconciler{
		k:         k,
		log:       log,
		now:       time.Now,
		ticker:    realTicker,
		managed:   make(map[Key]bool),
		trigger:   make(chan struct{}, 1),
		drainPoll: time.Second,
	}
}

func realTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// SetDesired replaces the desired table (Desired's output) and asks Run for
// a sync soon. Keys of earlier desired tables stay managed, so services
// removed from the config by a reload get deleted by the next sync instead
// of being left behind as if they belonged to someone else.
//
// A sorted table (Desired's output always is) is kept as given, not
// copied: at 10k services the copy was a whole table more in memory for
// as long as lvsd runs. The caller must not change it afterwards.
//
// A table with the keys of the last one, in the same order (a reload that
// changes weights, a health change), is known sorted and managed but for
// the destinations it does not share with the last table: at 10k services
// checking and marking it all again was a tenth of such a reload.
func (r *Reconciler) SetDesired(svcs []Service) {
	r.mu.Lock()
	prev := r.desired
	r.mu.Unlock()
	same := sameKeys(prev, svcs)
	if !(same && destsSortedBut(svcs, prev) || !same && tableSorted(svcs)) {
		svcs = cloneTable(svcs)
		sortTable(svcs)
	}
	r.mu.Lock()
	r.desired = svcs
	if !same {
		for _, s := range svcs {
			r.managed[s.Key] = true
		}
		r.keysGen++
	}
	r.gen++
	r.mu.Unlock()
	select {
	case r.trigger <- struct{}{}:
	default: // a sync is already pending; it will read the newest table
	}
}

// Sync reads the kernel table once, computes Diff against the desired table
// and applies the ops, logging each at Info. Ops found while the desired
// table is unchanged since the last successful sync mean someone (ipvsadm,
// a crash, another tool) changed the kernel: they are logged once more as
// "repaired" at Warn. The global timeouts are kept the same way
// (timeouts.go). Failing ops do not stop the others; their errors are
// joined. Ops on the destinations of a service whose add failed are
// skipped, the next sync retries them.
func (r *Reconciler) Sync() error {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()

	r.mu.Lock()
	desired := r.desired // never mutated, SetDesired replaces it
	managed := maps.Clone(r.managed)
	gen := r.gen
	steady := r.synced && r.syncedGen == gen
	r.mu.Unlock()

	observed, err := r.k.Dump()
	if err != nil {
		err = fmt.Errorf("ipvs dump: %w", err)
		r.finish(nil, err, false, gen)
		return err
	}
	eff, drains, ended := r.planDrains(desired, observed)
	r.mu.Lock()
	r.drains = drains
	r.mu.Unlock()
	// A new table is diffed and applied in pieces (pieces.go), so a
	// start from empty never holds all its ops at once.
	var table []Service
	var errs []error
	for _, p := range syncPieces(eff, observed, managed, !steady) {
		ops := Diff(p.desired, p.observed, p.managed)
		if steady && len(ops) > 0 {
			// A drain that ends deletes its destination: planned, not drift.
			var lines []string
			for _, o := range ops {
				if o.Kind == DeleteDest && slices.ContainsFunc(ended, func(e DrainEnd) bool {
					return e.Service == o.Service.Key && e.Dest == o.Dest.Addr
				}) {
					continue
				}
				lines = append(lines, o.String())
			}
			if len(lines) > 0 {
				r.log.Warn("repaired", "ops", len(lines), "changes", strings.Join(lines, "; "))
			}
		}
		part, err := r.apply(p.observed, ops)
		table = append(table, shareDests(part, p.desired)...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if terr := r.syncTimeouts(); terr != nil {
		errs = append(errs, terr)
	}
	err = nil
	if len(errs) == 1 {
		err = errs[0]
	} else if len(errs) > 1 {
		err = errors.Join(errs...)
	}
	r.finish(table, err, true, gen)
	return err
}

// syncChanged is Sync for a new desired table, scoped to what changed:
// the services whose desired entry differs from the table the last sync
// made the kernel agree with are diffed against that sync's outcome
// (r.observed: its dump with the applied ops folded in) instead of a fresh
// dump. At 10k services a full dump is one netlink round trip per service,
// while a reload that changes one weight needs one op.
//
// It falls back to a full Sync when it cannot trust that view: no
// successful sync of the previous table, drains in progress or starting
// (they need fresh connection counts), or an op failing (the kernel
// drifted; the full sync repairs it at once). Drift elsewhere in the
// table is the periodic resync's to repair, as before the reload.
func (r *Reconciler) syncChanged() error {
	r.syncMu.Lock()
	full := func() error {
		r.syncMu.Unlock()
		return r.Sync()
	}
	r.mu.Lock()
	desired, prev, observed, gen := r.desired, r.lastDesired, r.observed, r.gen
	scoped := prev != nil && r.synced && r.status.Err == nil && len(r.drains) == 0
	r.mu.Unlock()
	if !scoped {
		return full()
	}
	keys := changedKeys(prev, desired)
	want, have := pick(desired, keys), pick(observed, keys)
	eff, drains, ended := planDrain(want, have, nil, r.now())
	if len(drains) > 0 || len(ended) > 0 {
		return full()
	}
	r.mu.Lock()
	managed := make(map[Key]bool, len(keys))
	for _, k := range keys {
		if r.managed[k] {
			managed[k] = true
		}
	}
	r.mu.Unlock()
	ops := Diff(eff, have, managed)
	results, err := r.run(ops)
	part := shareDests(foldOps(cloneTable(have), ops, results), eff)
	r.finish(mergeScoped(observed, keys, part), err, true, gen)
	if err != nil {
		r.log.Warn("ipvs sync of changed services failed; syncing the whole table", "services", len(keys), "err", err)
		return full()
	}
	r.syncMu.Unlock()
	return nil
}

// planDrains runs planDrain with the start times of the drains in progress
// and logs drains that start and end.
func (r *Reconciler) planDrains(desired, observed []Service) ([]Service, []Drain, []DrainEnd) {
	r.mu.Lock()
	since := make(map[DestKey]time.Time, len(r.drains))
	for _, d := range r.drains {
		since[d.DestKey] = d.Since
	}
	r.mu.Unlock()
	eff, drains, ended := planDrain(desired, observed, since, r.now())
	for _, d := range drains {
		if _, ok := since[d.DestKey]; !ok {
			r.log.Info("draining", "vs", d.Service.String(), "rs", d.Dest.String(), "manual", d.Manual,
				"active_conns", d.ActiveConns, "inact_conns", d.InactConns, "deadline", d.Deadline)
		}
	}
	for _, e := range ended {
		r.log.Info("drained", "vs", e.Service.String(), "rs", e.Dest.String(), "manual", e.Manual, "reason", e.Reason,
			"active_conns", e.ActiveConns, "inact_conns", e.InactConns)
	}
	return eff, drains, ended
}

// Drains returns the destinations being drained as of the last sync, with
// their connection counts then.
func (r *Reconciler) Drains() []Drain {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.drains)
}

// apply runs ops in order (batched when the Kernel is a BatchApplier) and
// returns the observed table with the successful ones folded in.
func (r *Reconciler) apply(observed []Service, ops []Op) ([]Service, error) {
	results, err := r.run(ops)
	return foldOps(cloneTable(observed), ops, results), err
}

// run applies ops, logs them and returns each op's result and the joined
// errors.
func (r *Reconciler) run(ops []Op) ([]error, error) {
	results := applyOps(r.k, ops)
	var errs []error
	// A sync of more than opLogLimit ops (a first start on a large table)
	// logs its successful ops at Debug and a summary at Info: 110,000 Info
	// lines for 10k services would flood the journal, and formatting them
	// cost lvsd more than programming the kernel did.
	okLevel := slog.LevelInfo
	if len(ops) > opLogLimit {
		okLevel = slog.LevelDebug
	}
	logOK := r.log.Enabled(context.Background(), okLevel)
	failed := 0
	defer func() {
		if len(ops) > opLogLimit {
			r.log.Info("ipvs ops applied", "ops", len(ops), "failed", failed)
		}
	}()
	for i, o := range ops {
		err := results[i]
		if errors.Is(err, ErrSkipped) {
			continue
		}
		if err == nil && !logOK {
			continue
		}
		attrs := []any{"op", o.String(), "vs", o.Service.Key.String()}
		if o.Kind.isDest() {
			attrs = append(attrs, "rs", o.Dest.Addr.String())
		}
		if err != nil {
			r.log.Error("ipvs op failed", append(attrs, "err", err)...)
			errs = append(errs, err)
			failed++
			continue
		}
		r.log.Log(context.Background(), okLevel, "ipvs op", attrs...)
	}
	return results, errors.Join(errs...)
}

// opLogLimit is the number of ops a sync logs one by one at Info.
const opLogLimit = 100

// finish records the outcome of a sync. On success with the desired table
// unchanged meanwhile, keys no longer desired stop being managed: the kernel
// no longer has them, and a later service with the same key made by hand is
// not lvsd's to delete.
func (r *Reconciler) finish(table []Service, err error, dumped bool, gen uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if dumped {
		r.observed = table
	}
	r.status.Err = err
	r.status.Synced = r.now()
	r.lastDesired = nil
	if err == nil && gen == r.gen {
		r.synced, r.syncedGen = true, gen
		r.lastDesired = r.desired
		// The managed keys become the desired ones, unless they are
		// already: no desired table with other keys came since they
		// were (10k map writes per one-weight reload).
		if r.managedGen != r.keysGen || r.managedGen == 0 {
			clear(r.managed)
			for _, s := range r.desired {
				r.managed[s.Key] = true
			}
			r.managedGen = r.keysGen
		}
	}
}

// Run syncs at once, then whenever SetDesired changes the table and every
// interval (the periodic resync repairs manual ipvsadm changes and entries
// lost behind lvsd's back), until ctx is done; then it returns nil. Sync
// errors are logged and retried at the next trigger or tick. interval <= 0
// disables the periodic resync.
func (r *Reconciler) Run(ctx context.Context, interval time.Duration) error {
	var tick <-chan time.Time
	if interval > 0 {
		c, stop := r.ticker(interval)
		defer stop()
		tick = c
	}
	full := true
	for {
		if ctx.Err() != nil {
			return nil
		}
		sync := r.Sync
		if !full {
			sync = r.syncChanged
		}
		end := func() {}
		if full && r.busy != nil {
			end = r.busy()
		}
		err := sync()
		end()
		if err != nil {
			r.log.Error("ipvs sync failed", "err", err)
		}
		var poll <-chan time.Time
		stopPoll := func() {}
		r.mu.Lock()
		if len(r.drains) > 0 && r.drainPoll > 0 {
			poll, stopPoll = r.ticker(r.drainPoll)
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			stopPoll()
			return nil
		case <-r.trigger:
			// A new desired table: only what changed is synced. The
			// timer's resyncs keep dumping the whole kernel table.
			full = false
		case <-tick:
			full = true
		case <-poll:
			full = true
		}
		stopPoll()
	}
}

// Cleanup deletes every managed service from the kernel (on stop, unless
// the user asked to keep IPVS) and empties the desired table, so a Run that
// is still going does not put them back. Services lvsd does not manage are
// left alone. Keys whose delete failed stay managed.
func (r *Reconciler) Cleanup() error {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()

	r.mu.Lock()
	managed := maps.Clone(r.managed)
	for _, s := range r.desired {
		managed[s.Key] = true
	}
	r.desired = nil
	r.lastDesired = nil
	r.gen++
	r.mu.Unlock()

	observed, err := r.k.Dump()
	if err != nil {
		err = fmt.Errorf("ipvs dump: %w", err)
		r.finish(nil, err, false, 0)
		return err
	}
	table, err := r.apply(observed, Diff(nil, observed, managed))
	r.mu.Lock()
	r.observed = table
	r.status.Err = err
	r.status.Synced = r.now()
	clear(r.managed)
	for _, s := range table {
		if managed[s.Key] {
			r.managed[s.Key] = true
		}
	}
	r.mu.Unlock()
	return err
}

// Status returns the kernel table as of the last sync (a copy), including
// services lvsd does not manage; see SyncStatus for which ones it does.
func (r *Reconciler) Status() []Service {
	r.mu.Lock()
	defer r.mu.Unlock()
	return cloneTable(r.observed)
}

// SyncStatus returns how the last sync went and which keys are managed.
func (r *Reconciler) SyncStatus() SyncStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.status
	st.Managed = slices.SortedFunc(maps.Keys(r.managed), compareKeys)
	return st
}

// applyOp returns table with o applied, the way the kernel applies it. It
// keeps Status truthful without a second dump.
func applyOp(table []Service, o Op) []Service { return foldOps(table, []Op{o}, nil) }
