//go:build vm

package integration

import (
	"strings"
	"testing"
)

// TestPlan programs a table by hand with ipvsadm (one service lvsd's file
// also names, with a wrong scheduler, a wrong weight and a stray
// destination, plus a foreign service) and checks that `lvsd plan`, with
// no daemon running, reads it from the kernel and prints exactly the ops a
// director would apply, then "no changes" once ipvsadm has made the table
// match.
func TestPlan(t *testing.T) {
	l := newLab(t, "pap")
	h := addHost(t, l, "lvs", "198.51.100.20/24")
	if _, err := h.Run("modprobe", "ip_vs"); err != nil {
		t.Fatal(err)
	}
	file, err := l.WriteFile("lvs.hcl", sprintf(ipvsOnly, 2))
	if err != nil {
		t.Fatal(err)
	}
	ipvsadm := func(args ...string) {
		t.Helper()
		if out, err := h.Run(append([]string{"ipvsadm"}, args...)...); err != nil {
			t.Fatalf("ipvsadm %v: %v\n%s", args, err, out)
		}
	}
	plan := func() string {
		t.Helper()
		out, err := h.Run(lvsdBin, "plan", "-f", file)
		if err != nil {
			t.Fatalf("lvsd plan: %v\n%s", err, out)
		}
		return out
	}

	ipvsadm("-A", "-t", "198.51.100.40:80", "-s", "rr")
	ipvsadm("-a", "-t", "198.51.100.40:80", "-r", "198.51.100.10:80", "-m", "-w", "5")
	ipvsadm("-a", "-t", "198.51.100.40:80", "-r", "198.51.100.12:80", "-m", "-w", "1")
	ipvsadm("-A", "-t", "198.51.100.99:80", "-s", "rr")

	want := `~ update service TCP 198.51.100.40:80 sched rr->wrr
+ add dest TCP 198.51.100.40:80 -> 198.51.100.11:80 masq weight 1
~ update dest TCP 198.51.100.40:80 -> 198.51.100.10:80 weight 5->2
- delete dest TCP 198.51.100.40:80 -> 198.51.100.12:80
`
	if got := plan(); got != want {
		t.Errorf("plan over a hand-made table:\n%s\nwant:\n%s", got, want)
	}

	// plan applies nothing: the table is as ipvsadm left it.
	if out, _ := h.Run("ipvsadm", "-Ln"); !strings.Contains(out, "198.51.100.40:80 rr") || !strings.Contains(out, "198.51.100.12:80") {
		t.Errorf("plan changed the table:\n%s", out)
	}

	ipvsadm("-E", "-t", "198.51.100.40:80", "-s", "wrr")
	ipvsadm("-e", "-t", "198.51.100.40:80", "-r", "198.51.100.10:80", "-m", "-w", "2")
	ipvsadm("-a", "-t", "198.51.100.40:80", "-r", "198.51.100.11:80", "-m", "-w", "1")
	ipvsadm("-d", "-t", "198.51.100.40:80", "-r", "198.51.100.12:80")
	if got := plan(); got != "no changes\n" {
		t.Errorf("plan over the matching table: %q, want \"no changes\"", got)
	}
}
