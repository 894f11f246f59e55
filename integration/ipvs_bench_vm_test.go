//go:build vm

package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/benchtable"
	"github.com/lvsd/lvsd/integration/lab"
)

// TestIPVSBenchmark is issue 4's benchmark, run by `make bench` inside the
// VM (LVSD_BENCH_IPVS=1; skipped otherwise): in one VM and one namespace,
// the time to program N services x 10 real servers from an empty table by
//
//   - ipvsadm -R restoring the table (the whole command),
//   - keepalived 2.2.7 starting from the equivalent keepalived.conf (IPVS
//     only, checkers process alone, no checker on the real servers),
//   - lvsd director starting from the equivalent HCL,
//
// each measured from the process start until /proc/net/ip_vs lists every
// entry. Then, with lvsd holding the largest table of at most 10k
// services: a reload changing one real server's weight (time until the
// kernel has it, and the ops lvsd logged) and lvsd's peak RSS (VmHWM).
//
// LVSD_BENCH_IPVS_SIZES (default "1000,10000") lists the service counts;
// keepalived and ipvsadm run only up to LVSD_BENCH_IPVS_OTHERS_MAX
// services (default 10000), so 50000 can be measured for lvsd alone.
// LVSD_BENCH_IPVS_ENV="K=V ..." sets lvsd's environment for an experiment
// (GOGC, GOMAXPROCS; with GODEBUG=gctrace=1 lvsd's output through its
// start is logged). VmRSS is sampled through each lvsd start and its peak
// logged with when it came.
// LVSD_BENCH_IPVS_PROFILE=DIR writes lvsd's CPU profile of each from-empty
// run there; LVSD_BENCH_IPVS_PROFILE_RELOAD=DIR one from the first reload
// on instead. Figures are logged as "bench:" lines; nothing is asserted on
// speed (software emulation, shared CPUs), only on the table being right.
func TestIPVSBenchmark(t *testing.T) {
	if os.Getenv("LVSD_BENCH_IPVS") == "" {
		t.Skip("set LVSD_BENCH_IPVS=1 to run the IPVS benchmark (make bench)")
	}
	sizes := envInts(t, "LVSD_BENCH_IPVS_SIZES", []int{1000, 10000})
	othersMax := 10000
	if v := envInts(t, "LVSD_BENCH_IPVS_OTHERS_MAX", nil); len(v) == 1 {
		othersMax = v[0]
	}
	profDir := os.Getenv("LVSD_BENCH_IPVS_PROFILE")
	// LVSD_BENCH_IPVS_POLL_MS: the pause between two polls (default 100).
	minPoll := 100 * time.Millisecond
	if v := envInts(t, "LVSD_BENCH_IPVS_POLL_MS", nil); len(v) == 1 {
		minPoll = time.Duration(v[0]) * time.Millisecond
	}

	l := newLab(t, "bn")
	// Every contender gets a namespace of its own, so a fresh IPVS table:
	// after a flush the kernel keeps the deleted destinations in its
	// per-namespace trash for a while and scans it on every destination
	// add, which made whoever came second at 10k three times slower.
	hosts := 0
	freshHost := func() *lab.Host {
		hosts++
		return addHost(t, l, fmt.Sprintf("lvs%d", hosts), fmt.Sprintf("192.0.2.%d/24", 1+hosts))
	}
	h := freshHost()
	if _, err := h.Run("modprobe", "ip_vs"); err != nil {
		t.Fatal(err)
	}
	if out, err := h.Run("modprobe", "ip_vs_wrr"); err != nil {
		t.Fatalf("modprobe ip_vs_wrr: %v %s", err, out)
	}
	// lvsd runs from a copy in the guest's tmpfs, as ipvsadm and keepalived
	// run from the host's root, which the VM mounts cached: LVSD_BIN sits
	// in the directory lvsd-vm exports uncached, where every page of the
	// 25 MB binary faulted in was a 9p round trip (seconds of a 1k start).
	lvsd := filepath.Join(l.Dir, "lvsd")
	if err := copyFile(lvsdBin, lvsd); err != nil {
		t.Fatal(err)
	}
	// Warm the page cache: every binary comes from the host over 9p, and
	// the first exec of each would otherwise be timed as well.
	for _, argv := range [][]string{{"ipvsadm", "-v"}, {"keepalived", "--version"}, {lvsd, "version"}} {
		if out, err := h.Run(argv...); err != nil {
			t.Fatalf("%v: %v %s", argv, err, out)
		}
	}
	flush := func() {
		t.Helper()
		if out, err := h.Run("ipvsadm", "-C"); err != nil {
			t.Fatalf("ipvsadm -C: %v %s", err, out)
		}
		// Stays empty: nothing left running still programs the table.
		time.Sleep(time.Second)
		if n := ipvsEntries(t, h); n != 0 {
			t.Fatalf("%d entries left after ipvsadm -C", n)
		}
	}
	// waitEntries waits until the table has want entries. Reading
	// /proc/net/ip_vs is no cheap poll: the kernel walks its table from the
	// start for every page of output, and while a reader does so the
	// writers crawl (lvsd at 10k: 184 s polled every 100 ms, 11 s polled
	// every 5 s). So the poll asks for the last services each program
	// writes (ipvsadm -Ln -t: one lookup and one 10-entry dump), and only
	// once those are complete counts every entry once.
	waitEntries := func(p *lab.Proc, lasts []netip.AddrPort, want int, limit time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		last := -1
		for time.Since(start) < limit {
			done := true
			for _, vs := range lasts {
				out, err := h.Run("ipvsadm", "-Ln", "-t", vs.String())
				if err != nil || strings.Count(out, " Masq ") < 10 {
					done = false
					break
				}
			}
			if done {
				at := time.Since(start)
				if last = ipvsEntries(t, h); last == want {
					return at
				}
			}
			if p != nil && p.Exited() {
				t.Fatalf("%s exited with %d of %d entries:\n%s", p.Name, last, want, tail(p.Output(), 40))
			}
			time.Sleep(minPoll)
		}
		t.Fatalf("%d of %d entries after %s", last, want, limit)
		return 0
	}
	write := func(name string, gen func(io.Writer) error) string {
		t.Helper()
		path := filepath.Join(l.Dir, name)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		if err := gen(w); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	type row struct {
		n                   int
		ipvsadm, keep, lvsd time.Duration
		reload              time.Duration
		// reloadLogged: when lvsd logged the reload's op, from the start
		// of `lvsd reload`; reloadReplied: when that command returned;
		// clientExec: one exec of `lvsd version`.
		reloadLogged, reloadReplied, clientExec time.Duration
		reloadOps                               int
		// hupLogged: the same reload (the weight set back) sent as
		// SIGHUP from this process, as `systemctl reload` or `kill -HUP`
		// do, until lvsd logged the op; hupOps its op count.
		hupLogged              time.Duration
		hupOps                 int
		hwmKB, rssKB           int
		startHWMKB             int
		ranOthers, ranReloaded bool
	}
	var rows []row
	reloadAt := 0
	for _, n := range sizes {
		if n <= 10000 && n > reloadAt {
			reloadAt = n
		}
	}

	for _, n := range sizes {
		tab := benchtable.Table{Services: n, Dests: 10}
		if err := tab.Validate(); err != nil {
			t.Fatal(err)
		}
		want := tab.Entries()
		r := row{n: n}
		h = freshHost()
		flush()

		if n <= othersMax {
			r.ranOthers = true
			// ipvsadm -R: one request and one ack per line.
			script := write(fmt.Sprintf("table-%d.ipvsadm", n), func(w io.Writer) error { return tab.WriteIPVSAdm(w, nil) })
			start := time.Now()
			if out, err := h.Run("sh", "-c", "exec ipvsadm -R < "+script); err != nil {
				t.Fatalf("ipvsadm -R: %v %s", err, out)
			}
			r.ipvsadm = time.Since(start)
			if got := ipvsEntries(t, h); got != want {
				t.Fatalf("ipvsadm -R left %d entries, want %d", got, want)
			}
			t.Logf("bench: %d services x 10: ipvsadm -R %s", n, r.ipvsadm.Round(time.Millisecond))
			flush()
			h = freshHost()

			// keepalived: the checkers process programs IPVS at startup.
			conf := write(fmt.Sprintf("keepalived-%d.conf", n), func(w io.Writer) error { return tab.WriteKeepalived(w, nil) })
			start = time.Now()
			ka, err := h.Start(fmt.Sprintf("keepalived-%d", n), "keepalived", "-n", "-l", "-C", "-f", conf,
				"-p", l.Dir+"/keepalived.pid", "-c", l.Dir+"/checkers.pid")
			if err != nil {
				t.Fatal(err)
			}
			waitEntries(ka, []netip.AddrPort{tab.Service(n - 1)}, want, 30*time.Minute)
			r.keep = time.Since(start)
			t.Logf("bench: %d services x 10: keepalived %s", n, r.keep.Round(time.Millisecond))
			// SIGKILL: a clean stop would spend as long removing the table.
			// The parent is stopped first (it would respawn its checkers
			// child), then the child (which would otherwise get SIGTERM at
			// its parent's death and start deleting services the next
			// contender is adding), then the parent.
			_ = ka.Cmd.Process.Signal(syscall.SIGSTOP)
			killPidFile(t, l.Dir+"/checkers.pid")
			killGroup(t, ka)
			flush()
			h = freshHost()
		}

		// lvsd director.
		hcl := write(fmt.Sprintf("lvsd-%d.hcl", n), func(w io.Writer) error { return tab.WriteHCL(w, nil) })
		sock := l.Dir + "/lvsd.sock"
		args := []string{lvsd, "director", "-f", hcl, "--control", sock, "--pid-file", l.Dir + "/lvsd.pid",
			"--resync-interval", "10m"}
		if reloadProfDir := os.Getenv("LVSD_BENCH_IPVS_PROFILE_RELOAD"); reloadProfDir != "" {
			// A CPU profile from the first reload to the stop (the
			// reloads and the 10 s after them): profDir's stop path.
			profDir = reloadProfDir
			prof := filepath.Join(profDir, fmt.Sprintf("lvsd-%d-reload.pprof", n))
			args = append([]string{"env", "LVSD_CPUPROFILE=" + prof, "LVSD_CPUPROFILE_FROM=reload"}, args...)
		} else if profDir != "" {
			prof := filepath.Join(profDir, fmt.Sprintf("lvsd-%d.pprof", n))
			mprof := filepath.Join(profDir, fmt.Sprintf("lvsd-%d.heap.pprof", n))
			args = append([]string{"env", "LVSD_CPUPROFILE=" + prof, "LVSD_MEMPROFILE=" + mprof}, args...)
		}
		// LVSD_BENCH_IPVS_ENV="K=V K=V": lvsd's environment for an
		// experiment (GOGC, GOMEMLIMIT, GOMAXPROCS).
		if e := strings.Fields(os.Getenv("LVSD_BENCH_IPVS_ENV")); len(e) > 0 {
			if args[0] != "env" {
				args = append([]string{"env"}, args...)
			}
			args = append(append([]string{"env"}, e...), args[1:]...)
		}
		start := time.Now()
		lv, err := h.Start(fmt.Sprintf("lvsd-%d", n), args...)
		if err != nil {
			t.Fatal(err)
		}
		stopRSS := sampleRSS(lv.Cmd.Process.Pid, start)
		waitEntries(lv, []netip.AddrPort{tab.Service(n - 1), lastSorted(tab)}, want, 30*time.Minute)
		r.lvsd = time.Since(start)
		// The sync logs its summary just after the kernel has the table.
		lab.WaitFor(10*time.Second, func() bool { return countOps(lv.Output()) >= want })
		// The peak of the start alone: the sync is over once its summary
		// is logged.
		lab.WaitFor(5*time.Minute, func() bool { return countOps(lv.Output()) >= want })
		r.startHWMKB = procStatusKB(t, lv.Cmd.Process.Pid, "VmHWM")
		peakKB, peakAt, peakParts := stopRSS()
		if strings.Contains(os.Getenv("LVSD_BENCH_IPVS_ENV"), "gctrace") {
			t.Logf("bench: lvsd's start:\n%s", lv.Output())
		}
		t.Logf("bench: %d services x 10: lvsd VmRSS sampled every 20 ms peaked at %d kB (%s), %s after the start", n, peakKB, peakParts, peakAt.Round(time.Millisecond))
		t.Logf("bench: %d services x 10: lvsd %s (%s), VmHWM after the start %d kB, VmRSS %d kB", n, r.lvsd.Round(time.Millisecond),
			phases(lv.Output(), start), r.startHWMKB, procStatusKB(t, lv.Cmd.Process.Pid, "VmRSS"))

		if n == reloadAt {
			r.ranReloaded = true
			// Wait for the sync to be over (ops logged = the table), then
			// change one weight and reload.
			if _, ok := lab.WaitFor(5*time.Minute, func() bool { return countOps(lv.Output()) >= want }); !ok {
				t.Fatalf("lvsd logged %d ops, want %d", countOps(lv.Output()), want)
			}
			before := countOps(lv.Output())
			vs, rs := tab.Service(n/2), tab.Dest(n/2, 3)
			write(fmt.Sprintf("lvsd-%d.hcl", n), func(w io.Writer) error {
				return tab.WriteHCL(w, benchtable.Weights{{n / 2, 3}: 5})
			})
			re := regexpWeight(rs.String(), 5)
			// What the client's exec alone costs here, to tell it from
			// lvsd's own work in the figure below.
			execStart := time.Now()
			if out, err := h.Run(lvsd, "version"); err != nil {
				t.Fatalf("lvsd version: %v %s", err, out)
			}
			r.clientExec = time.Since(execStart)
			logFrom := len(lv.Output())
			start := time.Now()
			if out, err := h.Run(lvsd, "reload", "--control", sock); err != nil {
				t.Fatalf("lvsd reload: %v %s", err, out)
			}
			r.reloadReplied = time.Since(start)
			if _, ok := lab.WaitFor(5*time.Minute, func() bool {
				out, _ := h.Run("ipvsadm", "-Ln", "-t", vs.String())
				return strings.Contains(normalise(out), re)
			}); !ok {
				t.Fatalf("weight of %s -> %s never became 5", vs, rs)
			}
			r.reload = time.Since(start)
			// Let a straggling op show up in the log before counting.
			time.Sleep(500 * time.Millisecond)
			r.reloadOps = countOps(lv.Output()) - before
			r.reloadLogged = opLoggedAfter(lv.Output()[logFrom:], start)
			if r.reloadOps != 1 {
				t.Errorf("reload changing one weight applied %d ops, want 1:\n%s", r.reloadOps, tail(lv.Output(), 20))
			}
			r.hwmKB = procStatusKB(t, lv.Cmd.Process.Pid, "VmHWM")
			rss := procStatusKB(t, lv.Cmd.Process.Pid, "VmRSS")
			// Steady state: lvsd hands the free heap of a burst back
			// within seconds (cmd/lvsd/memory.go).
			time.Sleep(10 * time.Second)
			r.rssKB = procStatusKB(t, lv.Cmd.Process.Pid, "VmRSS")
			t.Logf("bench: %d services x 10: lvsd reload of one weight %s (%d op; lvsd logged the op at %s, `lvsd reload` returned at %s, an exec of `lvsd version` takes %s), VmHWM %d kB, VmRSS %d kB just after, %d kB 10 s later",
				n, r.reload.Round(time.Millisecond), r.reloadOps, r.reloadLogged.Round(time.Millisecond),
				r.reloadReplied.Round(time.Millisecond), r.clientExec.Round(time.Millisecond), r.hwmKB, rss, r.rssKB)
			// Then the same reload the way an init system sends it, to
			// the daemon at rest (the collection that follows the
			// first reload is over), as reloads come in production.
			r.hupLogged, r.hupOps = hupReload(t, h, lv, tab, n, func() {
				write(fmt.Sprintf("lvsd-%d.hcl", n), func(w io.Writer) error { return tab.WriteHCL(w, nil) })
			})
			// LVSD_BENCH_IPVS_HUPS=N: N more one-weight reloads by
			// SIGHUP, for a CPU profile (LVSD_BENCH_IPVS_PROFILE_RELOAD)
			// with enough samples; their times are logged.
			// LVSD_BENCH_IPVS_HUP_REST=1: each of them at rest, like the
			// one above (8 s after the last: the free heap handed back).
			hups, _ := strconv.Atoi(os.Getenv("LVSD_BENCH_IPVS_HUPS"))
			rest := os.Getenv("LVSD_BENCH_IPVS_HUP_REST") != ""
			for k := range hups {
				if rest {
					time.Sleep(8 * time.Second)
				}
				w := benchtable.Weights{}
				if k%2 == 0 {
					w[[2]int{n / 2, 3}] = 5
				}
				fi, _ := os.Stat(lv.Log)
				write(fmt.Sprintf("lvsd-%d.hcl", n), func(wr io.Writer) error { return tab.WriteHCL(wr, w) })
				rssBefore := procStatusKB(t, lv.Cmd.Process.Pid, "VmRSS")
				start := time.Now()
				if err := lv.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
					t.Fatal(err)
				}
				lab.WaitFor(time.Minute, func() bool {
					b, _ := os.ReadFile(lv.Log)
					return int64(len(b)) > fi.Size() && strings.Contains(string(b[fi.Size():]), `msg=reloaded`)
				})
				b, _ := os.ReadFile(lv.Log)
				since := string(b[fi.Size():])
				_, times, _ := strings.Cut(since, "changes=")
				t.Logf("bench: extra SIGHUP %d: op logged at %s (%s), VmRSS %d kB before, VmHWM %d kB after", k, opLoggedAfter(since, start).Round(time.Millisecond),
					strings.TrimSpace(times), rssBefore, procStatusKB(t, lv.Cmd.Process.Pid, "VmHWM"))
			}
			// The peak over both reloads.
			r.hwmKB = procStatusKB(t, lv.Cmd.Process.Pid, "VmHWM")
		}
		if profDir != "" {
			// A clean stop writes the profile; --keep-ipvs is not given, so
			// the stop also times lvsd removing the table (not reported).
			if err := lv.Stop(syscall.SIGTERM, 30*time.Minute); err != nil {
				t.Logf("lvsd stop: %v\n%s", err, tail(lv.Output(), 5))
			}
		} else {
			killGroup(t, lv)
		}
		flush()
		rows = append(rows, r)
	}

	var b strings.Builder
	b.WriteString("bench: | services x 10 | entries | ipvsadm -R | keepalived | lvsd | lvsd / keepalived | lvsd / ipvsadm -R |\n")
	for _, r := range rows {
		if r.ranOthers {
			fmt.Fprintf(&b, "bench: | %d | %d | %s | %s | %s | %.2f | %.2f |\n", r.n, r.n*11,
				secs(r.ipvsadm), secs(r.keep), secs(r.lvsd), r.lvsd.Seconds()/r.keep.Seconds(), r.lvsd.Seconds()/r.ipvsadm.Seconds())
		} else {
			fmt.Fprintf(&b, "bench: | %d | %d | - | - | %s | - | - |\n", r.n, r.n*11, secs(r.lvsd))
		}
	}
	for _, r := range rows {
		if r.ranReloaded {
			fmt.Fprintf(&b, "bench: reload of one weight at %d services: %s, %d op, %.2f%% of from-empty (op logged by lvsd at %s, %.2f%%; client exec alone %s); lvsd VmHWM %.1f MB (%.1f MB before the reload), VmRSS %.1f MB 10 s later\n",
				r.n, r.reload.Round(time.Millisecond), r.reloadOps, 100*r.reload.Seconds()/r.lvsd.Seconds(),
				r.reloadLogged.Round(time.Millisecond), 100*r.reloadLogged.Seconds()/r.lvsd.Seconds(),
				r.clientExec.Round(time.Millisecond), float64(r.hwmKB)/1024, float64(r.startHWMKB)/1024, float64(r.rssKB)/1024)
			fmt.Fprintf(&b, "bench: the same reload by SIGHUP at %d services: op logged by lvsd at %s, %.2f%% of from-empty, %d op\n",
				r.n, r.hupLogged.Round(time.Millisecond), 100*r.hupLogged.Seconds()/r.lvsd.Seconds(), r.hupOps)
		}
	}
	t.Log("\n" + b.String())
}

