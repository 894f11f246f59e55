//go:build vm

package integration

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// syncdDirector is a DR director of 198.51.100.30:3306 to one real server
// (no checker: always up), VRRP instance VI_1 at prio, with the
// lvs_sync_daemon following it when sync is set.
func syncdDirector(prio int, sync bool) string {
	s := fmt.Sprintf(`vrrp_instance "VI_1" {
  state             = "BACKUP"
  interface         = "eth0"
  virtual_router_id = 51
  priority          = %d
  advert_int        = "1s"
  authentication {
    auth_type = "PASS"
    auth_pass = "syncpass"
  }
  virtual_ipaddress = ["198.51.100.30"]
}
virtual_server "mysql" {
  address    = "198.51.100.30:3306"
  lvs_sched  = "rr"
  lvs_method = "DR"
  real_server "db1" {
    address = "198.51.100.10:3306"
  }
}
`, prio)
	if sync {
		s += "lvs_sync_daemon {\n  interface     = \"eth0\"\n  vrrp_instance = \"VI_1\"\n}\n"
	}
	return s
}

// syncdKeepalived is the same director for keepalived 2.2.7.
func syncdKeepalived(prio int) string {
	return fmt.Sprintf(`global_defs {
  router_id lvs2
  lvs_sync_daemon eth0 VI_1
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority %d
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass syncpass
  }
  virtual_ipaddress {
    198.51.100.30
  }
}
virtual_server 198.51.100.30 3306 {
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 198.51.100.10 3306 {
    weight 1
  }
}
`, prio)
}

