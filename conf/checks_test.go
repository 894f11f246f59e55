package conf

import (
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

const checkersSrc = `virtual_server "mysql" {
  address    = "198.51.100.30:3306"
  lvs_method = "DR"
  delay_loop = "3s"

  real_server "db1" {
    address = "198.51.100.10:3306"
    tcp_check {
      connect_timeout = "2s"
    }
    mysql_check {
      user               = "haproxy_check"
      password           = "s3cret"
      query              = "SELECT 1"
      read_only          = false
      retry              = 2
      delay_before_retry = 0
      replication {
        max_lag = "10s"
      }
    }
    http_get {
      connect_port = 9200
      path         = "/health?full=1"
      status_code  = [200, 204]
      body_regex   = "state: (ok|donor)"
      digest       = "9A2B0C1D9A2B0C1D9A2B0C1D9A2B0C1D"
      virtualhost  = "db1.example.com"
    }
    ssl_get {
      connect_ip   = "198.51.100.20"
      connect_port = 9443
      ca_file      = "/etc/lvsd/ca.pem"
      server_name  = "db1.example.com"
      delay_loop   = "10s"
    }
  }

  real_server "db2" {
    address = "198.51.100.11:3306"
    mysql_check {
      user = "haproxy_check"
      replication {}
    }
    ssl_get {}
    http_get {}
  }
}
`

func TestCheckers(t *testing.T) {
	cfg := mustParse(t, checkersSrc)
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings: %v", cfg.Warnings)
	}
	rs := cfg.VirtualServers[0].RealServers
	db1, db2 := netip.MustParseAddrPort("198.51.100.10:3306"), netip.MustParseAddrPort("198.51.100.11:3306")
	no := false
	want1 := []Check{
		{Kind: CheckTCP, Target: db1, ConnectTimeout: 2 * time.Second, Retry: 1, DelayBeforeRetry: time.Second, DelayLoop: 3 * time.Second, Rise: 1},
		{Kind: CheckMySQL, Target: db1, ConnectTimeout: 5 * time.Second, Retry: 2, DelayBeforeRetry: 0, DelayLoop: 3 * time.Second, Rise: 1,
			MySQL: &MySQLCheck{User: "haproxy_check", Password: "s3cret", Query: "SELECT 1", ReadOnly: &no, Replication: &Replication{MaxLag: 10 * time.Second}}},
		{Kind: CheckHTTP, Target: netip.MustParseAddrPort("198.51.100.10:9200"), ConnectTimeout: 5 * time.Second, Retry: 1, DelayBeforeRetry: time.Second, DelayLoop: 3 * time.Second, Rise: 1,
			HTTP: &HTTPCheck{Path: "/health?full=1", StatusCodes: []int{200, 204}, BodyRegex: "state: (ok|donor)", Digest: "9a2b0c1d9a2b0c1d9a2b0c1d9a2b0c1d", VirtualHost: "db1.example.com"}},
		{Kind: CheckSSL, Target: netip.MustParseAddrPort("198.51.100.20:9443"), ConnectTimeout: 5 * time.Second, Retry: 1, DelayBeforeRetry: time.Second, DelayLoop: 10 * time.Second, Rise: 1,
			HTTP: &HTTPCheck{Path: "/", StatusCodes: []int{200}, CAFile: "/etc/lvsd/ca.pem", ServerName: "db1.example.com"}},
	}
	common := Check{Target: db2, ConnectTimeout: 5 * time.Second, Retry: 1, DelayBeforeRetry: time.Second, DelayLoop: 3 * time.Second, Rise: 1}
	with := func(kind string, m *MySQLCheck, h *HTTPCheck) Check {
		c := common
		c.Kind, c.MySQL, c.HTTP = kind, m, h
		return c
	}
	// File order is kept.
	want2 := []Check{
		with(CheckMySQL, &MySQLCheck{User: "haproxy_check", Replication: &Replication{MaxLag: 30 * time.Second}}, nil),
		with(CheckSSL, nil, &HTTPCheck{Path: "/", StatusCodes: []int{200}}),
		with(CheckHTTP, nil, &HTTPCheck{Path: "/", StatusCodes: []int{200}}),
	}
	for i, want := range [][]Check{want1, want2} {
		got := rs[i].Checks
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s checks:\n got %s\nwant %s", rs[i].Name, dump(got), dump(want))
		}
		for j := range got {
			if !got[j].Equal(want[j]) {
				t.Errorf("%s check %d: Equal is false for deeply equal checks", rs[i].Name, j)
			}
		}
	}
}