// phases splits lvsd's from-empty time with its log: "started" is logged
// once the file is parsed and the director is up; the "ipvs op" lines come
// after the batch of ops that a sync applied.
func phases(log string, start time.Time) string {
	var first, started, firstOp, lastOp time.Time
	for _, line := range strings.Split(log, "\n") {
		ts, ok := strings.CutPrefix(line, "time=")
		if !ok {
			continue
		}
		ts, _, _ = strings.Cut(ts, " ")
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			continue
		}
		if first.IsZero() {
			first = at
		}
		switch {
		case strings.Contains(line, `msg=started`) && started.IsZero():
			started = at
		case strings.Contains(line, `msg="ipvs op"`) || strings.Contains(line, `msg="ipvs ops applied"`):
			if firstOp.IsZero() {
				firstOp = at
			}
			lastOp = at
		}
	}
	if started.IsZero() || firstOp.IsZero() {
		return "phases unknown"
	}
	return fmt.Sprintf("first log line at %s, parsed and started at %s, ops applied by %s, logged by %s",
		first.Sub(start).Round(time.Millisecond), started.Sub(start).Round(time.Millisecond),
		firstOp.Sub(start).Round(time.Millisecond), lastOp.Sub(start).Round(time.Millisecond))
}

// lastSorted is the service lvsd programs last: it adds services, then
// destinations, in key order (protocol, then address and port).
func lastSorted(tab benchtable.Table) netip.AddrPort {
	m := tab.Service(0)
	for i := 1; i < tab.Services; i++ {
		if a := tab.Service(i); a.Compare(m) > 0 {
			m = a
		}
	}
	return m
}

