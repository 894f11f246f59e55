package rules

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTable is an in-memory nat PREROUTING that prints rules the way
// `iptables -S` does (the nft and legacy backends agree on this format).
type fakeTable struct {
	mu      sync.Mutex
	rules   []string // rule arguments after "-A PREROUTING", joined
	calls   []string
	listErr error
	appErr  error
}

func (f *fakeTable) List(table, chain string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "list")
	if table != natTable || chain != preRouting {
		return nil, errors.New("unexpected chain")
	}
	if f.listErr != nil {
		return nil, f.listErr
	}
	out := []string{"-P PREROUTING ACCEPT"}
	for _, r := range f.rules {
		out = append(out, "-A PREROUTING "+r)
	}
	return out, nil
}

func (f *fakeTable) Append(table, chain string, spec ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "append "+joinRule(spec))
	if f.appErr != nil {
		return f.appErr
	}
	f.rules = append(f.rules, joinRule(spec))
	return nil
}

func (f *fakeTable) Delete(table, chain string, spec ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "delete "+joinRule(spec))
	i := slices.Index(f.rules, joinRule(spec))
	if i < 0 {
		return errors.New("iptables: Bad rule (does a matching rule exist in that chain?)")
	}
	f.rules = slices.Delete(f.rules, i, i+1)
	return nil
}

func (f *fakeTable) snapshot() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.rules)
}

var (
	vip4  = netip.MustParseAddr("198.51.100.30")
	vip4b = netip.MustParseAddr("198.51.100.31")
	vip6  = netip.MustParseAddr("2001:db8::30")
)

// rule is how a fake (and real) listing shows Spec(v).
func rule(v netip.Addr) string { return joinRule(Spec(v)) }

const foreign = "-d 203.0.113.7/32 -p tcp -j REDIRECT --to-ports 3306"

func TestSpec(t *testing.T) {
	for _, tc := range []struct {
		vip  netip.Addr
		want string
	}{
		{vip4, `-d 198.51.100.30/32 -m comment --comment "lvsd: 198.51.100.30" -j REDIRECT`},
		{vip6, `-d 2001:db8::30/128 -m comment --comment "lvsd: 2001:db8::30" -j REDIRECT`},
		{netip.MustParseAddr("::ffff:198.51.100.30"), `-d 198.51.100.30/32 -m comment --comment "lvsd: 198.51.100.30" -j REDIRECT`},
	} {
		if got := rule(tc.vip); got != tc.want {
			t.Errorf("Spec(%v) = %s, want %s", tc.vip, got, tc.want)
		}
	}
}