func dump(cs []Check) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "\n  %+v", c)
		if c.MySQL != nil {
			fmt.Fprintf(&b, " mysql=%#v", *c.MySQL)
		}
		if c.HTTP != nil {
			fmt.Fprintf(&b, " http=%+v", *c.HTTP)
		}
	}
	return b.String()
}

func TestCheckEqual(t *testing.T) {
	yes, no := true, false
	base := func() Check {
		return Check{Kind: CheckMySQL, DelayLoop: time.Second,
			MySQL: &MySQLCheck{User: "u", ReadOnly: &no, Replication: &Replication{MaxLag: time.Second}},
			HTTP:  nil}
	}
	web := func() Check {
		return Check{Kind: CheckSSL, HTTP: &HTTPCheck{Path: "/", StatusCodes: []int{200}, CAFile: "a"}}
	}
	for _, tc := range []struct {
		name string
		a, b Check
		want bool
	}{
		{"same mysql, distinct pointers", base(), base(), true},
		{"same ssl, distinct slices", web(), web(), true},
		{"password", base(), func() Check { c := base(); c.MySQL.Password = "x"; return c }(), false},
		{"read_only value", base(), func() Check { c := base(); c.MySQL.ReadOnly = &yes; return c }(), false},
		{"read_only unset", base(), func() Check { c := base(); c.MySQL.ReadOnly = nil; return c }(), false},
		{"max_lag", base(), func() Check { c := base(); c.MySQL.Replication.MaxLag = 2; return c }(), false},
		{"no replication", base(), func() Check { c := base(); c.MySQL.Replication = nil; return c }(), false},
		{"common field", base(), func() Check { c := base(); c.DelayLoop = 2; return c }(), false},
		{"status codes", web(), func() Check { c := web(); c.HTTP.StatusCodes = []int{200, 204}; return c }(), false},
		{"ca_file", web(), func() Check { c := web(); c.HTTP.CAFile = "b"; return c }(), false},
		{"digest", web(), func() Check { c := web(); c.HTTP.Digest = "b"; return c }(), false},
		{"http vs none", web(), func() Check { c := web(); c.HTTP = nil; return c }(), false},
	} {
		if got := tc.a.Equal(tc.b); got != tc.want {
			t.Errorf("%s: Equal = %v, want %v", tc.name, got, tc.want)
		}
		if got := tc.b.Equal(tc.a); got != tc.want {
			t.Errorf("%s: Equal reversed = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestInsecureSkipVerifyWarns(t *testing.T) {
	cfg := mustParse(t, rs("    ssl_get {\n      insecure_skip_verify = true\n    }"))
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].Detail, "accepts any certificate") || cfg.Warnings[0].Subject.Start.Line != 5 {
		t.Errorf("warnings %v", cfg.Warnings)
	}
	if !cfg.VirtualServers[0].RealServers[0].Checks[0].HTTP.InsecureSkipVerify {
		t.Error("insecure_skip_verify not set")
	}
}

// TestCheckerErrors: one case per validation, each located at its line.
func TestCheckerErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want string
		line int
	}{
		{"mysql_check without user", rs("    mysql_check {}"), `mysql_check needs user`, 4},
		{"empty user", rs("    mysql_check {\n      user = \"\"\n    }"), "user must not be empty", 5},
		{"empty query", rs("    mysql_check {\n      user = \"u\"\n      query = \" \"\n    }"), "query must not be empty", 6},
		{"read_only not bool", rs("    mysql_check {\n      user = \"u\"\n      read_only = \"yes\"\n    }"), "read_only must be true or false", 6},
		{"negative max_lag", rs("    mysql_check {\n      user = \"u\"\n      replication {\n        max_lag = \"-1s\"\n      }\n    }"), "max_lag must not be negative", 7},
		{"unknown replication attr", rs("    mysql_check {\n      user = \"u\"\n      replication {\n        lag = 1\n      }\n    }"), `An argument named "lag" is not expected`, 7},
		{"two replication blocks", rs("    mysql_check {\n      user = \"u\"\n      replication {}\n      replication {}\n    }"), "only one replication block", 7},
		{"two mysql_check", rs("    mysql_check {\n      user = \"u\"\n    }\n    mysql_check {\n      user = \"v\"\n    }"), "only one mysql_check block", 7},
		{"http attr in mysql_check", rs("    mysql_check {\n      user = \"u\"\n      path = \"/\"\n    }"), `An argument named "path" is not expected`, 6},
		{"ssl attr in http_get", rs("    http_get {\n      ca_file = \"/x\"\n    }"), `An argument named "ca_file" is not expected`, 5},
		{"mysql attr in http_get", rs("    http_get {\n      user = \"u\"\n    }"), `An argument named "user" is not expected`, 5},
		{"relative path", rs("    http_get {\n      path = \"health\"\n    }"), `path must start with "/"`, 5},
		{"path with space", rs("    http_get {\n      path = \"/a b\"\n    }"), `path must be a request path`, 5},
		{"status code 99", rs("    http_get {\n      status_code = [200, 99]\n    }"), "between 100 and 599; got 99", 5},
		{"status code 600", rs("    ssl_get {\n      status_code = [600]\n    }"), "between 100 and 599; got 600", 5},
		{"status code fraction", rs("    http_get {\n      status_code = [200.5]\n    }"), "got 200.5", 5},
		{"status code empty", rs("    http_get {\n      status_code = []\n    }"), "status_code must not be empty", 5},
		{"status code not list", rs("    http_get {\n      status_code = 200\n    }"), "status_code must be a list of numbers", 5},
		{"status code string", rs("    http_get {\n      status_code = [\"200\"]\n    }"), "status_code must be a list of numbers", 5},
		{"bad regex", rs("    http_get {\n      body_regex = \"state: (ok\"\n    }"), "body_regex must be a regular expression (RE2 syntax)", 5},
		{"perl regex", rs("    http_get {\n      body_regex = \"(?<=a)b\"\n    }"), "invalid named capture", 5},
		{"short digest", rs("    http_get {\n      digest = \"abc\"\n    }"), "digest must be the MD5 of the body as 32 hex digits", 5},
		{"non-hex digest", rs("    ssl_get {\n      digest = \"zz000000000000000000000000000000\"\n    }"), "32 hex digits", 5},
		{"bad virtualhost", rs("    http_get {\n      virtualhost = \"a b\"\n    }"), "virtualhost must be a host name", 5},
		{"empty ca_file", rs("    ssl_get {\n      ca_file = \"\"\n    }"), "ca_file must be a path", 5},
		{"empty server_name", rs("    ssl_get {\n      server_name = \"\"\n    }"), "server_name must not be empty", 5},
		{"insecure not bool", rs("    ssl_get {\n      insecure_skip_verify = 1\n    }"), "insecure_skip_verify must be true or false", 5},
		{"common option checked in ssl_get", rs("    ssl_get {\n      connect_port = 0\n    }"), "connect_port must be between 1 and 65535", 5},
		{"common option checked in mysql_check", rs("    mysql_check {\n      user = \"u\"\n      connect_timeout = 0\n    }"), "connect_timeout must be greater than zero", 6},
		{"two http_get", rs("    http_get {}\n    http_get {}"), "only one http_get block", 5},
		{"misc_check without misc_path", rs("    misc_check {}"), "misc_check needs misc_path", 4},
		{"relative misc_path", rs("    misc_check {\n      misc_path = \"check_db -h x\"\n    }"), "must start with an absolute program path", 5},
		{"unterminated quote", rs("    misc_check {\n      misc_path = \"/bin/x 'a\"\n    }"), "unterminated single quote", 5},
		{"empty misc_path", rs("    misc_check {\n      misc_path = \"  \"\n    }"), "empty command", 5},
		{"misc_dynamic not bool", rs("    misc_check {\n      misc_path = \"/bin/true\"\n      misc_dynamic = 2\n    }"), "misc_dynamic must be true or false", 6},
		{"udp bad payload", rs("    udp_check {\n      payload = \"0g\"\n    }"), "payload must be bytes in hex", 5},
		{"udp odd payload", rs("    udp_check {\n      payload = \"abc\"\n    }"), "payload must be bytes in hex", 5},
		{"udp reply without require_reply", rs("    udp_check {\n      reply = \"00\"\n    }"), "set require_reply = true", 5},
		{"udp bad reply_regex", rs("    udp_check {\n      require_reply = true\n      reply_regex = \"(\"\n    }"), "reply_regex must be a regular expression", 6},
		{"udp min above max", rs("    udp_check {\n      require_reply = true\n      min_reply_length = 10\n      max_reply_length = 2\n    }"), "min_reply_length 10 is above max_reply_length 2", 6},
		{"udp reply too long", rs("    udp_check {\n      require_reply = true\n      max_reply_length = 1\n      reply = \"0001\"\n    }"), "longer than max_reply_length", 7},
		{"dns bad type", rs("    dns_check {\n      type = \"PTR\"\n    }"), "unknown type \"PTR\"; allowed: A NS CNAME SOA MX TXT AAAA", 5},
		{"dns bad name", rs("    dns_check {\n      name = \"a..b\"\n    }"), "empty label", 5},
		{"dns long label", rs("    dns_check {\n      name = \"" + strings.Repeat("a", 64) + ".com\"\n    }"), "over 63 bytes", 5},
		{"negative warmup", rs("    tcp_check {\n      warmup = \"-1s\"\n    }"), "warmup", 5},
		{"relative notify_up", rs("    notify_up = \"notify.sh up\""), "notify_up must start with an absolute program path", 4},
		{"unsplittable notify_down", rs("    notify_down = \"/bin/x 'a\""), "unterminated single quote", 4},
		{"zero misc_timeout", rs("    misc_check {\n      misc_path = \"/bin/true\"\n      misc_timeout = 0\n    }"), "misc_timeout must be greater than zero", 6},
		{"bad user", rs("    misc_check {\n      misc_path = \"/bin/true\"\n      user = \"a b\"\n    }"), "user must be a user name or numeric uid", 6},
		{"connect_port in misc_check", rs("    misc_check {\n      misc_path = \"/bin/true\"\n      connect_port = 1\n    }"), `An argument named "connect_port" is not expected`, 6},
		{"bindto not an address", rs("    tcp_check {\n      bindto = \"198.51.100.300\"\n    }"), "bindto must be an IP address of this host", 5},
		{"bindto of the other family", rs("    http_get {\n      bindto = \"2001:db8::1\"\n    }"), "is not of the address family of the target 198.51.100.10", 5},
		{"bindto family vs connect_ip", rs("    mysql_check {\n      user = \"u\"\n      connect_ip = \"2001:db8::10\"\n      bindto = \"198.51.100.2\"\n    }"), "not of the address family of the target 2001:db8::10", 7},
		{"bindto unspecified", rs("    udp_check {\n      bindto = \"0.0.0.0\"\n    }"), "is not a unicast address", 5},
		{"bindto link-local", rs("    dns_check {\n      connect_ip = \"2001:db8::53\"\n      bindto = \"fe80::1\"\n    }"), "is link-local", 6},
		{"bindto with zone", rs("    tcp_check {\n      bindto = \"2001:db8::1%eth0\"\n    }"), "zone", 5},
		{"bind_port 0", rs("    ssl_get {\n      bind_port = 0\n    }"), "bind_port must be between 1 and 65535", 5},
		{"bind_port too big", rs("    tcp_check {\n      bind_port = 65536\n    }"), "bind_port must be between 1 and 65535", 5},
		{"bindto in misc_check", rs("    misc_check {\n      misc_path = \"/bin/true\"\n      bindto = \"198.51.100.2\"\n    }"), `An argument named "bindto" is not expected`, 6},
		{"two misc_check", rs("    misc_check {\n      misc_path = \"/bin/true\"\n    }\n    misc_check {\n      misc_path = \"/bin/false\"\n    }"), "only one misc_check block", 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(tc.src), "test.hcl")
			if cfg != nil {
				t.Errorf("cfg = %+v, want nil", cfg)
			}
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Subject != nil && d.Subject.Start.Line == tc.line &&
					strings.Contains(d.Summary+": "+d.Detail, tc.want) {
					return
				}
			}
			t.Errorf("want error %q at line %d; got %v", tc.want, tc.line, diags)
		})
	}
}

