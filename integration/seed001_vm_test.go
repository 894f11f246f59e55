//go:build vm

package integration

import (
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// TestSeed001 runs the seed-001 setup end to end on a kernel with IPVS:
// two lvsd directors, two real servers with `lvsd agent`, a client.
func TestSeed001(t *testing.T) {
	s := &lab.Seed001{Lvsd: lvsdBin, Dir: t.TempDir(), Out: logWriter{t}, Prefix: "s1"}
	rep, err := s.Run()
	if err != nil {
		t.Fatal(err)
	}
	// RFC 3768 §6.1: Master_Down = 3 x Advert + (256-Priority)/256 s after
	// the last advert heard; the cut comes at most one advert after it, and
	// the issue allows 1 s for scheduling and the VIP to be installed.
	bound := 3*time.Second + 156*time.Second/256 + time.Second
	if rep.FailoverVIP > bound {
		t.Errorf("failover took %v, more than %v", rep.FailoverVIP, bound)
	}
	// keepalived semantics: a failed check is retried 3 times 3 s apart, and
	// the first check comes at most delay_loop (3 s) after the failure.
	// Every delay is spread by up to 1/20 (healthcheck's defaultSpread):
	// 12.6 s at worst, plus up to 1 s to program IPVS and see it in the
	// emulated VM.
	if rep.RemovalTime < 8*time.Second || rep.RemovalTime > 13600*time.Millisecond {
		t.Errorf("real server removed after %v, want 9-12.6 s (keepalived: 9.7-11.9 s)", rep.RemovalTime)
	}
	if rep.ReaddTime > 4150*time.Millisecond {
		t.Errorf("real server re-added after %v, want within one delay_loop (3 s, 3.15 s spread)", rep.ReaddTime)
	}
	if rep.DriftRepair > 6*time.Second {
		t.Errorf("hand-deleted destination repaired after %v, want within one resync (5 s)", rep.DriftRepair)
	}
	t.Logf("measured: failover VIP %v, first connection %v, removal %v, re-add %v",
		rep.FailoverVIP, rep.FailoverConn, rep.RemovalTime, rep.ReaddTime)
}
