package conf

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Test hashes (cost 4, so tests stay fast): "stats-pw" and "ops-pw". The
// second is written with htpasswd's $2y$ prefix.
const (
	testHashStats = "$2a$04$zIDhLU86jZwpe0Fl4SjuDO/Q6F/M4p/nlui6rFFaYOJn4OEkCGmxe"
	testHashOps   = "$2y$04$ziHrf0kwjj0b3OUXIcG2CuaZ0TOKH.sI07D4woRZrh5MY/M9mIHuC"
)

// withHTTP is a valid director file (one VRRP instance) followed by an http
// block whose body is body; the block starts on line 8.
func withHTTP(body string) string {
	return vrrp("v", "") + "http {\n" + body + "\n}\n"
}

func TestHTTPBlock(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want HTTP
	}{
		{"defaults", `  listen = "127.0.0.1:9999"`, HTTP{
			Listen: netip.MustParseAddrPort("127.0.0.1:9999"), Realm: "lvsd", Refresh: 10 * time.Second,
		}},
		{"everything", `  listen       = "[::1]:8404"
  realm        = "LB prod"
  refresh      = 5
  show_version = true
  user "admin" {
    password_bcrypt = "` + testHashStats + `"
  }
  user "ops" {
    password_bcrypt = "` + testHashOps + `"
  }`, HTTP{
			Listen: netip.MustParseAddrPort("[::1]:8404"), Realm: "LB prod", Refresh: 5 * time.Second, ShowVersion: true,
			Users:       []HTTPUser{{"admin", testHashStats}, {"ops", testHashOps}},
			MetricsAuth: true,
		}},
		{"metrics open", `  listen = "127.0.0.1:9999"
  refresh = "0s"
  metrics_auth = false
  user "admin" {
    password_bcrypt = "` + testHashStats + `"
  }`, HTTP{
			Listen: netip.MustParseAddrPort("127.0.0.1:9999"), Realm: "lvsd", Users: []HTTPUser{{"admin", testHashStats}},
		}},
		{"metrics_auth false without users", `  listen = "127.0.0.1:1"
  metrics_auth = false
  refresh = "1m"`, HTTP{
			Listen: netip.MustParseAddrPort("127.0.0.1:1"), Realm: "lvsd", Refresh: time.Minute,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(withHTTP(tc.body)), "test.hcl")
			if diags.HasErrors() {
				t.Fatal(render(diags))
			}
			if cfg.HTTP == nil {
				t.Fatal("no HTTP")
			}
			got := *cfg.HTTP
			got.DeclRange = hcl.Range{}
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	cfg, diags := Parse([]byte(vrrp("v", "")), "test.hcl")
	if diags.HasErrors() || cfg.HTTP != nil {
		t.Errorf("no http block: HTTP = %+v, %v (want nil: off by default)", cfg.HTTP, diags)
	}
}

func TestHTTPErrors(t *testing.T) {
	const plain = "hunter22"
	user := func(attrs string) string {
		return "  listen = \"127.0.0.1:9999\"\n  user \"admin\" {\n" + attrs + "\n  }"
	}
	for _, tc := range []struct {
		name string
		body string
		want string
		line int
		col  int
	}{
		{"listen missing", `  realm = "x"`, "http needs listen", 8, 1},
		{"listen no port", `  listen = "127.0.0.1"`, "listen must be IP:PORT", 9, 12},
		{"listen name", `  listen = "localhost:9999"`, "listen must be IP:PORT", 9, 12},
		{"listen port 0", `  listen = "127.0.0.1:0"`, "port must be between 1 and 65535", 9, 12},
		{"listen number", `  listen = 9999`, "listen must be a string", 9, 12},
		{"refresh fraction", "  listen = \"127.0.0.1:9999\"\n  refresh = \"1500ms\"", "whole seconds", 10, 13},
		{"refresh long", "  listen = \"127.0.0.1:9999\"\n  refresh = \"2h\"", "at most 1h0m0s", 10, 13},
		{"refresh negative", "  listen = \"127.0.0.1:9999\"\n  refresh = -1", "refresh", 10, 13},
		{"realm quote", "  listen = \"127.0.0.1:9999\"\n  realm = \"a\\\"b\"", "realm must be", 10, 11},
		{"realm empty", "  listen = \"127.0.0.1:9999\"\n  realm = \"\"", "realm must be", 10, 11},
		{"show_version string", "  listen = \"127.0.0.1:9999\"\n  show_version = \"yes\"", "true or false", 10, 18},
		{"unknown attr", "  listen = \"127.0.0.1:9999\"\n  stats_uri = \"/\"", `argument named "stats_uri"`, 10, 3},
		{"metrics_auth without users", "  listen = \"127.0.0.1:9999\"\n  metrics_auth = true", "needs at least one user", 10, 18},
		{"plaintext", user(`    password = "` + plain + `"`), "Plaintext password refused", 11, 5},
		{"no hash", user(``), `user "admin" needs password_bcrypt`, 10, 3},
		{"hash truncated", user(`    password_bcrypt = "` + testHashStats[:50] + `"`), "not a bcrypt hash: want $2a$", 11, 23},
		{"hash md5crypt", user(`    password_bcrypt = "$apr1$xyz$0123456789abcdefghijkl"`), "not a bcrypt hash", 11, 23},
		{"hash cost too high", user(`    password_bcrypt = "$2a$32` + testHashStats[6:] + `"`), "cost 32", 11, 23},
		{"hash cost too low", user(`    password_bcrypt = "$2a$03` + testHashStats[6:] + `"`), "not a bcrypt hash: crypto/bcrypt: cost 3", 11, 23},
		{"hash is plaintext", user(`    password_bcrypt = "` + plain + `"`), "not a bcrypt hash", 11, 23},
		{"user colon", "  listen = \"127.0.0.1:9999\"\n  user \"a:b\" {\n    password_bcrypt = \"" + testHashStats + "\"\n  }", "must not contain ':'", 10, 8},
		{"user duplicate", "  listen = \"127.0.0.1:9999\"\n  user \"a\" {\n    password_bcrypt = \"" + testHashStats + "\"\n  }\n  user \"a\" {\n    password_bcrypt = \"" + testHashOps + "\"\n  }", `"a" is already declared at test.hcl:10,8`, 13, 8},
		{"user empty", "  listen = \"127.0.0.1:9999\"\n  user \"\" {\n    password_bcrypt = \"" + testHashStats + "\"\n  }", "Empty user name", 10, 8},
		{"user unknown attr", user(`    password_bcrypt = "` + testHashStats + `"` + "\n    groups = []"), `argument named "groups"`, 12, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(withHTTP(tc.body)), "test.hcl")
			if cfg != nil || !diags.HasErrors() {
				t.Fatalf("no error for\n%s", withHTTP(tc.body))
			}
			var found bool
			for _, d := range diags {
				if d.Severity == hcl.DiagError && strings.Contains(d.Summary+": "+d.Detail, tc.want) {
					found = true
					if d.Subject.Start.Line != tc.line || d.Subject.Start.Column != tc.col {
						t.Errorf("error at %d,%d, want %d,%d: %s", d.Subject.Start.Line, d.Subject.Start.Column, tc.line, tc.col, render(diags))
					}
				}
			}
			if !found {
				t.Errorf("no error containing %q in\n%s", tc.want, render(diags))
			}
			// A password, even in the wrong attribute, never appears in
			// a message (the source snippet is the caller's to redact).
			for _, d := range diags {
				if strings.Contains(d.Summary+d.Detail, plain) || strings.Contains(d.Summary+d.Detail, testHashStats[7:]) {
					t.Errorf("diagnostic quotes the secret: %s: %s", d.Summary, d.Detail)
				}
			}
		})
	}
	// Two http blocks.
	src := withHTTP(`  listen = "127.0.0.1:9999"`) + "http {\n  listen = \"127.0.0.1:9998\"\n}\n"
	if _, diags := Parse([]byte(src), "test.hcl"); !strings.Contains(render(diags), "Duplicate http block") {
		t.Errorf("two http blocks: %s", render(diags))
	}
}

// TestHTTPWarnOpen: a non-loopback listener without users is legal but
// warned about.
func TestHTTPWarnOpen(t *testing.T) {
	cfg, diags := Parse([]byte(withHTTP(`  listen = "192.0.2.1:9999"`)), "test.hcl")
	if diags.HasErrors() || len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].Summary, "without authentication") {
		t.Errorf("want one warning: %s", render(diags))
	}
	cfg, diags = Parse([]byte(withHTTP(`  listen = "127.0.0.1:9999"`)), "test.hcl")
	if diags.HasErrors() || len(cfg.Warnings) != 0 {
		t.Errorf("loopback: want no warning: %s", render(diags))
	}
}

func TestHTTPUserString(t *testing.T) {
	s := fmt.Sprint(HTTPUser{Name: "admin", PasswordBcrypt: testHashStats})
	if strings.Contains(s, testHashStats) || !strings.Contains(s, "admin") {
		t.Errorf("String() = %q", s)
	}
}
