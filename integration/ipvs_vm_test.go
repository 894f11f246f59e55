//go:build vm

package integration

import (
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

const ipvsOnly = `virtual_server "web" {
  address    = "198.51.100.40:80"
  lvs_sched  = "wrr"
  lvs_method = "NAT"

  real_server "a" {
    address = "198.51.100.10:80"
    weight  = %d
  }
  real_server "b" {
    address = "198.51.100.11:80"
    weight  = 1
  }
}
`

// TestIPVSReconcile drives one IPVS-only director through the kernel-facing
// promises: drift repaired within a resync, foreign services untouched, a
// bad reload keeps the running table, a good reload changes only what
// differs, --keep-ipvs leaves the table and the next start adopts it with
// zero changes, a plain stop removes only what lvsd manages.
func TestIPVSReconcile(t *testing.T) {
	l := newLab(t, "ivr")
	h := addHost(t, l, "lvs", "198.51.100.20/24")
	if _, err := h.Run("modprobe", "ip_vs"); err != nil {
		t.Fatal(err)
	}
	file, err := l.WriteFile("lvs.hcl", sprintf(ipvsOnly, 2))
	if err != nil {
		t.Fatal(err)
	}
	table := func() string {
		out, err := h.Run("ipvsadm", "-Ln")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	reA := func(weight string) *regexp.Regexp {
		return regexp.MustCompile(`->\s+198\.51\.100\.10:80\s+Masq\s+` + weight + `\s`)
	}
	waitTable := func(what string, cond func(string) bool) {
		t.Helper()
		var last string
		if _, ok := lab.WaitFor(10*time.Second, func() bool { last = table(); return cond(last) }); !ok {
			t.Fatalf("%s; ipvsadm -Ln:\n%s", what, last)
		}
	}
	start := func(name string, extra ...string) *lab.Proc {
		args := append([]string{"director", "-f", file, "--control", l.Dir + "/lvs.sock", "--pid-file", l.Dir + "/lvs.pid",
			"--resync-interval", "1s"}, extra...)
		p, err := h.Start(name, append([]string{lvsdBin}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s log:\n%s", name, p.Output())
			}
		})
		return p
	}

	// A service lvsd does not manage must survive everything below.
	if _, err := h.Run("ipvsadm", "-A", "-t", "198.51.100.99:80", "-s", "rr"); err != nil {
		t.Fatal(err)
	}
	p := start("lvsd1", "--keep-ipvs")
	waitTable("service not programmed", func(s string) bool {
		return strings.Contains(s, "TCP  198.51.100.40:80 wrr") && reA("2").MatchString(s)
	})

	// Drift: a destination deleted by hand comes back within a resync.
	if _, err := h.Run("ipvsadm", "-d", "-t", "198.51.100.40:80", "-r", "198.51.100.10:80"); err != nil {
		t.Fatal(err)
	}
	waitTable("deleted destination not repaired", func(s string) bool { return reA("2").MatchString(s) })
	if _, ok := lab.WaitFor(3*time.Second, func() bool { return strings.Contains(p.Output(), "repaired") }); !ok {
		t.Error("repair was not logged")
	}
	// Drift: the whole service deleted by hand comes back.
	if _, err := h.Run("ipvsadm", "-D", "-t", "198.51.100.40:80"); err != nil {
		t.Fatal(err)
	}
	waitTable("deleted service not repaired", func(s string) bool {
		return strings.Contains(s, "198.51.100.40:80 wrr") && reA("2").MatchString(s)
	})

	// A bad reload is refused and the table stays.
	if err := os.WriteFile(file, []byte("virtual_server \"web\" {\n  address = \"198.51.100.40:99999\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = p.Cmd.Process.Signal(syscall.SIGHUP)
	if _, ok := lab.WaitFor(5*time.Second, func() bool { return strings.Contains(p.Output(), "reload refused") }); !ok {
		t.Fatalf("bad reload not refused:\n%s", p.Output())
	}
	if !strings.Contains(p.Output(), "lvs.hcl:2,") {
		t.Errorf("refused reload does not name the place (file:line,col):\n%s", p.Output())
	}
	if p.Exited() || !reA("2").MatchString(table()) {
		t.Fatalf("bad reload disturbed the daemon or the table:\n%s", table())
	}

	// A good reload changes the weight in place.
	if err := os.WriteFile(file, []byte(sprintf(ipvsOnly, 3)), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = p.Cmd.Process.Signal(syscall.SIGHUP)
	waitTable("reload did not update the weight", func(s string) bool { return reA("3").MatchString(s) })

	// --keep-ipvs: the table stays after stop.
	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if s := table(); !reA("3").MatchString(s) {
		t.Fatalf("--keep-ipvs stop removed the table:\n%s", s)
	}
	// The next start adopts it: no op at all.
	p = start("lvsd2")
	if _, ok := lab.WaitFor(5*time.Second, func() bool { return strings.Contains(p.Output(), "msg=started") }); !ok {
		t.Fatalf("restart did not start:\n%s", p.Output())
	}
	time.Sleep(2500 * time.Millisecond) // two resyncs
	if out := p.Output(); strings.Contains(out, "ipvs op") || strings.Contains(out, "repaired") {
		t.Errorf("restart over an identical table changed it:\n%s", out)
	}
	// A plain stop removes what lvsd manages and only that.
	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	s := table()
	if strings.Contains(s, "198.51.100.40:80") {
		t.Errorf("stop left the managed service:\n%s", s)
	}
	if !strings.Contains(s, "198.51.100.99:80") {
		t.Errorf("stop removed a service lvsd does not manage:\n%s", s)
	}
}
