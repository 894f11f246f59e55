package vrrp

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// TestNotifierRealScripts runs real programs: queued from several
// goroutines' worth of transitions, they run one at a time (a lock file
// would show an overlap), in order, with keepalived's arguments; a hung one
// is killed at its timeout and the next still runs.
func TestNotifierRealScripts(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	script := filepath.Join(dir, "notify.sh")
	body := `#!/bin/sh
lock="` + dir + `/lock"
[ -e "$lock" ] && echo OVERLAP >> "` + log + `"
: > "$lock"
sleep 0.05
# a killed run cannot clean up: drop the lock before hanging
[ "$1" = hang ] && { rm -f "$lock"; sleep 30; }
echo "$*" >> "` + log + `"
rm -f "$lock"
`
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	q := NewNotifier(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	n := conf.Notify{Master: []string{script, "own-master"}, Backup: []string{script, "own-backup"}, Generic: []string{script}, Timeout: 2 * time.Second}
	q.Transition(n, "INSTANCE", "VI_1", "MASTER", 120, nil)
	q.Transition(n, "INSTANCE", "VI_2", "BACKUP", 90, nil)
	var hung NotifyRun
	q.Transition(conf.Notify{Fault: []string{script, "hang"}, Timeout: 300 * time.Millisecond}, "INSTANCE", "VI_1", "FAULT", 120, func(r NotifyRun) { hung = r })
	q.Transition(n, "GROUP", "G", "BACKUP", 0, nil)
	q.Wait()
	cancel()
	<-done
	b, _ := os.ReadFile(log)
	want := "own-master\nINSTANCE VI_1 MASTER 120\nown-backup\nINSTANCE VI_2 BACKUP 90\nown-backup\nGROUP G BACKUP 0\n"
	if string(b) != want {
		t.Fatalf("log:\n%s\nwant:\n%s", b, want)
	}
	if !strings.Contains(hung.Err, "timed out") {
		t.Fatalf("hung script: %+v", hung)
	}
}

// TestCoordinatorScriptReal: a real vrrp_script (test -e FILE) drives the
// tracked state of an attached instance through rise and fall.
func TestCoordinatorScriptReal(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "ok")
	s := conf.VRRPScript{Name: "chk", Argv: []string{"/usr/bin/test", "-e", flag}, Interval: 20 * time.Millisecond, Timeout: time.Second, Rise: 2, Fall: 2}
	cfg := testConfig()
	cfg.TrackScripts = []conf.TrackScript{{Script: s, Weight: -40}}
	inst, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCoordinator(nil)
	c.Apply(&conf.Config{VRRP: []conf.VRRPInstance{cfg}})
	c.Attach(inst)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	scriptUp := func() bool {
		for _, o := range inst.Status().Tracked {
			if o.Kind == KindScript {
				return o.Up
			}
		}
		t.Fatal("script not tracked")
		return false
	}
	wait := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for scriptUp() != want {
			if time.Now().After(deadline) {
				t.Fatalf("script state never became %v", want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	wait(false) // the file is missing: two failures
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wait(true)
	if p, _, _ := inst.verdict(); p != 100 {
		t.Fatalf("effective priority %d with the script up", p)
	}
	os.Remove(flag)
	wait(false)
	if p, _, _ := inst.verdict(); p != 60 {
		t.Fatalf("effective priority %d with the script down", p)
	}
}

// TestNotifierUser: notify_user runs the script under that account.
func TestNotifierUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to change user")
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "uid")
	q := NewNotifier(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	var res NotifyRun
	q.Transition(conf.Notify{Master: []string{"/bin/sh", "-c", "id -u > " + out}, Timeout: 5 * time.Second, User: "nobody"},
		"INSTANCE", "VI_1", "MASTER", 100, func(r NotifyRun) { res = r })
	q.Wait()
	cancel()
	<-done
	b, err := os.ReadFile(out)
	if err != nil || strings.TrimSpace(string(b)) != "65534" {
		t.Fatalf("uid %q (%v), run %+v", b, err, res)
	}
}
