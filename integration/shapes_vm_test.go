//go:build vm

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// shapesKeepalived has one virtual server per IPVS service shape: every
// scheduler, scheduler flags, ops, the three methods (also per real
// server), TCP/UDP/SCTP, fwmark (IPv4 and IPv6), IPv6 services,
// persistence, thresholds, and the global timeouts; port 85 has no
// protocol, which keepalived programs as UDP. No checkers: every
// real server is up for both daemons, so the tables must be identical.
const shapesKeepalived = `global_defs {
    lvs_timeouts tcp 1000 tcpfin 100 udp 200
}
virtual_server 198.51.100.40 80 {
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    real_server 198.51.100.10 8080 {
        weight 3
        uthreshold 100
        lthreshold 10
    }
    real_server 198.51.100.11 8080 {
        uthreshold 5
    }
}
virtual_server 198.51.100.40 81 {
    protocol TCP
    lvs_sched wrr
    lvs_method DR
    real_server 198.51.100.10 81 {
        weight 2
    }
    real_server 198.51.100.11 81 {
        lvs_method TUN
    }
    real_server 198.51.100.12 81 {
        lvs_method NAT
    }
}
virtual_server 198.51.100.40 82 {
    protocol TCP
    lvs_sched lc
    lvs_method TUN
    real_server 198.51.100.10 82 {
    }
}
virtual_server 198.51.100.40 83 {
    protocol SCTP
    lvs_sched wlc
    real_server 198.51.100.10 83 {
    }
}
virtual_server 198.51.100.40 84 {
    protocol UDP
    lvs_sched lblc
    real_server 198.51.100.10 84 {
    }
}
virtual_server 198.51.100.40 85 {
    lvs_sched lblcr
    real_server 198.51.100.10 85 {
    }
}
virtual_server 198.51.100.40 86 {
    protocol TCP
    lvs_sched dh
    real_server 198.51.100.10 86 {
    }
}
virtual_server 198.51.100.40 87 {
    protocol TCP
    lvs_sched sh
    sh-port
    sh-fallback
    real_server 198.51.100.10 87 {
    }
}
virtual_server 198.51.100.40 88 {
    protocol TCP
    lvs_sched sed
    persistence_timeout 120
    persistence_granularity 255.255.255.0
    real_server 198.51.100.10 88 {
    }
}
virtual_server 198.51.100.40 89 {
    protocol TCP
    lvs_sched nq
    real_server 198.51.100.10 89 {
    }
}
virtual_server 198.51.100.40 90 {
    protocol TCP
    lvs_sched fo
    real_server 198.51.100.10 90 {
        weight 5
    }
    real_server 198.51.100.11 90 {
    }
}
virtual_server 198.51.100.40 91 {
    protocol TCP
    lvs_sched ovf
    real_server 198.51.100.10 91 {
    }
}
virtual_server 198.51.100.40 92 {
    protocol TCP
    lvs_sched mh
    mh-port
    mh-fallback
    real_server 198.51.100.10 92 {
    }
}
virtual_server 198.51.100.40 53 {
    protocol UDP
    lvs_sched rr
    ops
    real_server 198.51.100.10 53 {
    }
}
virtual_server 198.51.100.40 93 {
    protocol TCP
    lvs_sched rr
    flag-3
    real_server 198.51.100.10 93 {
    }
}
virtual_server fwmark 1 {
    protocol TCP
    lvs_sched wlc
    lvs_method DR
    persistence_timeout 300
    real_server 198.51.100.10 0 {
    }
    real_server 198.51.100.11 0 {
        weight 2
    }
}
virtual_server fwmark 2 {
    protocol TCP
    ip_family inet6
    lvs_sched rr
    lvs_method DR
    real_server 2001:db8::10 0 {
    }
}
virtual_server 2001:db8::40 80 {
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    persistence_timeout 60
    persistence_granularity 64
    real_server 2001:db8::10 8080 {
        uthreshold 7
        lthreshold 3
    }
    real_server 2001:db8::11 8080 {
    }
}
virtual_server 2001:db8::40 53 {
    protocol UDP
    lvs_sched sh
    sh-fallback
    lvs_method DR
    real_server 2001:db8::10 53 {
    }
}
`