func TestMiscCheck(t *testing.T) {
	src := `virtual_server "db" {
  address    = "198.51.100.30:3306"
  delay_loop = "7s"
  real_server "db1" {
    address = "198.51.100.10:3306"
    misc_check {
      misc_path          = "/usr/local/bin/check_db --host 198.51.100.10 'a b'"
      misc_timeout       = "5s"
      misc_dynamic       = false
      user               = "nobody"
      retry              = 2
      delay_before_retry = "2s"
    }
  }
  real_server "db2" {
    address = "198.51.100.11:3306"
    misc_check {
      misc_path = "/bin/true"
    }
  }
}
`
	cfg, diags := Parse([]byte(src), "test.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	rss := cfg.VirtualServers[0].RealServers
	got := rss[0].Checks[0]
	want := Check{
		Kind: CheckMisc, Target: netip.MustParseAddrPort("198.51.100.10:3306"),
		Retry: 2, DelayBeforeRetry: 2 * time.Second, DelayLoop: 7 * time.Second, Rise: 1,
		Misc: &MiscCheck{
			Path:    "/usr/local/bin/check_db --host 198.51.100.10 'a b'",
			Argv:    []string{"/usr/local/bin/check_db", "--host", "198.51.100.10", "a b"},
			Timeout: 5 * time.Second, User: "nobody",
		},
	}
	if !got.Equal(want) || !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v %+v\nwant %+v %+v", got, got.Misc, want, want.Misc)
	}
	// misc_timeout defaults to delay_loop; user to lvsd's own.
	if m := rss[1].Checks[0].Misc; m.Timeout != 7*time.Second || m.User != "" {
		t.Errorf("defaults: %+v", m)
	}
	other := want
	other.Misc = &MiscCheck{Path: want.Misc.Path, Argv: want.Misc.Argv, Timeout: want.Misc.Timeout, User: "root"}
	if want.Equal(other) {
		t.Error("Equal ignores misc_check user")
	}
}

