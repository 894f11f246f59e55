//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

const vip = "198.51.100.30"

// vrrpOnly is a director file with one VRRP instance and no virtual server.
func vrrpOnly(state string, prio int, pass string, nopreempt bool) string {
	return fmt.Sprintf(`vrrp_instance "VI_1" {
  state             = %q
  interface         = "eth0"
  virtual_router_id = 51
  priority          = %d
  nopreempt         = %v
  advert_int        = 1
  authentication {
    auth_type = "PASS"
    auth_pass = %q
  }
  virtual_ipaddress = ["198.51.100.30/24"]
}
`, state, prio, nopreempt, pass)
}

// keepalivedConf is the equivalent keepalived.conf (VRRP only).
func keepalivedConf(state string, prio int, pass string) string {
	return fmt.Sprintf(`global_defs {
  router_id lvsd_interop
  enable_script_security
}
vrrp_instance VI_1 {
  state %s
  interface eth0
  virtual_router_id 51
  priority %d
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass %s
  }
  virtual_ipaddress {
    198.51.100.30/24 dev eth0
  }
}
`, state, prio, pass)
}

// startDirector runs `lvsd director` in h with the given file content.
func startDirector(t *testing.T, l *lab.Lab, h *lab.Host, content string, flags ...string) *lab.Proc {
	t.Helper()
	f, err := l.WriteFile(h.Name+".hcl", content)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{lvsdBin, "director", "-f", f, "--control", l.Dir + "/" + h.Name + ".sock",
		"--pid-file", l.Dir + "/" + h.Name + ".pid", "--log-level", "debug"}, flags...)
	p, err := h.Start(h.Name, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log:\n%s", h.Name, p.Output())
		}
	})
	return p
}

func startKeepalived(t *testing.T, l *lab.Lab, h *lab.Host, content string) *lab.Proc {
	t.Helper()
	f, err := l.WriteFile(h.Name+"-keepalived.conf", content)
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.Start(h.Name+"-keepalived", "keepalived", "-n", "-l", "-D", "-P", "-f", f,
		"-p", l.Dir+"/"+h.Name+"-ka.pid", "-r", l.Dir+"/"+h.Name+"-ka-vrrp.pid")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s keepalived log:\n%s", h.Name, p.Output())
		}
	})
	return p
}

// startARPWatch captures ARP on the observer's eth0 with tcpdump.
func startARPWatch(t *testing.T, h *lab.Host) *lab.Proc {
	t.Helper()
	p, err := h.Start(h.Name+"-tcpdump", "tcpdump", "-l", "-n", "-e", "-i", "eth0", "arp")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := lab.WaitFor(5*time.Second, func() bool { return strings.Contains(p.Output(), "listening on") }); !ok {
		t.Fatalf("tcpdump did not start: %s", p.Output())
	}
	return p
}

// reGARP matches tcpdump's line for a gratuitous ARP request (sender =
// target = VIP); tcpdump shows the target MAC when it is not zero.
var reGARP = regexp.MustCompile(`Request who-has ` + regexp.QuoteMeta(vip) + ` (\(\S+\) )?tell ` + regexp.QuoteMeta(vip) + `,`)

// garpFrom counts gratuitous ARP requests for the VIP sent from mac.
func garpFrom(p *lab.Proc, mac string) int {
	n := 0
	for _, line := range strings.Split(p.Output(), "\n") {
		if strings.Contains(line, mac+" > ff:ff:ff:ff:ff:ff") && reGARP.MatchString(line) {
			n++
		}
	}
	return n
}