// shapesComplete says whether an ipvsadm -Ln listing holds every service of
// shapesKeepalived with all its destinations (19 services, 25 destinations).
func shapesComplete(s string) bool {
	var svcs, dests int
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 0 && slices.Contains([]string{"TCP", "UDP", "SCTP", "FWM"}, f[0]):
			svcs++
		case len(f) > 0 && f[0] == "->" && f[1] != "RemoteAddress:Port":
			dests++
		}
	}
	return svcs == 19 && dests == 25
}

// TestServiceShapes programs every service shape and checks it three ways,
// in one VM boot: a scheduler the kernel cannot load is refused by name
// while the other services are programmed; lvsd's table (from `lvsd
// convert` of a keepalived.conf) is identical to keepalived's own in every
// ipvsadm view; traffic through NAT, DR and TUN services reaches the real
// servers.
func TestServiceShapes(t *testing.T) {
	// First, before anything loads the schedulers' modules.
	t.Run("missing scheduler", testMissingScheduler)
	t.Run("tables like keepalived", testShapeTables)
	t.Run("traffic NAT DR TUN", testShapeTraffic)
}

func testMissingScheduler(t *testing.T) {
	l := newLab(t, "shm")
	h := addHost(t, l, "lvs", "198.51.100.20/24")
	// ip_vs and rr loaded by hand; every other scheduler module stays out.
	for _, m := range []string{"ip_vs", "ip_vs_rr"} {
		if out, err := h.Run("modprobe", m); err != nil {
			t.Fatalf("modprobe %s: %v\n%s", m, err, out)
		}
	}
	if b, err := os.ReadFile("/sys/module/ip_vs_ovf/initstate"); err == nil {
		t.Skipf("ip_vs_ovf already loaded (%s): run this test first in its VM", b)
	}
	// Module autoloading off (kernel.modprobe empty: request_module then
	// fails at once): the kernel answers ENOENT to a service naming ovf,
	// as on a kernel built without it.
	const modprobePath = "/proc/sys/kernel/modprobe"
	orig, err := os.ReadFile(modprobePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(modprobePath, []byte("\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	restore := func() { _ = os.WriteFile(modprobePath, orig, 0o644) }
	t.Cleanup(restore)

	file, err := l.WriteFile("lvs.hcl", `virtual_server "good" {
  address   = "198.51.100.40:80"
  lvs_sched = "rr"
  real_server "a" {
    address = "198.51.100.10:80"
  }
}
virtual_server "nomod" {
  address   = "198.51.100.40:81"
  lvs_sched = "ovf"
  real_server "a" {
    address = "198.51.100.10:81"
  }
}
`)
	if err != nil {
		t.Fatal(err)
	}
	wantErr := `virtual_server "nomod" (TCP 198.51.100.40:81): scheduler "ovf" is not available: module ip_vs_ovf is not loaded and module autoloading is off`
	out, err := h.Run(lvsdBin, "plan", "-f", file)
	if err == nil || !strings.Contains(out, wantErr) || !strings.Contains(out, "+ add service TCP 198.51.100.40:80 rr") {
		t.Fatalf("lvsd plan: want exit 1 naming the service and the scheduler, and the plan; got %v:\n%s", err, out)
	}
	t.Logf("lvsd plan:\n%s", out)

	p, err := h.Start("lvsd", lvsdBin, "director", "-f", file, "--control", l.Dir+"/lvsd.sock", "--pid-file", l.Dir+"/lvsd.pid", "--resync-interval", "1s")
	if err != nil {
		t.Fatal(err)
	}
	table := func() string { out, _ := h.Run("ipvsadm", "-Ln"); return out }
	var got string
	if _, ok := lab.WaitFor(20*time.Second, func() bool {
		got = table()
		return strings.Contains(got, "198.51.100.10:80") && strings.Contains(unquote(p.Output()), `scheduler "ovf" is not available in this kernel`)
	}); !ok {
		t.Fatalf("want the rr service programmed and the ovf one refused by name; ipvsadm -Ln:\n%s\nlvsd log:\n%s", got, p.Output())
	}
	if strings.Contains(got, ":81") {
		t.Fatalf("the ovf service is in the table:\n%s", got)
	}
	if !strings.Contains(unquote(p.Output()), wantErr) {
		t.Errorf("start did not log the scheduler check %q:\n%s", wantErr, p.Output())
	}
	// The sync's error reaches the status just after the log line.
	var st string
	if _, ok := lab.WaitFor(5*time.Second, func() bool {
		st, err = h.Run(lvsdBin, "status", "--control", l.Dir+"/lvsd.sock")
		return err == nil && strings.Contains(st, `scheduler "ovf" is not available in this kernel`)
	}); !ok {
		t.Errorf("lvsd status does not show the refused scheduler (%v):\n%s", err, st)
	}
	// A reload says it too, and is applied (the other service is fine).
	rl, err := h.Run(lvsdBin, "reload", "--control", l.Dir+"/lvsd.sock")
	if err != nil || !strings.Contains(rl, "error: "+wantErr) {
		t.Errorf("lvsd reload does not name the refused scheduler (%v):\n%s", err, rl)
	}
	// Autoloading back: the next resync adds the service.
	restore()
	if _, ok := lab.WaitFor(20*time.Second, func() bool { got = table(); return strings.Contains(got, "198.51.100.40:81 ovf") }); !ok {
		t.Fatalf("the ovf service was not added once the module could load; ipvsadm -Ln:\n%s\nlvsd log:\n%s", got, p.Output())
	}
	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Errorf("stop lvsd: %v\n%s", err, p.Output())
	}
}

func testShapeTables(t *testing.T) {
	l := newLab(t, "sht")
	h := addHost(t, l, "lvs", "198.51.100.20/24")
	if _, err := h.Run("modprobe", "ip_vs"); err != nil {
		t.Fatal(err)
	}
	kaConf, err := l.WriteFile("keepalived.conf", shapesKeepalived)
	if err != nil {
		t.Fatal(err)
	}
	// Every view ipvsadm has of a table, each normalised.
	views := [][]string{
		{"ipvsadm", "-Ln"},
		{"ipvsadm", "-Ln", "--persistent-conn"},
		{"ipvsadm", "-Ln", "--thresholds"},
		{"ipvsadm", "-L", "--timeout"},
	}
	snapshot := func() []string {
		var out []string
		for _, v := range views {
			s, err := h.Run(v...)
			if err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(v, " "), err, s)
			}
			out = append(out, normalise(s))
		}
		return out
	}

	ka, err := h.Start("keepalived", "keepalived", "-n", "-l", "-D", "-C", "-f", kaConf,
		"-p", l.Dir+"/keepalived.pid", "-c", l.Dir+"/checkers.pid")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	if _, ok := lab.WaitFor(30*time.Second, func() bool { want = snapshot(); return shapesComplete(want[0]) }); !ok {
		t.Fatalf("keepalived did not program every shape; ipvsadm -Ln:\n%s\nkeepalived log:\n%s", want[0], ka.Output())
	}
	want = snapshot()
	if err := ka.Stop(syscall.SIGTERM, 15*time.Second); err != nil {
		t.Fatalf("stop keepalived: %v\n%s", err, ka.Output())
	}
	if got := snapshot(); strings.Contains(got[0], "198.51.100.40") {
		t.Fatalf("keepalived left its entries behind:\n%s", got[0])
	}
	// Other timeouts, so that lvsd has to set them itself.
	if out, err := h.Run("ipvsadm", "--set", "7", "8", "9"); err != nil {
		t.Fatalf("ipvsadm --set: %v\n%s", err, out)
	}

	hcl := l.Dir + "/shapes.hcl"
	res, err := exec.Command(lvsdBin, "convert", "-o", hcl, kaConf).CombinedOutput()
	if err != nil {
		t.Fatalf("lvsd convert: %v\n%s", err, res)
	}
	t.Logf("lvsd convert:\n%s", res)
	p, err := h.Start("lvsd", lvsdBin, "director", "-f", hcl, "--control", l.Dir+"/lvsd.sock", "--pid-file", l.Dir+"/lvsd.pid")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if _, ok := lab.WaitFor(30*time.Second, func() bool { got = snapshot(); return shapesComplete(got[0]) }); !ok {
		t.Fatalf("lvsd did not program every shape; ipvsadm -Ln:\n%s\nlvsd log:\n%s", got[0], p.Output())
	}
	got = snapshot()
	for i, v := range views {
		if got[i] != want[i] {
			t.Errorf("%s differs\nkeepalived:\n%s\nlvsd:\n%s", strings.Join(v, " "), want[i], got[i])
		}
	}
	t.Logf("identical for keepalived and lvsd:\n%s\n%s\n%s", got[0], got[2], got[3])

	// A second plan against lvsd's own table is empty: what was read back
	// equals what was asked for, flags and thresholds included.
	out, err := h.Run(lvsdBin, "plan", "-f", hcl)
	if err != nil || strings.TrimSpace(out) != "no changes" {
		t.Errorf("lvsd plan after programming: %v\n%s", err, out)
	}
	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Errorf("stop lvsd: %v\n%s", err, p.Output())
	}
}

