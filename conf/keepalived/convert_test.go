package keepalived

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lvsd/lvsd/conf"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// convertFile parses and converts a testdata file with config id "lb1".
func convertFile(t *testing.T, name string) *Result {
	t.Helper()
	nodes, err := ParseFile(name, Options{ConfigID: "lb1"})
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return Convert(nodes)
}

// checkValid asserts that conf.Parse accepts the converted file.
func checkValid(t *testing.T, name string, hcl []byte) {
	t.Helper()
	if _, diags := conf.Parse(hcl, name+".hcl"); diags.HasErrors() {
		t.Errorf("%s: conf.Parse rejects the converted file: %v\n%s", name, diags, hcl)
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the output:\n%s", path, got)
	}
}

// short renders findings as "file:line severity keyword" for comparison.
func short(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, filepath.Base(f.Pos.File)+":"+itoa(f.Pos.Line)+" "+f.Severity.String()+" "+f.Keyword)
	}
	return out
}

func itoa(n int) string {
	s := ""
	if n == 0 {
		return "0"
	}
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

func TestSeed001(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"seed001-master.conf", []string{
			"seed001-master.conf:2 info router_id",
			"seed001-master.conf:13 note nopreempt",
			"seed001-master.conf:19 unsupported auth_pass",
			"seed001-master.conf:41 info nb_get_retry",
			"seed001-master.conf:52 info nb_get_retry",
		}},
		{"seed001-backup.conf", []string{
			"seed001-backup.conf:2 info router_id",
			"seed001-backup.conf:19 unsupported auth_pass",
			"seed001-backup.conf:41 info nb_get_retry",
			"seed001-backup.conf:51 info nb_get_retry",
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			res := convertFile(t, filepath.Join("testdata", tc.file))
			if got := short(res.Findings); !slices.Equal(got, tc.want) {
				t.Errorf("findings:\n got %q\nwant %q", got, tc.want)
			}
			if res.Unsupported() != 1 {
				t.Errorf("Unsupported() = %d, want 1 (auth_pass)", res.Unsupported())
			}
			for _, f := range res.Findings {
				if f.Keyword == "auth_pass" && !strings.Contains(f.Msg, `"mypasswo"`) {
					t.Errorf("auth_pass finding does not show the truncated password: %s", f)
				}
			}
			checkValid(t, tc.file, res.HCL)
			golden(t, filepath.Join("testdata", strings.TrimSuffix(tc.file, ".conf")+".golden.hcl"), res.HCL)
		})
	}
}

// TestCorpus converts keepalived's documented shapes: each file either
// converts fully or reports exactly the listed items, and the output always
// passes conf.Parse (unsupported items become comments).
func TestCorpus(t *testing.T) {
	want := map[string][]string{
		"dr.conf": nil,
		"fwmark.conf": {
			"fwmark.conf:10 unsupported virtual_server fwmark",
		},
		"include.conf": {
			"10-web.conf:5 unsupported notify_down",
		},
		"misc_check.conf": {
			"misc_check.conf:5 unsupported MISC_CHECK",
			"misc_check.conf:10 unsupported bindto",
			"misc_check.conf:12 unsupported TCP_CHECK",
			"misc_check.conf:15 unsupported inhibit_on_failure",
		},
		"nat.conf": {
			"nat.conf:3 info notification_email",
			"nat.conf:6 info notification_email_from",
			"nat.conf:7 info smtp_server",
			"nat.conf:8 info smtp_connect_timeout",
			"nat.conf:9 info router_id",
			"nat.conf:14 info lb_algo",
			"nat.conf:15 info lb_kind",
			"nat.conf:16 unsupported persistence_timeout",
			"nat.conf:18 unsupported sorry_server",
			"nat.conf:22 unsupported HTTP_GET",
		},
		"params.conf": nil,
		"sync_group.conf": {
			"sync_group.conf:1 unsupported vrrp_script",
			"sync_group.conf:6 unsupported vrrp_sync_group",
			"sync_group.conf:19 unsupported track_script",
			"sync_group.conf:22 unsupported notify_master",
		},
		"tun.conf": {
			"tun.conf:7 unsupported virtual_ipaddress label",
		},
		"unicast.conf": {
			"unicast.conf:10 info mcast_src_ip",
			"unicast.conf:12 unsupported auth_type",
			"unicast.conf:16 unsupported virtual_ipaddress dev",
		},
		"vsgroup.conf": {
			"vsgroup.conf:1 unsupported virtual_server_group",
			"vsgroup.conf:5 unsupported virtual_server group",
		},
	}
	files, err := filepath.Glob("testdata/corpus/*.conf")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Errorf("corpus has %d files, the table %d: keep them in step", len(files), len(want))
	}
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			w, ok := want[base]
			if !ok {
				t.Fatalf("no expectation for %s", base)
			}
			res := convertFile(t, f)
			if got := short(res.Findings); !slices.Equal(got, w) {
				t.Errorf("findings:\n got %q\nwant %q", got, w)
			}
			checkValid(t, f, res.HCL)
			golden(t, strings.TrimSuffix(f, ".conf")+".golden.hcl", res.HCL)
		})
	}
}