// copyFile copies the executable src to dst.
func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}

// opLoggedAfter is when the first "ipvs op" line of log was written,
// from start (0 if none).
func opLoggedAfter(log string, start time.Time) time.Duration {
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, `msg="ipvs op"`) {
			continue
		}
		ts, ok := strings.CutPrefix(line, "time=")
		if !ok {
			continue
		}
		ts, _, _ = strings.Cut(ts, " ")
		if at, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			return at.Sub(start)
		}
	}
	return 0
}

// hupReload times a reload the way an init system sends it: rewrite (the
// file with the changed weight set back to 1), then SIGHUP from this
// process, until lvsd logs the op. Only the log written since the signal
// is read while waiting (the whole log holds a line per op of the start,
// and reading it every poll took CPU from lvsd in the VM). The kernel is
// checked afterwards, untimed.
func hupReload(t *testing.T, h *lab.Host, lv *lab.Proc, tab benchtable.Table, n int, rewrite func()) (time.Duration, int) {
	t.Helper()
	rewrite()
	fi, err := os.Stat(lv.Log)
	if err != nil {
		t.Fatal(err)
	}
	since := func() string {
		f, err := os.Open(lv.Log)
		if err != nil {
			return ""
		}
		defer f.Close()
		b, _ := io.ReadAll(io.NewSectionReader(f, fi.Size(), 1<<30))
		return string(b)
	}
	start := time.Now()
	if err := lv.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(since(), `msg="ipvs op"`) {
		if time.Since(start) > 5*time.Minute {
			t.Fatalf("no op logged after SIGHUP:\n%s", since())
		}
		time.Sleep(5 * time.Millisecond)
	}
	logged := opLoggedAfter(since(), start)
	vs, rs := tab.Service(n/2), tab.Dest(n/2, 3)
	if _, ok := lab.WaitFor(time.Minute, func() bool {
		out, _ := h.Run("ipvsadm", "-Ln", "-t", vs.String())
		return strings.Contains(normalise(out), regexpWeight(rs.String(), 1))
	}); !ok {
		t.Errorf("after SIGHUP the weight of %s -> %s never went back to 1", vs, rs)
	}
	time.Sleep(500 * time.Millisecond)
	t.Logf("bench: lvsd's log after SIGHUP (sent at %s; op logged %s later):\n%s", start.UTC().Format("15:04:05.000"), logged.Round(time.Millisecond), since())
	ops := countOps(since())
	if ops != 1 {
		t.Errorf("reload by SIGHUP applied %d ops, want 1:\n%s", ops, since())
	}
	return logged, ops
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// ipvsEntries counts the services and destinations the host's namespace
// has, from /proc/net/ip_vs read by a thread inside it.
func ipvsEntries(t *testing.T, h *lab.Host) int {
	t.Helper()
	n := 0
	err := h.Do(func() error {
		f, err := os.Open("/proc/thread-self/net/ip_vs")
		if err != nil {
			return err
		}
		defer f.Close()
		buf := make([]byte, 1<<20)
		for {
			k, err := f.Read(buf)
			n += bytes.Count(buf[:k], []byte{'\n'})
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// Three header lines: version, service columns, destination columns.
	return n - 3
}

// countOps counts the IPVS ops lvsd logged as applied: one Info line each,
// or, for a sync of many ops, its "ipvs ops applied" summary.
func countOps(log string) int {
	n := strings.Count(log, `msg="ipvs op"`)
	for _, line := range strings.Split(log, "\n") {
		if _, rest, ok := strings.Cut(line, `msg="ipvs ops applied" ops=`); ok {
			ops, _, _ := strings.Cut(rest, " ")
			k, _ := strconv.Atoi(ops)
			n += k
		}
	}
	return n
}

// regexpWeight is how normalise() prints a masq destination of weight w.
func regexpWeight(rs string, w int) string { return fmt.Sprintf("-> %s Masq %d ", rs, w) }

// sampleRSS reads pid's VmRSS every 20 ms until the returned stop is
// called, which gives the largest sample and when it was taken (since
// start): where in a start the peak (VmHWM) comes. Samples before the
// exec (the forked test binary: the "Name:" line of our own status) do
// not count: one such sample made a 1k start's peak 60 MB, at 15 ms.
func sampleRSS(pid int, start time.Time) (stop func() (int, time.Duration, string)) {
	done := make(chan struct{})
	var peak int
	var at time.Duration
	var parts string // RssAnon and RssFile of the peak sample
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		path := fmt.Sprintf("/proc/%d/status", pid)
		self, _ := os.ReadFile("/proc/self/status")
		ours, _, _ := strings.Cut(string(self), "\n")
		for {
			if b, err := os.ReadFile(path); err == nil && !strings.HasPrefix(string(b), ours+"\n") {
				if _, v, ok := strings.Cut(string(b), "VmRSS:"); ok {
					v, _, _ = strings.Cut(v, "kB")
					if kb, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && kb > peak {
						peak, at, parts = kb, time.Since(start), ""
						for _, f := range []string{"RssAnon:", "RssFile:"} {
							if _, v, ok := strings.Cut(string(b), f); ok {
								v, _, _ = strings.Cut(v, "\n")
								parts += " " + f + " " + strings.TrimSpace(v)
							}
						}
					}
				}
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() (int, time.Duration, string) {
		close(done)
		<-finished
		return peak, at, strings.TrimSpace(parts)
	}
}

// procStatusKB reads a kB field of /proc/PID/status: VmHWM (the peak
// resident set) or VmRSS (the current one).
func procStatusKB(t *testing.T, pid int, field string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// killPidFile SIGKILLs the process a pid file names and waits for it to be
// gone.
func killPidFile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if _, ok := lab.WaitFor(time.Minute, func() bool {
		// A zombie (until its parent reaps it) no longer touches IPVS.
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		return err != nil || strings.Contains(string(st), ") Z ")
	}); !ok {
		t.Fatalf("pid %d from %s still alive", pid, path)
	}
}

// killGroup SIGKILLs a daemon, without the clean stop that would
// unprogram the table.
func killGroup(t *testing.T, p *lab.Proc) {
	t.Helper()
	if err := p.Stop(syscall.SIGKILL, time.Minute); err != nil && !strings.Contains(err.Error(), "killed") {
		t.Logf("%s: %v", p.Name, err)
	}
}

func envInts(t *testing.T, name string, def []int) []int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want positive integers separated by commas", name, v)
		}
		out = append(out, n)
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
