//go:build vm

package integration

import (
	"fmt"
	"os"
	"slices"
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

// vmBenchList reads a comma-separated list of positive integers.
func vmBenchList(name string, def []int) []int {
	var out []int
	for _, f := range strings.Split(os.Getenv(name), ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return def
	}
	return out
}

// TestCheckBenchmarkKeepalived runs, in the same VM, lvsd's director and
// keepalived's checker (keepalived refuses to check without IPVS, so not
// on a host without it) with the same real servers, the same checker
// settings and the same rate: for each size of LVSD_BENCH_VM_SERVERS
// (10,30) that many ports of a listener process in another namespace, a
// TCP check each every 100 ms (delay_loop after the previous check ends,
// in both), connect_timeout 1 s, retry 0. lvsd and keepalived alternate
// LVSD_BENCH_VM_ROUNDS (2) times, in turn first, so that load from
// outside the VM (the host is shared) hits both alike. Each run has a
// namespace of its own: the TIME_WAIT sockets a run leaves (60 s, in the
// checker's namespace) would make the next one's connects dearer. It reports the rate each sustains
// (connections accepted by the listener, against the nominal servers x
// 10/s) and the CPU each uses per 1,000 checks from /proc/PID/stat, user
// and system, over the same kind of window (keepalived: parent + checker
// child; lvsd: its one process). LVSD_BENCH_VM_BASELINE=BIN adds a
// third contender to every round, another lvsd binary (e.g. a build of
// the previous commit), for a before/after under the same load.
// LVSD_BENCH_VM_CPUPROFILE=FILE (on a
// directory the VM shares with the host, e.g. this package's) makes lvsd
// write a CPU profile of its first round there (and of the idle baseline
// of the first size to FILE.idle). Nothing is asserted on
// speed.
func TestCheckBenchmarkKeepalived(t *testing.T) {
	if os.Getenv("LVSD_BENCH_CHECKS") == "" {
		t.Skip("set LVSD_BENCH_CHECKS=1 (make bench)")
	}
	// QEMU emulates the CPU (TCG): a few hundred handshakes/s saturate
	// it on a loaded host (checks then queue, each checker takes all the
	// CPU it gets and falls behind its nominal rate: CPU per check then
	// measures the share it got, not its work), so the sizes stay low.
	sizes := vmBenchList("LVSD_BENCH_VM_SERVERS", []int{10, 30})
	rounds := vmBenchEnv("LVSD_BENCH_VM_ROUNDS", 2)
	dur := time.Duration(vmBenchEnv("LVSD_BENCH_CHECKS_SECONDS", 20)) * time.Second
	l := newLab(t, "hkb")
	rs := addHost(t, l, "rs", "198.51.100.10/24")
	if _, err := rs.Run("modprobe", "ip_vs"); err != nil {
		t.Fatal(err)
	}
	// host is a fresh namespace for each run of a checker.
	runs := 0
	host := func() *lab.Host {
		runs++
		return addHost(t, l, fmt.Sprintf("c%d", runs), fmt.Sprintf("198.51.100.%d/24", 20+runs))
	}
	const first = 20000
	ln := startBenchListener(t, []string{"ip", "netns", "exec", rs.NS}, "198.51.100.10", first, first+slices.Max(sizes)-1)

	configs := func(n int) (lvsdConf, idleConf, kaConf string) {
		var lv, ka strings.Builder
		lv.WriteString("virtual_server \"bench\" {\n  address = \"198.51.100.40:80\"\n  lvs_method = \"NAT\"\n  delay_loop = \"100ms\"\n")
		ka.WriteString("global_defs {\n  router_id lvsd_bench\n}\nvirtual_server 198.51.100.40 80 {\n  delay_loop 0.1\n  lb_algo wlc\n  lb_kind NAT\n  protocol TCP\n")
		for i := range n {
			fmt.Fprintf(&lv, "  real_server \"%d\" {\n    address = \"198.51.100.10:%d\"\n    tcp_check {\n      connect_timeout = \"1s\"\n      retry = 0\n    }\n  }\n", i, first+i)
			fmt.Fprintf(&ka, "  real_server 198.51.100.10 %d {\n    weight 1\n    TCP_CHECK {\n      connect_timeout 1\n      retry 0\n    }\n  }\n", first+i)
		}
		lv.WriteString("}\n")
		ka.WriteString("}\n")
		write := func(name, text string) string {
			f, err := l.WriteFile(name, text)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		// The same servers checked once an hour: what the daemon costs
		// when it does not check (runtime, IPVS resync).
		return write(fmt.Sprintf("bench-%d.hcl", n), lv.String()),
			write(fmt.Sprintf("idle-%d.hcl", n), strings.Replace(lv.String(), `delay_loop = "100ms"`, `delay_loop = "1h"`, 1)),
			write(fmt.Sprintf("keepalived-%d.conf", n), ka.String())
	}
	waitIPVSGone := func(h *lab.Host) {
		if _, ok := lab.WaitFor(60*time.Second, func() bool {
			out, _ := h.Run("ipvsadm", "-Ln")
			return !strings.Contains(out, "198.51.100.40:80")
		}); !ok {
			_, _ = h.Run("ipvsadm", "-C")
		}
	}

	type figure struct{ rate, perK, userK, sysK float64 }
	measure := func(name string, n int, h *lab.Host, p *lab.Proc, pids func() []int) figure {
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
		u0, s0, err := treeUserSys(ps...)
		if err != nil {
			t.Fatal(err)
		}
		a0, t0 := ln.accepted(), time.Now()
		time.Sleep(dur)
		u1, s1, err := treeUserSys(ps...)
		if err != nil {
			t.Fatal(err)
		}
		a1, t1 := ln.accepted(), time.Now()
		checks := max(float64(a1-a0), 1)
		el := t1.Sub(t0)
		f := figure{rate: checks / el.Seconds(), userK: float64((u1 - u0).Milliseconds()) * 1000 / checks, sysK: float64((s1 - s0).Milliseconds()) * 1000 / checks}
		f.perK = f.userK + f.sysK
		cpu := u1 - u0 + s1 - s0
		// TIME_WAIT sockets in the checker's namespace: the side that
		// closes first keeps them, and they make connects dearer.
		sockstat, _ := h.Run("sh", "-c", "grep ^TCP: /proc/net/sockstat")
		t.Logf("BENCH %s, %d servers: %.0f checks/s (nominal %d) over %v; CPU %v = %.1f ms per 1,000 checks (user %.1f, system %.1f; %.0f%% of one core), pids %v; %s",
			name, n, f.rate, n*10, el.Round(time.Millisecond), cpu, f.perK, f.userK, f.sysK, 100*cpu.Seconds()/el.Seconds(), ps, strings.TrimSpace(sockstat))
		if f.rate < 0.9*float64(n*10) {
			t.Logf("BENCH %s, %d servers: below 90%% of the nominal rate: the VM is saturated, the figure compares nothing", name, n)
		}
		if out, _ := h.Run("ipvsadm", "-Ln"); strings.Count(out, "198.51.100.10:") < n {
			t.Errorf("%s: real servers left IPVS during the run (checks failing: the VM is saturated); lower LVSD_BENCH_VM_SERVERS", name)
		}
		return f
	}

	// lvsd (LVSD_BENCH_GOMAXPROCS, when set, is passed on to it).
	env := []string{"env"}
	if g := os.Getenv("LVSD_BENCH_GOMAXPROCS"); g != "" {
		env = append(env, "GOMAXPROCS="+g)
	}
	profile := os.Getenv("LVSD_BENCH_VM_CPUPROFILE")
	baseline := os.Getenv("LVSD_BENCH_VM_BASELINE")
	runLvsd := func(bin string, n, round int, file string) figure {
		argv := slices.Clone(env)
		if profile != "" && round == 0 && n == sizes[0] && bin == lvsdBin {
			argv = append(argv, "LVSD_CPUPROFILE="+profile)
		}
		tag := fmt.Sprintf("lvsd-%d-%d-%d", n, round, runs)
		h := host()
		p, err := h.Start(tag, append(argv, bin, "director", "-f", file, "--control", l.Dir+"/"+tag+".sock", "--pid-file", l.Dir+"/"+tag+".pid", "--log-level", "warn")...)
		if err != nil {
			t.Fatal(err)
		}
		name := "lvsd tcp_check"
		if bin != lvsdBin {
			name = "baseline lvsd tcp_check"
		}
		f := measure(name, n, h, p, func() []int { return []int{p.Cmd.Process.Pid} })
		if err := p.Stop(syscall.SIGTERM, 30*time.Second); err != nil {
			t.Logf("stop lvsd: %v", err)
		}
		waitIPVSGone(h)
		return f
	}
	runKeepalived := func(n, round int, file string) figure {
		// Checker only; the checker is a child whose pid it writes.
		tag := fmt.Sprintf("ka-%d-%d", n, round)
		cpid := l.Dir + "/" + tag + "-checkers.pid"
		h := host()
		k, err := h.Start(tag, "keepalived", "--dont-fork", "-C", "-f", file, "--log-console",
			"-p", l.Dir+"/"+tag+".pid", "-c", cpid, "-r", l.Dir+"/"+tag+"-vrrp.pid")
		if err != nil {
			t.Fatal(err)
		}
		f := measure("keepalived TCP_CHECK", n, h, k, func() []int {
			b, err := os.ReadFile(cpid)
			c, err2 := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil || err2 != nil {
				t.Fatalf("keepalived checker pid: %v %v", err, err2)
			}
			return []int{k.Cmd.Process.Pid, c}
		})
		if err := k.Stop(syscall.SIGTERM, 30*time.Second); err != nil {
			t.Logf("stop keepalived: %v", err)
		}
		waitIPVSGone(h)
		return f
	}

	for _, n := range sizes {
		lvFile, idleFile, kaFile := configs(n)
		// lvsd idle, as a baseline.
		h := host()
		idleArgv := []string{"env"}
		if profile != "" && n == sizes[0] {
			idleArgv = append(idleArgv, "LVSD_CPUPROFILE="+profile+".idle")
		}
		pi, err := h.Start(fmt.Sprintf("lvsd-idle-%d", n), append(idleArgv, lvsdBin, "director", "-f", idleFile, "--control", l.Dir+"/idle.sock", "--pid-file", l.Dir+"/idle.pid", "--log-level", "warn")...)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		c0, _ := procCPU(pi.Cmd.Process.Pid)
		time.Sleep(10 * time.Second)
		c1, _ := procCPU(pi.Cmd.Process.Pid)
		t.Logf("BENCH lvsd idle (%d servers, delay_loop 1h): CPU %v in 10 s", n, c1-c0)
		_ = pi.Stop(syscall.SIGTERM, 30*time.Second)
		waitIPVSGone(h)

		var lv, ka, bl []figure
		contenders := []func(r int){
			func(r int) { lv = append(lv, runLvsd(lvsdBin, n, r, lvFile)) },
			func(r int) { ka = append(ka, runKeepalived(n, r, kaFile)) },
		}
		if baseline != "" {
			contenders = append(contenders, func(r int) { bl = append(bl, runLvsd(baseline, n, r, lvFile)) })
		}
		for r := range rounds {
			// Each round starts with the next contender.
			for i := range contenders {
				contenders[(r+i)%len(contenders)](r)
			}
		}
		mean := func(fs []figure) (f figure) {
			for _, x := range fs {
				f.rate += x.rate / float64(len(fs))
				f.perK += x.perK / float64(len(fs))
				f.userK += x.userK / float64(len(fs))
				f.sysK += x.sysK / float64(len(fs))
			}
			return f
		}
		ml, mk := mean(lv), mean(ka)
		t.Logf("BENCH summary, %d servers (nominal %d checks/s), mean of %d rounds: lvsd %.0f checks/s, %.1f ms CPU per 1,000 (user %.1f, system %.1f); keepalived %.0f checks/s, %.1f ms per 1,000 (user %.1f, system %.1f); lvsd/keepalived CPU ratio %.2f",
			n, n*10, rounds, ml.rate, ml.perK, ml.userK, ml.sysK, mk.rate, mk.perK, mk.userK, mk.sysK, ml.perK/mk.perK)
		if baseline != "" {
			mb := mean(bl)
			t.Logf("BENCH summary, %d servers: baseline lvsd (%s) %.0f checks/s, %.1f ms CPU per 1,000 (user %.1f, system %.1f); baseline/keepalived CPU ratio %.2f",
				n, baseline, mb.rate, mb.perK, mb.userK, mb.sysK, mb.perK/mk.perK)
		}
	}
}
