package main

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/ipvs"
)

const planFile = `virtual_server "web" {
  address    = "198.51.100.40:80"
  lvs_sched  = "wrr"
  lvs_method = "NAT"
  real_server "a" {
    address = "198.51.100.10:80"
    weight  = 3
  }
  real_server "b" {
    address = "198.51.100.11:80"
    weight  = 1
  }
}
virtual_server "new" {
  address   = "198.51.100.41:53"
  protocol  = "UDP"
  lvs_sched = "rr"
  real_server "c" {
    address = "198.51.100.12:53"
  }
}
`

// The plan is the diff of the file (all up) against the observed table,
// printed with a +/~/- prefix per op; a service the file does not name is
// left out even though a director would see it in the same dump.
func TestPlanFormatting(t *testing.T) {
	cfg, diags := conf.Parse([]byte(planFile), "lvs.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	ap := netip.MustParseAddrPort
	observed := []ipvs.Service{
		{Key: ipvs.Key{Protocol: ipvs.TCP, Addr: ap("198.51.100.40:80")}, Sched: "rr", Dests: []ipvs.Dest{
			{Addr: ap("198.51.100.10:80"), Weight: 1, Method: ipvs.NAT},
			{Addr: ap("198.51.100.13:80"), Weight: 1, Method: ipvs.NAT},
		}},
		{Key: ipvs.Key{Protocol: ipvs.TCP, Addr: ap("198.51.100.99:80")}, Sched: "rr"},
	}
	var out bytes.Buffer
	writePlan(&out, planOps(cfg.VirtualServers, observed))
	want := `+ add service UDP 198.51.100.41:53 rr
~ update service TCP 198.51.100.40:80 sched rr->wrr
+ add dest TCP 198.51.100.40:80 -> 198.51.100.11:80 masq weight 1
+ add dest UDP 198.51.100.41:53 -> 198.51.100.12:53 masq weight 1
~ update dest TCP 198.51.100.40:80 -> 198.51.100.10:80 weight 1->3
- delete dest TCP 198.51.100.40:80 -> 198.51.100.13:80
`
	if out.String() != want {
		t.Errorf("plan:\n%s\nwant:\n%s", out.String(), want)
	}

	// The table the plan asks for yields no changes.
	out.Reset()
	writePlan(&out, planOps(cfg.VirtualServers, ipvs.Desired(cfg.VirtualServers, ipvs.AllUp)))
	if out.String() != "no changes\n" {
		t.Errorf("plan against its own table: %q, want \"no changes\"", out.String())
	}
}

// An invalid file is refused before the kernel is touched, with the place
// of the problem, exit 1.
func TestPlanInvalidFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.hcl")
	if err := os.WriteFile(file, []byte("virtual_server \"web\" {\n  address = \"198.51.100.40:99999\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"plan", "-f", file}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "bad.hcl:2,") || stdout.Len() != 0 {
		t.Errorf("stdout %q, stderr:\n%s", stdout.String(), stderr.String())
	}
	if code := run([]string{"plan"}, &stdout, &stderr); code != 2 {
		t.Errorf("plan without -f: exit %d, want 2", code)
	}
}
