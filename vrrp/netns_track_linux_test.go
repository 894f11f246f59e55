//go:build integration

package vrrp

import (
	"fmt"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// Interop cells with keepalived 2.2.7 (issue 3): tracking causing a
// failover, preemption and nopreempt on return, split brain healed.

// TestNetnsTrackInterfaceFailoverToKeepalived: lvsd (150) is master over
// keepalived (100). A weighted tracked interface going down lowers lvsd's
// advertised priority to 90 and keepalived preempts; a weight-0 one going
// down puts lvsd in FAULT (silent, VIP removed) while keepalived holds the
// VIP; once both are back lvsd preempts again.
func TestNetnsTrackInterfaceFailoverToKeepalived(t *testing.T) {
	l := newLAN(t, 2)
	a, b := l.hosts[0], l.hosts[1]
	for _, d := range []string{"trk1", "trk2"} {
		// A veth pair (no dummy module in every kernel): d is running
		// while both ends are up.
		run(t, "ip", "-n", a, "link", "add", d, "type", "veth", "peer", "name", d+"p")
		run(t, "ip", "-n", a, "link", "set", d+"p", "up")
		run(t, "ip", "-n", a, "link", "set", d, "up")
	}
	cfg := instCfg(150, "secret")
	cfg.TrackInterfaces = []conf.TrackInterface{{Name: "trk1", Weight: -60}, {Name: "trk2"}}
	pa := startLvsd(t, a, cfg)
	pb := startKeepalived(t, b, 100, "secret")
	waitFor(t, masterDown+settle, "lvsd master", func() bool {
		return pa.st().State == "MASTER" && l.hasVIP(a) && pb.logHas("Entering BACKUP STATE")
	})

	run(t, "ip", "-n", a, "link", "set", "trk1", "down")
	waitFor(t, masterDown+settle, "keepalived preempts lvsd at 90", func() bool {
		return pa.st().EffectivePriority == 90 && pa.st().State == "BACKUP" && l.hasVIP(b) && !l.hasVIP(a)
	})
	run(t, "ip", "-n", a, "link", "set", "trk1", "up")
	waitFor(t, masterDown+settle, "lvsd back at 150 preempts", func() bool {
		return pa.st().EffectivePriority == 150 && pa.st().State == "MASTER" && l.hasVIP(a) && !l.hasVIP(b)
	})

	cut := time.Now()
	run(t, "ip", "-n", a, "link", "set", "trk2", "down")
	waitFor(t, masterDown+settle, "lvsd FAULT, keepalived master", func() bool {
		return pa.st().State == "FAULT" && !l.hasVIP(a) && l.hasVIP(b)
	})
	// lvsd sent priority 0 on entering FAULT: keepalived takes over after
	// its Skew_Time, not Master_Down.
	if d := time.Since(cut); d > 3*time.Second {
		t.Errorf("keepalived took %v to take over from a FAULT lvsd", d)
	}
	st := pa.st()
	found := false
	for _, o := range st.Tracked {
		found = found || (o.Name == "trk2" && !o.Up)
	}
	if !found {
		t.Errorf("status does not show trk2 down: %+v", st.Tracked)
	}
	tx := st.TxAdverts
	holdFor(t, 3*time.Second, "silent FAULT", func() bool { return pa.st().TxAdverts == tx && pa.st().State == "FAULT" })
	run(t, "ip", "-n", a, "link", "set", "trk2", "up")
	waitFor(t, 2*masterDown+settle, "lvsd recovers and preempts", func() bool {
		return pa.st().State == "MASTER" && l.hasVIP(a) && !l.hasVIP(b)
	})
}

// TestNetnsPreemptOnReturn: the higher-priority router, lvsd or keepalived,
// returns while the lower one is master and takes over; with nopreempt it
// returns as backup and stays there.
func TestNetnsPreemptOnReturn(t *testing.T) {
	for _, tc := range []struct {
		returning string // "lvsd" or "keepalived": the one of priority 150
		nopreempt bool
	}{
		{"lvsd", false}, {"keepalived", false}, {"lvsd", true}, {"keepalived", true},
	} {
		t.Run(fmt.Sprintf("%s nopreempt=%v", tc.returning, tc.nopreempt), func(t *testing.T) {
			l := newLAN(t, 2)
			a, b := l.hosts[0], l.hosts[1] // a: lvsd, b: keepalived
			lvsdPrio, kaPrio := uint8(100), uint8(100)
			if tc.returning == "lvsd" {
				lvsdPrio = 150
			} else {
				kaPrio = 150
			}
			lcfg := instCfg(lvsdPrio, "secret")
			extra := ""
			if tc.nopreempt {
				lcfg.Nopreempt = true
				extra = "  nopreempt"
			}
			startReturning := func() *proc {
				if tc.returning == "lvsd" {
					return startLvsd(t, a, lcfg)
				}
				return startKeepalivedExtra(t, b, "BACKUP", kaPrio, "secret", extra)
			}
			lowHost, highHost := a, b
			if tc.returning == "lvsd" {
				startKeepalivedExtra(t, b, "BACKUP", kaPrio, "secret", extra)
				lowHost, highHost = b, a
			} else {
				startLvsd(t, a, lcfg)
			}
			waitFor(t, masterDown+settle, "lower-priority router master alone", func() bool { return l.hasVIP(lowHost) })
			startReturning()
			if tc.nopreempt {
				holdFor(t, masterDown+2*settle, "master stays (nopreempt)", func() bool {
					return l.hasVIP(lowHost) && !l.hasVIP(highHost)
				})
				return
			}
			waitFor(t, masterDown+2*settle, "returning router takes over", func() bool {
				return l.hasVIP(highHost) && !l.hasVIP(lowHost)
			})
			holdFor(t, 2*time.Second, "one master", func() bool { return l.hasVIP(highHost) && !l.hasVIP(lowHost) })
		})
	}
}

// TestNetnsPartitionHealsKeepalived: a partition between lvsd and
// keepalived makes both master; when it heals, exactly one master (the
// higher priority, either side) within 3 adverts, and a gratuitous ARP from
// it moves the client back.
func TestNetnsPartitionHealsKeepalived(t *testing.T) {
	for _, winner := range []string{"lvsd", "keepalived"} {
		t.Run(winner+" wins", func(t *testing.T) {
			l := newLAN(t, 3)
			a, b, c := l.hosts[0], l.hosts[1], l.hosts[2] // a lvsd, b keepalived, c client
			arp := startARPWatch(t, c)
			lp, kp := uint8(150), uint8(100)
			win, lose := a, b
			if winner == "keepalived" {
				lp, kp, win, lose = 100, 150, b, a
			}
			lcfg := instCfg(lp, "secret")
			if winner == "lvsd" {
				// keepalived 2.2.7 yields silently when lvsd's advert
				// crosses the healed link first (it sends nothing on
				// entering BACKUP), so the winner hears nothing that could
				// trigger a re-announcement: only a periodic gratuitous ARP
				// (keepalived's own remedy for #166, garp_master_refresh)
				// moves the client back. When keepalived's advert crosses
				// first, lvsd answers it with a GARP burst at once.
				lcfg.GARPMasterRefresh = time.Second
			}
			startLvsd(t, a, lcfg)
			startKeepalived(t, b, kp, "secret")
			waitFor(t, masterDown+2*settle, "winner master", func() bool { return l.hasVIP(win) && !l.hasVIP(lose) })
			l.touchVIP(c)
			waitFor(t, settle, "client resolves the VIP to the winner", func() bool { return l.neighMAC(c) == l.mac(win) })

			l.isolate(true, 0, 1)
			waitFor(t, masterDown+settle, "two masters", func() bool { return l.hasVIP(a) && l.hasVIP(b) })
			waitFor(t, settle, "client moved by the loser's GARP", func() bool { return l.neighMAC(c) == l.mac(lose) })
			before := garpsFrom(arp, l.mac(win))

			l.isolate(false, 0, 1)
			healed := time.Now()
			waitFor(t, 3*time.Second+500*time.Millisecond, "one master within 3 adverts", func() bool {
				return l.hasVIP(win) && !l.hasVIP(lose)
			})
			t.Logf("one master %v after healing", time.Since(healed))
			waitFor(t, 3*time.Second, "a GARP from the winner", func() bool { return garpsFrom(arp, l.mac(win)) > before })
			t.Logf("GARP from the winner %v after healing", time.Since(healed))
			waitFor(t, settle, "client back on the winner", func() bool { return l.neighMAC(c) == l.mac(win) })
			holdFor(t, 3*time.Second, "one master", func() bool { return l.hasVIP(win) && !l.hasVIP(lose) })
		})
	}
}