func TestUDPDNSChecks(t *testing.T) {
	cfg := mustParse(t, `virtual_server "dns" {
  address    = "198.51.100.30:53"
  protocol   = "UDP"
  delay_loop = "5s"
  real_server "ns1" {
    address     = "198.51.100.10:53"
    notify_up   = "/usr/local/bin/notify up 'ns 1'"
    notify_down = "/usr/local/bin/notify down"
    udp_check {
      payload          = "de ad:be ef"
      require_reply    = true
      reply            = "CAFE"
      reply_regex      = "^\\xca"
      min_reply_length = 2
      warmup           = 0
    }
    dns_check {
      type   = "a"
      name   = "ns1.example.com"
      warmup = "30s"
    }
  }
  real_server "ns2" {
    address = "198.51.100.11:53"
    udp_check {}
    dns_check {
      retry = 0
    }
  }
}
`)
	rss := cfg.VirtualServers[0].RealServers
	udp, dns := rss[0].Checks[0], rss[0].Checks[1]
	wantUDP := &UDPCheck{Payload: []byte{0xde, 0xad, 0xbe, 0xef}, RequireReply: true, Reply: []byte{0xca, 0xfe},
		ReplyRegex: `^\xca`, MinReplyLen: 2, MaxReplyLen: 255}
	if udp.Kind != CheckUDP || !reflect.DeepEqual(udp.UDP, wantUDP) || udp.Warmup != -1 {
		t.Errorf("udp_check %+v %+v, want %+v", udp, udp.UDP, wantUDP)
	}
	if dns.Kind != CheckDNS || *dns.DNS != (DNSCheck{Type: "A", Name: "ns1.example.com"}) || dns.Warmup != 30*time.Second || dns.Retry != 3 {
		t.Errorf("dns_check %+v %+v", dns, dns.DNS)
	}
	if !slices.Equal(rss[0].NotifyUp(), []string{"/usr/local/bin/notify", "up", "ns 1"}) || !slices.Equal(rss[0].NotifyDown(), []string{"/usr/local/bin/notify", "down"}) {
		t.Errorf("notify %q %q", rss[0].NotifyUp(), rss[0].NotifyDown())
	}
	// Defaults: an empty datagram, no reply needed; SOA of the root, retry 3
	// (keepalived's DNS_CHECK) unless set; warmup unset.
	u2, d2 := rss[1].Checks[0], rss[1].Checks[1]
	if !reflect.DeepEqual(u2.UDP, &UDPCheck{MaxReplyLen: 255}) || u2.Warmup != 0 || u2.Retry != 1 {
		t.Errorf("udp_check defaults %+v %+v", u2, u2.UDP)
	}
	if *d2.DNS != (DNSCheck{Type: "SOA", Name: "."}) || d2.Retry != 0 {
		t.Errorf("dns_check defaults %+v %+v", d2, d2.DNS)
	}
	if rss[1].Notify != nil {
		t.Errorf("notify_up %q", rss[1].Notify)
	}
	o := udp
	o.UDP = &UDPCheck{Payload: []byte{0xde, 0xad, 0xbe, 0xef}, RequireReply: true, Reply: []byte{0xca, 0xff},
		ReplyRegex: `^\xca`, MinReplyLen: 2, MaxReplyLen: 255}
	if udp.Equal(o) || !udp.Equal(udp) {
		t.Error("Equal ignores udp_check reply")
	}
	o = dns
	o.DNS = &DNSCheck{Type: "AAAA", Name: "ns1.example.com"}
	if dns.Equal(o) {
		t.Error("Equal ignores dns_check type")
	}
}

