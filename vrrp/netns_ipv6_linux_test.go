//go:build integration

// Host-netns tests of VRRPv3 over IPv6 (RFC 5798): lvsd pair failover with
// unsolicited neighbour advertisements, and interop with keepalived 2.2.7
// both ways round. Addresses: 2001:db8::/32 only, plus the link-local and
// multicast addresses the protocol uses.
// Run: go test -tags integration -run NetnsIPv6 -v ./vrrp/

package vrrp

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

const vip6 = "2001:db8::100"

var lan6Seq int

// newLAN6 is newLAN for IPv6: a bridge (MLD snooping off, so ff02::12 is
// flooded like a plain switch) and n hosts with eth0 at 2001:db8::<k+1>/64.
// DAD is off in every namespace so link-local addresses are usable at once.
// Names start with "vw", this file's netns prefix.
func newLAN6(t *testing.T, n int) *lan {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	lan6Seq++
	id := fmt.Sprintf("vw%d%c", os.Getpid()%100000, 'a'+lan6Seq%26)
	l := &lan{t: t, sw: id + "sw"}
	t.Cleanup(func() {
		for _, h := range append(l.hosts, l.sw) {
			exec.Command("ip", "netns", "del", h).Run()
		}
	})
	noDAD := func(ns string) {
		for _, k := range []string{"all", "default"} {
			run(t, "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf."+k+".accept_dad=0")
		}
	}
	run(t, "ip", "netns", "add", l.sw)
	noDAD(l.sw)
	run(t, "ip", "-n", l.sw, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
	run(t, "ip", "-n", l.sw, "link", "set", "br0", "up")
	for k := range n {
		h := fmt.Sprintf("%s%c", id, 'a'+k)
		l.hosts = append(l.hosts, h)
		port := fmt.Sprintf("p%d", k)
		run(t, "ip", "netns", "add", h)
		noDAD(h)
		run(t, "ip", "link", "add", "name", "eth0", "netns", h, "type", "veth", "peer", "name", port, "netns", l.sw)
		run(t, "ip", "-n", l.sw, "link", "set", port, "master", "br0", "up")
		run(t, "ip", "-n", h, "addr", "add", fmt.Sprintf("2001:db8::%d/64", k+1), "dev", "eth0", "nodad")
		run(t, "ip", "-n", h, "link", "set", "eth0", "up")
		run(t, "ip", "-n", h, "link", "set", "lo", "up")
	}
	return l
}

// hasVIP6 reports whether h holds the IPv6 VIP, usable (not tentative).
func (l *lan) hasVIP6(h string) bool {
	out := run(l.t, "ip", "-n", h, "-6", "addr", "show", "dev", "eth0")
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, " "+vip6+"/64") {
			return !strings.Contains(line, "tentative")
		}
	}
	return false
}

// neighMAC6 is the MAC host h's neighbour cache holds for the VIP.
func (l *lan) neighMAC6(h string) string {
	f := strings.Fields(run(l.t, "ip", "-n", h, "-6", "neigh", "show", vip6, "dev", "eth0"))
	for k := range f {
		if f[k] == "lladdr" && k+1 < len(f) {
			return f[k+1]
		}
	}
	return ""
}

// touchVIP6 makes h resolve the VIP (a TCP connect to a closed port).
func (l *lan) touchVIP6(h string) {
	exec.Command("ip", "netns", "exec", h, "curl", "-s", "--connect-timeout", "1", "http://["+vip6+"]:9/").Run()
}

func v6Cfg(prio uint8) conf.VRRPInstance {
	return conf.VRRPInstance{
		Name: "VI_6", State: conf.StateBackup, Interface: "eth0", VRID: 52, Priority: prio,
		AdvertInt: 100 * time.Millisecond, Version: 3,
		VIPs:             []netip.Prefix{netip.MustParsePrefix(vip6 + "/64")},
		GARPMasterRepeat: 2,
	}
}