// testShapeTraffic sends TCP connections through a NAT, a DR and a TUN
// service programmed by lvsd and checks both real servers answer each.
//
// One L2 segment. Director 198.51.100.20 and 203.0.113.100 (the NAT VIP),
// DR VIP 198.51.100.41, TUN VIP 198.51.100.42, forwarding on. Real servers
// 198.51.100.10/.11, default route via the director (NAT replies must pass
// it), the DR and TUN VIPs on lo with arp_ignore/arp_announce, tunl0 up
// for ipip. Client 203.0.113.50 (NAT: on the VIP's subnet) and
// 198.51.100.50 (DR, TUN: replies come straight from the real servers).
func testShapeTraffic(t *testing.T) {
	l := newLab(t, "shx")
	dir := addHost(t, l, "lvs", "198.51.100.20/24")
	cli := addHost(t, l, "cli", "198.51.100.50/24")
	must := func(h *lab.Host, args ...string) {
		t.Helper()
		if out, err := h.Run(args...); err != nil {
			t.Fatalf("%s: %s: %v\n%s", h.Name, strings.Join(args, " "), err, out)
		}
	}
	must(dir, "modprobe", "ip_vs")
	must(dir, "modprobe", "ipip")
	must(dir, "ip", "addr", "add", "203.0.113.100/24", "dev", "eth0")
	must(dir, "ip", "addr", "add", "198.51.100.41/32", "dev", "eth0")
	must(dir, "ip", "addr", "add", "198.51.100.42/32", "dev", "eth0")
	must(dir, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.eth0.send_redirects=0")
	must(cli, "ip", "addr", "add", "203.0.113.50/24", "dev", "eth0")
	var rss []*lab.Host
	for _, rs := range []struct{ name, cidr string }{{"rs1", "198.51.100.10/24"}, {"rs2", "198.51.100.11/24"}} {
		h := addHost(t, l, rs.name, rs.cidr)
		rss = append(rss, h)
		must(h, "ip", "route", "add", "default", "via", "198.51.100.20")
		must(h, "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2",
			"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0")
		must(h, "ip", "addr", "add", "198.51.100.41/32", "dev", "lo")
		must(h, "ip", "addr", "add", "198.51.100.42/32", "dev", "lo")
		// ipip decapsulates on tunl0, the per-namespace fallback device.
		must(h, "ip", "link", "set", "tunl0", "up")
		must(h, "sysctl", "-qw", "net.ipv4.conf.tunl0.rp_filter=0")
		for _, port := range []string{"80", "8080"} {
			ln, err := h.Serve(":"+port, rs.name)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(ln.Close)
		}
	}
	file, err := l.WriteFile("traffic.hcl", `virtual_server "nat" {
  address    = "203.0.113.100:80"
  lvs_sched  = "rr"
  lvs_method = "NAT"
  real_server "rs1" {
    address = "198.51.100.10:8080"
  }
  real_server "rs2" {
    address = "198.51.100.11:8080"
  }
}
virtual_server "dr" {
  address    = "198.51.100.41:80"
  lvs_sched  = "rr"
  lvs_method = "DR"
  real_server "rs1" {
    address = "198.51.100.10:80"
  }
  real_server "rs2" {
    address = "198.51.100.11:80"
  }
}
virtual_server "tun" {
  address    = "198.51.100.42:80"
  lvs_sched  = "rr"
  lvs_method = "DR"
  real_server "rs1" {
    address    = "198.51.100.10:80"
    lvs_method = "TUN"
  }
  real_server "rs2" {
    address    = "198.51.100.11:80"
    lvs_method = "TUN"
    tun_type   = "ipip"
  }
}
`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := dir.Start("lvsd", lvsdBin, "director", "-f", file, "--control", l.Dir+"/lvsd.sock", "--pid-file", l.Dir+"/lvsd.pid")
	if err != nil {
		t.Fatal(err)
	}
	table := func() string { out, _ := dir.Run("ipvsadm", "-Ln"); return out }
	var tbl string
	if _, ok := lab.WaitFor(20*time.Second, func() bool { tbl = table(); return strings.Count(tbl, "->") == 7 }); !ok {
		t.Fatalf("lvsd did not program the services; ipvsadm -Ln:\n%s\nlvsd log:\n%s", tbl, p.Output())
	}
	t.Logf("ipvsadm -Ln:\n%s", tbl)
	// Packets decapsulated on each real server's tunl0: only the TUN
	// service may add to them, which tells tunnelling from direct routing
	// (both would reach a real server holding the VIP).
	tunnelled := func() []int {
		var n []int
		for _, h := range rss {
			out, err := h.Run("cat", "/sys/class/net/tunl0/statistics/rx_packets")
			if err != nil {
				t.Fatalf("%s tunl0 counters: %v\n%s", h.Name, err, out)
			}
			var v int
			if _, err := fmt.Sscan(out, &v); err != nil {
				t.Fatalf("%s tunl0 rx_packets %q: %v", h.Name, out, err)
			}
			n = append(n, v)
		}
		return n
	}
	for _, vip := range []string{"203.0.113.100:80", "198.51.100.41:80", "198.51.100.42:80"} {
		before := tunnelled()
		seen := map[string]int{}
		for range 6 {
			got, err := cli.Dial(vip, 5*time.Second)
			if err != nil {
				t.Errorf("%s: %v", vip, err)
				break
			}
			seen[got]++
		}
		after := tunnelled()
		viaTunnel := after[0] > before[0] && after[1] > before[1]
		if wantTunnel := vip == "198.51.100.42:80"; viaTunnel != wantTunnel || (!wantTunnel && !slices.Equal(after, before)) {
			t.Errorf("%s: tunl0 rx packets %v -> %v; want an increase on both real servers only for the TUN service", vip, before, after)
		}
		if seen["rs1"] == 0 || seen["rs2"] == 0 || len(seen) != 2 {
			t.Errorf("%s: answers %v, want both real servers (rr)", vip, seen)
		} else {
			t.Logf("%s: answers %v, tunl0 rx %v -> %v", vip, seen, before, after)
		}
	}
	if t.Failed() {
		out, _ := dir.Run("ipvsadm", "-Ln", "--stats")
		t.Logf("ipvsadm -Ln --stats:\n%s", out)
	}
	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Errorf("stop lvsd: %v\n%s", err, p.Output())
	}
}

// unquote undoes slog's text escaping of quotes, so log lines can be
// searched for the messages as written.
func unquote(s string) string { return strings.ReplaceAll(s, `\"`, `"`) }
