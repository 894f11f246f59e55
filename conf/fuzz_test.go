package conf

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// FuzzParse checks that Parse never panics, that it returns a config exactly
// when there is no error, that every diagnostic can be rendered against its
// source, and that every error carries a range in the parsed file (the
// contract `lvsd check` relies on for FILE:LINE,COL output).
func FuzzParse(f *testing.F) {
	for _, p := range []string{directorExample, agentExample} {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
		// Broken variants: truncated, and with the first quote removed.
		f.Add(src[:len(src)/2])
		for i, c := range src {
			if c == '"' {
				broken := append(append([]byte{}, src[:i]...), src[i+1:]...)
				f.Add(broken)
				break
			}
		}
	}
	for _, s := range []string{
		"",
		"agent {}",
		"agent {\n  vips = [\"198.51.100.30\", \"198.51.100.30/24\"]\n}\n",
		vrrp("v", "  advert_int = 1e300"),
		vrrp("v", "  advert_int = -1e-300"),
		vrrp("v", "  priority = 1e400"),
		vrrp("v", "  priority = 1e9999999"), // once took minutes to format
		vrrp("v", "  priority = -1e9999999.5"),
		vrrp("v", `  virtual_ipaddress = [null, 1, "x", ["y"]]`),
		vrrp("v", "  authentication {\n    auth_type = \"PASS\"\n    auth_pass = \"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"\n  }"),
		vrrp("", "  nopreempt = true\n  state = \"MASTER\""),
		vs("v", "  lb_algo = \"rr\"\n  lvs_sched = 1"),
		vs("v", "  sorry_server = \"198.51.100.50:80\"\n  quorum = 2\n  hysteresis = 3\n  quorum_up = \"/bin/true 'a\"\n  drain_timeout = 0"),
		vs("v", "  quorum_down = \"\"\n  sorry_server_inhibit = 1\n  alpha = true\n  omega = null"),
		check("      connect_ip = \"fe80::1%eth0\"\n      connect_port = 65536"),
		check("      connect_ip = \"2001:db8::1\"\n      bindto = \"198.51.100.2\"\n      bind_port = 0"),
		check("      bindto = \"fe80::1\"\n      bind_port = 1e300"),
		"vrrp_instance \"a\" \"b\" {}",
		"virtual_server {\n real_server {}\n}",
		"x = 1\n",
		"vrrp_instance \"v\" { priority = [for x in [1] : x] }",
		"vrrp_instance \"v\" { priority = 1 + \"a\" }",
		"vrrp_instance \"v\" { interface = \"${\"eth\"}0\" }",
		"vrrp_instance \"v\" {\n  virtual_ipaddress = {a = 1}\n}",
		// Service shapes.
		vs("v", "  lvs_sched = \"sh\"\n  lvs_flags = [\"sh-port\", \"sh-fallback\", \"flag-3\"]"),
		vs("v", "  protocol = \"udp\"\n  lvs_sched = \"mh\"\n  lvs_flags = [\"mh-port\", \"ops\", \"ops\"]"),
		"virtual_server \"m\" {\n  fwmark = 7\n  ip_family = \"inet6\"\n  real_server \"a\" {\n    address = \"[2001:db8::1]:80\"\n    lvs_method = \"TUN\"\n    uthreshold = 10\n    lthreshold = 5\n  }\n}\n",
		"virtual_server \"m\" {\n  fwmark = 7\n  address = \"198.51.100.30:80\"\n}\n",
		rs("    lvs_method = \"TUN\"\n    tun_type = \"gue\"\n    tun_port = 6080\n    lthreshold = 9"),
		"lvs_timeouts {\n  tcp = 900\n  tcpfin = \"1.5s\"\n  udp = 1e300\n}\n",
		withHTTP(`  listen = "127.0.0.1:9999"`),
		withHTTP(`  listen = "[::1]:0"` + "\n  refresh = 1.5\n  realm = \"\\u0001\""),
		withHTTP("  listen = \"127.0.0.1:9999\"\n  metrics_auth = true\n  show_version = true\n  user \"a\" {\n    password_bcrypt = \"" + testHashStats + "\"\n  }"),
		withHTTP("  listen = \"127.0.0.1:9999\"\n  user \"a:b\" {\n    password = \"x\"\n    password_bcrypt = \"$2y$99$\"\n  }"),
		"http {}\nhttp {}\n",
		// Tracking, sync groups, notify (vrrp_track.go).
		trackScript + vrrp("v", "  track_script \"chk\" {}\n  track_interface \"eth1\" {\n    weight = -300\n  }\n  notify = \"/bin/n 'x\""),
		vrrp("v", "  priority = 255\n  track_interface \"eth1\" {\n    weight = 5\n  }") + "vrrp_sync_group \"g\" {\n  group = [\"v\", \"v\", \"w\"]\n}",
		"vrrp_script \"s\" {\n  script = \"\"\n  interval = 0\n}\nvrrp_script \"s\" {}",
		vrrp("v", "") + "lvs_sync_daemon {\n  interface = \"eth1\"\n  vrrp_instance = \"v\"\n  group = \"ff02::81\"\n  ttl = 2\n}\nlvs_sync_daemon {}\n",
		trackScript + vrrp("v", "  track_script \"chk\" {\n    weight = 3\n  }") + vrrp("w", "  virtual_router_id = 52") +
			"vrrp_sync_group \"g\" {\n  group = [\"v\", \"w\"]\n  track_script \"chk\" {}\n  track_interface \"e\" {\n    weight = 2\n  }\n  track_file \"nope\" {}\n  sync_group_tracking_weight = true\n}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, diags := Parse(src, "fuzz.hcl")
		if (cfg == nil) != diags.HasErrors() {
			t.Fatalf("cfg nil = %v, but HasErrors = %v: %v", cfg == nil, diags.HasErrors(), diags)
		}
		for _, d := range diags {
			if d.Subject == nil {
				t.Fatalf("diagnostic without a range: %v", d)
			}
			if d.Subject.Filename != "fuzz.hcl" {
				t.Fatalf("diagnostic in %q: %v", d.Subject.Filename, d)
			}
		}
		if cfg != nil {
			var warnings int
			for _, d := range diags {
				if d.Severity == hcl.DiagWarning {
					warnings++
				}
			}
			if warnings != len(cfg.Warnings) {
				t.Fatalf("%d warnings in diags, %d in cfg.Warnings", warnings, len(cfg.Warnings))
			}
			if (cfg.Agent != nil) && (len(cfg.VRRP) > 0 || len(cfg.VirtualServers) > 0) {
				t.Fatalf("agent and director config together: %+v", cfg)
			}
			for _, vs := range cfg.VirtualServers {
				if vs.FWMark != 0 && (vs.Address.Port() != 0 || !vs.Address.Addr().IsUnspecified()) {
					t.Fatalf("fwmark service with address %v", vs.Address)
				}
				for _, rs := range vs.RealServers {
					if rs.Method == "" || rs.LThreshold > rs.UThreshold || rs.Address.Addr().Is4() != vs.Address.Addr().Is4() {
						t.Fatalf("real server %+v of %+v", rs, vs)
					}
				}
			}
			if h := cfg.HTTP; h != nil {
				if !h.Listen.IsValid() || h.Listen.Port() == 0 || h.Realm == "" || h.Refresh%time.Second != 0 || (h.MetricsAuth && len(h.Users) == 0) {
					t.Fatalf("invalid http block accepted: %+v", h)
				}
				for _, u := range h.Users {
					if checkBcrypt(u.PasswordBcrypt) != nil || u.Name == "" {
						t.Fatalf("user accepted with a bad hash or name: %q", u.Name)
					}
				}
			}
		}
		if err := WriteDiagnostics(io.Discard, diags, map[string][]byte{"fuzz.hcl": src}); err != nil {
			t.Fatal(err)
		}
	})
}
