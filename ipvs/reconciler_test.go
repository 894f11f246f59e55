package ipvs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeKernel is an in-memory IPVS table that answers like the kernel does
// (EEXIST, ESRCH for a missing service, ENOENT for a missing dest).
type fakeKernel struct {
	mu      sync.Mutex
	table   map[Key]Service
	dumps   int
	applied []string
	failOn  map[string]error // op string -> error to return
	dumpErr error
	dumped  chan struct{} // if set, signalled after every Dump
	onDump  func()        // if set, called in every Dump
}

var _ Kernel = (*fakeKernel)(nil)

func newFake(svcs ...Service) *fakeKernel {
	f := &fakeKernel{table: map[Key]Service{}, failOn: map[string]error{}}
	for _, s := range svcs {
		f.table[s.Key] = s
	}
	return f
}

func (f *fakeKernel) Dump() ([]Service, error) {
	f.mu.Lock()
	f.dumps++
	var out []Service
	for _, s := range f.table {
		out = append(out, s)
	}
	err := f.dumpErr
	f.mu.Unlock()
	if f.onDump != nil {
		f.onDump()
	}
	if f.dumped != nil {
		f.dumped <- struct{}{}
	}
	if err != nil {
		return nil, err
	}
	out = cloneTable(out)
	sortTable(out)
	return out, nil
}

func (f *fakeKernel) Apply(o Op) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failOn[o.String()]; err != nil {
		return fmt.Errorf("%s: %w", o, err)
	}
	err := f.apply(o)
	if err != nil {
		return fmt.Errorf("%s: %w", o, err)
	}
	f.applied = append(f.applied, o.String())
	return nil
}

func (f *fakeKernel) apply(o Op) error {
	s, ok := f.table[o.Service.Key]
	switch {
	case o.Kind == AddService && ok:
		return unix.EEXIST
	case o.Kind == AddService:
		f.table[o.Service.Key] = bare(o.Service)
		return nil
	case !ok:
		return unix.ESRCH
	}
	i := -1
	for j, d := range s.Dests {
		if d.Addr == o.Dest.Addr {
			i = j
		}
	}
	switch o.Kind {
	case UpdateService:
		s.Sched, s.Persistence = o.Service.Sched, o.Service.Persistence
	case DeleteService:
		delete(f.table, o.Service.Key)
		return nil
	case AddDest:
		if i >= 0 {
			return unix.EEXIST
		}
		s.Dests = append(s.Dests, o.Dest)
	case UpdateDest:
		if i < 0 {
			return unix.ENOENT
		}
		// The kernel keeps a destination's connections on update.
		d := o.Dest
		d.ActiveConns, d.InactConns = s.Dests[i].ActiveConns, s.Dests[i].InactConns
		s.Dests[i] = d
	case DeleteDest:
		if i < 0 {
			return unix.ENOENT
		}
		s.Dests = append(s.Dests[:i:i], s.Dests[i+1:]...)
	}
	f.table[o.Service.Key] = s
	return nil
}

func (f *fakeKernel) tableCopy() []Service {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Service
	for _, s := range f.table {
		out = append(out, s)
	}
	out = cloneTable(out)
	sortTable(out)
	return out
}

func (f *fakeKernel) takeApplied() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.applied
	f.applied = nil
	return a
}

// logRecorder is a slog.Handler that keeps "LEVEL msg k=v ..." lines.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%q", a.Key, a.Value.String())
		return true
	})
	l.mu.Lock()
	l.lines = append(l.lines, b.String())
	l.mu.Unlock()
	return nil
}

func (l *logRecorder) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}

func (l *logRecorder) has(level slog.Level, msg string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.HasPrefix(s, level.String()+" "+msg) {
			return true
		}
	}
	return false
}

var epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func newTestReconciler(k Kernel) (*Reconciler, *logRecorder) {
	rec := &logRecorder{}
	r := NewReconciler(k, slog.New(rec))
	r.now = func() time.Time { return epoch }
	return r, rec
}

var config1 = []Service{
	svc(vip1, "rr", dr("198.51.100.10:3306", 1), dr("198.51.100.11:3306", 1)),
	svc(vip2, "wlc", dr("198.51.100.12:3306", 1)),
}

