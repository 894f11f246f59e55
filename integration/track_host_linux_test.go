//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// trackedDirector is a director file whose instance tracks a vrrp_script
// (test -e FLAG, weight -60) and logs every notify call to LOG.
func trackedDirector(prio int, flag, notify string) string {
	return fmt.Sprintf(`vrrp_script "chk_flag" {
  script   = "/usr/bin/test -e %s"
  interval = "200ms"
  fall     = 2
  rise     = 2
  weight   = -60
}
vrrp_instance "VI_1" {
  state             = "BACKUP"
  interface         = "eth0"
  virtual_router_id = 51
  priority          = %d
  advert_int        = 1
  virtual_ipaddress = ["198.51.100.30/24"]
  track_script "chk_flag" {}
  notify            = %q
  notify_timeout    = "5s"
}
`, flag, prio, notify)
}

type trackStatus struct {
	State             string `json:"state"`
	EffectivePriority int    `json:"effective_priority"`
	Tracked           []struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
		Up   bool   `json:"up"`
	} `json:"tracked"`
}

func trackedStatus(t *testing.T, l *lab.Lab, h *lab.Host) trackStatus {
	t.Helper()
	out, err := h.Run(lvsdBin, "status", "--json", "--control", l.Dir+"/"+h.Name+".sock")
	if err != nil {
		return trackStatus{}
	}
	var doc struct {
		VRRP []trackStatus `json:"vrrp"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.VRRP) != 1 {
		t.Fatalf("lvsd status: %v\n%s", err, out)
	}
	return doc.VRRP[0]
}

// TestDirectorTrackScriptFailover runs `lvsd director` end to end: a
// failing vrrp_script lowers the master's priority from 150 to 90 and the
// other director (120) takes the VIP; the status shows the effective
// priority and the script's state; the notify script is called with
// keepalived's arguments for each transition, in order, and on stop.
func TestDirectorTrackScriptFailover(t *testing.T) {
	l := newLab(t, "vtk1")
	a := addHost(t, l, "lvs1", "198.51.100.20/24")
	b := addHost(t, l, "lvs2", "198.51.100.21/24")
	flag := filepath.Join(l.Dir, "flag")
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(l.Dir, "notify.log")
	notify := filepath.Join(l.Dir, "notify.sh")
	if err := os.WriteFile(notify, []byte("#!/bin/sh\necho \"$*\" >> "+log+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	pa := startDirector(t, l, a, trackedDirector(150, flag, notify))
	startDirector(t, l, b, trackedDirector(120, filepath.Join(l.Dir, "flag-b-absent"), "/bin/true"))
	// b's own script fails (its flag is absent): 120 - 60 = 60.
	waitVIP(t, a, true, masterDown(150)+3*time.Second)
	if st := trackedStatus(t, l, a); st.State != "MASTER" || st.EffectivePriority != 150 || len(st.Tracked) != 2 || !st.Tracked[1].Up {
		t.Fatalf("lvs1 status %+v", st)
	}
	if _, ok := lab.WaitFor(3*time.Second, func() bool { return trackedStatus(t, l, b).EffectivePriority == 60 }); !ok {
		t.Fatalf("lvs2 status %+v", trackedStatus(t, l, b))
	}
	// Make b's script succeed, a's fail: a 90, b 120.
	if err := os.WriteFile(filepath.Join(l.Dir, "flag-b-absent"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	waitVIP(t, b, true, masterDown(120)+3*time.Second)
	waitVIP(t, a, false, time.Second)
	st := trackedStatus(t, l, a)
	if st.State != "BACKUP" || st.EffectivePriority != 90 || st.Tracked[1].Up {
		t.Fatalf("lvs1 after script failure %+v", st)
	}
	if err := pa.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	b2, _ := os.ReadFile(log)
	want := "INSTANCE VI_1 BACKUP 150\nINSTANCE VI_1 MASTER 150\nINSTANCE VI_1 BACKUP 90\nINSTANCE VI_1 STOP 90\n"
	if string(b2) != want {
		t.Fatalf("notify log:\n%s\nwant:\n%s", b2, want)
	}
	if strings.Count(string(b2), "\n") != 4 {
		t.Fatal("unexpected notify calls")
	}
}
