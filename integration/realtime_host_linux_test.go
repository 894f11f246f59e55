//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// schedOf reads a thread's scheduling policy and realtime priority from
// /proc/PID/task/TID/stat (fields 41 and 40, proc(5)); the command name in
// field 2 may hold spaces, so fields are counted after its closing ')'.
func schedOf(path string) (policy, prio int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("%s: no command field", path)
	}
	f := strings.Fields(string(b)[i+1:]) // f[0] is field 3 (state)
	if len(f) < 41-2 {
		return 0, 0, fmt.Errorf("%s: %d fields", path, len(f)+2)
	}
	if prio, err = strconv.Atoi(f[40-3]); err != nil {
		return 0, 0, err
	}
	policy, err = strconv.Atoi(f[41-3])
	return policy, prio, err
}

// TestDirectorRealtimePriority: `--realtime-priority 7` puts every thread
// of the director at SCHED_RR 7 (the ones Go creates after start too),
// except the one thread that forks children, and a vrrp_script forked by
// it runs at SCHED_OTHER; the instance still becomes master.
func TestDirectorRealtimePriority(t *testing.T) {
	l := newLab(t, "rtp1")
	h := addHost(t, l, "lvs1", "198.51.100.20/24")
	out := filepath.Join(l.Dir, "script-sched")
	script := filepath.Join(l.Dir, "sched.sh")
	// The script records its own policy (policy field of /proc/self/stat
	// read by the shell for itself).
	body := fmt.Sprintf("#!/bin/sh\nchrt -p $$ > %s.tmp && mv %s.tmp %s\n", out, out, out)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`vrrp_script "chk" {
  script   = %q
  interval = "200ms"
}
`, script) + strings.Replace(vrrpOnly("MASTER", 150, "secret", false),
		"  virtual_ipaddress", "  track_script \"chk\" {}\n  virtual_ipaddress", 1)
	startDirector(t, l, h, cfg, "--realtime-priority", "7")
	waitVIP(t, h, true, masterDown(150)+5*time.Second)

	if _, ok := lab.WaitFor(10*time.Second, func() bool { _, err := os.Stat(out); return err == nil }); !ok {
		t.Fatal("the vrrp_script never ran")
	}
	if b, _ := os.ReadFile(out); !strings.Contains(string(b), "SCHED_OTHER") {
		t.Fatalf("script scheduling: %q, want SCHED_OTHER", b)
	}

	pidB, err := os.ReadFile(filepath.Join(l.Dir, "lvs1.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(pidB))
	tasks, err := filepath.Glob("/proc/" + pid + "/task/*/stat")
	if err != nil || len(tasks) < 2 {
		t.Fatalf("threads of %s: %v %v", pid, tasks, err)
	}
	var rr, normal int
	for _, task := range tasks {
		policy, prio, err := schedOf(task)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case policy == 2 && prio == 7: // SCHED_RR
			rr++
		case policy == 0:
			normal++
		default:
			t.Errorf("%s: policy %d priority %d", task, policy, prio)
		}
	}
	// Exactly one thread, the spawner, stays at SCHED_OTHER.
	if normal != 1 || rr < 2 {
		t.Fatalf("%d threads at SCHED_RR 7, %d at SCHED_OTHER; want all but one (the spawner) at SCHED_RR", rr, normal)
	}
	t.Logf("%d threads at SCHED_RR 7, 1 spawner at SCHED_OTHER", rr)
}