func TestMiscDynamic(t *testing.T) {
	cfg := mustParse(t, rs("    misc_check {\n      misc_path = \"/bin/true\"\n      misc_dynamic = true\n    }"))
	c := cfg.VirtualServers[0].RealServers[0].Checks[0]
	if !c.Misc.Dynamic {
		t.Errorf("misc_dynamic not set: %+v", c.Misc)
	}
	o := c
	o.Misc = &MiscCheck{Path: c.Misc.Path, Argv: c.Misc.Argv, Timeout: c.Misc.Timeout}
	if c.Equal(o) {
		t.Error("Equal ignores misc_dynamic")
	}
}

func TestRiseFall(t *testing.T) {
	for _, tc := range []struct {
		body        string
		retry, rise int
	}{
		{"", 1, 1},
		{"rise = 3", 1, 3},
		{"fall = 3", 2, 1},
		{"fall = 1\n      rise = 2", 0, 2},
		{"retry = 4", 4, 1},
	} {
		cfg := mustParse(t, rs("    mysql_check {\n      user = \"u\"\n      "+tc.body+"\n    }"))
		c := cfg.VirtualServers[0].RealServers[0].Checks[0]
		if c.Retry != tc.retry || c.Rise != tc.rise {
			t.Errorf("%q: retry %d rise %d, want %d %d", tc.body, c.Retry, c.Rise, tc.retry, tc.rise)
		}
	}
	for _, tc := range []struct{ body, want string }{
		{"rise = 0", "rise must be between 1 and 1000; got 0"},
		{"rise = 1001", "rise must be between 1 and 1000"},
		{"fall = 0", "fall must be between 1 and"},
		{"fall = 2\n      retry = 1", "fall is retry + 1"},
		{"fall = 2\n      nb_get_retry = 1", "fall is retry + 1"},
	} {
		_, diags := Parse([]byte(rs("    tcp_check {\n      "+tc.body+"\n    }")), "test.hcl")
		if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) {
			t.Errorf("%q: diags %v, want %q", tc.body, diags, tc.want)
		}
	}
}

