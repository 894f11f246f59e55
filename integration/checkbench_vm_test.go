//go:build vm

package integration

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

func vmBenchEnv(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestCheckBenchmarkKeepalived runs, in the same VM one after the other,
// lvsd's director and keepalived's checker (keepalived refuses to check
// without IPVS, so not on a host without it) with the same real servers:
// LVSD_BENCH_VM_SERVERS (300) ports of a listener process in another
// namespace, a TCP check each every 100 ms. It reports the rate each
// sustains (connections accepted by the listener) and the CPU each uses
// per 1,000 checks, from /proc/PID/stat (keepalived: parent + checker
// child). Nothing is asserted on speed.
func TestCheckBenchmarkKeepalived(t *testing.T) {
	if os.Getenv("LVSD_BENCH_CHECKS") == "" {
		t.Skip("set LVSD_BENCH_CHECKS=1 (make bench)")
	}
	// QEMU emulates the CPU (TCG): 10,000 handshakes/s are out of its
	// reach (connects time out), so the VM default is 300 servers.
	n := vmBenchEnv("LVSD_BENCH_VM_SERVERS", 300)
	dur := time.Duration(vmBenchEnv("LVSD_BENCH_CHECKS_SECONDS", 20)) * time.Second
	l := newLab(t, "hkb")
	h := addHost(t, l, "lvs", "198.51.100.20/24")
	rs := addHost(t, l, "rs", "198.51.100.10/24")
	if _, err := h.Run("modprobe", "ip_vs"); err != nil {
		t.Fatal(err)
	}
	const first = 20000
	ln := startBenchListener(t, []string{"ip", "netns", "exec", rs.NS}, "198.51.100.10", first, first+n-1)

	var lv, ka strings.Builder
	lv.WriteString("virtual_server \"bench\" {\n  address = \"198.51.100.40:80\"\n  lvs_method = \"NAT\"\n  delay_loop = \"100ms\"\n")
	ka.WriteString("global_defs {\n  router_id lvsd_bench\n}\nvirtual_server 198.51.100.40 80 {\n  delay_loop 0.1\n  lb_algo wlc\n  lb_kind NAT\n  protocol TCP\n")
	for i := range n {
		fmt.Fprintf(&lv, "  real_server \"%d\" {\n    address = \"198.51.100.10:%d\"\n    tcp_check {\n      connect_timeout = \"1s\"\n      retry = 0\n    }\n  }\n", i, first+i)
		fmt.Fprintf(&ka, "  real_server 198.51.100.10 %d {\n    weight 1\n    TCP_CHECK {\n      connect_timeout 1\n      retry 0\n    }\n  }\n", first+i)
	}
	lv.WriteString("}\n")
	ka.WriteString("}\n")
	lvFile, err := l.WriteFile("bench.hcl", lv.String())
	if err != nil {
		t.Fatal(err)
	}
	// The same servers checked once an hour: what the daemon costs when
	// it does not check (runtime, IPVS resync).
	idleFile, err := l.WriteFile("idle.hcl", strings.Replace(lv.String(), `delay_loop = "100ms"`, `delay_loop = "1h"`, 1))
	if err != nil {
		t.Fatal(err)
	}
	kaFile, err := l.WriteFile("keepalived.conf", ka.String())
	if err != nil {
		t.Fatal(err)
	}

	measure := func(name string, p *lab.Proc, pids func() []int) (rate, perK float64) {
		t.Helper()
		// Let the real servers get into IPVS and the checks settle.
		var in int
		if _, ok := lab.WaitFor(120*time.Second, func() bool {
			out, _ := h.Run("ipvsadm", "-Ln")
			in = strings.Count(out, "198.51.100.10:")
			return in >= n
		}); !ok {
			t.Fatalf("%s: %d of %d real servers in IPVS; log:\n%s", name, in, n, p.Output())
		}
		time.Sleep(5 * time.Second)
		ps := pids()
		cpu0, err := treeCPU(ps...)
		if err != nil {
			t.Fatal(err)
		}
		a0, t0 := ln.accepted(), time.Now()
		time.Sleep(dur)
		cpu1, err := treeCPU(ps...)
		if err != nil {
			t.Fatal(err)
		}
		a1, t1 := ln.accepted(), time.Now()
		checks := float64(a1 - a0)
		rate = checks / t1.Sub(t0).Seconds()
		cpu := cpu1 - cpu0
		perK = float64(cpu.Milliseconds()) * 1000 / max(checks, 1)
		t.Logf("BENCH %s: %.0f checks/s over %v; CPU %v = %.1f ms per 1,000 checks (%.0f%% of one core), pids %v",
			name, rate, t1.Sub(t0).Round(time.Millisecond), cpu, perK, 100*cpu.Seconds()/t1.Sub(t0).Seconds(), ps)
		if out, _ := h.Run("ipvsadm", "-Ln"); strings.Count(out, "198.51.100.10:") < n {
			t.Errorf("%s: real servers left IPVS during the run (checks failing: the VM is saturated); lower LVSD_BENCH_VM_SERVERS", name)
		}
		return rate, perK
	}

	// lvsd idle, as a baseline.
	pi, err := h.Start("lvsd-idle", lvsdBin, "director", "-f", idleFile, "--control", l.Dir+"/idle.sock", "--pid-file", l.Dir+"/idle.pid", "--log-level", "warn")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	c0, _ := procCPU(pi.Cmd.Process.Pid)
	time.Sleep(10 * time.Second)
	c1, _ := procCPU(pi.Cmd.Process.Pid)
	t.Logf("BENCH lvsd idle (%d servers, delay_loop 1h): CPU %v in 10 s", n, c1-c0)
	_ = pi.Stop(syscall.SIGTERM, 30*time.Second)
	_, _ = lab.WaitFor(60*time.Second, func() bool {
		out, _ := h.Run("ipvsadm", "-Ln")
		return !strings.Contains(out, "198.51.100.40:80")
	})

	// lvsd (LVSD_BENCH_GOMAXPROCS, when set, is passed on to it).
	argv := []string{lvsdBin}
	if g := os.Getenv("LVSD_BENCH_GOMAXPROCS"); g != "" {
		argv = []string{"env", "GOMAXPROCS=" + g, lvsdBin}
	}
	p, err := h.Start("lvsd", append(argv, "director", "-f", lvFile, "--control", l.Dir+"/lvs.sock", "--pid-file", l.Dir+"/lvs.pid", "--log-level", "warn")...)
	if err != nil {
		t.Fatal(err)
	}
	lRate, lPerK := measure("lvsd tcp_check", p, func() []int { return []int{p.Cmd.Process.Pid} })
	if err := p.Stop(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Logf("stop lvsd: %v", err)
	}
	if _, ok := lab.WaitFor(60*time.Second, func() bool {
		out, _ := h.Run("ipvsadm", "-Ln")
		return !strings.Contains(out, "198.51.100.40:80")
	}); !ok {
		_, _ = h.Run("ipvsadm", "-C")
	}

	// keepalived, checker only; the checker is a child whose pid it writes.
	cpid := l.Dir + "/ka-checkers.pid"
	k, err := h.Start("keepalived", "keepalived", "--dont-fork", "-C", "-f", kaFile, "--log-console",
		"-p", l.Dir+"/ka.pid", "-c", cpid, "-r", l.Dir+"/ka-vrrp.pid")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Stop(syscall.SIGTERM, 30*time.Second) })
	kRate, kPerK := measure("keepalived TCP_CHECK", k, func() []int {
		b, err := os.ReadFile(cpid)
		c, err2 := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || err2 != nil {
			t.Fatalf("keepalived checker pid: %v %v", err, err2)
		}
		return []int{k.Cmd.Process.Pid, c}
	})
	t.Logf("BENCH summary: lvsd %.0f checks/s, %.1f ms CPU per 1,000; keepalived %.0f checks/s, %.1f ms CPU per 1,000; lvsd/keepalived CPU ratio %.2f",
		lRate, lPerK, kRate, kPerK, lPerK/kPerK)
}