// TestSyncDaemonFailover: a client holds a connection through the VIP
// (IPVS DR to a real server running the agent) when the master's link is
// cut. With lvs_sync_daemon the master's kernel has sent the connection
// to the backup's, which becomes master and forwards the next request on
// the same connection to the same real server: the connection survives,
// whether the backup is lvsd or keepalived 2.2.7 (its lvs_sync_daemon,
// sync id = the VRID in both). Without it (the control) the backup has no
// entry for a mid-stream packet, its own stack answers with a reset, and
// the connection dies. The daemons' roles are read with ipvsadm -L
// --daemon before and after the failover.
func TestSyncDaemonFailover(t *testing.T) {
	for _, tc := range []struct {
		name        string
		backup      string // "lvsd" or "keepalived"
		sync        bool
		wantSurvive bool
	}{
		{"lvsd pair", "lvsd", true, true},
		{"lvsd master, keepalived backup", "keepalived", true, true},
		{"control: no sync daemon", "lvsd", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, "sd")
			client := addHost(t, l, "client", "198.51.100.2/24")
			lvs1 := addHost(t, l, "lvs1", "198.51.100.20/24")
			lvs2 := addHost(t, l, "lvs2", "198.51.100.21/24")
			db1 := addHost(t, l, "db1", "198.51.100.10/24")
			if _, err := lvs1.Run("modprobe", "ip_vs"); err != nil {
				t.Fatal(err)
			}
			serveEcho(t, db1, "0.0.0.0:3306", "db1")
			agentFile, err := l.WriteFile("agent.hcl", lab.Seed001Agent)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db1.Start("agent", lvsdBin, "agent", "-f", agentFile, "--control", l.Dir+"/db1.sock", "--pid-file", l.Dir+"/db1.pid"); err != nil {
				t.Fatal(err)
			}
			start := func(h *lab.Host, conf string) *lab.Proc {
				t.Helper()
				f, err := l.WriteFile(h.Name+".hcl", conf)
				if err != nil {
					t.Fatal(err)
				}
				p, err := h.Start("lvsd-"+h.Name, lvsdBin, "director", "-f", f, "--control", l.Dir+"/"+h.Name+".sock", "--pid-file", l.Dir+"/"+h.Name+".pid")
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			p1 := start(lvs1, syncdDirector(150, tc.sync))
			var p2 *lab.Proc
			if tc.backup == "keepalived" {
				f, err := l.WriteFile("keepalived.conf", syncdKeepalived(100))
				if err != nil {
					t.Fatal(err)
				}
				if p2, err = lvs2.Start("keepalived", "keepalived", "--dont-fork", "--log-console", "-f", f,
					"-p", l.Dir+"/ka.pid", "-c", l.Dir+"/ka-c.pid", "-r", l.Dir+"/ka-r.pid"); err != nil {
					t.Fatal(err)
				}
			} else {
				p2 = start(lvs2, syncdDirector(100, tc.sync))
			}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("lvs1 log:\n%s\n----\nlvs2 (%s) log:\n%s", p1.Output(), tc.backup, p2.Output())
				}
				_ = p1.Stop(syscall.SIGTERM, 10*time.Second)
				_ = p2.Stop(syscall.SIGTERM, 10*time.Second)
			})
			daemons := func(h *lab.Host) string {
				out, _ := h.Run("ipvsadm", "-L", "--daemon")
				return out
			}
			waitDaemon := func(h *lab.Host, want string) {
				t.Helper()
				if _, ok := lab.WaitFor(10*time.Second, func() bool { return strings.Contains(daemons(h), want) }); !ok {
					t.Fatalf("%s: no %q in ipvsadm -L --daemon:\n%s", h.Name, want, daemons(h))
				}
			}
			if _, ok := lab.WaitFor(20*time.Second, func() bool { return lvs1.HasAddr("198.51.100.30") }); !ok {
				t.Fatal("lvs1 never took the VIP")
			}
			if tc.sync {
				waitDaemon(lvs1, "master sync daemon (mcast=eth0, syncid=51")
				waitDaemon(lvs2, "backup sync daemon (mcast=eth0, syncid=51")
				if strings.Contains(daemons(lvs1), "backup sync daemon") {
					t.Errorf("lvs1 runs a backup daemon beside its master one:\n%s", daemons(lvs1))
				}
			} else if d := daemons(lvs1) + daemons(lvs2); strings.Contains(d, "sync daemon") {
				t.Fatalf("a sync daemon runs without lvs_sync_daemon:\n%s", d)
			}

			cc, err := dialVIP(client, "198.51.100.30:3306")
			if err != nil {
				t.Fatal(err)
			}
			defer cc.c.Close()
			// Several packets: the kernel syncs a connection once it has
			// seen sync_threshold (3) of them.
			for i := range 5 {
				if name, err := cc.ask(fmt.Sprintf("before %d", i)); err != nil || name != "db1" {
					t.Fatalf("request %d before the failover: %q, %v", i, name, err)
				}
			}
			local := cc.c.LocalAddr().String()
			if tc.sync {
				if _, ok := lab.WaitFor(10*time.Second, func() bool {
					out, _ := lvs2.Run("ipvsadm", "-Lnc")
					return strings.Contains(out, local)
				}); !ok {
					out, _ := lvs2.Run("ipvsadm", "-Lnc")
					t.Fatalf("the connection from %s never reached lvs2's table:\n%s", local, out)
				}
			}

			if err := lvs1.LinkDown(); err != nil {
				t.Fatal(err)
			}
			if _, ok := lab.WaitFor(20*time.Second, func() bool { return lvs2.HasAddr("198.51.100.30") }); !ok {
				t.Fatal("lvs2 never took the VIP")
			}
			if tc.sync {
				waitDaemon(lvs2, "master sync daemon (mcast=eth0, syncid=51")
			}
			if tc.sync && tc.backup == "lvsd" {
				out, err := lvs2.Run(lvsdBin, "status", "--control", l.Dir+"/lvs2.sock")
				if err != nil || !strings.Contains(out, "lvs_sync_daemon: want master; kernel: master sync daemon (mcast=eth0, syncid=51") {
					t.Errorf("lvsd status on lvs2: %v\n%s", err, out)
				}
			}
			// The client's ARP entry moves with lvs2's gratuitous ARP;
			// until then a request can still go to the cut link, so the
			// first answer is waited for, not required at once.
			name, err := cc.ask("after")
			switch {
			case tc.wantSurvive && (err != nil || name != "db1"):
				out, _ := lvs2.Run("ipvsadm", "-Lnc")
				t.Fatalf("the connection did not survive the failover: %q, %v; lvs2's connections:\n%s", name, err, out)
			case !tc.wantSurvive && err == nil:
				t.Fatalf("without a sync daemon the connection survived (answer from %q): the test shows nothing", name)
			case !tc.wantSurvive:
				t.Logf("control: the connection died as expected: %v", err)
			}
			if tc.wantSurvive {
				for i := range 3 {
					if name, err := cc.ask(fmt.Sprintf("after %d", i)); err != nil || name != "db1" {
						t.Fatalf("request %d after the failover: %q, %v", i, name, err)
					}
				}
			}
		})
	}
}