func TestReconcilerProgramsEmptyKernel(t *testing.T) {
	k := newFake()
	r, logs := newTestReconciler(k)
	r.SetDesired(config1)
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := k.tableCopy(); !reflect.DeepEqual(got, config1) {
		t.Fatalf("kernel %+v, want %+v", got, config1)
	}
	lines := logs.take()
	want := `INFO ipvs op op="add dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 route weight 1" vs="TCP 198.51.100.30:3306" rs="198.51.100.10:3306"`
	if !contains(lines, want) {
		t.Errorf("missing log line %s in\n%s", want, strings.Join(lines, "\n"))
	}
	if len(lines) != 5 {
		t.Errorf("want one Info line per op (5), got\n%s", strings.Join(lines, "\n"))
	}
	st := r.SyncStatus()
	if !reflect.DeepEqual(r.Status(), config1) || st.Err != nil || !st.Synced.Equal(epoch) {
		t.Errorf("status %+v %+v", r.Status(), st)
	}
	if !reflect.DeepEqual(st.Managed, []Key{vip1, vip2}) {
		t.Errorf("managed %v", st.Managed)
	}
}

func TestReconcilerAdoptsWithoutOps(t *testing.T) {
	k := newFake(cloneTable(config1)...)
	r, logs := newTestReconciler(k)
	r.SetDesired(config1)
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if a := k.takeApplied(); len(a) != 0 {
		t.Errorf("adoption applied %v", a)
	}
	if l := logs.take(); len(l) != 0 {
		t.Errorf("adoption logged %v", l)
	}
}

func TestReconcilerRepairsDrift(t *testing.T) {
	k := newFake()
	r, logs := newTestReconciler(k)
	r.SetDesired(config1)
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	k.takeApplied()
	logs.take()

	// A steady sync does nothing.
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if a := k.takeApplied(); len(a) != 0 {
		t.Fatalf("steady sync applied %v", a)
	}

	// Someone runs ipvsadm -d and ipvsadm -e behind lvsd's back.
	k.mu.Lock()
	s := k.table[vip1]
	s.Dests = []Dest{dr("198.51.100.10:3306", 7)}
	k.table[vip1] = s
	delete(k.table, vip2)
	k.mu.Unlock()

	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := k.tableCopy(); !reflect.DeepEqual(got, config1) {
		t.Fatalf("not repaired: %+v", got)
	}
	want := []string{
		"add service TCP 198.51.100.31:3306 wlc",
		"add dest TCP 198.51.100.30:3306 -> 198.51.100.11:3306 route weight 1",
		"add dest TCP 198.51.100.31:3306 -> 198.51.100.12:3306 route weight 1",
		"update dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 weight 7->1",
	}
	if a := k.takeApplied(); !reflect.DeepEqual(a, want) {
		t.Errorf("applied %v", a)
	}
	if !logs.has(slog.LevelWarn, "repaired") {
		t.Errorf("no repaired warning in %v", logs.take())
	}
}

func TestReconcilerChangeIsNotDrift(t *testing.T) {
	k := newFake()
	r, logs := newTestReconciler(k)
	r.SetDesired(config1)
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	logs.take()
	// A health change: db2 goes down.
	r.SetDesired([]Service{config1[0], svc(vip2, "wlc")})
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if logs.has(slog.LevelWarn, "repaired") {
		t.Error("a desired change was logged as repaired drift")
	}
	if a := k.takeApplied(); a[len(a)-1] != "delete dest TCP 198.51.100.31:3306 -> 198.51.100.12:3306" {
		t.Errorf("applied %v", a)
	}
}

func TestReconcilerReloadDeletesRemovedService(t *testing.T) {
	k := newFake(svc(other, "wlc", nat("203.0.113.9:80", 1)))
	r, _ := newTestReconciler(k)
	r.SetDesired(config1)
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	r.SetDesired(config1[:1]) // reload without vip2
	if got := r.SyncStatus().Managed; !reflect.DeepEqual(got, []Key{vip1, vip2}) {
		t.Errorf("managed before sync %v", got)
	}
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	want := []Service{config1[0], svc(other, "wlc", nat("203.0.113.9:80", 1))}
	if got := k.tableCopy(); !reflect.DeepEqual(got, want) {
		t.Fatalf("kernel %+v", got)
	}
	// Once gone, vip2 is no longer lvsd's: a hand-made vip2 stays.
	if got := r.SyncStatus().Managed; !reflect.DeepEqual(got, []Key{vip1}) {
		t.Errorf("managed after sync %v", got)
	}
	k.mu.Lock()
	k.table[vip2] = svc(vip2, "rr")
	k.mu.Unlock()
	k.takeApplied()
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if a := k.takeApplied(); len(a) != 0 {
		t.Errorf("touched a service it no longer manages: %v", a)
	}
}

