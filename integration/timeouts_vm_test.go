//go:build vm

package integration

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// TestTimeoutsRepairedVM: lvs_timeouts changed behind lvsd's back with
// `ipvsadm --set` are set back by the periodic resync, and the repair is
// logged; keepalived sets them once at start and never again.
func TestTimeoutsRepairedVM(t *testing.T) {
	l := newLab(t, "mst")
	h := addHost(t, l, "lvs", "198.51.100.20/24")
	if _, err := h.Run("modprobe", "ip_vs"); err != nil {
		t.Fatal(err)
	}
	file, err := l.WriteFile("lvs.hcl", `lvs_timeouts {
  tcp    = "1000s"
  tcpfin = "100s"
  udp    = "200s"
}
virtual_server "web" {
  address = "198.51.100.40:80"
  real_server "a" {
    address = "198.51.100.10:80"
  }
}
`)
	if err != nil {
		t.Fatal(err)
	}
	timeouts := func() string {
		out, err := h.Run("ipvsadm", "-L", "--timeout")
		if err != nil {
			t.Fatalf("ipvsadm -L --timeout: %v\n%s", err, out)
		}
		return strings.TrimSpace(out)
	}
	const want = "Timeout (tcp tcpfin udp): 1000 100 200"
	p, err := h.Start("lvsd", lvsdBin, "director", "-f", file, "--control", l.Dir+"/lvsd.sock", "--pid-file", l.Dir+"/lvsd.pid",
		"--resync-interval", "2s")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("lvsd log:\n%s", p.Output())
		}
	})
	var got string
	if _, ok := lab.WaitFor(20*time.Second, func() bool { got = timeouts(); return got == want }); !ok {
		t.Fatalf("timeouts not set at start: %q, want %q", got, want)
	}
	if strings.Contains(p.Output(), "repaired") {
		t.Errorf("start logged a repair:\n%s", p.Output())
	}
	for i := range 2 {
		if out, err := h.Run("ipvsadm", "--set", "1", "2", "3"); err != nil {
			t.Fatalf("ipvsadm --set: %v\n%s", err, out)
		}
		// A resync between the --set and this read has already put the
		// configured values back (the log line below proves the set took).
		if got := timeouts(); got != "Timeout (tcp tcpfin udp): 1 2 3" && got != want {
			t.Fatalf("ipvsadm --set did not take: %q", got)
		}
		// Within one resync interval (2 s); the bound leaves room for the
		// emulated VM under load, the log shows the time taken.
		took, ok := lab.WaitFor(10*time.Second, func() bool { got = timeouts(); return got == want })
		if !ok {
			t.Fatalf("timeouts not repaired: %q, want %q", got, want)
		}
		t.Logf("repair %d: timeouts back %v after ipvsadm --set", i+1, took.Round(10*time.Millisecond))
		const line = `msg=repaired ops=1 changes="set timeouts tcp 1 tcpfin 2 udp 3 -> tcp 1000 tcpfin 100 udp 200"`
		if _, ok := lab.WaitFor(3*time.Second, func() bool { return strings.Count(p.Output(), line) == i+1 }); !ok {
			t.Errorf("repair %d not logged as %q:\n%s", i+1, line, p.Output())
		}
	}
	if !strings.Contains(p.Output(), "level=WARN msg=repaired ops=1 changes=\"set timeouts") {
		t.Errorf("the repair is not a warning:\n%s", p.Output())
	}
	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Errorf("stop lvsd: %v", err)
	}
}
