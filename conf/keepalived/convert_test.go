package keepalived

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

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
		"checks.conf": {
			"checks.conf:8 info notify_down",
			"checks.conf:25 unsupported notify_up",
			"checks.conf:26 unsupported notify_down nobody",
			"checks.conf:28 unsupported payload",
			"checks.conf:29 unsupported require_reply",
			"checks.conf:30 unsupported max_reply_length",
			"checks.conf:33 unsupported type",
			"checks.conf:34 unsupported name",
			"checks.conf:36 unsupported warmup",
			"checks.conf:42 info min_reply_length",
			"checks.conf:52 unsupported require_reply",
			"checks.conf:53 unsupported min_reply_length",
			"checks.conf:64 info warmup",
			"checks.conf:71 info warmup",
			"checks.conf:74 unsupported warmup",
			"checks.conf:76 unsupported warmup",
		},
		"dr.conf": nil,
		"fwmark.conf": {
			"fwmark.conf:19 note protocol",
		},
		"http.conf": {
			"http.conf:18 unsupported authentication",
			"http.conf:31 info v3_checksum_as_v2",
			"http.conf:37 note protocol",
			"http.conf:53 unsupported url",
			"http.conf:59 info nb_get_retry",
			"http.conf:63 note SSL_GET",
			"http.conf:68 info virtualhost",
			"http.conf:69 info enable_sni",
			"http.conf:74 note SSL_GET",
			"http.conf:81 unsupported HTTP_GET",
		},
		"bindto.conf": {
			"bindto.conf:22 unsupported bindto",
			"bindto.conf:28 unsupported bindto",
		},
		"include.conf": {
			"10-web.conf:1 note protocol",
			"20-db.conf:1 note protocol",
		},
		"misc_check.conf": {
			"misc_check.conf:1 note protocol",
			"misc_check.conf:12 unsupported TCP_CHECK",
			"misc_check.conf:29 unsupported MISC_CHECK",
			"misc_check.conf:34 unsupported MISC_CHECK",
			"misc_check.conf:40 info misc_path",
			"misc_check.conf:43 unsupported user nobody nogroup",
			"misc_check.conf:44 info nb_get_retry",
		},
		"nat.conf": {
			"nat.conf:3 info notification_email",
			"nat.conf:6 info notification_email_from",
			"nat.conf:7 info smtp_server",
			"nat.conf:8 info smtp_connect_timeout",
			"nat.conf:9 info router_id",
			"nat.conf:14 info lb_algo",
			"nat.conf:15 info lb_kind",
		},
		"params.conf": {
			"params.conf:16 note protocol",
		},
		"shapes.conf": {
			"shapes.conf:3 info router_id",
			"shapes.conf:23 unsupported mh-port",
			"shapes.conf:33 unsupported lvs_method type gue port 6080",
			"shapes.conf:38 unsupported ops",
		},
		"quorum.conf": {
			"quorum.conf:2 note protocol",
			"quorum.conf:4 info lb_algo",
			"quorum.conf:5 info lb_kind",
			"quorum.conf:26 note protocol",
			"quorum.conf:27 unsupported quorum_up",
		},
		"sync_group.conf": nil, // vrrp_script, vrrp_sync_group, track_script, notify_master all carried
		"track_file.conf": {
			"track_file.conf:12 unsupported vrrp_track_file",
			"track_file.conf:22 unsupported track_file prio",
			"track_file.conf:23 unsupported track_file other",
		},
		"track_process.conf": {
			"track_process.conf:17 unsupported param_match",
			"track_process.conf:27 unsupported track_process app",
		},
		"tun.conf": nil, // label eth0:vip carried
		"unicast.conf": {
			"unicast.conf:10 info mcast_src_ip",
			"unicast.conf:12 unsupported auth_type",
		},
		"vsgroup.conf": {
			"vsgroup.conf:5 note protocol",
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

// TestHTTPCorpus checks what conf makes of the converted http.conf: the
// checkers lvsd now has are carried with keepalived's semantics.
func TestHTTPCorpus(t *testing.T) {
	res := convertFile(t, "testdata/corpus/http.conf")
	cfg, diags := conf.Parse(res.HCL, "http.hcl")
	if diags.HasErrors() {
		t.Fatalf("conf.Parse: %v", diags)
	}
	if v := cfg.VRRP[0]; v.Version != 3 || v.AdvertInt.String() != "500ms" || !v.V3ChecksumAsV2 || v.PreemptDelay.String() != "30s" ||
		v.GARPMasterDelay.String() != "2s" || v.GARPMasterRepeat != 3 || v.GARPMasterRefresh.String() != "1m0s" || v.AuthType != "" {
		t.Errorf("VI_V3 = %+v", v)
	}
	rs := cfg.VirtualServers[0].RealServers[0]
	var kinds []string
	for _, c := range rs.Checks {
		kinds = append(kinds, c.Kind)
	}
	if !slices.Equal(kinds, []string{conf.CheckTCP, conf.CheckHTTP, conf.CheckSSL}) {
		t.Fatalf("checks of %s: %v", rs.Name, kinds)
	}
	h := rs.Checks[1]
	if h.HTTP.Path != "/health?full=1" || !slices.Equal(h.HTTP.StatusCodes, []int{200, 204, 301, 302}) ||
		h.HTTP.Digest != "9b3a0c85a887a256d6939da88aabd8cd" || h.HTTP.VirtualHost != "www.example.com" ||
		h.Target.Port() != 8080 || h.Retry != 2 {
		t.Errorf("http_get = %+v %+v", h, *h.HTTP)
	}
	s := rs.Checks[2]
	if !s.HTTP.InsecureSkipVerify || s.HTTP.VirtualHost != "secure.example.com" || len(s.HTTP.StatusCodes) != 100 ||
		s.HTTP.StatusCodes[0] != 200 || s.HTTP.StatusCodes[99] != 299 {
		t.Errorf("ssl_get = %+v %+v", s, *s.HTTP)
	}
	if len(cfg.Warnings) == 0 {
		t.Error("no warning for insecure_skip_verify")
	}
	for _, f := range res.Findings {
		if f.Keyword == "SSL_GET" && !strings.Contains(f.Msg, "insecure_skip_verify = true") {
			t.Errorf("SSL_GET note does not name insecure_skip_verify: %s", f)
		}
	}
}

// TestChecksCorpus checks what conf makes of the converted checks.conf:
// UDP_CHECK, DNS_CHECK, warmup, misc_dynamic and notify_up/down keep
// keepalived's meaning.
func TestChecksCorpus(t *testing.T) {
	res := convertFile(t, "testdata/corpus/checks.conf")
	cfg, diags := conf.Parse(res.HCL, "checks.hcl")
	if diags.HasErrors() {
		t.Fatalf("conf.Parse: %v", diags)
	}
	rss := cfg.VirtualServers[0].RealServers
	if len(rss) != 4 {
		t.Fatalf("%d real servers, want 4", len(rss))
	}
	byKind := func(rs conf.RealServer, kind string) conf.Check {
		t.Helper()
		for _, c := range rs.Checks {
			if c.Kind == kind {
				return c
			}
		}
		t.Fatalf("%s has no %s: %+v", rs.Name, kind, rs.Checks)
		return conf.Check{}
	}
	rs := rss[0]
	if !slices.Equal(rs.NotifyUp(), []string{"/usr/local/bin/rs_state", "up", "203.0.113.61"}) || !slices.Equal(rs.NotifyDown(), []string{"/usr/local/bin/rs_down"}) {
		t.Errorf("notify of %s: %q %q", rs.Name, rs.NotifyUp(), rs.NotifyDown())
	}
	u := byKind(rs, conf.CheckUDP)
	// keepalived reads "0a 1b ff 1" as four bytes, the last one 01.
	if !slices.Equal(u.UDP.Payload, []byte{0x0a, 0x1b, 0xff, 0x01}) || !u.UDP.RequireReply ||
		!slices.Equal(u.UDP.Reply, []byte{0x0a, 0x1b}) || u.UDP.MinReplyLen != 2 || u.UDP.MaxReplyLen != 512 ||
		u.ConnectTimeout.String() != "2s" || u.Warmup.String() != "3.5s" {
		t.Errorf("udp_check = %+v %+v", u, *u.UDP)
	}
	d := byKind(rs, conf.CheckDNS)
	if d.DNS.Type != "A" || d.DNS.Name != "www.example.com" || d.Retry != 3 || d.Warmup >= 0 {
		t.Errorf("dns_check = %+v %+v (want keepalived's retry 3, warmup at once)", d, *d.DNS)
	}
	rs = rss[1]
	if rs.NotifyUp() != nil || !slices.Equal(rs.NotifyDown(), []string{"/usr/local/bin/rs_state", "down"}) {
		t.Errorf("notify of %s: %q %q", rs.Name, rs.NotifyUp(), rs.NotifyDown())
	}
	if u := byKind(rs, conf.CheckUDP); u.UDP.Payload != nil || !u.UDP.RequireReply || u.UDP.Reply != nil || u.UDP.MaxReplyLen != 255 {
		t.Errorf("udp_check = %+v", *u.UDP)
	}
	if d := byKind(rs, conf.CheckDNS); d.DNS.Type != "SOA" || d.DNS.Name != "." || d.Retry != 1 {
		t.Errorf("dns_check = %+v %+v", d, *d.DNS)
	}
	m := byKind(rss[2], conf.CheckMisc)
	if !m.Misc.Dynamic || m.Warmup.String() != "2s" {
		t.Errorf("misc_check = %+v %+v", m, *m.Misc)
	}
	if u := byKind(rss[3], conf.CheckUDP); u.UDP.Reply != nil || u.UDP.MinReplyLen != 0 || u.UDP.MaxReplyLen != 3 {
		t.Errorf("udp_check = %+v", *u.UDP)
	}
	// keepalived's warmup order: the checker's, the real server's, the
	// virtual server's (an invalid one is ignored).
	rss = cfg.VirtualServers[1].RealServers
	for _, tc := range []struct {
		rs   int
		kind string
		want string
	}{{0, conf.CheckDNS, "1.5s"}, {0, conf.CheckTCP, "7s"}, {1, conf.CheckDNS, "4s"}} {
		if got := byKind(rss[tc.rs], tc.kind).Warmup.String(); got != tc.want {
			t.Errorf("%s %s warmup = %s, want %s", rss[tc.rs].Name, tc.kind, got, tc.want)
		}
	}
}

func TestKeepalivedHex(t *testing.T) {
	for _, tc := range []struct {
		in       string
		wildcard bool
		want     []byte
		masked   bool
		ok       bool
	}{
		{"0a1bff", false, []byte{0x0a, 0x1b, 0xff}, false, true},
		{"a b", false, []byte{0x0a, 0x0b}, false, true},
		{" 0A\t1b ", false, []byte{0x0a, 0x1b}, false, true},
		{"123", false, []byte{0x12, 0x03}, false, true},
		{"0x", false, nil, false, false},
		{"0x", true, []byte{0x00}, true, true},
		{"0a:1b", false, nil, false, false},
		{"", false, nil, false, false},
		{"  ", true, nil, false, false},
		{"zz", true, nil, false, false},
	} {
		b, masked, ok := keepalivedHex(tc.in, tc.wildcard)
		if !slices.Equal(b, tc.want) || masked != tc.masked || ok != tc.ok {
			t.Errorf("keepalivedHex(%q, %v) = %x %v %v, want %x %v %v", tc.in, tc.wildcard, b, masked, ok, tc.want, tc.masked, tc.ok)
		}
	}
}

// TestConvertVRRPVersion: advert_int follows the version's wire format
// wherever version stands, and authentication is left out with version 3.
func TestConvertVRRPVersion(t *testing.T) {
	for _, tc := range []struct {
		body string
		want []string // "line severity keyword"
	}{
		{"advert_int 0.05\nversion 3", nil},
		{"advert_int 1.5", []string{"2 unsupported advert_int"}},
		{"version 3\nadvert_int 0.005", []string{"3 unsupported advert_int"}},
		{"version 3\nadvert_int 41", []string{"3 unsupported advert_int"}},
		{"version 4", []string{"2 unsupported version"}},
		{"v3_checksum_as_v2 maybe\nversion 3", []string{"2 unsupported v3_checksum_as_v2"}},
		{"version 3\nauthentication {\nauth_type PASS\nauth_pass x\n}", []string{"3 unsupported authentication"}},
	} {
		src := "vrrp_instance V {\n" + tc.body + "\ninterface eth0\nvirtual_router_id 1\npriority 100\nvirtual_ipaddress {\n192.0.2.1\n}\n}\n"
		nodes, err := Parse([]byte(src), "k.conf", Options{})
		if err != nil {
			t.Fatal(err)
		}
		res := Convert(nodes)
		var got []string
		for _, f := range res.Findings {
			got = append(got, itoa(f.Pos.Line)+" "+f.Severity.String()+" "+f.Keyword)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: findings %q, want %q", tc.body, got, tc.want)
		}
		checkValid(t, tc.body, res.HCL)
	}
}

// TestConvertRTPriority: vrrp_rt_priority becomes a note naming lvsd's
// flag (a process setting in lvsd), and a comment in the output.
func TestConvertRTPriority(t *testing.T) {
	src := "global_defs {\nrouter_id lb1\nvrrp_rt_priority 10\n}\nvrrp_instance V {\ninterface eth0\nvirtual_router_id 1\npriority 100\nvirtual_ipaddress {\n192.0.2.1\n}\n}\n"
	nodes, err := Parse([]byte(src), "k.conf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := Convert(nodes)
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.String())
	}
	want := []string{"k.conf:2: info: router_id: ignored (no effect on lvsd)",
		"k.conf:3: note: vrrp_rt_priority: start lvsd director with --realtime-priority 10 (a command-line flag in lvsd, not configuration)"}
	if !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	if !strings.Contains(string(res.HCL), "# lvsd convert: note (k.conf:3): vrrp_rt_priority 10: start `lvsd director --realtime-priority 10`") {
		t.Errorf("no note comment in:\n%s", res.HCL)
	}
	checkValid(t, "rt", res.HCL)
}

