package conf

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// vrrp builds a valid vrrp_instance whose body starts on the block's second
// line with extra; the required attributes follow, except those extra sets
// itself (so the first extra line is always line 2 of the block).
func vrrp(name, extra string) string {
	return fmt.Sprintf("vrrp_instance %q {\n%s\n%s}\n", name, extra, defaults(extra,
		`  interface         = "eth0"`,
		`  virtual_router_id = 51`,
		`  priority          = 100`,
		`  virtual_ipaddress = ["198.51.100.30"]`))
}

// vs builds a valid virtual_server with extra on its second line.
func vs(name, extra string) string {
	return fmt.Sprintf("virtual_server %q {\n%s\n%s}\n", name, extra, defaults(extra,
		`  address = "198.51.100.30:3306"`))
}

// defaults returns the lines whose attribute extra does not set.
func defaults(extra string, lines ...string) string {
	set := map[string]bool{}
	for _, l := range strings.Split(extra, "\n") {
		if name, _, ok := strings.Cut(l, "="); ok {
			set[strings.TrimSpace(name)] = true
		}
	}
	var b strings.Builder
	for _, l := range lines {
		name, _, _ := strings.Cut(l, "=")
		if !set[strings.TrimSpace(name)] {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// rs builds a virtual_server whose real_server has extra on line 4.
func rs(extra string) string {
	return fmt.Sprintf(`virtual_server "vs" {
  address = "198.51.100.30:3306"
  real_server "a" {
%s
    address = "198.51.100.10:3306"
  }
}
`, extra)
}

// check builds a virtual_server whose tcp_check has extra on line 6.
func check(extra string) string {
	return fmt.Sprintf(`virtual_server "vs" {
  address = "198.51.100.30:3306"
  real_server "a" {
    address = "198.51.100.10:3306"
    tcp_check {
%s
    }
  }
}
`, extra)
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want string // substring of "summary: detail"
		line int
	}{
		// Unknown names, at every level.
		{"unknown top block", "bogus {}\n", `Blocks of type "bogus" are not expected`, 1},
		{"unknown vrrp attr", vrrp("v", "  track_interface = 3"), `argument named "track_interface"`, 2},
		{"unknown vrrp block", vrrp("v", "  track_bfd {}"), `Blocks of type "track_bfd"`, 2},
		{"unknown auth attr", vrrp("v", "  authentication {\n    auth_type = \"PASS\"\n    auth_pass = \"x\"\n    auth_foo = 1\n  }"), `argument named "auth_foo"`, 5},
		{"unknown vs attr", vs("vs", "  persistence_engine = \"sip\""), `argument named "persistence_engine"`, 2},
		// Persistence: whole seconds in IPVS's range, a contiguous mask
		// or a prefix length of the service's family.
		{"persistence zero", vs("vs", "  persistence_timeout = 0"), "persistence_timeout must be greater than zero", 2},
		{"persistence fraction", vs("vs", `  persistence_timeout = "1500ms"`), "persistence_timeout must be whole seconds", 2},
		{"persistence too long", vs("vs", "  persistence_timeout = 2147484"), "persistence_timeout must be at most", 2},
		{"granularity non-contiguous", vs("vs", "  persistence_timeout = 300\n  persistence_granularity = \"255.0.255.0\""), "contiguous netmask", 3},
		{"granularity too long", vs("vs", "  persistence_timeout = 300\n  persistence_granularity = 33"), "prefix length from 0 to 32", 3},
		{"granularity word", vs("vs", "  persistence_timeout = 300\n  persistence_granularity = \"wide\""), "contiguous netmask", 3},
		{"granularity v6 mask", vs("vs", "  address = \"[2001:db8::1]:80\"\n  persistence_timeout = 300\n  persistence_granularity = \"255.255.255.0\""), "prefix length from 1 to 128", 4},
		{"granularity v6 zero", vs("vs", "  address = \"[2001:db8::1]:80\"\n  persistence_timeout = 300\n  persistence_granularity = 0"), "prefix length from 1 to 128", 4},
		{"unknown rs attr", rs("    notify_master = \"/bin/true\""), `argument named "notify_master"`, 4},
		{"inhibit not bool", rs("    inhibit_on_failure = \"yes\""), "inhibit_on_failure must be true or false", 4},
		{"unknown rs block", rs("    smtp_check {}"), `Blocks of type "smtp_check"`, 4},
		{"unknown check attr", check("      bind_if = \"eth0\""), `argument named "bind_if"`, 6},
		{"unknown agent attr", "agent {\n  vips = [\"198.51.100.30\"]\n  iface = \"lo\"\n}\n", `argument named "iface"`, 3},

		// Addresses.
		{"vs address no port", `virtual_server "vs" {
  address = "198.51.100.30"
}`, `address must be "IP:PORT"`, 2},
		{"vs address port 0", `virtual_server "vs" {
  address = "198.51.100.30:0"
}`, "port must be between 1 and 65535", 2},
		{"vs address port too big", `virtual_server "vs" {
  address = "198.51.100.30:70000"
}`, `address must be "IP:PORT"`, 2},
		{"vs address not IP", `virtual_server "vs" {
  address = "db.example:3306"
}`, `"db.example:3306" is not`, 2},
		{"rs address bad", `virtual_server "vs" {
  address = "198.51.100.30:3306"
  real_server "a" {
    address = "198.51.100.300:3306"
  }
}`, "Invalid address", 4},
		{"rs family mismatch", `virtual_server "vs" {
  address = "198.51.100.30:3306"
  real_server "a" {
    address = "[2001:db8::10]:3306"
  }
}`, "different address families", 4},
		{"vip bad cidr", vrrp("v", `  virtual_ipaddress = ["198.51.100.30/33"]`), `"198.51.100.30/33" is not`, 2},
		{"vip not ip", vrrp("v", `  virtual_ipaddress = ["198.51.100.30", "vip"]`), `"vip" is not`, 2},
		{"vip ipv6 with version 2", vrrp("v", "  version = 2\n  virtual_ipaddress = [\"2001:db8::1\"]"), "VRRP version 2 cannot carry", 2},
		{"vip mixed families", vrrp("v", `  virtual_ipaddress = ["198.51.100.30", "2001:db8::1"]`), "different families", 2},
		{"vip ipv4-mapped", vrrp("v", `  virtual_ipaddress = ["::ffff:198.51.100.30"]`), "IPv4-mapped", 2},
		{"vip duplicate", vrrp("v", `  virtual_ipaddress = ["198.51.100.30", "198.51.100.30/24"]`), "198.51.100.30 is already listed", 2},
		{"vip empty", vrrp("v", `  virtual_ipaddress = []`), "virtual_ipaddress must not be empty", 2},
		{"vip not list", vrrp("v", `  virtual_ipaddress = "198.51.100.30"`), "virtual_ipaddress must be a list of strings", 2},
		{"vip number", vrrp("v", `  virtual_ipaddress = [1]`), "virtual_ipaddress entry must be a string", 2},
		{"connect_ip bad", check(`      connect_ip = "x"`), "connect_ip must be an IP address", 6},
		{"connect_port 0", check(`      connect_port = 0`), "connect_port must be between 1 and 65535", 6},
		{"agent vip prefix", "agent {\n  vips = [\"198.51.100.30/32\"]\n}\n", "without a prefix length", 2},
		{"agent vip duplicate", "agent {\n  vips = [\n    \"198.51.100.30\",\n    \"198.51.100.30\",\n  ]\n}\n", "198.51.100.30 is already listed", 4},

		// Ranges.
		{"vrid 0", vrrp("v", "  virtual_router_id = 0"), "virtual_router_id must be between 1 and 255; got 0", 2},
		{"vrid 256", vrrp("v", "  virtual_router_id = 256"), "virtual_router_id must be between 1 and 255; got 256", 2},
		{"vrid fraction", vrrp("v", "  virtual_router_id = 5.5"), "virtual_router_id must be a whole number", 2},
		{"priority 0", vrrp("v", "  priority = 0"), "priority must be between 1 and 255; got 0", 2},
		{"priority 256", vrrp("v", "  priority = 256"), "priority must be between 1 and 255; got 256", 2},
		{"priority string", vrrp("v", `  priority = "100"`), "priority must be a number; got string", 2},
		{"weight negative", rs("    weight = -1"), "weight must be between 0 and 65535; got -1", 4},
		{"weight too big", rs("    weight = 65536"), "weight must be between 0 and 65535; got 65536", 4},
		{"retry negative", check("      retry = -1"), "retry must be between 0 and", 6},
		{"nopreempt not bool", vrrp("v", `  nopreempt = "yes"`), "nopreempt must be true or false", 2},
		{"interface bad", vrrp("v", `  interface = "averyveryverylongname0"`), "not a valid interface name", 2},

		// Authentication.
		{"auth_pass too long", vrrp("v", "  authentication {\n    auth_type = \"PASS\"\n    auth_pass = \"123456789\"\n  }"), "auth_pass is 9 bytes; VRRP version 2 carries at most 8", 4},
		{"auth_type AH", vrrp("v", "  authentication {\n    auth_type = \"AH\"\n  }"), "auth_type AH (IPsec authentication header) is not supported", 3},
		{"auth_type other", vrrp("v", "  authentication {\n    auth_type = \"MD5\"\n  }"), `auth_type must be PASS or NONE; got "MD5"`, 3},
		{"auth_pass missing", vrrp("v", "  authentication {\n    auth_type = \"PASS\"\n  }"), "needs auth_pass", 2},
		{"auth_pass empty", vrrp("v", "  authentication {\n    auth_type = \"PASS\"\n    auth_pass = \"\"\n  }"), "auth_pass must not be empty", 4},
		{"auth_type missing", vrrp("v", "  authentication {\n    auth_pass = \"x\"\n  }"), "authentication needs auth_type", 2},
		{"auth_pass with NONE", vrrp("v", "  authentication {\n    auth_type = \"NONE\"\n    auth_pass = \"x\"\n  }"), "auth_pass is set but auth_type is NONE", 4},
		{"two authentication", vrrp("v", "  authentication {\n    auth_type = \"NONE\"\n  }\n  authentication {\n    auth_type = \"NONE\"\n  }"), "only one authentication block", 5},

		// advert_int and durations.
		{"advert_int fraction", vrrp("v", `  advert_int = "1500ms"`), "advert_int must be a whole number of seconds for VRRP version 2", 2},
		{"advert_int below 1s", vrrp("v", `  advert_int = 0.5`), "advert_int must be at least 1s", 2},
		{"advert_int 256s", vrrp("v", `  advert_int = 256`), "advert_int must be at most 4m15s", 2},
		{"advert_int zero", vrrp("v", `  advert_int = 0`), "advert_int must be greater than zero", 2},
		{"advert_int negative", vrrp("v", `  advert_int = "-1s"`), "advert_int must not be negative", 2},
		{"delay_loop no unit", vs("vs", `  delay_loop = "3"`), `delay_loop must be a duration such as "3s"`, 2},
		{"delay_loop garbage", vs("vs", `  delay_loop = "soon"`), `"soon" is not`, 2},
		{"delay_loop zero", vs("vs", `  delay_loop = 0`), "delay_loop must be greater than zero", 2},
		{"delay_loop bool", vs("vs", `  delay_loop = true`), "delay_loop must be a duration string", 2},
		{"delay_loop huge", vs("vs", `  delay_loop = 1e300`), "delay_loop is out of range", 2},
		{"connect_timeout zero", check(`      connect_timeout = "0s"`), "connect_timeout must be greater than zero", 6},
		{"delay_before_retry negative", check(`      delay_before_retry = -1`), "delay_before_retry must not be negative", 6},
		{"check delay_loop negative", check(`      delay_loop = -0.5`), "delay_loop must not be negative", 6},

		// Enumerations.
		{"unknown state", vrrp("v", `  state = "PRIMARY"`), `unknown state "PRIMARY"; allowed: MASTER BACKUP`, 2},
		{"unknown scheduler", vs("vs", `  lvs_sched = "random"`), `unknown lvs_sched "random"; allowed: rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh`, 2},
		{"unknown method", vs("vs", `  lvs_method = "FULLNAT"`), `unknown lvs_method "FULLNAT"; allowed: NAT DR TUN`, 2},
		{"unknown protocol", vs("vs", `  protocol = "ICMP"`), `unknown protocol "ICMP"; allowed: TCP UDP SCTP`, 2},
		{"unknown lb_algo", vs("vs", `  lb_algo = "random"`), `unknown lb_algo "random"`, 2},
		{"version 4", vrrp("v", "  version = 4"), "version must be 2 (RFC 3768) or 3 (RFC 5798); got 4", 2},
		{"version 1", vrrp("v", "  version = 1"), "version must be 2", 2},

		// Aliases.
		{"retry and nb_get_retry", check("      retry = 1\n      nb_get_retry = 2"), "both retry and its deprecated alias nb_get_retry are set", 7},
		{"lvs_sched and lb_algo", vs("vs", "  lb_algo = \"rr\"\n  lvs_sched = \"rr\""), "both lvs_sched and its deprecated alias lb_algo are set", 2},
		{"lvs_method and lb_kind", vs("vs", "  lvs_method = \"DR\"\n  lb_kind = \"DR\""), "both lvs_method and its deprecated alias lb_kind are set", 3},

		// Uniqueness.
		{"duplicate vs address", vs("a", "") + vs("b", "  protocol = \"TCP\""), `198.51.100.30:3306 TCP is already used by virtual_server "a" at test.hcl:1,1`, 7},
		{"duplicate rs address", `virtual_server "vs" {
  address = "198.51.100.30:3306"
  real_server "a" {
    address = "198.51.100.10:3306"
  }
  real_server "b" {
    address = "198.51.100.10:3306"
  }
}`, `198.51.100.10:3306 is already a real server of virtual_server "vs"`, 7},
		{"duplicate DR destination", `virtual_server "vs" {
  address    = "198.51.100.30:3306"
  lvs_method = "DR"
  real_server "a" {
    address = "198.51.100.10:3306"
  }
  real_server "b" {
    address = "198.51.100.10:3307"
  }
}`, `198.51.100.10:3307 is the IPVS destination 198.51.100.10:3306 (lvs_method DR takes the service's port), as is the real server at test.hcl:5,15`, 8},
		{"duplicate vrid", vrrp("a", "") + vrrp("b", `  virtual_ipaddress = ["198.51.100.31"]`), `virtual_router_id 51 is already used on interface eth0 by vrrp_instance "a"`, 11},
		{"duplicate vrrp name", vrrp("a", "") + vrrp("a", "  virtual_router_id = 52"), `vrrp_instance "a" is already declared at test.hcl:1,15`, 8},
		{"duplicate vs name", vs("a", "") + vs("a", `  protocol = "UDP"`), `virtual_server "a" is already declared`, 5},
		{"duplicate rs name", `virtual_server "vs" {
  address = "198.51.100.30:3306"
  real_server "a" {
    address = "198.51.100.10:3306"
  }
  real_server "a" {
    address = "198.51.100.11:3306"
  }
}`, `real_server "a" is already declared`, 6},
		{"empty name", vrrp("", ""), "the vrrp_instance name must not be empty", 1},
		{"two tcp_check", rs("    tcp_check {}\n    tcp_check {}"), "only one tcp_check block", 5},

		// Missing attributes (reported at the block header).
		{"missing interface", "vrrp_instance \"v\" {\n  virtual_router_id = 1\n  priority = 1\n  virtual_ipaddress = [\"198.51.100.30\"]\n}\n", `vrrp_instance "v" needs interface`, 1},
		{"missing vrid", "vrrp_instance \"v\" {\n  interface = \"eth0\"\n  priority = 1\n  virtual_ipaddress = [\"198.51.100.30\"]\n}\n", `vrrp_instance "v" needs virtual_router_id`, 1},
		{"missing priority", "vrrp_instance \"v\" {\n  interface = \"eth0\"\n  virtual_router_id = 1\n  virtual_ipaddress = [\"198.51.100.30\"]\n}\n", `vrrp_instance "v" needs priority`, 1},
		{"missing vips", "vrrp_instance \"v\" {\n  interface = \"eth0\"\n  virtual_router_id = 1\n  priority = 1\n}\n", `vrrp_instance "v" needs virtual_ipaddress`, 1},
		{"missing vs address", "\nvirtual_server \"vs\" {\n  protocol = \"TCP\"\n}\n", `virtual_server "vs" needs address`, 2},
		{"missing rs address", "virtual_server \"vs\" {\n  address = \"198.51.100.30:3306\"\n  real_server \"a\" {\n    weight = 1\n  }\n}\n", `real_server "a" needs address`, 3},
		{"missing agent vips", "agent {\n}\n", "agent needs vips", 1},
		{"missing label", "vrrp_instance {\n}\n", "Missing name for vrrp_instance", 1},

		// File shape.
		{"agent with vrrp", vrrp("v", "") + "agent {\n  vips = [\"198.51.100.30\"]\n}\n", "agent block cannot be combined with vrrp_instance or virtual_server", 8},
		{"agent with vs", vs("v", "") + "agent {\n  vips = [\"198.51.100.30\"]\n}\n", "found virtual_server", 5},
		{"two agents", "agent {\n  vips = [\"198.51.100.30\"]\n}\nagent {\n  vips = [\"198.51.100.31\"]\n}\n", "only one agent block is allowed", 4},
		{"empty file", "", "Empty configuration", 1},
		{"comments only", "# nothing\n\n", "expected vrrp_instance and virtual_server blocks", 1},

		// Language: static values only, syntax errors located.
		{"variable", vrrp("v", "  priority = var.p"), "Variables not allowed", 2},
		{"function", vrrp("v", `  interface = lower("ETH0")`), "Functions may not be called here", 2},
		{"null", vrrp("v", "  priority = null"), "priority must not be null", 2},
		{"syntax", "vrrp_instance \"v\" {\n  priority = = 1\n}\n", "Invalid expression", 2},
		{"redefined", vrrp("v", "  priority = 1\n  priority = 2"), "Attribute redefined", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(tc.src), "test.hcl")
			if cfg != nil {
				t.Errorf("cfg = %+v, want nil", cfg)
			}
			if !diags.HasErrors() {
				t.Fatalf("no errors; diags = %v", diags)
			}
			for _, d := range diags {
				if d.Severity != hcl.DiagError || d.Subject == nil {
					continue
				}
				if strings.Contains(d.Summary+": "+d.Detail, tc.want) && d.Subject.Start.Line == tc.line {
					if d.Subject.Filename != "test.hcl" {
						t.Errorf("filename = %q", d.Subject.Filename)
					}
					return
				}
			}
			t.Errorf("no error containing %q at line %d; got:\n%s", tc.want, tc.line, render(diags))
		})
	}
}

