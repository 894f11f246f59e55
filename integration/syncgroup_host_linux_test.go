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
	both := func(h *lab.Host) bool { return h.HasAddr(vip) && h.HasAddr(vip2) }
	none := func(h *lab.Host) bool { return !h.HasAddr(vip) && !h.HasAddr(vip2) }
	wait := func(what string, d time.Duration, cond func() bool) {
		t.Helper()
		if _, ok := lab.WaitFor(d, cond); !ok {
			t.Fatalf("timed out after %v waiting for %s (lvsd %v/%v, keepalived %v/%v)", d, what,
				lh.HasAddr(vip), lh.HasAddr(vip2), kh.HasAddr(vip), kh.HasAddr(vip2))
		}
	}
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
