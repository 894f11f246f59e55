//go:build integration

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// trackProcDirector is a director file whose instance is in FAULT while
// no `/bin/sleep ARG` runs (weight 0).
func trackProcDirector(prio int, arg string) string {
	return fmt.Sprintf(`vrrp_track_process "svc" {
  process = "/bin/sleep %s"
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
  track_process "svc" {}
}
`, arg, prio)
}

func startSleep(t *testing.T, arg string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/sleep", arg)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// TestDirectorTrackProcessFailover: lvs1 (150) tracks a sleep with a
// distinctive argument; killing it puts lvs1 in FAULT and lvs2 (120) takes
// the VIP; starting it again brings the VIP back.
func TestDirectorTrackProcessFailover(t *testing.T) {
	l := newLab(t, "tf3")
	a := addHost(t, l, "lvs1", "198.51.100.20/24")
	b := addHost(t, l, "lvs2", "198.51.100.21/24")
	arg := strconv.Itoa(800000 + os.Getpid()%100000) // unlikely to run already
	sleep := startSleep(t, arg)
	startDirector(t, l, a, trackProcDirector(150, arg))
	// lvs2 tracks a process that runs as long as the test: it stays up.
	otherArg := strconv.Itoa(700000 + os.Getpid()%100000)
	startSleep(t, otherArg)
	startDirector(t, l, b, trackProcDirector(120, otherArg))
	waitVIP(t, a, true, masterDown(150)+3*time.Second)
	st := fileStatus(t, l, a)
	if st.State != "MASTER" || len(st.Tracked) != 2 || st.Tracked[1].Kind != "process" || !st.Tracked[1].Up || st.Tracked[1].Value != 1 {
		t.Fatalf("lvs1 status %+v", st)
	}

	sleep.Process.Kill()
	sleep.Wait()
	waitVIP(t, b, true, masterDown(120)+4*time.Second)
	waitVIP(t, a, false, 2*time.Second)
	if _, ok := lab.WaitFor(3*time.Second, func() bool { return fileStatus(t, l, a).State == "FAULT" }); !ok {
		t.Fatalf("lvs1 not in FAULT: %+v", fileStatus(t, l, a))
	}
	if st := fileStatus(t, l, a); st.Tracked[1].Up || st.Tracked[1].Value != 0 {
		t.Fatalf("lvs1 process state %+v", st.Tracked[1])
	}

	startSleep(t, arg)
	waitVIP(t, a, true, masterDown(150)+5*time.Second)
	waitVIP(t, b, false, 2*time.Second)
	if st := fileStatus(t, l, a); st.State != "MASTER" || !st.Tracked[1].Up {
		t.Fatalf("lvs1 after restart %+v", st)
	}
}