// FuzzCheckers parses arbitrary checker blocks: Parse never panics, and what
// it accepts is usable as is (regexp compiles, status codes in range, one
// kind-specific part set per kind).
func FuzzCheckers(f *testing.F) {
	for _, s := range []string{
		"tcp_check {}",
		"mysql_check {\n user = \"u\"\n password = \"\"\n query = \"SELECT 1\"\n read_only = true\n replication {\n max_lag = 0\n }\n}",
		"http_get {\n path = \"/h?x=1\"\n status_code = [200, 301]\n body_regex = \"ok$\"\n virtualhost = \"a.example\"\n}",
		"ssl_get {\n ca_file = \"/x\"\n server_name = \"a\"\n insecure_skip_verify = true\n status_code = [599.0]\n}",
		"http_get {\n status_code = [1e300, -1, 99.999]\n}",
		"http_get {\n body_regex = \"(\"\n}",
		"tcp_check {\n fall = 1e20\n rise = -0\n}",
		"misc_check {\n misc_path = \"/bin/x 'a b' \\\"c\\\" d\\\\ e\"\n misc_timeout = \"1.5s\"\n user = \"nobody\"\n misc_dynamic = false\n}",
		"misc_check {\n misc_path = \"x\"\n misc_dynamic = true\n}",
		"udp_check {\n payload = \"0a 1b\"\n require_reply = true\n reply = \"0a\"\n reply_regex = \"^x\"\n min_reply_length = 1\n max_reply_length = 9\n warmup = 0\n}",
		"dns_check {\n type = \"aaaa\"\n name = \"example.com.\"\n warmup = \"2s\"\n}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, block string) {
		cfg, diags := Parse([]byte(rs(block)), "fuzz.hcl")
		if (cfg == nil) != diags.HasErrors() {
			t.Fatalf("cfg nil = %v, HasErrors = %v", cfg == nil, diags.HasErrors())
		}
		if cfg == nil {
			return
		}
		for _, c := range cfg.VirtualServers[0].RealServers[0].Checks {
			if c.Rise < 1 || c.Retry < 0 || (c.ConnectTimeout <= 0 && c.Kind != CheckMisc) || c.DelayLoop <= 0 || !c.Target.IsValid() {
				t.Fatalf("unusable common options %+v", c)
			}
			if (c.Misc != nil) != (c.Kind == CheckMisc) {
				t.Fatalf("misc part on kind %q", c.Kind)
			}
			switch c.Kind {
			case CheckMisc:
				m := c.Misc
				argv, err := SplitCommand(m.Path)
				if err != nil || !slices.Equal(argv, m.Argv) || !strings.HasPrefix(m.Argv[0], "/") || m.Timeout <= 0 || strings.ContainsRune(m.Path, 0) {
					t.Fatalf("misc parts %+v", m)
				}
			case CheckUDP:
				u := c.UDP
				if u == nil || u.MinReplyLen > u.MaxReplyLen || len(u.Reply) > u.MaxReplyLen || (!u.RequireReply && (u.Reply != nil || u.ReplyRegex != "")) {
					t.Fatalf("udp parts %+v", u)
				}
				if _, err := regexp.Compile(u.ReplyRegex); err != nil {
					t.Fatalf("accepted reply_regex %q: %v", u.ReplyRegex, err)
				}
			case CheckDNS:
				if c.DNS == nil || !slices.Contains(dnsTypes, c.DNS.Type) || ValidDNSName(c.DNS.Name) != nil {
					t.Fatalf("dns parts %+v", c.DNS)
				}
			case CheckTCP:
				if c.MySQL != nil || c.HTTP != nil {
					t.Fatalf("tcp with parts %+v", c)
				}
			case CheckMySQL:
				if c.MySQL == nil || c.HTTP != nil || c.MySQL.User == "" {
					t.Fatalf("mysql parts %+v", c)
				}
			case CheckHTTP, CheckSSL:
				if c.HTTP == nil || c.MySQL != nil || len(c.HTTP.StatusCodes) == 0 || !strings.HasPrefix(c.HTTP.Path, "/") {
					t.Fatalf("http parts %+v %+v", c, c.HTTP)
				}
				if _, err := regexp.Compile(c.HTTP.BodyRegex); err != nil {
					t.Fatalf("accepted body_regex %q: %v", c.HTTP.BodyRegex, err)
				}
				for _, sc := range c.HTTP.StatusCodes {
					if sc < 100 || sc > 599 {
						t.Fatalf("accepted status code %d", sc)
					}
				}
			default:
				t.Fatalf("kind %q", c.Kind)
			}
		}
	})
}