func TestReconcilerErrors(t *testing.T) {
	k := newFake(svc(vip1, "rr")) // vip1 exists, so "add service" of it is never issued
	k.failOn["add service TCP 198.51.100.31:3306 wlc"] = unix.ENOMEM
	k.failOn["add dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 route weight 1"] = unix.EINVAL
	r, logs := newTestReconciler(k)
	r.SetDesired(config1)
	err := r.Sync()
	if !errors.Is(err, unix.ENOMEM) || !errors.Is(err, unix.EINVAL) {
		t.Fatalf("err %v does not keep both errnos", err)
	}
	if !strings.Contains(err.Error(), "add service TCP 198.51.100.31:3306") {
		t.Errorf("err %q does not name the op", err)
	}
	// The other dest of vip1 went in; vip2's dests were skipped.
	want := []string{"add dest TCP 198.51.100.30:3306 -> 198.51.100.11:3306 route weight 1"}
	if a := k.takeApplied(); !reflect.DeepEqual(a, want) {
		t.Errorf("applied %v", a)
	}
	if !logs.has(slog.LevelError, "ipvs op failed") {
		t.Error("failed op not logged")
	}
	st := r.SyncStatus()
	if st.Err == nil || !reflect.DeepEqual(r.Status(), []Service{svc(vip1, "rr", dr("198.51.100.11:3306", 1))}) {
		t.Errorf("status %+v %+v", r.Status(), st)
	}

	// The failure is not "steady state": the retry is not drift.
	clear(k.failOn)
	logs.take()
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if logs.has(slog.LevelWarn, "repaired") {
		t.Error("retry after failure logged as repaired")
	}
	if got := k.tableCopy(); !reflect.DeepEqual(got, config1) {
		t.Errorf("kernel %+v", got)
	}

	k.dumpErr = unix.EPERM
	if err := r.Sync(); !errors.Is(err, unix.EPERM) {
		t.Errorf("dump error %v", err)
	}
	if st := r.SyncStatus(); !errors.Is(st.Err, unix.EPERM) || !reflect.DeepEqual(r.Status(), config1) {
		t.Errorf("status after dump error %+v %+v", r.Status(), st)
	}
}

func TestReconcilerCleanup(t *testing.T) {
	foreign := svc(other, "wlc", nat("203.0.113.9:80", 1))
	k := newFake(foreign)
	r, _ := newTestReconciler(k)
	r.SetDesired(config1)
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	k.takeApplied()
	if err := r.Cleanup(); err != nil {
		t.Fatal(err)
	}
	want := []string{"delete service TCP 198.51.100.30:3306", "delete service TCP 198.51.100.31:3306"}
	if a := k.takeApplied(); !reflect.DeepEqual(a, want) {
		t.Errorf("applied %v", a)
	}
	if got := k.tableCopy(); !reflect.DeepEqual(got, []Service{foreign}) {
		t.Errorf("kernel %+v", got)
	}
	if st := r.SyncStatus(); len(st.Managed) != 0 || !reflect.DeepEqual(r.Status(), []Service{foreign}) {
		t.Errorf("status %+v %+v", r.Status(), st)
	}
	// A later sync (Run still going) does not put them back.
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if a := k.takeApplied(); len(a) != 0 {
		t.Errorf("sync after cleanup applied %v", a)
	}
}

