//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// trackFileDirector is a director file whose instance tracks PRIO (weight
// -20: each unit costs 20 priority points) and MAINT (weight 0: non-zero
// means FAULT).
func trackFileDirector(prio int, prioFile, maintFile string) string {
	return fmt.Sprintf(`vrrp_track_file "prio" {
  file   = %q
  weight = -20
}
vrrp_track_file "maint" {
  file = %q
}
vrrp_instance "VI_1" {
  state             = "BACKUP"
  interface         = "eth0"
  virtual_router_id = 51
  priority          = %d
  advert_int        = 1
  authentication {
    auth_type = "PASS"
    auth_pass = "tfpass"
  }
  virtual_ipaddress = ["198.51.100.30/24"]
  track_file "prio" {}
  track_file "maint" {
    weight = 0
  }
}
`, prioFile, maintFile, prio)
}

type fileTrackStatus struct {
	State             string `json:"state"`
	EffectivePriority int    `json:"effective_priority"`
	Tracked           []struct {
		Kind  string `json:"kind"`
		Name  string `json:"name"`
		Up    bool   `json:"up"`
		Value int64  `json:"value"`
		Path  string `json:"path"`
	} `json:"tracked"`
}

func fileStatus(t *testing.T, l *lab.Lab, h *lab.Host) fileTrackStatus {
	t.Helper()
	out, err := h.Run(lvsdBin, "status", "--json", "--control", l.Dir+"/"+h.Name+".sock")
	if err != nil {
		return fileTrackStatus{}
	}
	var doc struct {
		VRRP []fileTrackStatus `json:"vrrp"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.VRRP) != 1 {
		t.Fatalf("lvsd status: %v\n%s", err, out)
	}
	return doc.VRRP[0]
}

// writeAtomic replaces path by rename, as configuration tools do.
func writeAtomic(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func waitEffective(t *testing.T, l *lab.Lab, h *lab.Host, prio int) {
	t.Helper()
	if _, ok := lab.WaitFor(5*time.Second, func() bool { return fileStatus(t, l, h).EffectivePriority == prio }); !ok {
		t.Fatalf("%s: effective priority not %d: %+v", h.Name, prio, fileStatus(t, l, h))
	}
}

// TestDirectorTrackFileFailover runs two `lvsd director`s: writing 3 into
// the master's tracked file (by rename) lowers it from 150 to 90 and the
// other director (120) takes the VIP; writing 0 (in place) brings it back.
// A weight-0 file that does not exist at start, created later holding 1,
// puts the master in FAULT; deleting it ends the FAULT.
func TestDirectorTrackFileFailover(t *testing.T) {
	l := newLab(t, "tf1")
	a := addHost(t, l, "lvs1", "198.51.100.20/24")
	b := addHost(t, l, "lvs2", "198.51.100.21/24")
	prioA, maintA := filepath.Join(l.Dir, "a.prio"), filepath.Join(l.Dir, "a.maint")
	if err := os.WriteFile(prioA, []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	startDirector(t, l, a, trackFileDirector(150, prioA, maintA))
	startDirector(t, l, b, trackFileDirector(120, filepath.Join(l.Dir, "b.prio"), filepath.Join(l.Dir, "b.maint")))
	waitVIP(t, a, true, masterDown(150)+3*time.Second)
	st := fileStatus(t, l, a)
	if st.State != "MASTER" || st.EffectivePriority != 150 || len(st.Tracked) != 3 ||
		st.Tracked[1].Kind != "file" || st.Tracked[1].Path != prioA || !st.Tracked[1].Up || !st.Tracked[2].Up {
		t.Fatalf("lvs1 status %+v", st)
	}

	writeAtomic(t, prioA, "3\n")
	waitVIP(t, b, true, masterDown(120)+3*time.Second)
	waitVIP(t, a, false, 2*time.Second)
	waitEffective(t, l, a, 90)
	if st := fileStatus(t, l, a); st.State != "BACKUP" || st.Tracked[1].Value != 3 {
		t.Fatalf("lvs1 after writing 3: %+v", st)
	}

	if err := os.WriteFile(prioA, []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// 150 again: lvs1 preempts at its next advert.
	waitVIP(t, a, true, 5*time.Second)
	waitVIP(t, b, false, 2*time.Second)
	waitEffective(t, l, a, 150)

	if err := os.WriteFile(maintA, []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitVIP(t, b, true, masterDown(120)+3*time.Second)
	if _, ok := lab.WaitFor(3*time.Second, func() bool { return fileStatus(t, l, a).State == "FAULT" }); !ok {
		t.Fatalf("lvs1 not in FAULT: %+v", fileStatus(t, l, a))
	}
	if err := os.Remove(maintA); err != nil {
		t.Fatal(err)
	}
	waitVIP(t, a, true, masterDown(150)+5*time.Second)
	if st := fileStatus(t, l, a); st.State != "MASTER" || !st.Tracked[2].Up {
		t.Fatalf("lvs1 after the FAULT: %+v", st)
	}
}

// TestInteropTrackFileKeepalived: lvsd (150, tracking a file) and
// keepalived 2.2.7 (120) as peers: the lowered priority lvsd advertises
// after a write makes keepalived preempt; writing 0 makes lvsd preempt
// back.
func TestInteropTrackFileKeepalived(t *testing.T) {
	needKeepalived(t)
	l := newLab(t, "tf2")
	a := addHost(t, l, "lvs1", "198.51.100.20/24")
	b := addHost(t, l, "lvs2", "198.51.100.21/24")
	prioA := filepath.Join(l.Dir, "a.prio")
	startDirector(t, l, a, trackFileDirector(150, prioA, filepath.Join(l.Dir, "a.maint")))
	startKeepalived(t, l, b, keepalivedConf("BACKUP", 120, "tfpass"))
	waitVIP(t, a, true, masterDown(150)+3*time.Second)
	waitVIP(t, b, false, time.Second)

	writeAtomic(t, prioA, "2") // 150 - 40 = 110 < 120
	waitVIP(t, b, true, masterDown(120)+3*time.Second)
	waitVIP(t, a, false, 2*time.Second)
	waitEffective(t, l, a, 110)

	writeAtomic(t, prioA, "0")
	waitVIP(t, a, true, 5*time.Second)
	waitVIP(t, b, false, 3*time.Second)
}

// TestKeepalivedTrackFileReverse checks the rule lvsd implements against
// keepalived 2.2.7 itself: keepalived (150) tracks a file with weight 20
// reverse, lvsd (120) none. Value 2 gives keepalived 150 - 40 = 110 and
// lvsd preempts; value 0 gives 150 back and keepalived preempts again.
func TestKeepalivedTrackFileReverse(t *testing.T) {
	needKeepalived(t)
	l := newLab(t, "tf4")
	a := addHost(t, l, "lvs1", "198.51.100.20/24")
	b := addHost(t, l, "lvs2", "198.51.100.21/24")
	f := filepath.Join(l.Dir, "k.prio")
	if err := os.WriteFile(f, []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	startKeepalived(t, l, b, fmt.Sprintf(`global_defs {
  router_id lvsd_tf
}
track_file kprio {
  file %s
  weight 20 reverse
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass tfpass
  }
  virtual_ipaddress {
    198.51.100.30/24 dev eth0
  }
  track_file {
    kprio
  }
}
`, f))
	startDirector(t, l, a, trackFileDirector(120, filepath.Join(l.Dir, "a.prio"), filepath.Join(l.Dir, "a.maint")))
	waitVIP(t, b, true, masterDown(150)+3*time.Second)
	waitVIP(t, a, false, time.Second)

	writeAtomic(t, f, "2")
	waitVIP(t, a, true, masterDown(120)+3*time.Second)
	waitVIP(t, b, false, 2*time.Second)

	writeAtomic(t, f, "0")
	waitVIP(t, b, true, 5*time.Second)
	waitVIP(t, a, false, 3*time.Second)
}
