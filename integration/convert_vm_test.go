//go:build vm

package integration

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// TestConvertSeed001 proves `lvsd convert` on seed 001's master file: the
// IPVS table keepalived programs from the original keepalived.conf and the
// one lvsd programs from the converted HCL are identical (ipvsadm -Ln,
// whitespace normalised), in the same namespace on a kernel with IPVS.
func TestConvertSeed001(t *testing.T) {
	src, err := os.ReadFile("../conf/keepalived/testdata/seed001-master.conf")
	if err != nil {
		t.Fatal(err)
	}
	l := newLab(t, "cv")
	h := addHost(t, l, "lvs", "198.51.100.20/24")
	// The real servers answer on 3306 so that both daemons' TCP_CHECKs
	// pass and the table is compared with every destination present.
	for _, rs := range []struct{ name, cidr string }{{"db1", "198.51.100.10/24"}, {"db2", "198.51.100.11/24"}} {
		rh := addHost(t, l, rs.name, rs.cidr)
		ln, err := rh.Serve(rh.IP()+":3306", "mysql")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ln.Close)
	}
	if _, err := h.Run("modprobe", "ip_vs"); err != nil {
		t.Fatal(err)
	}
	kaConf, err := l.WriteFile("keepalived.conf", string(src))
	if err != nil {
		t.Fatal(err)
	}
	table := func() string {
		out, err := h.Run("ipvsadm", "-Ln")
		if err != nil {
			t.Fatal(err)
		}
		return normalise(out)
	}
	complete := func(s string) bool {
		return strings.Contains(s, "TCP 198.51.100.30:3306 rr") &&
			strings.Contains(s, "-> 198.51.100.10:3306 Route 1") &&
			strings.Contains(s, "-> 198.51.100.11:3306 Route 1")
	}

	// keepalived, checkers only (-C): the VRRP side is not what is compared.
	ka, err := h.Start("keepalived", "keepalived", "-n", "-l", "-D", "-C", "-f", kaConf,
		"-p", l.Dir+"/keepalived.pid", "-c", l.Dir+"/checkers.pid")
	if err != nil {
		t.Fatal(err)
	}
	var want string
	if _, ok := lab.WaitFor(15*time.Second, func() bool { want = table(); return complete(want) }); !ok {
		t.Fatalf("keepalived did not program the table; ipvsadm -Ln:\n%s\nkeepalived log:\n%s", want, ka.Output())
	}
	// Let a few checks run (delay_loop 3 s) so that a server keepalived
	// would take out is out before the table is taken.
	time.Sleep(4 * time.Second)
	want = table()
	if err := ka.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatalf("stop keepalived: %v\n%s", err, ka.Output())
	}
	if got := table(); strings.Contains(got, "198.51.100.30") {
		t.Fatalf("keepalived left its entries behind:\n%s", got)
	}

	// Convert (the auth_pass over 8 bytes needs --allow-unsupported) and
	// run lvsd on the result in the same namespace.
	out := l.Dir + "/converted.hcl"
	res, err := exec.Command(lvsdBin, "convert", "--allow-unsupported", "-o", out, kaConf).CombinedOutput()
	if err != nil {
		t.Fatalf("lvsd convert: %v\n%s", err, res)
	}
	t.Logf("lvsd convert:\n%s", res)
	p, err := h.Start("lvsd", lvsdBin, "director", "-f", out, "--control", l.Dir+"/lvsd.sock", "--pid-file", l.Dir+"/lvsd.pid")
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if _, ok := lab.WaitFor(15*time.Second, func() bool { got = table(); return complete(got) }); !ok {
		t.Fatalf("lvsd did not program the table; ipvsadm -Ln:\n%s\nlvsd log:\n%s", got, p.Output())
	}
	time.Sleep(4 * time.Second)
	if got = table(); got != want {
		t.Errorf("ipvsadm -Ln differs\nkeepalived (original):\n%s\nlvsd (converted):\n%s", want, got)
	}
	t.Logf("ipvsadm -Ln, identical for both:\n%s", got)
	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Errorf("stop lvsd: %v\n%s", err, p.Output())
	}
}

// normalise collapses runs of blanks so that column widths do not matter.
func normalise(s string) string {
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		lines = append(lines, strings.Join(strings.Fields(line), " "))
	}
	return strings.Join(lines, "\n")
}
