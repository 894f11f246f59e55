package healthcheck

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// script writes an executable /bin/sh script into dir and returns its path.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMiscCheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body string
		want       string // "" = success
	}{
		{"exit 0", "echo fine; exit 0\n", ""},
		{"exit 1 stderr", "echo out; printf '\\n  db down\\nmore\\n' >&2; exit 1\n", "exit status 1: db down"},
		{"exit 1 stdout", "echo '  replication stopped'; echo second; exit 1\n", "exit status 1: replication stopped"},
		{"exit 1 silent", "exit 1\n", "exit status 1"},
		// Without misc_dynamic every non-zero code is down.
		{"exit 3", "exit 3\n", "exit status 3"},
		{"signal", "kill -TERM $$\n", "killed by signal terminated"},
		{"args", `[ "$1" = "a b" ] && [ "$2" = '$HOME' ] && [ -z "$SECRET" ] || { echo "argv: $*" >&2; exit 1; }` + "\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SECRET", "s3cret") // not passed to the program
			p := script(t, dir, strings.ReplaceAll(tc.name, " ", "_"), tc.body)
			c := NewMiscChecker(conf.Check{Kind: conf.CheckMisc, Misc: &conf.MiscCheck{Argv: []string{p, "a b", "$HOME"}, Timeout: 5 * time.Second}})
			err := c.Check(context.Background())
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Check = %v, want success", err)
			case tc.want != "" && (err == nil || !strings.HasSuffix(err.Error(), tc.want)):
				t.Fatalf("Check = %v, want ... %q", err, tc.want)
			case err != nil && !strings.HasPrefix(err.Error(), "misc_check "+p+": "):
				t.Fatalf("Check = %v, want the program named", err)
			}
		})
	}
	c := NewMiscChecker(conf.Check{Kind: conf.CheckMisc, Misc: &conf.MiscCheck{Argv: []string{filepath.Join(dir, "missing")}, Timeout: time.Second}})
	if err := c.Check(context.Background()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing program: %v", err)
	}
}

// gone reports whether pid has exited (a zombie not yet reaped by its new
// parent counts as exited).
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}

func readPid(t *testing.T, p string) int {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func waitGone(t *testing.T, what string, pid int) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !gone(pid); {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("%s (pid %d) still running", what, pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMiscCheckTimeout: a program that outlives misc_timeout is killed with
// everything it started, and the check fails at once.
func TestMiscCheckTimeout(t *testing.T) {
	dir := t.TempDir()
	p := script(t, dir, "slow", "echo $$ > "+dir+"/pid\nsleep 30 &\necho $! > "+dir+"/child\necho still working >&2\nwait\n")
	c := NewMiscChecker(conf.Check{Kind: conf.CheckMisc, Misc: &conf.MiscCheck{Argv: []string{p}, Timeout: 300 * time.Millisecond}})
	start := time.Now()
	err := c.Check(context.Background())
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Check took %v with misc_timeout 300ms", took)
	}
	if err == nil || !strings.Contains(err.Error(), "timed out after 300ms, process group killed: still working") {
		t.Fatalf("Check = %v", err)
	}
	waitGone(t, "script", readPid(t, dir+"/pid"))
	waitGone(t, "its child", readPid(t, dir+"/child"))

	// An aborted attempt (lvsd stopping, checker removed) kills it too.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	c.Timeout = time.Minute
	if err := c.Check(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("aborted Check = %v", err)
	}
	waitGone(t, "script", readPid(t, dir+"/pid"))
	waitGone(t, "its child", readPid(t, dir+"/child"))
}

// TestMiscCheckLeftoverChild: a program that exits leaving a child behind
// passes at once and the child does not survive it.
func TestMiscCheckLeftoverChild(t *testing.T) {
	dir := t.TempDir()
	p := script(t, dir, "bg", "sleep 30 &\necho $! > "+dir+"/child\nexit 0\n")
	c := NewMiscChecker(conf.Check{Kind: conf.CheckMisc, Misc: &conf.MiscCheck{Argv: []string{p}, Timeout: 5 * time.Second}})
	start := time.Now()
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Check took %v", took)
	}
	waitGone(t, "child", readPid(t, dir+"/child"))
}

// TestMiscCheckOneInstance: concurrent Checks of one checker never run the
// program twice at a time.
func TestMiscCheckOneInstance(t *testing.T) {
	dir := t.TempDir()
	p := script(t, dir, "excl", "if ! mkdir "+dir+"/lock 2>/dev/null; then echo overlap >&2; exit 1; fi\nsleep 0.2\nrmdir "+dir+"/lock\n")
	c := NewMiscChecker(conf.Check{Kind: conf.CheckMisc, Misc: &conf.MiscCheck{Argv: []string{p}, Timeout: 5 * time.Second}})
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = c.Check(context.Background()) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	// A run still in progress when the caller gives up is reported as such.
	slow := NewMiscChecker(conf.Check{Kind: conf.CheckMisc, Misc: &conf.MiscCheck{Argv: []string{script(t, dir, "slow", "sleep 1\n")}, Timeout: 5 * time.Second}})
	go func() { _ = slow.Check(context.Background()) }()
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := slow.Check(ctx); err == nil || !strings.Contains(err.Error(), "previous run still in progress") {
		t.Errorf("second Check = %v", err)
	}
}

// TestMiscCheckUser runs the program as nobody.
func TestMiscCheckUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch user")
	}
	dir := t.TempDir()
	// t.TempDir's directories are 0700: let nobody reach the script.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p := script(t, dir, "whoami", "echo \"uid=$(id -u) gid=$(id -g)\" >&2\nexit 1\n")
	for _, u := range []string{"nobody", "65534"} {
		c := NewMiscChecker(conf.Check{Kind: conf.CheckMisc, Misc: &conf.MiscCheck{Argv: []string{p}, Timeout: 5 * time.Second, User: u}})
		if err := c.Check(context.Background()); err == nil || !strings.HasSuffix(err.Error(), "exit status 1: uid=65534 gid=65534") {
			t.Errorf("user %s: Check = %v", u, err)
		}
	}
	// Default: lvsd's own user.
	c := NewMiscChecker(conf.Check{Kind: conf.CheckMisc, Misc: &conf.MiscCheck{Argv: []string{p}, Timeout: 5 * time.Second}})
	if err := c.Check(context.Background()); err == nil || !strings.HasSuffix(err.Error(), "exit status 1: uid=0 gid=0") {
		t.Errorf("default user: Check = %v", err)
	}
	c = NewMiscChecker(conf.Check{Kind: conf.CheckMisc, Misc: &conf.MiscCheck{Argv: []string{p}, Timeout: 5 * time.Second, User: "no-such-user-lvsd"}})
	if err := c.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "user no-such-user-lvsd: ") {
		t.Errorf("unknown user: Check = %v", err)
	}
}

