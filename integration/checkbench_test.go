//go:build integration || vm

package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The check benchmark's listeners run in a process of their own (this
// test binary re-executed), so that their CPU is never counted as the
// checker's. TestBenchListener is that process: it listens on
// LVSD_BENCH_LISTEN (IP:FIRST-LAST), closes every accepted connection at
// once, writes the total accepted to LVSD_BENCH_COUNT every 100 ms, and
// exits when its stdin closes.
func TestBenchListener(t *testing.T) {
	spec := os.Getenv("LVSD_BENCH_LISTEN")
	if spec == "" {
		t.Skip("helper process of the check benchmark")
	}
	ip, ports, ok := strings.Cut(spec, ":")
	first, last, ok2 := strings.Cut(ports, "-")
	lo, err1 := strconv.Atoi(first)
	hi, err2 := strconv.Atoi(last)
	if !ok || !ok2 || err1 != nil || err2 != nil {
		t.Fatalf("LVSD_BENCH_LISTEN=%q", spec)
	}
	var accepted atomic.Int64
	for p := lo; p <= hi; p++ {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(p)))
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted.Add(1)
				c.Close()
			}
		}()
	}
	countFile := os.Getenv("LVSD_BENCH_COUNT")
	go func() {
		for range time.Tick(100 * time.Millisecond) {
			_ = os.WriteFile(countFile+".tmp", []byte(strconv.FormatInt(accepted.Load(), 10)), 0o644)
			_ = os.Rename(countFile+".tmp", countFile)
		}
	}()
	fmt.Println("listening")
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// benchListener is the parent's handle on a TestBenchListener process.
type benchListener struct {
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	countFile string
}

// startBenchListener starts the listener helper, in a namespace when
// prefix is set (e.g. ip netns exec NS), and waits until it listens.
func startBenchListener(t *testing.T, prefix []string, ip string, first, last int) *benchListener {
	t.Helper()
	countFile := t.TempDir() + "/accepted"
	argv := append(slices.Clip(prefix), "env", "LVSD_BENCH_LISTEN="+fmt.Sprintf("%s:%d-%d", ip, first, last),
		"LVSD_BENCH_COUNT="+countFile, os.Args[0], "-test.run=^TestBenchListener$", "-test.count=1")
	cmd := exec.Command(argv[0], argv[1:]...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &benchListener{cmd: cmd, stdin: stdin, countFile: countFile}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if sc.Text() == "listening" {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return b
		}
	}
	t.Fatalf("listener helper ended: %v", sc.Err())
	return nil
}

// accepted is the listener's count of accepted connections (at most 100 ms
// old).
func (b *benchListener) accepted() int64 {
	data, err := os.ReadFile(b.countFile)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(string(data), 10, 64)
	return n
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times (100 on Linux).
const clockTicks = 100

// procCPU is the user + system CPU time of pid from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	u, s, err := procUserSys(pid)
	return u + s, err
}

// procUserSys is the user and system CPU time of pid from /proc/PID/stat.
func procUserSys(pid int) (user, sys time.Duration, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %q", pid, s)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %q", pid, s)
	}
	return time.Duration(ut) * time.Second / clockTicks, time.Duration(st) * time.Second / clockTicks, nil
}

// treeUserSys is procUserSys summed over pids.
func treeUserSys(pids ...int) (user, sys time.Duration, err error) {
	for _, p := range pids {
		u, s, err := procUserSys(p)
		if err != nil {
			return 0, 0, err
		}
		user += u
		sys += s
	}
	return user, sys, nil
}

// percentile is the p-th percentile (0-100) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}
