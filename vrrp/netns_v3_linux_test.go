//go:build integration

// Host-netns interop of VRRPv3 (RFC 5798, IPv4 multicast, 100 ms adverts)
// with keepalived. Run: go test -tags integration -run NetnsV3 -v ./vrrp/

package vrrp

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

func v3Cfg(prio uint8) conf.VRRPInstance {
	return conf.VRRPInstance{
		Name: "VI_1", State: conf.StateBackup, Interface: "eth0", VRID: 51, Priority: prio,
		AdvertInt: 100 * time.Millisecond, Version: 3,
		VIPs: []netip.Prefix{netip.MustParsePrefix(vip + "/32")},
	}
}

// startKeepalivedV3 runs keepalived with a version 3 instance at 100 ms.
func startKeepalivedV3(t *testing.T, host string, prio uint8) *proc {
	return startKeepalivedV3Extra(t, host, prio, "")
}

// startKeepalivedV3Extra adds extra lines (unicast) to the instance.
func startKeepalivedV3Extra(t *testing.T, host string, prio uint8, extra string) *proc {
	if _, err := exec.LookPath("keepalived"); err != nil {
		t.Skip("needs keepalived")
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global_defs {
  router_id %s
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  version 3
  virtual_router_id 51
  priority %d
  advert_int 0.1
  virtual_ipaddress {
    %s/32
  }
%s
}
`, host, prio, vip, extra)
	file := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, name: "keepalived@" + host, log: filepath.Join(dir, "log")}
	p.cmd = exec.Command("ip", "netns", "exec", host, "keepalived", "-n", "-l", "-D", "-f", file, "--vrrp",
		"-p", filepath.Join(dir, "keepalived.pid"), "-r", filepath.Join(dir, "vrrp.pid"))
	p.start()
	return p
}

// v3Down is Master_Down at 100 ms with margin for two shared cores.
const v3Down = time.Second

func TestNetnsV3KeepalivedMasterLvsdBackup(t *testing.T) {
	l := newLAN(t, 2)
	a, b := l.hosts[0], l.hosts[1]
	ka := startKeepalivedV3(t, a, 150)
	pb := startLvsd(t, b, v3Cfg(100))

	waitFor(t, masterDown+settle, "keepalived master", func() bool { return l.hasVIP(a) })
	// At 100 ms, 3 s is 30 adverts: any rejected (checksum, version) would
	// make lvsd master within 361 ms.
	holdFor(t, 3*time.Second, "lvsd backup", func() bool { return !l.hasVIP(b) && pb.st().State == "BACKUP" })
	if st := pb.st(); st.MasterIP != "192.0.2.1" || st.RxAdverts < 20 || len(st.Drops) != 0 {
		t.Fatalf("lvsd status %+v", st)
	}
	start := time.Now()
	ka.signal(syscall.SIGTERM)
	// Measured from SIGTERM, which includes keepalived's own shutdown.
	waitFor(t, settle, "lvsd to take over", func() bool { return l.hasVIP(b) && pb.st().State == "MASTER" })
	t.Logf("lvsd took over %v after keepalived's SIGTERM", time.Since(start))
	// keepalived back with higher priority preempts; lvsd yields to it.
	ka = startKeepalivedV3(t, a, 150)
	waitFor(t, masterDown+settle, "keepalived to preempt", func() bool { return l.hasVIP(a) && !l.hasVIP(b) && pb.st().State == "BACKUP" })
	if kaComplained(ka) || ka.logHas("checksum") {
		t.Fatal("keepalived complained about lvsd's v3 adverts")
	}
}

func TestNetnsV3LvsdMasterKeepalivedBackup(t *testing.T) {
	l := newLAN(t, 2)
	a, b := l.hosts[0], l.hosts[1]
	pa := startLvsd(t, a, v3Cfg(150))
	kb := startKeepalivedV3(t, b, 100)

	waitFor(t, masterDown+settle, "lvsd master", func() bool { return l.hasVIP(a) && pa.st().State == "MASTER" })
	holdFor(t, 4*time.Second, "keepalived backup", func() bool { return !l.hasVIP(b) })
	if kb.logHas("Entering MASTER STATE") || kaComplained(kb) || kb.logHas("checksum") {
		t.Fatal("keepalived did not accept lvsd's v3 adverts")
	}
	start := time.Now()
	pa.signal(syscall.SIGTERM)
	waitFor(t, v3Down, "keepalived to take over", func() bool { return l.hasVIP(b) })
	t.Logf("keepalived took over %v after lvsd's priority-0 advert", time.Since(start))
}

func TestNetnsV3LvsdPairFailover(t *testing.T) {
	// Crash of the master at 100 ms adverts: the backup takes over after
	// Master_Down (361 ms at priority 100), measured from the kill.
	l := newLAN(t, 2)
	a, b := l.hosts[0], l.hosts[1]
	pa := startLvsd(t, a, v3Cfg(150))
	pb := startLvsd(t, b, v3Cfg(100))
	waitFor(t, masterDown+settle, "a master", func() bool { return l.hasVIP(a) && pb.st().State == "BACKUP" })
	holdFor(t, 2*time.Second, "b backup", func() bool { return pb.st().State == "BACKUP" })
	start := time.Now()
	pa.signal(syscall.SIGKILL)
	waitFor(t, 2*time.Second, "b to take over", func() bool { return l.hasVIP(b) })
	d := time.Since(start)
	t.Logf("failover after a crash at 100 ms adverts: %v (bound 361 ms after the last advert)", d)
	if d < 250*time.Millisecond {
		t.Fatalf("took over in %v, before Master_Down", d)
	}
}

func TestNetnsV3Unicast(t *testing.T) {
	// v3 unicast: the checksum's pseudo-header carries the peer as
	// destination, so each side must compute it per peer.
	for _, lvsdMaster := range []bool{true, false} {
		name := "keepalived master"
		if lvsdMaster {
			name = "lvsd master"
		}
		t.Run(name, func(t *testing.T) {
			l := newLAN(t, 2)
			a, b := l.hosts[0], l.hosts[1]
			lp, kp := uint8(100), uint8(150)
			if lvsdMaster {
				lp, kp = 150, 100
			}
			cfg := v3Cfg(lp)
			cfg.UnicastPeers = []netip.Addr{netip.MustParseAddr("192.0.2.2")}
			pa := startLvsd(t, a, cfg)
			if lvsdMaster {
				waitFor(t, masterDown+settle, "lvsd master", func() bool { return l.hasVIP(a) })
			}
			kb := startKeepalivedV3Extra(t, b, kp, kaUnicast("192.0.2.2", "192.0.2.1"))
			master, backup := b, a
			if lvsdMaster {
				master, backup = a, b
			}
			waitFor(t, masterDown+settle, "one master", func() bool { return l.hasVIP(master) && !l.hasVIP(backup) })
			holdFor(t, 3*time.Second, "one master", func() bool { return l.hasVIP(master) && !l.hasVIP(backup) })
			if kaComplained(kb) || kb.logHas("checksum") {
				t.Fatal("keepalived complained about lvsd's v3 unicast adverts")
			}
			if st := pa.st(); len(st.Drops) != 0 || (!lvsdMaster && (st.State != "BACKUP" || st.RxAdverts < 20)) {
				t.Fatalf("lvsd status %+v", st)
			}
		})
	}
}
