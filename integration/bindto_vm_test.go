//go:build vm

package integration

import (
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// TestBindToDirectorVM runs a director whose checks have a source address:
// the real server sees the probes come from bindto:bind_port and the
// server is programmed; a bindto the director does not have keeps its
// server out of IPVS, and `lvsd status` (with --history) says why.
func TestBindToDirectorVM(t *testing.T) {
	l := newLab(t, "msv")
	h := addHost(t, l, "lvs", "198.51.100.20/24")
	rs := addHost(t, l, "rs", "198.51.100.10/24")
	for _, args := range [][]string{{"ip", "addr", "add", "198.51.100.21/24", "dev", "eth0"}, {"modprobe", "ip_vs"}} {
		if out, err := h.Run(args...); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	var ln net.Listener
	if err := rs.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", "198.51.100.10:80")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	var from []string
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			from = append(from, c.RemoteAddr().String())
			mu.Unlock()
			c.Close()
		}
	}()
	file, err := l.WriteFile("lvs.hcl", `virtual_server "web" {
  address    = "198.51.100.40:80"
  lvs_sched  = "rr"
  lvs_method = "NAT"
  delay_loop = "1s"
  real_server "a" {
    address = "198.51.100.10:80"
    tcp_check {
      bindto    = "198.51.100.21"
      bind_port = 4100
      retry     = 0
    }
  }
  real_server "b" {
    address = "198.51.100.10:8080"
    tcp_check {
      connect_port = 80
      bindto       = "198.51.100.99"
      retry        = 0
    }
  }
}
`)
	if err != nil {
		t.Fatal(err)
	}
	sock := l.Dir + "/lvs.sock"
	p, err := h.Start("lvsd", lvsdBin, "director", "-f", file, "--control", sock, "--pid-file", l.Dir+"/lvs.pid")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("lvsd log:\n%s", p.Output())
		}
	})
	const why = "bind: cannot assign requested address (bindto 198.51.100.99: not an address of this host)"
	var table, status string
	if _, ok := lab.WaitFor(30*time.Second, func() bool {
		table, _ = h.Run("ipvsadm", "-Ln")
		status, _ = h.Run(lvsdBin, "status", "--control", sock)
		// a's first check is jittered within delay_loop and may come after
		// b is out (CI saw b out before a's first probe): wait for a probe.
		mu.Lock()
		probed := len(from) > 0
		mu.Unlock()
		return strings.Contains(table, "198.51.100.10:80 ") && !strings.Contains(table, "198.51.100.10:8080") &&
			strings.Contains(status, why) && probed
	}); !ok {
		t.Fatalf("want a in IPVS and probed, b out with its reason in lvsd status; ipvsadm -Ln:\n%s\nlvsd status:\n%s", table, status)
	}
	t.Logf("lvsd status:\n%s", status)
	mu.Lock()
	seen := append([]string(nil), from...)
	mu.Unlock()
	for _, a := range seen {
		if a != "198.51.100.21:4100" {
			t.Errorf("probe from %s, want 198.51.100.21:4100 (all: %v)", a, seen)
		}
	}
	hist, err := h.Run(lvsdBin, "status", "--history", "--control", sock)
	if err != nil || !strings.Contains(hist, "Health history (oldest first)") ||
		!strings.Contains(hist, "-> 198.51.100.10:8080 (b), now down") || !strings.Contains(hist, why) {
		t.Errorf("lvsd status --history (%v):\n%s", err, hist)
	}
	t.Logf("lvsd status --history:\n%s", hist[strings.Index(hist, "Health history"):])
	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Errorf("stop lvsd: %v", err)
	}
}
