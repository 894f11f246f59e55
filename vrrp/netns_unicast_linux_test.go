//go:build integration

// Host-netns tests of unicast mode against keepalived, and of split-brain
// healing between two lvsd masters. Run:
// go test -tags integration -run 'Netns(Unicast|Partition)' -v ./vrrp/

package vrrp

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// unicastCfg is instCfg in unicast mode towards peers.
func unicastCfg(prio uint8, src string, peers ...string) func() conf.VRRPInstance {
	return func() conf.VRRPInstance {
		c := instCfg(prio, "secret")
		if src != "" {
			c.UnicastSrcIP = netip.MustParseAddr(src)
		}
		for _, p := range peers {
			c.UnicastPeers = append(c.UnicastPeers, netip.MustParseAddr(p))
		}
		return c
	}
}

// kaUnicast is keepalived's unicast configuration (2.2.7 syntax).
func kaUnicast(src string, peers ...string) string {
	return "  unicast_src_ip " + src + "\n  unicast_peer {\n    " + strings.Join(peers, "\n    ") + "\n  }"
}

// kaComplained reports keepalived log lines that mean it rejected our
// adverts: wrong mode (multicast sent to a unicast instance), bad TTL,
// checksum, auth, interval.
func kaComplained(p *proc) bool {
	return p.logHas("Expected") || p.logHas("invalid") || p.logHas("mismatch") || p.logHas("TTL")
}

func TestNetnsUnicastKeepalivedMasterLvsdBackup(t *testing.T) {
	l := newLAN(t, 2)
	a, b := l.hosts[0], l.hosts[1]
	ka := startKeepalivedExtra(t, a, "BACKUP", 150, "secret", kaUnicast("192.0.2.1", "192.0.2.2"))
	// lvsd's source defaults to the interface's primary address.
	pb := startLvsd(t, b, unicastCfg(100, "", "192.0.2.1")())

	waitFor(t, masterDown+settle, "keepalived master", func() bool { return l.hasVIP(a) })
	holdFor(t, 3*time.Second, "lvsd backup", func() bool { return !l.hasVIP(b) && pb.st().State == "BACKUP" })
	// No drops: keepalived's unicast adverts reached us addressed to us
	// (a multicast one would count as "mode").
	if st := pb.st(); st.MasterIP != "192.0.2.1" || st.RxAdverts < 3 || len(st.Drops) != 0 {
		t.Fatalf("lvsd status %+v", st)
	}
	ka.signal(syscall.SIGTERM)
	waitFor(t, settle, "lvsd to take over on keepalived's priority 0", func() bool { return l.hasVIP(b) && pb.st().State == "MASTER" })
	// keepalived back with higher priority preempts, and lvsd yields to
	// its unicast adverts.
	ka = startKeepalivedExtra(t, a, "BACKUP", 150, "secret", kaUnicast("192.0.2.1", "192.0.2.2"))
	waitFor(t, masterDown+settle, "keepalived to preempt", func() bool { return l.hasVIP(a) && !l.hasVIP(b) && pb.st().State == "BACKUP" })
	if kaComplained(ka) {
		t.Fatal("keepalived complained about lvsd's unicast adverts")
	}
}

func TestNetnsUnicastLvsdMasterKeepalivedBackup(t *testing.T) {
	l := newLAN(t, 2)
	a, b := l.hosts[0], l.hosts[1]
	pa := startLvsd(t, a, unicastCfg(150, "192.0.2.1", "192.0.2.2")())
	kb := startKeepalivedExtra(t, b, "BACKUP", 100, "secret", kaUnicast("192.0.2.2", "192.0.2.1"))

	waitFor(t, masterDown+settle, "lvsd master", func() bool { return l.hasVIP(a) && pa.st().State == "MASTER" })
	// keepalived in unicast mode drops multicast adverts ("Expected
	// unicast"), so staying backup proves ours arrive by unicast.
	holdFor(t, 6*time.Second, "keepalived backup", func() bool { return !l.hasVIP(b) })
	if kb.logHas("Entering MASTER STATE") || kaComplained(kb) {
		t.Fatal("keepalived did not accept lvsd's unicast adverts")
	}
	start := time.Now()
	pa.signal(syscall.SIGTERM)
	waitFor(t, settle, "keepalived to take over on priority 0", func() bool { return l.hasVIP(b) })
	t.Logf("keepalived took over %v after lvsd's unicast priority-0 advert", time.Since(start))
	if l.hasVIP(a) {
		t.Fatal("lvsd kept the VIP")
	}
}

