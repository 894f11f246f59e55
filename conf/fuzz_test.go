package conf

import (
	"io"
	"os"
	"testing"

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
		check("      connect_ip = \"fe80::1%eth0\"\n      connect_port = 65536"),
		"vrrp_instance \"a\" \"b\" {}",
		"virtual_server {\n real_server {}\n}",
		"x = 1\n",
		"vrrp_instance \"v\" { priority = [for x in [1] : x] }",
		"vrrp_instance \"v\" { priority = 1 + \"a\" }",
		"vrrp_instance \"v\" { interface = \"${\"eth\"}0\" }",
		"vrrp_instance \"v\" {\n  virtual_ipaddress = {a = 1}\n}",
		// Tracking, sync groups, notify (vrrp_track.go).
		trackScript + vrrp("v", "  track_script \"chk\" {}\n  track_interface \"eth1\" {\n    weight = -300\n  }\n  notify = \"/bin/n 'x\""),
		vrrp("v", "  priority = 255\n  track_interface \"eth1\" {\n    weight = 5\n  }") + "vrrp_sync_group \"g\" {\n  group = [\"v\", \"v\", \"w\"]\n}",
		"vrrp_script \"s\" {\n  script = \"\"\n  interval = 0\n}\nvrrp_script \"s\" {}",
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
		}
		if err := WriteDiagnostics(io.Discard, diags, map[string][]byte{"fuzz.hcl": src}); err != nil {
			t.Fatal(err)
		}
	})
}