func startKeepalived6(t *testing.T, host string, prio uint8) *proc {
	if _, err := exec.LookPath("keepalived"); err != nil {
		t.Skip("needs keepalived")
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global_defs {
  router_id %s
}
vrrp_instance VI_6 {
  state BACKUP
  interface eth0
  virtual_router_id 52
  priority %d
  advert_int 0.1
  virtual_ipaddress {
    %s/64
  }
}
`, host, prio, vip6)
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

func TestNetnsIPv6LvsdPairFailover(t *testing.T) {
	l := newLAN6(t, 3)
	a, b, c := l.hosts[0], l.hosts[1], l.hosts[2]
	pa := startLvsd(t, a, v6Cfg(150))
	pb := startLvsd(t, b, v6Cfg(100))
	waitFor(t, masterDown+settle, "a master", func() bool { return l.hasVIP6(a) && pb.st().State == "BACKUP" })
	holdFor(t, 2*time.Second, "b backup", func() bool { return pb.st().State == "BACKUP" && !l.hasVIP6(b) })
	if st := pb.st(); st.RxAdverts < 10 || len(st.Drops) != 0 || !strings.HasPrefix(st.MasterIP, "fe80::") {
		t.Fatalf("backup status %+v: want adverts from a's link-local address, no drops", st)
	}
	// c learns the VIP at a's MAC.
	l.touchVIP6(c)
	if got := l.neighMAC6(c); got != l.mac(a) {
		t.Fatalf("c resolves the VIP to %q, want a's %s", got, l.mac(a))
	}
	start := time.Now()
	pa.signal(syscall.SIGKILL)
	waitFor(t, 3*time.Second, "b to take over", func() bool { return l.hasVIP6(b) })
	d := time.Since(start)
	t.Logf("IPv6 failover after a crash at 100 ms adverts: %v (bound 361 ms after the last advert)", d)
	if d < 250*time.Millisecond {
		t.Fatalf("took over in %v, before Master_Down", d)
	}
	// The unsolicited NA (Override) moves c's cache entry to b's MAC
	// without c asking.
	waitFor(t, 3*time.Second, "c's neighbour entry to follow the VIP", func() bool { return l.neighMAC6(c) == l.mac(b) })
}

func TestNetnsIPv6KeepalivedMasterLvsdBackup(t *testing.T) {
	l := newLAN6(t, 2)
	a, b := l.hosts[0], l.hosts[1]
	ka := startKeepalived6(t, a, 150)
	pb := startLvsd(t, b, v6Cfg(100))
	// lvsd may start first and be master for a moment, until keepalived's
	// higher priority adverts arrive: wait for both sides to settle.
	waitFor(t, masterDown+settle, "keepalived master, lvsd backup", func() bool {
		return l.hasVIP6(a) && !l.hasVIP6(b) && pb.st().State == "BACKUP"
	})
	holdFor(t, 3*time.Second, "lvsd backup", func() bool { return !l.hasVIP6(b) && pb.st().State == "BACKUP" })
	if st := pb.st(); st.RxAdverts < 20 || len(st.Drops) != 0 || !strings.HasPrefix(st.MasterIP, "fe80::") {
		t.Fatalf("lvsd status %+v", st)
	}
	start := time.Now()
	ka.signal(syscall.SIGTERM)
	waitFor(t, settle, "lvsd to take over", func() bool { return l.hasVIP6(b) && pb.st().State == "MASTER" })
	t.Logf("lvsd took over %v after keepalived's SIGTERM", time.Since(start))
	// keepalived back with the higher priority preempts lvsd.
	ka = startKeepalived6(t, a, 150)
	waitFor(t, masterDown+settle, "keepalived to preempt", func() bool { return l.hasVIP6(a) && !l.hasVIP6(b) && pb.st().State == "BACKUP" })
	if kaComplained(ka) || ka.logHas("checksum") {
		t.Fatal("keepalived complained about lvsd's IPv6 adverts")
	}
}

func TestNetnsIPv6LvsdMasterKeepalivedBackup(t *testing.T) {
	l := newLAN6(t, 2)
	a, b := l.hosts[0], l.hosts[1]
	pa := startLvsd(t, a, v6Cfg(150))
	// keepalived joins a master that is advertising. Started together,
	// the two Master_Down timers (VRRPv3 at 100 ms: 341 ms for lvsd, 361
	// ms for keepalived) were 20 ms apart, less than lvsd takes to exec
	// and read its config beyond keepalived: keepalived, up first, became
	// master before lvsd's first advert, then backup on it (CI, loaded).
	waitFor(t, masterDown+settle, "lvsd master", func() bool { return l.hasVIP6(a) && pa.st().State == "MASTER" })
	kb := startKeepalived6(t, b, 100)
	holdFor(t, 4*time.Second, "keepalived backup", func() bool { return !l.hasVIP6(b) })
	// A MASTER entry alone can be scheduling starvation on a loaded
	// machine (adverts every 100 ms); a complaint is a wire problem.
	if kaComplained(kb) || kb.logHas("checksum") {
		t.Fatal("keepalived complained about lvsd's IPv6 adverts")
	}
	if kb.logHas("Entering MASTER STATE") {
		t.Fatal("keepalived became master while lvsd was advertising (adverts not accepted, or starved: see the log)")
	}
	start := time.Now()
	pa.signal(syscall.SIGTERM)
	waitFor(t, v3Down, "keepalived to take over", func() bool { return l.hasVIP6(b) })
	t.Logf("keepalived took over %v after lvsd's priority-0 advert", time.Since(start))
}
