package conf

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Every service shape decodes to its typed form: scheduler flags, fwmark
// services of both families, per real server methods and thresholds.
func TestServiceShapes(t *testing.T) {
	cfg := mustParse(t, `
lvs_timeouts {
  tcp    = 900
  tcpfin = "2m"
}
virtual_server "sh" {
  address   = "198.51.100.30:80"
  lvs_sched = "sh"
  lvs_flags = ["sh-port", "SH-FALLBACK"]
}
virtual_server "dns" {
  address   = "198.51.100.30:53"
  protocol  = "udp"
  lvs_sched = "mh"
  lvs_flags = ["mh-port", "ops", "flag-3"]
}
virtual_server "mark" {
  fwmark     = 7
  lvs_method = "DR"
  real_server "a" {
    address    = "198.51.100.10:80"
    lvs_method = "tun"
    tun_type   = "ipip"
    uthreshold = 100
    lthreshold = 50
  }
  real_server "b" {
    address = "198.51.100.11:80"
  }
}
virtual_server "mark6" {
  fwmark    = 7
  ip_family = "inet6"
  lvs_flags = ["ops"]
  persistence_timeout = 60
  real_server "a" {
    address = "[2001:db8::10]:80"
  }
}
`)
	vss := cfg.VirtualServers
	if got := vss[0].SchedFlags; !slices.Equal(got, []string{"sh-port", "sh-fallback"}) {
		t.Errorf("sh flags = %q", got)
	}
	if got := vss[1].SchedFlags; !slices.Equal(got, []string{"mh-port", "ops", "flag-3"}) {
		t.Errorf("mh flags = %q", got)
	}
	m := vss[2]
	checkEq(t, "FWMark", m.FWMark, 7)
	checkEq(t, "fwmark Address", m.Address, netip.MustParseAddrPort("0.0.0.0:0"))
	checkEq(t, "rs a Method", m.RealServers[0].Method, "TUN")
	checkEq(t, "rs a UThreshold", m.RealServers[0].UThreshold, 100)
	checkEq(t, "rs a LThreshold", m.RealServers[0].LThreshold, 50)
	checkEq(t, "rs b Method (cascaded)", m.RealServers[1].Method, "DR")
	m6 := vss[3]
	checkEq(t, "fwmark6 Address", m6.Address, netip.MustParseAddrPort("[::]:0"))
	checkEq(t, "fwmark6 granularity", m6.PersistenceGranularity, 128)
	if cfg.LVSTimeouts == nil || *cfg.LVSTimeouts != (LVSTimeouts{TCP: 900 * time.Second, TCPFin: 2 * time.Minute}) {
		t.Errorf("LVSTimeouts = %+v", cfg.LVSTimeouts)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings: %v", cfg.Warnings)
	}
}

