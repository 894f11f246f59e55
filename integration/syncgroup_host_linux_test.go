//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

const vip2 = "198.51.100.31"

// TestInteropSyncGroupKeepalived: lvsd and keepalived each run a sync group
// of two instances (VRID 51 and 52 on one LAN). lvsd (150) is master of
// both. Its VI_2 tracks a vrrp_script (weight 0): when the script fails,
// VI_2 goes to FAULT and takes VI_1 along, so keepalived (100) ends up
// master of both VIPs, never one each; when the script recovers lvsd
// preempts both again.
func TestInteropSyncGroupKeepalived(t *testing.T) {
	needKeepalived(t)
	l := newLab(t, "vtg1")
	lh := addHost(t, l, "lvsd", "198.51.100.20/24")
	kh := addHost(t, l, "ka", "198.51.100.21/24")
	flag := filepath.Join(l.Dir, "flag")
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	startDirector(t, l, lh, fmt.Sprintf(`vrrp_script "chk" {
  script   = "/usr/bin/test -e %s"
  interval = "200ms"
}
vrrp_sync_group "G" {
  group = ["VI_1", "VI_2"]
}
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 150
  virtual_ipaddress = ["%s/24"]
}
vrrp_instance "VI_2" {
  interface         = "eth0"
  virtual_router_id = 52
  priority          = 150
  virtual_ipaddress = ["%s/24"]
  track_script "chk" {}
}
`, flag, vip, vip2))
	startKeepalived(t, l, kh, fmt.Sprintf(`global_defs {
  router_id ka
}
vrrp_sync_group G {
  group {
    VI_1
    VI_2
  }
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    %s/24 dev eth0
  }
}
vrrp_instance VI_2 {
  state BACKUP
  interface eth0
  virtual_router_id 52
  priority 100
  advert_int 1
  virtual_ipaddress {
    %s/24 dev eth0
  }
}
`, vip, vip2))
	both, none, wait := groupWatch(t, lh, kh)
	wait("lvsd master of both", masterDown(150)+5*time.Second, func() bool { return both(lh) && none(kh) })
	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	// FAULT sends priority 0 for both: keepalived takes over after Skew_Time.
	wait("keepalived master of both", 5*time.Second, func() bool { return both(kh) && none(lh) })
	if _, ok := lab.WaitFor(3*time.Second, func() bool { return !both(kh) || !none(lh) }); ok {
		t.Fatalf("the group split: lvsd %v/%v, keepalived %v/%v", lh.HasAddr(vip), lh.HasAddr(vip2), kh.HasAddr(vip), kh.HasAddr(vip2))
	}
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wait("lvsd preempts both", 2*masterDown(150)+5*time.Second, func() bool { return both(lh) && none(kh) })
}

// groupWatch returns, for a sync group of the two VIPs run by lvsd on lh
// and keepalived on kh: whether a host holds both VIPs, whether it holds
// none, and a wait for a condition that fails the test with both hosts'
// addresses.
func groupWatch(t *testing.T, lh, kh *lab.Host) (both, none func(*lab.Host) bool, wait func(string, time.Duration, func() bool)) {
	both = func(h *lab.Host) bool { return h.HasAddr(vip) && h.HasAddr(vip2) }
	none = func(h *lab.Host) bool { return !h.HasAddr(vip) && !h.HasAddr(vip2) }
	wait = func(what string, d time.Duration, cond func() bool) {
		t.Helper()
		if _, ok := lab.WaitFor(d, cond); !ok {
			t.Fatalf("timed out after %v waiting for %s (lvsd %v/%v, keepalived %v/%v)", d, what,
				lh.HasAddr(vip), lh.HasAddr(vip2), kh.HasAddr(vip), kh.HasAddr(vip2))
		}
	}
	return both, none, wait
}

// syncGroupPair is two instances (VRIDs 51, 52) at prio in sync group G;
// group adds to the group block, member to each instance (lvsd's HCL, or
// keepalived's syntax when ka).
func syncGroupPair(ka bool, prio int, group string) string {
	if ka {
		return fmt.Sprintf(`global_defs {
  router_id ka
}
vrrp_sync_group G {
  group {
    VI_1
    VI_2
  }
%s}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority %d
  advert_int 1
  virtual_ipaddress {
    %s/24 dev eth0
  }
}
vrrp_instance VI_2 {
  state BACKUP
  interface eth0
  virtual_router_id 52
  priority %d
  advert_int 1
  virtual_ipaddress {
    %s/24 dev eth0
  }
}
`, group, prio, vip, prio, vip2)
	}
	return fmt.Sprintf(`vrrp_sync_group "G" {
  group = ["VI_1", "VI_2"]
%s}
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = %d
  virtual_ipaddress = ["%s/24"]
}
vrrp_instance "VI_2" {
  interface         = "eth0"
  virtual_router_id = 52
  priority          = %d
  virtual_ipaddress = ["%s/24"]
}
`, group, prio, vip, prio, vip2)
}

// TestInteropSyncGroupTrackFile: a tracked file of the sync group itself
// (keepalived 2.x's vrrp_sync_group track_file) moves every member. First
// keepalived (150) tracks it, weight -30, and lvsd (100) none: value 2
// lowers both of keepalived's members to 90 and lvsd takes both VIPs,
// which is the behaviour lvsd copies; then the roles swap, lvsd (150)
// tracking the same way and keepalived (100) taking both VIPs, and back
// when the value is 0. The group never splits.
func TestInteropSyncGroupTrackFile(t *testing.T) {
	needKeepalived(t)
	for _, lvsdTracks := range []bool{false, true} {
		t.Run(fmt.Sprintf("lvsd tracks %v", lvsdTracks), func(t *testing.T) {
			l := newLab(t, "vtg2")
			lh := addHost(t, l, "lvsd", "198.51.100.20/24")
			kh := addHost(t, l, "ka", "198.51.100.21/24")
			f := filepath.Join(l.Dir, "prio")
			if err := os.WriteFile(f, []byte("0\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			tracker, other := kh, lh
			if lvsdTracks {
				tracker, other = lh, kh
				startDirector(t, l, lh, fmt.Sprintf("vrrp_track_file \"f\" {\n  file = %q\n}\n", f)+
					syncGroupPair(false, 150, "  track_file \"f\" {\n    weight = -30\n  }\n"))
				startKeepalived(t, l, kh, syncGroupPair(true, 100, ""))
			} else {
				startDirector(t, l, lh, syncGroupPair(false, 100, ""))
				startKeepalived(t, l, kh, fmt.Sprintf("vrrp_track_file f {\n  file %s\n}\n", f)+
					syncGroupPair(true, 150, "  track_file {\n    f weight -30\n  }\n"))
			}
			both, none, wait := groupWatch(t, lh, kh)
			wait("the tracker master of both", masterDown(100)+5*time.Second, func() bool { return both(tracker) && none(other) })
			writeAtomic(t, f, "2\n") // 150 - 2 x 30 = 90 < 100, for both members
			wait("the other master of both", masterDown(100)+5*time.Second, func() bool { return both(other) && none(tracker) })
			if _, ok := lab.WaitFor(3*time.Second, func() bool { return !both(other) || !none(tracker) }); ok {
				t.Fatalf("the group split: lvsd %v/%v, keepalived %v/%v", lh.HasAddr(vip), lh.HasAddr(vip2), kh.HasAddr(vip), kh.HasAddr(vip2))
			}
			writeAtomic(t, f, "0\n")
			wait("the tracker preempts both", masterDown(100)+5*time.Second, func() bool { return both(tracker) && none(other) })
		})
	}
}
