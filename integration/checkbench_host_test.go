//go:build integration

package integration

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/healthcheck"
)

// benchEnv reads a positive integer from the environment.
func benchEnv(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// rusageSelf is this process's user + system CPU time (getrusage).
func rusageSelf(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// latencies records the attempts the Manager reports (WithAttemptHook):
// the checkers are the Manager's own, so tcp_check runs on its event loop.
type latencies struct {
	mu       sync.Mutex
	on       bool
	d        []time.Duration
	failures int
	lastErr  string
}

func (r *latencies) record(a healthcheck.Attempt) {
	r.mu.Lock()
	if r.on {
		r.d = append(r.d, a.Took)
		if a.Err != nil {
			r.failures++
			r.lastErr = a.Err.Error()
		}
	}
	r.mu.Unlock()
}

// runCheckBench runs the Manager (lvsd's scheduler and checkers, in this
// process) on vss for warm + dur and reports checks/s, CPU per 1,000
// checks (getrusage of this process, which runs nothing else meanwhile)
// and latency percentiles.
func runCheckBench(t *testing.T, name string, vss []conf.VirtualServer, warm, dur time.Duration) {
	rec := &latencies{}
	opts := []healthcheck.Option{healthcheck.WithAttemptHook(rec.record)}
	if os.Getenv("LVSD_BENCH_NETDIALER") != "" {
		// For comparison: net.Dialer, on the general path (a timer and
		// a goroutine per check).
		opts = append(opts, healthcheck.WithCheckerFunc(func(c conf.Check) healthcheck.Checker {
			ch := healthcheck.NewChecker(c)
			if tc, ok := ch.(*healthcheck.TCPChecker); ok {
				tc.Dialer = &net.Dialer{}
			}
			return ch
		}))
	}
	m := healthcheck.NewManager(nil, nil, opts...)
	m.Set(vss)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	time.Sleep(warm)
	rec.mu.Lock()
	rec.on = true
	rec.mu.Unlock()
	cpu0, t0 := rusageSelf(t), time.Now()
	time.Sleep(dur)
	cpu1, t1 := rusageSelf(t), time.Now()
	rec.mu.Lock()
	rec.on = false
	lat := slices.Clone(rec.d)
	failures, lastErr := rec.failures, rec.lastErr
	rec.mu.Unlock()
	cancel()
	<-done
	slices.Sort(lat)
	n := len(lat)
	if n == 0 {
		t.Fatalf("%s: no check ran", name)
	}
	elapsed := t1.Sub(t0)
	cpu := cpu1 - cpu0
	t.Logf("BENCH %s: %d checks in %v = %.0f checks/s; CPU %v = %.1f ms per 1,000 checks (%.0f%% of one core); latency p50 %v p99 %v max %v; failures %d %s",
		name, n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), cpu.Round(time.Millisecond),
		float64(cpu.Milliseconds())*1000/float64(n), 100*cpu.Seconds()/elapsed.Seconds(),
		percentile(lat, 50).Round(time.Microsecond), percentile(lat, 99).Round(time.Microsecond), lat[n-1].Round(time.Microsecond), failures, lastErr)
	if failures > n/100 {
		t.Errorf("%s: %d of %d checks failed (last: %s)", name, failures, n, lastErr)
	}
}

// TestCheckBenchmarkTCP: LVSD_BENCH_CHECKS_SERVERS (1100) real servers on
// loopback, each a distinct port of a listener process, with a tcp_check
// every LVSD_BENCH_CHECKS_DELAY_MS (100 ms) after the previous one ends
// (keepalived schedules the same way): about 10,000 checks/s for 20 s.
func TestCheckBenchmarkTCP(t *testing.T) {
	if os.Getenv("LVSD_BENCH_CHECKS") == "" {
		t.Skip("set LVSD_BENCH_CHECKS=1 (make bench)")
	}
	n := benchEnv("LVSD_BENCH_CHECKS_SERVERS", 1100)
	delay := time.Duration(benchEnv("LVSD_BENCH_CHECKS_DELAY_MS", 100)) * time.Millisecond
	dur := time.Duration(benchEnv("LVSD_BENCH_CHECKS_SECONDS", 20)) * time.Second
	const first = 31000
	ln := startBenchListener(t, nil, "127.0.0.1", first, first+n-1)
	vs := conf.VirtualServer{Name: "bench", Protocol: "TCP", Address: netip.MustParseAddrPort("198.51.100.40:80")}
	for i := range n {
		addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(first+i))
		vs.RealServers = append(vs.RealServers, conf.RealServer{Name: fmt.Sprint(i), Address: addr, Weight: 1, Checks: []conf.Check{{
			Kind: conf.CheckTCP, Target: addr, ConnectTimeout: time.Second, Retry: 0, DelayBeforeRetry: time.Second, DelayLoop: delay, Rise: 1,
		}}})
	}
	a0 := ln.accepted()
	runCheckBench(t, fmt.Sprintf("tcp_check %d servers x delay_loop %v", n, delay), []conf.VirtualServer{vs}, 2*delay+time.Second, dur)
	t.Logf("listener accepted %d connections", ln.accepted()-a0)
}

// TestCheckBenchmarkMySQL: LVSD_BENCH_MYSQL_PROBES (120) distinct
// mysql_check probes (each its own query, so they are not deduplicated)
// against one real MariaDB, each every 100 ms after the previous one ends:
// about 1,000 logins/s.
func TestCheckBenchmarkMySQL(t *testing.T) {
	if os.Getenv("LVSD_BENCH_CHECKS") == "" {
		t.Skip("set LVSD_BENCH_CHECKS=1 (make bench)")
	}
	n := benchEnv("LVSD_BENCH_MYSQL_PROBES", 120)
	dur := time.Duration(benchEnv("LVSD_BENCH_CHECKS_SECONDS", 20)) * time.Second
	dbs := startMariaDBPair(t)
	db := dbs[0]
	vs := conf.VirtualServer{Name: "bench", Protocol: "TCP", Address: netip.MustParseAddrPort("198.51.100.40:3306")}
	rs := conf.RealServer{Name: "db1", Address: db.addr(), Weight: 1}
	for i := range n {
		rs.Checks = append(rs.Checks, conf.Check{
			Kind: conf.CheckMySQL, Target: db.addr(), ConnectTimeout: 2 * time.Second, Retry: 0, DelayBeforeRetry: time.Second,
			DelayLoop: 100 * time.Millisecond, Rise: 1,
			MySQL: &conf.MySQLCheck{User: "monitor", Password: "monitor-pw", Query: fmt.Sprintf("SELECT %d", i)},
		})
	}
	vs.RealServers = []conf.RealServer{rs}
	runCheckBench(t, fmt.Sprintf("mysql_check %d probes x delay_loop 100ms, query", n), []conf.VirtualServer{vs}, 2*time.Second, dur)
}