func TestReconcilerCleanupFailureKeepsKey(t *testing.T) {
	k := newFake()
	r, _ := newTestReconciler(k)
	r.SetDesired(config1)
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	k.failOn["delete service TCP 198.51.100.31:3306"] = unix.EBUSY
	if err := r.Cleanup(); !errors.Is(err, unix.EBUSY) {
		t.Fatalf("err %v", err)
	}
	if got := r.SyncStatus().Managed; !reflect.DeepEqual(got, []Key{vip2}) {
		t.Errorf("managed %v", got)
	}
	clear(k.failOn)
	if err := r.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if got := k.tableCopy(); len(got) != 0 {
		t.Errorf("kernel %+v", got)
	}
}

func TestReconcilerRun(t *testing.T) {
	k := newFake()
	k.dumped = make(chan struct{})
	r, _ := newTestReconciler(k)
	tick := make(chan time.Time)
	stopped := make(chan struct{})
	r.ticker = func(d time.Duration) (<-chan time.Time, func()) {
		if d != time.Minute {
			t.Errorf("interval %v", d)
		}
		return tick, func() { close(stopped) }
	}
	// busy is active around full syncs only: seen is its count at each
	// dump (read by the Run goroutine, so in order).
	var busy atomic.Int32
	var seen []int32
	r.SetBusy(func() func() {
		busy.Add(1)
		return func() { busy.Add(-1) }
	})
	k.onDump = func() { seen = append(seen, busy.Load()) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx, time.Minute) }()

	<-k.dumped // the initial sync
	r.SetDesired(config1)
	<-k.dumped // triggered by SetDesired
	// The ops of that sync are applied after its dump; the next dump
	// (from the tick) happens only once they are done.
	tick <- epoch
	<-k.dumped
	if got := k.tableCopy(); !reflect.DeepEqual(got, config1) {
		t.Errorf("kernel %+v", got)
	}
	cancel()
	// Run may be in a sync (unlikely) or waiting; drain a dump if any.
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
			<-stopped
			// The first sync, the new table's, the periodic resync.
			if len(seen) < 3 || !slices.Equal(seen[:3], []int32{1, 0, 1}) {
				t.Errorf("busy count at each dump %v, want [1 0 1 ...]", seen)
			}
			return
		case <-k.dumped:
		}
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// A table with the keys of the last one keeps the shared destinations as
// they are and still sorts new ones that come unsorted.
func TestSetDesiredSameKeys(t *testing.T) {
	r, _ := newTestReconciler(newFake())
	first := cloneTable(config1)
	r.SetDesired(first)
	next := slices.Clone(first) // same keys, same destination slices
	var i int
	for i = range next {
		if len(next[i].Dests) > 1 {
			break
		}
	}
	if len(next[i].Dests) < 2 {
		t.Fatal("config1 needs a service with two destinations")
	}
	rev := slices.Clone(next[i].Dests)
	slices.Reverse(rev)
	next[i].Dests = rev
	r.SetDesired(next)
	r.mu.Lock()
	got := r.desired
	r.mu.Unlock()
	if !tableSorted(got) || !SameTable(got, config1) {
		t.Errorf("desired %+v, want config1 sorted", got)
	}
	// Shared slices are kept, not copied.
	r.SetDesired(slices.Clone(first))
	r.mu.Lock()
	got = r.desired
	r.mu.Unlock()
	if &got[0].Dests[0] != &first[0].Dests[0] {
		t.Error("a sorted table with the same keys was copied")
	}
	if st := r.SyncStatus(); !reflect.DeepEqual(st.Managed, []Key{vip1, vip2}) {
		t.Errorf("managed %v", st.Managed)
	}
}

// A key desired only in between two tables with the same keys is managed
// until a sync succeeds without it, then forgotten like any other.
func TestManagedKeysAfterInterimTable(t *testing.T) {
	k := newFake()
	r, _ := newTestReconciler(k)
	r.SetDesired(cloneTable(config1))
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	interim := append(cloneTable(config1), Service{Key: Key{Protocol: TCP, Addr: ap("198.51.100.99:80")}, Sched: "rr"})
	sortTable(interim)
	r.SetDesired(interim)
	if st := r.SyncStatus(); len(st.Managed) != 3 {
		t.Fatalf("managed %v, want the interim key too", st.Managed)
	}
	r.SetDesired(cloneTable(config1))
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if st := r.SyncStatus(); !reflect.DeepEqual(st.Managed, []Key{vip1, vip2}) {
		t.Errorf("managed %v, want %v", st.Managed, []Key{vip1, vip2})
	}
}