func TestBindTo(t *testing.T) {
	cfg := mustParse(t, `virtual_server "vs" {
  address = "198.51.100.30:3306"
  real_server "a" {
    address = "198.51.100.10:3306"
    tcp_check {
      bindto    = "198.51.100.2"
      bind_port = 4000
    }
    http_get {
      bind_port = 4001
    }
    dns_check {
      connect_ip   = "2001:db8::53"
      connect_port = 53
      bindto       = "2001:db8::2"
    }
    mysql_check {
      user = "u"
    }
  }
}
`)
	checks := cfg.VirtualServers[0].RealServers[0].Checks
	type src struct {
		addr string
		port uint16
	}
	want := []src{{"198.51.100.2", 4000}, {"invalid IP", 4001}, {"2001:db8::2", 0}, {"invalid IP", 0}}
	for i, c := range checks {
		if got := (src{c.BindTo.String(), c.BindPort}); got != want[i] {
			t.Errorf("%s: source = %+v, want %+v", c.Kind, got, want[i])
		}
	}
	// Two probes that differ only in their source are different checks.
	a, b := checks[0], checks[0]
	b.BindTo = netip.MustParseAddr("198.51.100.3")
	if a.Equal(b) {
		t.Error("checks with another bindto are Equal")
	}
}

// TestBindToErrorPosition: the error points at the bindto value, file, line
// and column.
func TestBindToErrorPosition(t *testing.T) {
	_, diags := Parse([]byte(rs("    tcp_check {\n      bindto = \"2001:db8::1\"\n    }")), "lb.hcl")
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Summary == "Invalid bindto" {
			if got := d.Subject.String(); !strings.HasPrefix(got, "lb.hcl:5,16-") {
				t.Errorf("range = %s, want lb.hcl:5,16-...", got)
			}
			return
		}
	}
	t.Fatalf("no Invalid bindto error: %v", diags)
}