func TestReconcile(t *testing.T) {
	edited := `-d 198.51.100.30/32 -p tcp -m comment --comment "lvsd: 198.51.100.30" -j REDIRECT`
	for _, tc := range []struct {
		name       string
		vips       []netip.Addr
		v4, v6     []string // rules before
		want4      []string // rules after
		want6      []string
		wantWrites int // appends + deletes over both tables
	}{
		{name: "empty installs", vips: []netip.Addr{vip4}, want4: []string{rule(vip4)}, wantWrites: 1},
		{name: "present is a no-op", vips: []netip.Addr{vip4}, v4: []string{rule(vip4)}, want4: []string{rule(vip4)}},
		{name: "duplicates collapse to one", vips: []netip.Addr{vip4},
			v4: []string{rule(vip4), foreign, rule(vip4), rule(vip4)}, want4: []string{foreign, rule(vip4)}, wantWrites: 2}, // iptables -D removes the first match
		{name: "removed VIP is deleted", vips: []netip.Addr{vip4b},
			v4: []string{rule(vip4), rule(vip4b)}, want4: []string{rule(vip4b)}, wantWrites: 1},
		{name: "IPv6 goes to v6", vips: []netip.Addr{vip6, vip4},
			want4: []string{rule(vip4)}, want6: []string{rule(vip6)}, wantWrites: 2},
		{name: "v6 stale removed, v4 kept", vips: []netip.Addr{vip4},
			v4: []string{rule(vip4)}, v6: []string{rule(vip6)}, want4: []string{rule(vip4)}, wantWrites: 1},
		{name: "foreign rules untouched", vips: nil,
			v4:    []string{foreign, `-d 198.51.100.30/32 -m comment --comment "mine" -j REDIRECT`},
			want4: []string{foreign, `-d 198.51.100.30/32 -m comment --comment "mine" -j REDIRECT`}},
		{name: "edited lvsd rule replaced, append first", vips: []netip.Addr{vip4},
			v4: []string{edited}, want4: []string{rule(vip4)}, wantWrites: 2},
		{name: "lvsd comment without address is cleaned", vips: nil,
			v4: []string{`-d 198.51.100.30/32 -m comment --comment "lvsd: junk" -j REDIRECT`}, wantWrites: 1},
		{name: "mapped and duplicate VIPs are one", vips: []netip.Addr{vip4, netip.MustParseAddr("::ffff:198.51.100.30")},
			want4: []string{rule(vip4)}, wantWrites: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v4 := &fakeTable{rules: slices.Clone(tc.v4)}
			v6 := &fakeTable{rules: slices.Clone(tc.v6)}
			a := NewAgent(tc.vips, v4, v6, nil)
			if err := a.Reconcile(); err != nil {
				t.Fatalf("Reconcile: %v", err)
			}
			if got := v4.snapshot(); !slices.Equal(got, tc.want4) {
				t.Errorf("v4 rules =\n%q\nwant\n%q", got, tc.want4)
			}
			if got := v6.snapshot(); !slices.Equal(got, tc.want6) {
				t.Errorf("v6 rules =\n%q\nwant\n%q", got, tc.want6)
			}
			if got := writes(v4) + writes(v6); got != tc.wantWrites {
				t.Errorf("writes = %d, want %d (v4 %q, v6 %q)", got, tc.wantWrites, v4.calls, v6.calls)
			}
			// Idempotent: a second pass only lists.
			before := writes(v4) + writes(v6)
			if err := a.Reconcile(); err != nil {
				t.Fatalf("second Reconcile: %v", err)
			}
			if after := writes(v4) + writes(v6); after != before {
				t.Errorf("second pass wrote: v4 %q v6 %q", v4.calls, v6.calls)
			}
			for _, s := range a.Status() {
				if !s.Present || s.Repairs != 0 || s.Error != "" {
					t.Errorf("status %+v, want present without repairs", s)
				}
			}
		})
	}
}

func writes(f *fakeTable) int {
	n := 0
	for _, c := range f.calls {
		if c != "list" {
			n++
		}
	}
	return n
}

func TestEditedRuleAppendsBeforeDelete(t *testing.T) {
	v4 := &fakeTable{rules: []string{`-d 198.51.100.30/32 -p tcp -m comment --comment "lvsd: 198.51.100.30" -j REDIRECT`}}
	a := NewAgent([]netip.Addr{vip4}, v4, nil, nil)
	if err := a.Reconcile(); err != nil {
		t.Fatal(err)
	}
	if len(v4.calls) != 3 || !strings.HasPrefix(v4.calls[1], "append") || !strings.HasPrefix(v4.calls[2], "delete") {
		t.Errorf("calls = %q, want list, append, delete", v4.calls)
	}
}

func TestRepairIsCountedAndLogged(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	v4 := &fakeTable{rules: []string{rule(vip4)}} // already there: a restart
	a := NewAgent([]netip.Addr{vip4}, v4, nil, log)
	if err := a.Reconcile(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "repaired") || strings.Contains(buf.String(), "installed") {
		t.Errorf("restart over an existing rule logged %q", buf.String())
	}
	v4.rules = nil // iptables -t nat -F
	if err := a.Reconcile(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "level=WARN msg=repaired vip=198.51.100.30") {
		t.Errorf("log %q lacks the repaired warning", buf.String())
	}
	if got := a.Status(); len(got) != 1 || !got[0].Present || got[0].Repairs != 1 {
		t.Errorf("Status = %+v, want present with 1 repair", got)
	}
}