// TestConvertLVSSyncDaemon: global_defs lvs_sync_daemon, in its keyword
// and its old positional forms, loads as lvsd's lvs_sync_daemon with the
// same settings; a line lvsd cannot read is reported.
func TestConvertLVSSyncDaemon(t *testing.T) {
	inst := "vrrp_instance VI_1 {\ninterface eth0\nvirtual_router_id 51\npriority 100\nvirtual_ipaddress {\n192.0.2.1\n}\n}\n"
	for _, tc := range []struct {
		line string
		want *conf.LVSSyncDaemon // nil: reported unsupported
	}{
		{"lvs_sync_daemon eth1 VI_1", &conf.LVSSyncDaemon{Interface: "eth1", Instance: "VI_1", SyncID: 51}},
		{"lvs_sync_daemon eth1 VI_1 7", &conf.LVSSyncDaemon{Interface: "eth1", Instance: "VI_1", SyncID: 7}},
		{"lvs_sync_daemon eth1 inst VI_1 id 3 maxlen 1400 port 8850 ttl 2 group 239.0.0.9",
			&conf.LVSSyncDaemon{Interface: "eth1", Instance: "VI_1", SyncID: 3, MaxLen: 1400, Port: 8850, TTL: 2, Group: netip.MustParseAddr("239.0.0.9")}},
		{"lvs_sync_daemon eth1 VI_1 id 0 ttl 4", &conf.LVSSyncDaemon{Interface: "eth1", Instance: "VI_1", TTL: 4}},
		{"lvs_sync_daemon eth1", nil},
		{"lvs_sync_daemon eth1 VI_1 id x", nil},
		{"lvs_sync_daemon eth1 VI_1 bogus 1", nil},
	} {
		src := "global_defs {\n" + tc.line + "\n}\n" + inst
		nodes, err := Parse([]byte(src), "k.conf", Options{})
		if err != nil {
			t.Fatal(err)
		}
		res := Convert(nodes)
		cfg, diags := conf.Parse(res.HCL, "k.hcl")
		if diags.HasErrors() {
			t.Errorf("%s: %s\n%s", tc.line, diags, res.HCL)
			continue
		}
		if tc.want == nil {
			if res.Unsupported() != 1 || cfg.LVSSyncDaemon != nil {
				t.Errorf("%s: want one unsupported finding and no block; findings %v\n%s", tc.line, res.Findings, res.HCL)
			}
			continue
		}
		if res.Unsupported() != 0 || cfg.LVSSyncDaemon == nil {
			t.Errorf("%s: findings %v\n%s", tc.line, res.Findings, res.HCL)
			continue
		}
		got := *cfg.LVSSyncDaemon
		got.DeclRange = hcl.Range{}
		want := *tc.want
		if got.Interface != want.Interface || got.Instance != want.Instance || got.SyncID != want.SyncID || got.MaxLen != want.MaxLen ||
			got.Port != want.Port || got.TTL != want.TTL || got.Group != want.Group {
			t.Errorf("%s: loaded %+v, want %+v", tc.line, got, want)
		}
	}
}