func macOf(t *testing.T, h *lab.Host) string {
	t.Helper()
	out, err := h.Run("cat", "/sys/class/net/eth0/address")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

func waitVIP(t *testing.T, h *lab.Host, want bool, timeout time.Duration) time.Duration {
	t.Helper()
	d, ok := lab.WaitFor(timeout, func() bool { return h.HasAddr(vip) == want })
	if !ok {
		t.Fatalf("%s: VIP present=%v not reached within %v", h.Name, want, timeout)
	}
	return d
}

// masterDown is RFC 3768 §6.1's Master_Down_Interval for advert 1 s.
func masterDown(prio int) time.Duration {
	return 3*time.Second + time.Duration(256-prio)*time.Second/256
}

// TestDirectorsElectAndFailOver: two lvsd directors on one LAN elect the
// higher priority; it announces the VIP with gratuitous ARP; when its link
// goes down the other takes the VIP within Master_Down (+1 s slack) and
// announces it too.
func TestDirectorsElectAndFailOver(t *testing.T) {
	l := newLab(t, "lvh1")
	a := addHost(t, l, "lvs1", "198.51.100.20/24")
	b := addHost(t, l, "lvs2", "198.51.100.21/24")
	obs := addHost(t, l, "obs", "198.51.100.2/24")
	arp := startARPWatch(t, obs)

	startDirector(t, l, a, vrrpOnly("MASTER", 101, "mypasswd", false))
	waitVIP(t, a, true, 3*time.Second)
	startDirector(t, l, b, vrrpOnly("BACKUP", 100, "mypasswd", false))
	time.Sleep(masterDown(100) + time.Second)
	if b.HasAddr(vip) {
		t.Fatal("lvs2 took the VIP while lvs1 is master")
	}
	if !a.HasAddr(vip) {
		t.Fatal("lvs1 lost the VIP")
	}
	if n := garpFrom(arp, macOf(t, a)); n < 5 {
		t.Errorf("saw %d gratuitous ARPs for %s from lvs1, want at least 5:\n%s", n, vip, arp.Output())
	}

	if err := a.LinkDown(); err != nil {
		t.Fatal(err)
	}
	took := waitVIP(t, b, true, masterDown(100)+2*time.Second)
	if took > masterDown(100)+time.Second {
		t.Errorf("failover took %v, bound %v", took, masterDown(100)+time.Second)
	}
	t.Logf("failover after link cut: %v (Master_Down %v)", took, masterDown(100))
	if _, ok := lab.WaitFor(2*time.Second, func() bool { return garpFrom(arp, macOf(t, b)) >= 1 }); !ok {
		t.Errorf("no gratuitous ARP for %s from lvs2 after failover:\n%s", vip, arp.Output())
	}
}

// TestStopReleasesVIP: SIGTERM makes the master send priority 0 (the
// backup takes over after Skew_Time, well before Master_Down) and drop the VIP.
func TestStopReleasesVIP(t *testing.T) {
	l := newLab(t, "lvh2")
	a := addHost(t, l, "lvs1", "198.51.100.20/24")
	b := addHost(t, l, "lvs2", "198.51.100.21/24")
	pa := startDirector(t, l, a, vrrpOnly("MASTER", 101, "mypasswd", false))
	waitVIP(t, a, true, 3*time.Second)
	startDirector(t, l, b, vrrpOnly("BACKUP", 100, "mypasswd", false))
	// lvs2 must be listening (a backup that heard lvs1) to hear the
	// priority-0 advert; a fixed sleep was a guess at its start-up time.
	waitBackup(t, l, b)
	start := time.Now()
	if err := pa.Stop(syscall.SIGTERM, 5*time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if a.HasAddr(vip) {
		t.Error("lvs1 kept the VIP after SIGTERM")
	}
	waitVIP(t, b, true, 2*time.Second)
	// Priority 0 means the backup waits only Skew_Time (RFC 3768 §6.4.2).
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("backup took over %v after stop; priority-0 advert should make it ~%v", took, time.Duration(156)*time.Second/256)
	}
}

// TestAgentRule: the REDIRECT rule appears, is re-installed after a flush,
// is not duplicated by a restart, and is removed on SIGTERM. A second agent
// with the same pid file refuses to start.
func TestAgentRule(t *testing.T) {
	l := newLab(t, "lvh3")
	db := addHost(t, l, "db1", "198.51.100.10/24")
	f, err := l.WriteFile("agent.hcl", "agent {\n  vips = [\"198.51.100.30\"]\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	start := func(name string) *lab.Proc {
		p, err := db.Start(name, lvsdBin, "agent", "-f", f, "--control", l.Dir+"/agent.sock", "--pid-file", l.Dir+"/agent.pid")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	count := func() int {
		out, err := db.Run("iptables", "-t", "nat", "-S", "PREROUTING")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "-d "+vip+"/32") && strings.Contains(line, "-j REDIRECT") {
				n++
			}
		}
		return n
	}
	p := start("agent1")
	if _, ok := lab.WaitFor(5*time.Second, func() bool { return count() == 1 }); !ok {
		t.Fatalf("rule not installed (count %d):\n%s", count(), p.Output())
	}
	if _, err := db.Run("iptables", "-t", "nat", "-F"); err != nil {
		t.Fatal(err)
	}
	if d, ok := lab.WaitFor(5*time.Second, func() bool { return count() == 1 }); !ok {
		t.Fatalf("rule not re-installed after flush:\n%s", p.Output())
	} else {
		t.Logf("rule re-installed %v after iptables -t nat -F", d)
	}

	second := start("agent2")
	if _, ok := lab.WaitFor(5*time.Second, second.Exited); !ok {
		t.Fatal("second agent with the same pid file did not exit")
	}
	if err := second.Stop(syscall.SIGTERM, time.Second); err == nil || !strings.Contains(second.Output(), "another lvsd") {
		t.Errorf("second agent: err=%v, output:\n%s", err, second.Output())
	}

	if err := p.Stop(syscall.SIGTERM, 5*time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, p.Output())
	}
	if n := count(); n != 0 {
		t.Fatalf("%d rules left after SIGTERM", n)
	}
	// A restart over a leftover rule (as after a crash) must not duplicate it.
	if _, err := db.Run("iptables", "-t", "nat", "-A", "PREROUTING", "-d", vip, "-m", "comment", "--comment", "lvsd: "+vip, "-j", "REDIRECT"); err != nil {
		t.Fatal(err)
	}
	p = start("agent3")
	time.Sleep(2 * time.Second)
	if n := count(); n != 1 {
		t.Errorf("after restart over a leftover rule: %d rules, want 1", n)
	}
	if err := p.Stop(syscall.SIGTERM, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

func needKeepalived(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("keepalived"); err != nil {
		t.Fatal("keepalived is not installed (apt-get install keepalived): the interop tests need it")
	}
}

// TestInteropKeepalived: lvsd and keepalived as VRRP peers, each way round:
// the higher priority is master, the other backs up, killing the master
// moves the VIP.
func TestInteropKeepalived(t *testing.T) {
	needKeepalived(t)
	for _, lvsdMaster := range []bool{true, false} {
		name := "keepalived-master"
		if lvsdMaster {
			name = "lvsd-master"
		}
		t.Run(name, func(t *testing.T) {
			prefix := "lvi1"
			if !lvsdMaster {
				prefix = "lvi2"
			}
			l := newLab(t, prefix)
			lh := addHost(t, l, "lvsd", "198.51.100.20/24")
			kh := addHost(t, l, "ka", "198.51.100.21/24")
			var master, backup *lab.Host
			var masterProc *lab.Proc
			if lvsdMaster {
				masterProc = startDirector(t, l, lh, vrrpOnly("MASTER", 101, "mypasswd", false))
				master, backup = lh, kh
				waitVIP(t, master, true, 5*time.Second)
				startKeepalived(t, l, kh, keepalivedConf("BACKUP", 100, "mypasswd"))
			} else {
				masterProc = startKeepalived(t, l, kh, keepalivedConf("MASTER", 101, "mypasswd"))
				master, backup = kh, lh
				waitVIP(t, master, true, 8*time.Second)
				startDirector(t, l, lh, vrrpOnly("BACKUP", 100, "mypasswd", false))
			}
			time.Sleep(masterDown(100) + 1500*time.Millisecond)
			if backup.HasAddr(vip) {
				t.Fatalf("%s took the VIP although %s is master", backup.Name, master.Name)
			}
			if !master.HasAddr(vip) {
				t.Fatalf("%s lost the VIP", master.Name)
			}
			if !lvsdMaster {
				st := lvsdStatus(t, l, lh)
				if st.State != "BACKUP" || st.RxAdverts == 0 {
					t.Fatalf("lvsd status: state %s, rx adverts %d; want BACKUP and adverts received", st.State, st.RxAdverts)
				}
			}
			// Killing the master (no priority-0 goodbye) moves the VIP after Master_Down.
			_ = masterProc.Stop(syscall.SIGKILL, 5*time.Second)
			if master == kh {
				// keepalived's VRRP child survives its parent's SIGKILL; kill it too.
				_, _ = kh.Run("sh", "-c", "kill -9 $(cat "+l.Dir+"/ka-ka-vrrp.pid)")
			}
			took := waitVIP(t, backup, true, masterDown(100)+3*time.Second)
			t.Logf("%s took the VIP %v after %s was killed", backup.Name, took, master.Name)
		})
	}
}

type instStatus struct {
	State     string            `json:"state"`
	RxAdverts uint64            `json:"rx_adverts"`
	Drops     map[string]uint64 `json:"drops"`
}

func lvsdStatus(t *testing.T, l *lab.Lab, h *lab.Host) instStatus {
	t.Helper()
	st, err := readStatus(l, h)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// waitBackup waits until h's lvsd is a backup that has heard adverts (its
// start-up time varies with the machine's load).
func waitBackup(t *testing.T, l *lab.Lab, h *lab.Host) {
	t.Helper()
	if _, ok := lab.WaitFor(10*time.Second, func() bool {
		st, err := readStatus(l, h)
		return err == nil && st.State == "BACKUP" && st.RxAdverts > 0
	}); !ok {
		st, err := readStatus(l, h)
		t.Fatalf("%s never became a backup hearing a master: %+v %v", h.Name, st, err)
	}
}

// readStatus is the one VRRP instance of h's `lvsd status --json`.
func readStatus(l *lab.Lab, h *lab.Host) (instStatus, error) {
	out, err := h.Run(lvsdBin, "status", "--json", "--control", l.Dir+"/"+h.Name+".sock")
	if err != nil {
		return instStatus{}, fmt.Errorf("lvsd status: %v", err)
	}
	var doc struct {
		VRRP []instStatus `json:"vrrp"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.VRRP) != 1 {
		return instStatus{}, fmt.Errorf("lvsd status: %v\n%s", err, out)
	}
	return doc.VRRP[0], nil
}

// TestInteropWrongPassword: keepalived with another password must not be
// adopted as master by lvsd: lvsd drops its adverts (counted as auth_pass)
// and, hearing no valid master, takes the VIP itself.
func TestInteropWrongPassword(t *testing.T) {
	needKeepalived(t)
	l := newLab(t, "lvi3")
	lh := addHost(t, l, "lvsd", "198.51.100.20/24")
	kh := addHost(t, l, "ka", "198.51.100.21/24")
	startKeepalived(t, l, kh, keepalivedConf("MASTER", 101, "otherpw"))
	waitVIP(t, kh, true, 8*time.Second)
	startDirector(t, l, lh, vrrpOnly("BACKUP", 100, "mypasswd", false))
	waitVIP(t, lh, true, masterDown(100)+2*time.Second)
	st := lvsdStatus(t, l, lh)
	if st.Drops["auth_pass"] == 0 {
		t.Errorf("lvsd counted no auth_pass drops: %+v", st)
	}
	if st.State != "MASTER" {
		t.Errorf("lvsd state %s, want MASTER (it must not accept adverts with a wrong password)", st.State)
	}
}
