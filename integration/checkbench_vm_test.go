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
// in both), connect_timeout 1 s, retry 0. lvsd and keepalived run side
// by side in each of LVSD_BENCH_VM_ROUNDS (4) rounds, measured over the
// same window (each checks the ports of a listener process of its own):
// the host is shared, and its swings of load made rounds in turn differ
// by up to 2x, more than the difference measured. LVSD_BENCH_VM_PAIRED=0
// runs them in turn instead, each round starting with the next one. Each run has a
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
	rounds := vmBenchEnv("LVSD_BENCH_VM_ROUNDS", 4)
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
	// Each contender checks ports of a listener process of its own, so
	// that in paired rounds each one's rate is counted apart.
	const (
		lvsdPorts     = 20000
		kaPorts       = 21000
		baselinePorts = 22000
	)
	maxN := slices.Max(sizes)
	listeners := map[int]*benchListener{}
	for _, base := range []int{lvsdPorts, kaPorts, baselinePorts} {
		listeners[base] = startBenchListener(t, []string{"ip", "netns", "exec", rs.NS}, "198.51.100.10", base, base+maxN-1)
	}

	write := func(name, text string) string {
		f, err := l.WriteFile(name, text)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	// lvsdConfig writes lvsd's config for n servers from port first,
	// checked every delay (the idle baseline: the same servers once an
	// hour, what the daemon costs when it does not check).
	lvsdConfig := func(n, first int, delay string) string {
		var lv strings.Builder
		fmt.Fprintf(&lv, "virtual_server \"bench\" {\n  address = \"198.51.100.40:80\"\n  lvs_method = \"NAT\"\n  delay_loop = %q\n", delay)
		for i := range n {
			fmt.Fprintf(&lv, "  real_server \"%d\" {\n    address = \"198.51.100.10:%d\"\n    tcp_check {\n      connect_timeout = \"1s\"\n      retry = 0\n    }\n  }\n", i, first+i)
		}
		lv.WriteString("}\n")
		return write(fmt.Sprintf("lvsd-%d-%d-%s.hcl", n, first, delay), lv.String())
	}
	keepalivedConfig := func(n, first int) string {
		var ka strings.Builder
		ka.WriteString("global_defs {\n  router_id lvsd_bench\n}\nvirtual_server 198.51.100.40 80 {\n  delay_loop 0.1\n  lb_algo wlc\n  lb_kind NAT\n  protocol TCP\n")
		for i := range n {
			fmt.Fprintf(&ka, "  real_server 198.51.100.10 %d {\n    weight 1\n    TCP_CHECK {\n      connect_timeout 1\n      retry 0\n    }\n  }\n", first+i)
		}
		ka.WriteString("}\n")
		return write(fmt.Sprintf("keepalived-%d-%d.conf", n, first), ka.String())
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
	// contender is a checker running in a namespace of its own.
	type contender struct {
		name string
		n    int
		h    *lab.Host
		p    *lab.Proc
		pids func() []int
		ln   *benchListener
	}
	// measure waits until every contender has its real servers in IPVS,
	// lets the checks settle, and reads each one's CPU and rate over the
	// same window: the contenders of a paired round run side by side, so
	// that a swing of the host's load falls on all of them.
	measure := func(cs ...*contender) []figure {
		t.Helper()
		for _, c := range cs {
			var in int
			if _, ok := lab.WaitFor(120*time.Second, func() bool {
				out, _ := c.h.Run("ipvsadm", "-Ln")
				in = strings.Count(out, "198.51.100.10:")
				return in >= c.n
			}); !ok {
				t.Fatalf("%s: %d of %d real servers in IPVS; log:\n%s", c.name, in, c.n, c.p.Output())
			}
		}
		time.Sleep(5 * time.Second)
		type sample struct {
			u, s time.Duration
			a    int64
			at   time.Time
		}
		read := func(c *contender, ps []int) sample {
			u, s, err := treeUserSys(ps...)
			if err != nil {
				t.Fatal(err)
			}
			return sample{u, s, c.ln.accepted(), time.Now()}
		}
		pids := make([][]int, len(cs))
		before := make([]sample, len(cs))
		for i, c := range cs {
			pids[i] = c.pids()
			before[i] = read(c, pids[i])
		}
		time.Sleep(dur)
		figs := make([]figure, len(cs))
		for i, c := range cs {
			s0, s1 := before[i], read(c, pids[i])
			checks := max(float64(s1.a-s0.a), 1)
			el := s1.at.Sub(s0.at)
			f := figure{rate: checks / el.Seconds(), userK: float64((s1.u - s0.u).Milliseconds()) * 1000 / checks, sysK: float64((s1.s - s0.s).Milliseconds()) * 1000 / checks}
			f.perK = f.userK + f.sysK
			cpu := s1.u - s0.u + s1.s - s0.s
			// TIME_WAIT sockets in the checker's namespace: the side that
			// closes first keeps them, and they make connects dearer.
			sockstat, _ := c.h.Run("sh", "-c", "grep ^TCP: /proc/net/sockstat")
			t.Logf("BENCH %s, %d servers: %.0f checks/s (nominal %d) over %v; CPU %v = %.1f ms per 1,000 checks (user %.1f, system %.1f; %.0f%% of one core), pids %v; %s",
				c.name, c.n, f.rate, c.n*10, el.Round(time.Millisecond), cpu, f.perK, f.userK, f.sysK, 100*cpu.Seconds()/el.Seconds(), pids[i], strings.TrimSpace(sockstat))
			if f.rate < 0.9*float64(c.n*10) {
				t.Logf("BENCH %s, %d servers: below 90%% of the nominal rate: the VM is saturated, the figure compares nothing", c.name, c.n)
			}
			if out, _ := c.h.Run("ipvsadm", "-Ln"); strings.Count(out, "198.51.100.10:") < c.n {
				t.Errorf("%s: real servers left IPVS during the run (checks failing: the VM is saturated); lower LVSD_BENCH_VM_SERVERS", c.name)
			}
			figs[i] = f
		}
		return figs
	}
	stop := func(c *contender) {
		if err := c.p.Stop(syscall.SIGTERM, 30*time.Second); err != nil {
			t.Logf("stop %s: %v", c.name, err)
		}
		waitIPVSGone(c.h)
	}

	// lvsd (LVSD_BENCH_GOMAXPROCS, when set, is passed on to it).
	env := []string{"env"}
	if g := os.Getenv("LVSD_BENCH_GOMAXPROCS"); g != "" {
		env = append(env, "GOMAXPROCS="+g)
	}
	profile := os.Getenv("LVSD_BENCH_VM_CPUPROFILE")
	baseline := os.Getenv("LVSD_BENCH_VM_BASELINE")
	// The contenders of a round run at the same time (each with its own
	// listener and namespace); LVSD_BENCH_VM_PAIRED=0 runs them in turn.
	paired := os.Getenv("LVSD_BENCH_VM_PAIRED") != "0"
	startLvsd := func(bin string, n, round int, file string) *contender {
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
		c := &contender{name: "lvsd tcp_check", n: n, h: h, p: p, pids: func() []int { return []int{p.Cmd.Process.Pid} }, ln: listeners[lvsdPorts]}
		if bin != lvsdBin {
			c.name, c.ln = "baseline lvsd tcp_check", listeners[baselinePorts]
		}
		return c
	}
	startKeepalived := func(n, round int, file string) *contender {
		// Checker only; the checker is a child whose pid it writes.
		tag := fmt.Sprintf("ka-%d-%d", n, round)
		cpid := l.Dir + "/" + tag + "-checkers.pid"
		h := host()
		k, err := h.Start(tag, "keepalived", "--dont-fork", "-C", "-f", file, "--log-console",
			"-p", l.Dir+"/"+tag+".pid", "-c", cpid, "-r", l.Dir+"/"+tag+"-vrrp.pid")
		if err != nil {
			t.Fatal(err)
		}
		return &contender{name: "keepalived TCP_CHECK", n: n, h: h, p: k, ln: listeners[kaPorts], pids: func() []int {
			b, err := os.ReadFile(cpid)
			c, err2 := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil || err2 != nil {
				t.Fatalf("keepalived checker pid: %v %v", err, err2)
			}
			return []int{k.Cmd.Process.Pid, c}
		}}
	}

	for _, n := range sizes {
		lvFile, idleFile := lvsdConfig(n, lvsdPorts, "100ms"), lvsdConfig(n, lvsdPorts, "1h")
		kaFile := keepalivedConfig(n, kaPorts)
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
		type entry struct {
			start func(r int) *contender
			into  *[]figure
		}
		entries := []entry{
			{func(r int) *contender { return startLvsd(lvsdBin, n, r, lvFile) }, &lv},
			{func(r int) *contender { return startKeepalived(n, r, kaFile) }, &ka},
		}
		if baseline != "" {
			blFile := lvsdConfig(n, baselinePorts, "100ms")
			entries = append(entries, entry{func(r int) *contender { return startLvsd(baseline, n, r, blFile) }, &bl})
		}
		for r := range rounds {
			// Each round starts with the next contender.
			order := append(slices.Clone(entries[r%len(entries):]), entries[:r%len(entries)]...)
			if paired {
				cs := make([]*contender, len(order))
				for i, e := range order {
					cs[i] = e.start(r)
				}
				for i, f := range measure(cs...) {
					*order[i].into = append(*order[i].into, f)
				}
				for _, c := range cs {
					stop(c)
				}
				continue
			}
			for _, e := range order {
				c := e.start(r)
				*e.into = append(*e.into, measure(c)[0])
				stop(c)
			}
		}
		// The ratio of each round: in paired rounds both figures come
		// from the same window.
		var ratios []string
		below := 0
		for r := range rounds {
			q := lv[r].perK / ka[r].perK
			ratios = append(ratios, fmt.Sprintf("%.2f", q))
			if q < 1 {
				below++
			}
		}
		mode := "in turn"
		if paired {
			mode = "side by side"
		}
		t.Logf("BENCH rounds, %d servers (%s): lvsd/keepalived CPU per check %s; below 1 in %d of %d", n, mode, strings.Join(ratios, " "), below, rounds)
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