// TestConvertVIPOptions: virtual_ipaddress and virtual_ipaddress_excluded
// lines keep dev (unless it is the instance's interface) and label, and
// load with them.
func TestConvertVIPOptions(t *testing.T) {
	src := `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    192.0.2.1/24 dev eth0 scope global
    203.0.113.1/24 dev eth1 label eth1:gw
  }
  virtual_ipaddress_excluded {
    2001:db8::1/64
    192.0.2.9 dev eth2 brd 192.0.2.255
  }
}
`
	nodes, err := Parse([]byte(src), "k.conf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := Convert(nodes)
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.String())
	}
	if want := []string{"k.conf:11: unsupported: virtual_ipaddress_excluded brd: keepalived would add 192.0.2.9 with brd 192.0.2.255"}; !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	cfg, diags := conf.Parse(res.HCL, "k.hcl")
	if diags.HasErrors() {
		t.Fatalf("%s\n%s", diags, res.HCL)
	}
	pfx := netip.MustParsePrefix
	want := []conf.VIPAddr{{Prefix: pfx("192.0.2.1/24")}, {Prefix: pfx("203.0.113.1/24"), Dev: "eth1", Label: "eth1:gw"}, {Prefix: pfx("2001:db8::1/64"), Excluded: true}}
	if a := cfg.VRRP[0].Addresses; !slices.Equal(a, want) {
		t.Errorf("addresses %+v, want %+v\n%s", a, want, res.HCL)
	}
}
