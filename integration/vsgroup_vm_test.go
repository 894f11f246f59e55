//go:build vm

package integration

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// vsgroupKeepalived uses every kind of virtual_server_group entry: single
// addresses, a range of the last byte, a network, IPv6 with a range of the
// last group, firewall marks of both families, and a group virtual server
// without protocol (keepalived's UDP default). The real servers of the
// DR services name other ports than their services': keepalived (like
// ipvsadm) programs a DR or TUN destination with the service's port (0 for
// a firewall mark), and so must lvsd.
const vsgroupKeepalived = `virtual_server_group WEB {
    198.51.100.40 80
    198.51.100.41-43 80
}
virtual_server_group ALT {
    198.51.100.44/31 8080
    fwmark 11
}
virtual_server_group WEB6 {
    2001:db8::40-42 443
}
virtual_server_group MARKS6 {
    fwmark 12 inet6
    fwmark 13 inet6
}
virtual_server_group DNS {
    198.51.100.50 53
}
virtual_server group WEB {
    protocol TCP
    lvs_sched wrr
    lvs_method DR
    persistence_timeout 120
    real_server 198.51.100.10 8080 {
        weight 3
    }
    real_server 198.51.100.11 80 {
        weight 1
    }
}
virtual_server group ALT {
    protocol TCP
    lvs_sched wlc
    lvs_method NAT
    real_server 198.51.100.10 80 {
    }
}
virtual_server group WEB6 {
    protocol TCP
    lvs_sched sh
    lvs_method NAT
    real_server 2001:db8::10 8443 {
    }
}
virtual_server group MARKS6 {
    lvs_sched rr
    lvs_method DR
    real_server 2001:db8::11 8080 {
    }
}
virtual_server group DNS {
    lvs_sched rr
    real_server 198.51.100.12 53 {
    }
}
`

// TestVirtualServerGroupLikeKeepalived: keepalived 2.2.7 programs
// vsgroupKeepalived; lvsd runs `lvsd convert` of the same file; both
// tables must be identical in ipvsadm -Ln and --persistent-conn, and
// lvsd status names each service NAME/ADDRESS.
func TestVirtualServerGroupLikeKeepalived(t *testing.T) {
	l := newLab(t, "vsg")
	h := addHost(t, l, "lvs", "198.51.100.20/24")
	if _, err := h.Run("modprobe", "ip_vs"); err != nil {
		t.Fatal(err)
	}
	kaConf, err := l.WriteFile("keepalived.conf", vsgroupKeepalived)
	if err != nil {
		t.Fatal(err)
	}
	// WEB: 1 + 3 addresses; ALT: 2 addresses + 1 fwmark; WEB6: 3;
	// MARKS6: 2; DNS: 1.
	const services, dests = 13, 4*2 + 3 + 3 + 2 + 1
	snapshot := func() (string, int, int) {
		var out []string
		for _, v := range [][]string{{"ipvsadm", "-Ln"}, {"ipvsadm", "-Ln", "--persistent-conn"}} {
			s, err := h.Run(v...)
			if err != nil {
				t.Fatalf("%v: %v\n%s", v, err, s)
			}
			out = append(out, normalise(s))
		}
		var svcs, ds int
		for _, line := range strings.Split(out[0], "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) > 0 && (f[0] == "TCP" || f[0] == "UDP" || f[0] == "FWM"):
				svcs++
			case len(f) > 1 && f[0] == "->" && f[1] != "RemoteAddress:Port":
				ds++
			}
		}
		return strings.Join(out, "\n----\n"), svcs, ds
	}
	complete := func(who string, p *lab.Proc) string {
		t.Helper()
		var s string
		var n, m int
		if _, ok := lab.WaitFor(30*time.Second, func() bool { s, n, m = snapshot(); return n == services && m == dests }); !ok {
			t.Fatalf("%s programmed %d services and %d destinations, want %d and %d:\n%s\nlog:\n%s", who, n, m, services, dests, s, p.Output())
		}
		return s
	}
	ka, err := h.Start("keepalived", "keepalived", "-n", "-l", "-D", "-C", "-f", kaConf,
		"-p", l.Dir+"/keepalived.pid", "-c", l.Dir+"/checkers.pid")
	if err != nil {
		t.Fatal(err)
	}
	want := complete("keepalived", ka)
	if err := ka.Stop(syscall.SIGTERM, 15*time.Second); err != nil {
		t.Fatalf("stop keepalived: %v\n%s", err, ka.Output())
	}
	if _, n, _ := snapshot(); n != 0 {
		t.Fatalf("keepalived left %d services", n)
	}
	hcl := l.Dir + "/vsgroup.hcl"
	res, err := exec.Command(lvsdBin, "convert", "-o", hcl, kaConf).CombinedOutput()
	if err != nil {
		t.Fatalf("lvsd convert: %v\n%s", err, res)
	}
	p, err := h.Start("lvsd", lvsdBin, "director", "-f", hcl, "--control", l.Dir+"/lvsd.sock", "--pid-file", l.Dir+"/lvsd.pid")
	if err != nil {
		t.Fatal(err)
	}
	got := complete("lvsd", p)
	if got != want {
		t.Errorf("tables differ\nkeepalived:\n%s\nlvsd:\n%s", want, got)
	}
	t.Logf("identical for keepalived and lvsd:\n%s", got)
	st, err := h.Run(lvsdBin, "status", "--control", l.Dir+"/lvsd.sock")
	if err != nil || !strings.Contains(st, "WEB/198.51.100.42:80") || !strings.Contains(st, "MARKS6/fwmark:13") || !strings.Contains(st, "ALT/fwmark:11") {
		t.Errorf("lvsd status does not name the group's services (%v):\n%s", err, st)
	}
	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Errorf("stop lvsd: %v\n%s", err, p.Output())
	}
}
