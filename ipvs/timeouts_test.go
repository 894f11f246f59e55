package ipvs

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

// timeoutFake is a fake table that also owns the global timeouts.
type timeoutFake struct {
	*fakeKernel
	cur    Timeouts
	set    []Timeouts
	setErr error
}

func (f *timeoutFake) Timeouts() (Timeouts, error) { return f.cur, nil }
func (f *timeoutFake) SetTimeouts(t Timeouts) error {
	if f.setErr != nil {
		return f.setErr
	}
	f.set = append(f.set, t)
	f.cur = t.Overlay(f.cur)
	return nil
}

func TestReconcilerRepairsTimeouts(t *testing.T) {
	s := time.Second
	k := &timeoutFake{fakeKernel: newFake(), cur: Timeouts{TCP: 900 * s, TCPFin: 120 * s, UDP: 300 * s}}
	r, logs := newTestReconciler(k)
	want := Timeouts{TCP: 3600 * s, UDP: 60 * s}
	sync := func(step string) []string {
		t.Helper()
		if err := r.Sync(); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return logs.take()
	}
	has := func(lines []string, prefix string) bool {
		return slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, prefix) })
	}

	if got := sync("not managed"); len(k.set) != 0 || len(got) != 0 {
		t.Fatalf("without lvs_timeouts: set %v, logs %v", k.set, got)
	}
	r.SetTimeouts(want, true)
	if got := sync("first"); !has(got, `INFO ipvs timeouts old="tcp 900 tcpfin 120 udp 300" new="tcp 3600 tcpfin 120 udp 60"`) || has(got, "WARN") {
		t.Errorf("first apply logs %v", got)
	}
	if got := sync("steady"); len(got) != 0 || len(k.set) != 1 {
		t.Errorf("steady: set %v, logs %v", k.set, got)
	}
	// ipvsadm --set 1 2 3 behind lvsd's back.
	k.cur = Timeouts{TCP: s, TCPFin: 2 * s, UDP: 3 * s}
	got := sync("drift")
	if !has(got, `WARN repaired ops="1" changes="set timeouts tcp 1 tcpfin 2 udp 3 -> tcp 3600 tcpfin 2 udp 60"`) {
		t.Errorf("drift logs %v", got)
	}
	if k.cur != (Timeouts{TCP: 3600 * s, TCPFin: 2 * s, UDP: 60 * s}) {
		t.Errorf("kernel after repair: %v", k.cur)
	}
	// A new config is a change, not a repair.
	r.SetTimeouts(Timeouts{TCPFin: 30 * s}, true)
	if got := sync("reload"); !has(got, "INFO ipvs timeouts") || has(got, "WARN") {
		t.Errorf("reload logs %v", got)
	}
	// Unmanaged again: the kernel keeps what it has.
	r.SetTimeouts(Timeouts{}, false)
	k.cur = Timeouts{TCP: s, TCPFin: 2 * s, UDP: 3 * s}
	n := len(k.set)
	if got := sync("unmanaged"); len(k.set) != n || len(got) != 0 {
		t.Errorf("unmanaged: set %v, logs %v", k.set[n:], got)
	}
	// A kernel that refuses: the sync fails and says why; the next
	// successful set is still a repair of drift only once applied.
	r.SetTimeouts(want, true)
	k.setErr = errors.New("set ipvs timeouts: invalid argument")
	if err := r.Sync(); err == nil || !strings.Contains(err.Error(), "invalid argument") {
		t.Errorf("refused set: err %v", err)
	}
	if st := r.SyncStatus(); st.Err == nil {
		t.Error("status has no error after a refused set")
	}
	k.setErr = nil
	if got := sync("after refusal"); !has(got, "INFO ipvs timeouts") || has(got, "WARN") {
		t.Errorf("after refusal logs %v", got)
	}
}

// TestSyncTimeoutsAtOnce: start and reload set the timeouts without
// waiting for a sync.
func TestSyncTimeoutsAtOnce(t *testing.T) {
	k := &timeoutFake{fakeKernel: newFake(), cur: Timeouts{TCP: 900 * time.Second}}
	r := NewReconciler(k, slog.New(slog.DiscardHandler))
	r.SetTimeouts(Timeouts{TCP: time.Minute}, true)
	if err := r.SyncTimeouts(); err != nil || k.cur.TCP != time.Minute {
		t.Errorf("SyncTimeouts: %v, kernel %v", err, k.cur)
	}
}