func TestAttemptTimeout(t *testing.T) {
	misc := conf.Check{Kind: conf.CheckMisc, Misc: &conf.MiscCheck{Timeout: 30 * time.Second}}
	if got := attemptTimeout(misc); got != 30*time.Second+miscGrace {
		t.Errorf("misc_check: %v", got)
	}
	if got := attemptTimeout(conf.Check{Kind: conf.CheckTCP, ConnectTimeout: 2 * time.Second}); got != 2*time.Second {
		t.Errorf("tcp_check: %v", got)
	}
}

// TestManagerMiscCheck: a failing misc_check takes the real server down
// through the Manager with the program's own words, and a passing one brings
// it back.
func TestManagerMiscCheck(t *testing.T) {
	dir := t.TempDir()
	flag := filepath.Join(dir, "down")
	p := script(t, dir, "check", "if [ -e "+flag+" ]; then echo 'replica stopped' >&2; exit 1; fi\n")
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	vs := conf.VirtualServer{Name: "db", RealServers: []conf.RealServer{{
		Address: netip.MustParseAddrPort("198.51.100.10:3306"),
		Checks: []conf.Check{{
			Kind: conf.CheckMisc, Target: netip.MustParseAddrPort("198.51.100.10:3306"),
			DelayLoop: 20 * time.Millisecond, DelayBeforeRetry: 10 * time.Millisecond, Retry: 0, Rise: 1,
			Misc: &conf.MiscCheck{Path: p, Argv: []string{p}, Timeout: time.Second},
		}},
	}}}
	trs := make(chan Transition, 10)
	m := NewManager(nil, func(tr Transition) { trs <- tr }, WithJitter(func(time.Duration) time.Duration { return 0 }))
	m.Set([]conf.VirtualServer{vs})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	next := func() Transition {
		select {
		case tr := <-trs:
			return tr
		case <-time.After(5 * time.Second):
			t.Fatal("no transition")
			return Transition{}
		}
	}
	if tr := next(); tr.Up || tr.Err != "misc_check "+p+": exit status 1: replica stopped" {
		t.Fatalf("transition %+v", tr)
	}
	if st := m.Status(); st[0].Checks[0].Kind != "misc_check" {
		t.Errorf("status %+v", st)
	}
	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	if tr := next(); !tr.Up {
		t.Fatalf("transition %+v", tr)
	}
}