func TestNetnsUnicastStrangerDropped(t *testing.T) {
	// c runs keepalived with higher priority, unicasting to a; a (lvsd)
	// lists only b as a peer, so it drops c's adverts and, with no peer
	// alive, becomes master.
	l := newLAN(t, 3)
	a, c := l.hosts[0], l.hosts[2]
	startKeepalivedExtra(t, c, "MASTER", 200, "secret", kaUnicast("192.0.2.3", "192.0.2.1"))
	waitFor(t, masterDown+settle, "keepalived master", func() bool { return l.hasVIP(c) })
	pa := startLvsd(t, a, unicastCfg(100, "", "192.0.2.2")())
	waitFor(t, masterDown+settle, "lvsd master despite the stranger", func() bool { return pa.st().State == "MASTER" && l.hasVIP(a) })
	st := pa.st()
	if st.Drops["unicast_peer"] < 3 || st.RxAdverts != 0 {
		t.Fatalf("lvsd status %+v", st)
	}
	if !pa.logHas("reason=unicast_peer") {
		t.Fatal("no warning logged for unicast_peer")
	}
}

// reGARP matches tcpdump's line for a gratuitous ARP request for the VIP
// (sender = target = VIP); tcpdump shows the target MAC when it is not zero.
var reGARP = regexp.MustCompile(`Request who-has ` + regexp.QuoteMeta(vip) + ` (\(\S+\) )?tell ` + regexp.QuoteMeta(vip) + `,`)

// garpsFrom counts gratuitous ARP requests for the VIP from mac in p's log.
func garpsFrom(p *proc, mac string) int {
	b, _ := os.ReadFile(p.log)
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, mac+" > ff:ff:ff:ff:ff:ff") && reGARP.MatchString(line) {
			n++
		}
	}
	return n
}

func startARPWatch(t *testing.T, host string) *proc {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("needs tcpdump")
	}
	p := &proc{t: t, name: "tcpdump@" + host, log: filepath.Join(t.TempDir(), "log")}
	p.cmd = exec.Command("ip", "netns", "exec", host, "tcpdump", "-l", "-n", "-e", "-i", "eth0", "arp")
	p.start()
	waitFor(t, 5*time.Second, "tcpdump to listen", func() bool { return p.logHas("listening on") })
	return p
}

// isolate cuts (or restores) the link between the hosts' bridge ports:
// isolated ports do not talk to each other, but both still reach the
// observer, so each master's GARPs reach the clients (a real partition
// between two directors).
func (l *lan) isolate(on bool, ports ...int) {
	v := "off"
	if on {
		v = "on"
	}
	for _, p := range ports {
		run(l.t, "ip", "-n", l.sw, "link", "set", "p"+string(rune('0'+p)), "type", "bridge_slave", "isolated", v)
	}
}

func TestNetnsPartitionHeals(t *testing.T) {
	l := newLAN(t, 3)
	a, b, c := l.hosts[0], l.hosts[1], l.hosts[2]
	arp := startARPWatch(t, c)
	pa := startLvsd(t, a, instCfg(150, "secret"))
	pb := startLvsd(t, b, instCfg(100, "secret"))
	waitFor(t, masterDown+settle, "a master", func() bool { return l.hasVIP(a) && pa.st().State == "MASTER" && pb.st().State == "BACKUP" })
	l.touchVIP(c)
	waitFor(t, settle, "client to resolve the VIP to a", func() bool { return l.neighMAC(c) == l.mac(a) })

	// Partition: b hears no master and takes the VIP; its GARP moves the
	// client to b.
	l.isolate(true, 0, 1)
	waitFor(t, masterDown+settle, "two masters", func() bool {
		return pa.st().State == "MASTER" && pb.st().State == "MASTER" && l.hasVIP(a) && l.hasVIP(b)
	})
	waitFor(t, settle, "client moved to b by b's GARP", func() bool { return l.neighMAC(c) == l.mac(b) })
	before := garpsFrom(arp, l.mac(a))

	// Heal: exactly one master (a) within 3 adverts, and a gratuitous ARP
	// from it moves the client back.
	l.isolate(false, 0, 1)
	healed := time.Now()
	waitFor(t, 3*time.Second+500*time.Millisecond, "one master within 3 adverts", func() bool {
		return pa.st().State == "MASTER" && pb.st().State == "BACKUP" && l.hasVIP(a) && !l.hasVIP(b)
	})
	t.Logf("one master %v after healing", time.Since(healed))
	waitFor(t, 3*time.Second, "a GARP from the winner", func() bool { return garpsFrom(arp, l.mac(a)) > before })
	t.Logf("GARP from the winner %v after healing", time.Since(healed))
	waitFor(t, settle, "client back on a", func() bool { return l.neighMAC(c) == l.mac(a) })
	holdFor(t, 3*time.Second, "one master", func() bool { return l.hasVIP(a) && !l.hasVIP(b) && pb.st().State == "BACKUP" })
}