// TestAllErrorsReported checks that one pass reports every error, not only
// the first.
func TestAllErrorsReported(t *testing.T) {
	src := `vrrp_instance "v" {
  state             = "PRIMARY"
  interface         = "eth0"
  virtual_router_id = 0
  priority          = 300
  advert_int        = "1.5s"
  virtual_ipaddress = ["198.51.100.30/40"]
  authentication {
    auth_type = "PASS"
    auth_pass = "far-too-long"
  }
}
virtual_server "vs" {
  address   = "198.51.100.30"
  lvs_sched = "random"
  real_server "a" {
    address = "198.51.100.10:3306"
    weight  = 70000
    tcp_check {
      connect_timeout = "0s"
      bogus           = 1
    }
  }
}
`
	wantLines := []int{2, 4, 5, 6, 7, 10, 14, 15, 18, 20, 21}
	cfg, diags := Parse([]byte(src), "test.hcl")
	if cfg != nil {
		t.Fatal("cfg not nil")
	}
	var got []int
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			got = append(got, d.Subject.Start.Line)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(wantLines) {
		t.Errorf("error lines = %v, want %v (sorted by position)\n%s", got, wantLines, render(diags))
	}
}

// TestErrorsKeepWarnings: warnings are returned with errors too.
func TestErrorsKeepWarnings(t *testing.T) {
	src := vrrp("v", "  state = \"MASTER\"\n  nopreempt = true\n  priority = 0")
	cfg, diags := Parse([]byte(src), "test.hcl")
	if cfg != nil || !diags.HasErrors() {
		t.Fatalf("cfg = %v, diags = %v", cfg, diags)
	}
	var warned bool
	for _, d := range diags {
		warned = warned || d.Severity == hcl.DiagWarning && strings.Contains(d.Summary, "nopreempt")
	}
	if !warned {
		t.Errorf("no nopreempt warning in %v", diags)
	}
}

func render(diags hcl.Diagnostics) string {
	var b strings.Builder
	_ = WriteDiagnostics(&b, diags, nil)
	return b.String()
}
