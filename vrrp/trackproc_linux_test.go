package vrrp

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvsd/lvsd/conf"
)

// TestListProcs scans the real /proc for a sleep started with a
// distinctive argument.
func TestListProcs(t *testing.T) {
	arg := strconv.Itoa(900000 + os.Getpid()%90000)
	cmd := exec.Command("/bin/sleep", arg)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	p := conf.VRRPTrackProcess{Argv: []string{"/bin/sleep", arg}, FullCommand: true, ParamMatch: conf.ParamExact}
	count := func() int {
		ps, err := listProcs(map[string]bool{"/bin/sleep": true}, true)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, pi := range ps {
			if matchProcess(p, pi) {
				n++
				if pi.Comm != "sleep" {
					t.Errorf("comm %q", pi.Comm)
				}
			}
		}
		return n
	}
	if n := count(); n != 1 {
		t.Fatalf("found %d", n)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if n := count(); n != 0 {
		t.Fatalf("found %d after kill", n)
	}
}

// BenchmarkListProcs is one scan of /proc reading stat and cmdline of
// every process, what a 1 s procInterval costs per second. Set
// LVSD_BENCH_PROCS=N to start N extra sleeps first.
func BenchmarkListProcs(b *testing.B) {
	if s := os.Getenv("LVSD_BENCH_PROCS"); s != "" {
		n, _ := strconv.Atoi(s)
		for range n {
			cmd := exec.Command("/bin/sleep", "3600")
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		}
	}
	for _, cmdline := range []bool{false, true} {
		b.Run(map[bool]string{false: "stat", true: "stat+cmdline"}[cmdline], func(b *testing.B) {
			// Names no process has: the cost of a scan finding nothing.
			names := map[string]bool{"no-such-task": true, "/no/such/program": true}
			ps, _ := listProcs(map[string]bool{"sleep": true}, cmdline)
			var before, after unix.Rusage
			unix.Getrusage(unix.RUSAGE_SELF, &before)
			n := 0
			for b.Loop() {
				if _, err := listProcs(names, cmdline); err != nil {
					b.Fatal(err)
				}
				n++
			}
			unix.Getrusage(unix.RUSAGE_SELF, &after)
			cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
			// CPU time per scan, whatever the load of the machine: at one
			// scan per second, cpu-ns/op / 1e7 is the percentage of one core.
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/op")
			b.ReportMetric(float64(len(ps)), "sleeps")
		})
	}
}