func TestServiceShapeErrors(t *testing.T) {
	fw := func(extra string) string {
		return "virtual_server \"m\" {\n" + extra + "\n  fwmark = 1\n}\n"
	}
	for _, tc := range []struct {
		name      string
		src       string
		want      string // substring of "summary: detail"
		line, col int
	}{
		{"sh flag on rr", vs("vs", `  lvs_flags = ["sh-port"]`), `sh-port only applies to lvs_sched "sh"; this virtual_server uses "wlc"`, 2, 16},
		{"mh flag on sh", vs("vs", "  lvs_sched = \"sh\"\n  lvs_flags = [\"sh-port\", \"mh-fallback\"]"), `mh-fallback only applies to lvs_sched "mh"`, 3, 27},
		{"unknown flag", vs("vs", `  lvs_flags = ["fast"]`), `unknown flag "fast"; allowed: sh-fallback sh-port mh-fallback mh-port flag-1 flag-2 flag-3 ops`, 2, 16},
		{"duplicate flag", vs("vs", `  lvs_flags = ["flag-1", "flag-1"]`), `"flag-1" is already listed at test.hcl:2,16`, 2, 26},
		{"ops on tcp", vs("vs", `  lvs_flags = ["ops"]`), "ops (one-packet scheduling) only applies to UDP services; this one is TCP", 2, 16},
		{"flags not a list", vs("vs", `  lvs_flags = "ops"`), "lvs_flags must be a list of strings", 2, 15},
		{"address and fwmark", vs("vs", `  fwmark = 3`), "a virtual_server is either an address (address) or a firewall mark (fwmark), not both", 2, 3},
		{"neither", "virtual_server \"vs\" {\n  lvs_sched = \"rr\"\n}\n", `virtual_server "vs" needs address (or fwmark)`, 1, 1},
		{"fwmark zero", "virtual_server \"m\" {\n  fwmark = 0\n}\n", "fwmark must be", 2, 12},
		{"fwmark too big", "virtual_server \"m\" {\n  fwmark = 4294967296\n}\n", "fwmark must be", 2, 12},
		{"ip_family with address", vs("vs", `  ip_family = "inet6"`), "ip_family only applies to a fwmark virtual_server", 2, 3},
		{"ip_family unknown", fw(`  ip_family = "ipx"`), `unknown ip_family "ipx"; allowed: inet inet6`, 2, 15},
		{"fwmark family mismatch", "virtual_server \"m\" {\n  fwmark = 1\n  real_server \"a\" {\n    address = \"[2001:db8::10]:80\"\n  }\n}\n",
			`real server [2001:db8::10]:80 and fwmark virtual server (ip_family "inet") are of different address families`, 4, 15},
		{"duplicate fwmark", fw("") + fw(""), "fwmark 1 (inet) is already used by virtual_server \"m\" at test.hcl:1,1", 7, 12},
		{"TUN mixed families", "virtual_server \"vs\" {\n  address = \"198.51.100.30:3306\"\n  lvs_method = \"TUN\"\n  real_server \"a\" {\n    address = \"[2001:db8::10]:3306\"\n  }\n}\n", "lvsd cannot mix them (not even with lvs_method TUN)", 5, 15},
		{"rs method unknown", rs(`    lvs_method = "FULLNAT"`), `unknown lvs_method "FULLNAT"; allowed: NAT DR TUN`, 4, 18},
		{"tun_type gue", vs("vs", "  lvs_method = \"TUN\"\n  tun_type = \"gue\""), `tun_type "gue" is not supported`, 3, 14},
		{"tun_type without TUN", rs(`    tun_type = "ipip"`), "tun_type only applies with lvs_method TUN; this one is NAT", 4, 5},
		{"tun_port", vs("vs", "  lvs_method = \"TUN\"\n  tun_port = 6080"), "tun_port is only meaningful for GUE tunnels", 3, 3},
		{"uthreshold negative", rs(`    uthreshold = -1`), "uthreshold must be", 4, 18},
		{"lthreshold above uthreshold", rs("    uthreshold = 10\n    lthreshold = 20"), "lthreshold (20) must not exceed uthreshold (10, 0 = unset)", 5, 18},
		{"lthreshold alone", rs(`    lthreshold = 5`), "lthreshold (5) must not exceed uthreshold (0, 0 = unset)", 4, 18},
		{"timeout fraction", "lvs_timeouts {\n  udp = \"1.5s\"\n}\n", "lvs_timeouts udp must be whole seconds", 2, 9},
		{"timeout zero", "lvs_timeouts {\n  tcp = 0\n}\n", "tcp must be greater than zero", 2, 9},
		{"timeout unknown", "lvs_timeouts {\n  sctp = 10\n}\n", `An argument named "sctp" is not expected here`, 2, 3},
		{"timeout twice", "lvs_timeouts {\n  tcp = 10\n}\nlvs_timeouts {\n  tcp = 10\n}\n", "only one lvs_timeouts block", 4, 1},
		{"timeouts in agent", "agent {\n  vips = [\"198.51.100.30\"]\n}\nlvs_timeouts {\n  tcp = 10\n}\n", "found lvs_timeouts", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(tc.src), "test.hcl")
			if cfg != nil {
				t.Errorf("cfg = %+v, want nil", cfg)
			}
			for _, d := range diags {
				if d.Severity != hcl.DiagError || d.Subject == nil {
					continue
				}
				if strings.Contains(d.Summary+": "+d.Detail, tc.want) {
					if d.Subject.Start.Line != tc.line || d.Subject.Start.Column != tc.col {
						t.Errorf("at %d:%d, want %d:%d", d.Subject.Start.Line, d.Subject.Start.Column, tc.line, tc.col)
					}
					return
				}
			}
			t.Errorf("no error containing %q; got:\n%s", tc.want, render(diags))
		})
	}
}

// Generic flags apply to any scheduler, as in keepalived (no diagnostic);
// an empty lvs_timeouts block changes nothing and is warned.
func TestShapeWarnings(t *testing.T) {
	cfg, diags := Parse([]byte("lvs_timeouts {\n}\n"+vs("vs", `  lvs_flags = ["flag-2"]`)), "test.hcl")
	if diags.HasErrors() {
		t.Fatal(render(diags))
	}
	if len(cfg.Warnings) != 1 || cfg.Warnings[0].Summary != "Empty lvs_timeouts" {
		t.Errorf("warnings: %s", render(cfg.Warnings))
	}
}
