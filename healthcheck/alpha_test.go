package healthcheck

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// With alpha a real server starts down and comes up with its first passing
// check; a failing first attempt (even one that would only be retried) keeps
// it down. Without alpha it starts up (keepalived's default).
func TestManagerAlpha(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	h := newHarness(t, func(conf.Check) Checker {
		return checkFunc(func(context.Context) error {
			if fail.Load() {
				return errors.New("connection refused")
			}
			return nil
		})
	}, time.Second)
	check := func() *conf.Check {
		return &conf.Check{ConnectTimeout: time.Second, Retry: 2, DelayBeforeRetry: time.Second, DelayLoop: 3 * time.Second}
	}
	h.m.Set([]conf.VirtualServer{
		{Name: "alpha", Membership: conf.Membership{Alpha: true}, RealServers: []conf.RealServer{rs("192.0.2.10:3306", check())}},
		{Name: "plain", RealServers: []conf.RealServer{rs("192.0.2.11:3306", check())}},
	})
	if h.m.Up("alpha", "192.0.2.10:3306") {
		t.Fatal("alpha server up before its first check")
	}
	if !h.m.Up("plain", "192.0.2.11:3306") {
		t.Fatal("server without alpha down before its first check")
	}
	h.run(2)
	h.clk.Advance(time.Second) // first attempt fails: retried, still down
	h.clk.WaitPending(2)
	if h.m.Up("alpha", "192.0.2.10:3306") {
		t.Fatal("alpha server up after a failed first check")
	}
	fail.Store(false)
	h.clk.Advance(time.Second) // the retry passes
	got := h.transitions(1)
	want := []Transition{{VS: "alpha", RS: "192.0.2.10:3306", Up: true, At: t0.Add(2 * time.Second)}}
	if !slices.Equal(got, want) {
		t.Errorf("transitions %+v, want %+v", got, want)
	}
	if !h.m.Up("alpha", "192.0.2.10:3306") || !h.m.Up("plain", "192.0.2.11:3306") {
		t.Error("not both up after passing checks")
	}
	// A server added to the alpha virtual server by a reload waits for its
	// own first check too, unless it shares an already passing checker.
	h.m.Set([]conf.VirtualServer{
		{Name: "alpha", Membership: conf.Membership{Alpha: true}, RealServers: []conf.RealServer{rs("192.0.2.10:3306", check()), rs("192.0.2.12:3306", check())}},
		{Name: "plain", RealServers: []conf.RealServer{rs("192.0.2.11:3306", check())}},
	})
	if h.m.Up("alpha", "192.0.2.12:3306") {
		t.Error("new alpha server up before its first check")
	}
	if !h.m.Up("alpha", "192.0.2.10:3306") {
		t.Error("reload took the checked alpha server down")
	}
	h.noMoreTransitions()
}