func TestFirstInstallIsNotARepair(t *testing.T) {
	var buf bytes.Buffer
	v4 := &fakeTable{}
	a := NewAgent([]netip.Addr{vip4}, v4, nil, slog.New(slog.NewTextHandler(&buf, nil)))
	if err := a.Reconcile(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "WARN") || !strings.Contains(buf.String(), "rule installed") {
		t.Errorf("log = %q", buf.String())
	}
	if a.Status()[0].Repairs != 0 {
		t.Error("first install counted as repair")
	}
}

func TestErrorsAreReportedAndWrapped(t *testing.T) {
	boom := errors.New("boom")
	t.Run("append", func(t *testing.T) {
		a := NewAgent([]netip.Addr{vip4}, &fakeTable{appErr: boom}, nil, nil)
		if err := a.Reconcile(); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want wrapping boom", err)
		}
		s := a.Status()[0]
		if s.Present || !strings.Contains(s.Error, "boom") {
			t.Errorf("status %+v", s)
		}
	})
	t.Run("list", func(t *testing.T) {
		a := NewAgent([]netip.Addr{vip4}, &fakeTable{listErr: boom}, nil, nil)
		if err := a.Reconcile(); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want wrapping boom", err)
		}
	})
	t.Run("no v6 table", func(t *testing.T) {
		v4 := &fakeTable{}
		a := NewAgent([]netip.Addr{vip4, vip6}, v4, nil, nil)
		if err := a.Reconcile(); err == nil {
			t.Fatal("want an error for an IPv6 VIP without ip6tables")
		}
		if got := v4.snapshot(); !slices.Equal(got, []string{rule(vip4)}) {
			t.Errorf("v4 = %q: one family's failure must not block the other", got)
		}
	})
}

func TestSetVIPs(t *testing.T) {
	v4, v6 := &fakeTable{}, &fakeTable{}
	a := NewAgent([]netip.Addr{vip4, vip6}, v4, v6, nil)
	if err := a.Reconcile(); err != nil {
		t.Fatal(err)
	}
	a.SetVIPs([]netip.Addr{vip4b})
	if err := a.Reconcile(); err != nil {
		t.Fatal(err)
	}
	if got := v4.snapshot(); !slices.Equal(got, []string{rule(vip4b)}) {
		t.Errorf("v4 = %q", got)
	}
	if got := v6.snapshot(); len(got) != 0 {
		t.Errorf("v6 = %q, want empty", got)
	}
	if got := a.Status(); len(got) != 1 || got[0].VIP != vip4b {
		t.Errorf("Status = %+v", got)
	}
}

func TestRunRepairsAndCleansUp(t *testing.T) {
	v4, v6 := &fakeTable{rules: []string{foreign}}, &fakeTable{}
	a := NewAgent([]netip.Addr{vip4, vip6}, v4, v6, nil)
	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.run(ctx, tick) }()

	tick <- time.Time{} // the initial pass has finished once run takes a tick
	if got := v4.snapshot(); !slices.Equal(got, []string{foreign, rule(vip4)}) {
		t.Fatalf("after start v4 = %q", got)
	}
	v4.mu.Lock()
	v4.rules = nil // iptables -t nat -F
	v4.mu.Unlock()
	tick <- time.Time{} // triggers the repairing pass...
	tick <- time.Time{} // ...which has finished when this one is taken
	if got := v4.snapshot(); !slices.Equal(got, []string{rule(vip4)}) {
		t.Fatalf("after flush v4 = %q", got)
	}

	a.SetVIPs([]netip.Addr{vip4})
	tick <- time.Time{} // the kick may run first; either way one more tick covers it
	tick <- time.Time{}
	if got := v6.snapshot(); len(got) != 0 {
		t.Fatalf("after SetVIPs v6 = %q", got)
	}

	v4.mu.Lock()
	v4.rules = append(v4.rules, foreign)
	v4.mu.Unlock()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := v4.snapshot(); !slices.Equal(got, []string{foreign}) {
		t.Errorf("after stop v4 = %q, want only the foreign rule", got)
	}
	if s := a.Status(); s[0].Present || s[0].Repairs != 1 {
		t.Errorf("Status after stop = %+v", s)
	}
}
