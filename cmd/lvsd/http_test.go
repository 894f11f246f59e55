package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/vrrp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/crypto/bcrypt"
)

// Cost-4 bcrypt hashes (fast tests) of "stats-pw" and "ops-pw".
const (
	hashStatsPW = "$2a$04$zIDhLU86jZwpe0Fl4SjuDO/Q6F/M4p/nlui6rFFaYOJn4OEkCGmxe"
	hashOpsPW   = "$2y$04$ziHrf0kwjj0b3OUXIcG2CuaZ0TOKH.sI07D4woRZrh5MY/M9mIHuC"
)

func intp(i int) *int { return &i }

// sampleStatus is a director's status with one VRRP master and one
// virtual server whose real servers are up (a), down with an error that
// carries markup (b) and drained (c, weight 0).
func sampleStatus() statusDoc {
	t0 := time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)
	vsAddr := netip.MustParseAddrPort("198.51.100.40:80")
	return statusDoc{
		Mode: "director", Version: "v9.9.9-test", Started: t0,
		Config:     configStatus{File: "/etc/lvsd/lvsd.hcl", SHA256: strings.Repeat("ab", 32), Loaded: t0},
		LastReload: &reloadResult{At: t0.Add(time.Minute), Trigger: "SIGHUP", Applied: false, Error: "/etc/lvsd/lvsd.hcl: invalid configuration"},
		VRRP: []vrrpStatus{{Status: vrrp.Status{Name: "VI_1", VRID: 51, Interface: "eth0", State: "MASTER", Priority: 100,
			VIPs: []string{"198.51.100.30/24"}, MasterIP: "198.51.100.20", Transitions: 2, LastTransition: t0,
			RxAdverts: 3, TxAdverts: 42, Drops: map[string]uint64{"auth": 5, "ttl": 1}}, EffectivePriority: 100}},
		VirtualServers: []vsStatus{{Name: "web", Protocol: "TCP", Addr: vsAddr, Sched: "wrr", Method: "NAT", InKernel: true,
			Stats: &ipvs.Counters{Conns: 10, InPkts: 100, OutPkts: 90, InBytes: 5000, OutBytes: 9000, CPS: 2, InBPS: 300, OutBPS: 400},
			RealServers: []rsStatus{
				{Name: "a", Addr: netip.MustParseAddrPort("198.51.100.10:80"), Weight: 2, KernelWeight: intp(2), Check: "up", Transitions: 0,
					ActiveConns: 3, InactConns: 1, Stats: &ipvs.Counters{Conns: 10, InBytes: 5000, OutBytes: 9000, CPS: 2}},
				{Name: "b<i>", Addr: netip.MustParseAddrPort("198.51.100.11:80"), Weight: 1, Check: "down", Transitions: 1,
					LastError: `dial tcp 198.51.100.11:80: connect: connection refused <img src=x onerror=alert(1)>`},
				{Name: "c", Addr: netip.MustParseAddrPort("198.51.100.12:80"), Weight: 0, KernelWeight: intp(0), Check: "none",
					Stats: &ipvs.Counters{}},
			}}},
		IPVSSync: &ipvsSync{Managed: 1, Synced: t0},
	}
}

func testEndpoint(t *testing.T, cfg *conf.HTTP, st statusDoc, logs io.Writer) *httptest.Server {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	e := newHTTPEndpoint(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		func() statusDoc { return st }, func() reloadCounts { return reloadCounts{OK: 4, Failed: 1} })
	e.settings.Store(newHTTPSettings(cfg))
	srv := httptest.NewServer(e.handler())
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url, user, pass string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHTTPAuth(t *testing.T) {
	users := []conf.HTTPUser{{Name: "admin", PasswordBcrypt: hashStatsPW}, {Name: "ops", PasswordBcrypt: hashOpsPW}}
	withAuth := &conf.HTTP{Realm: "LB prod", Refresh: 5 * time.Second, Users: users, MetricsAuth: true}
	openMetrics := &conf.HTTP{Realm: "lvsd", Users: users, MetricsAuth: false}
	noUsers := &conf.HTTP{Realm: "lvsd"}
	for _, tc := range []struct {
		name       string
		cfg        *conf.HTTP
		path       string
		user, pass string
		want       int
	}{
		{"stats no creds", withAuth, "/stats", "", "", 401},
		{"stats wrong pass", withAuth, "/stats", "admin", "wrong", 401},
		{"stats other user's pass", withAuth, "/stats", "admin", "ops-pw", 401},
		{"stats unknown user", withAuth, "/stats", "root", "stats-pw", 401},
		{"stats empty user", withAuth, "/stats", "", "stats-pw", 401},
		{"stats admin", withAuth, "/stats", "admin", "stats-pw", 200},
		{"stats ops ($2y$)", withAuth, "/stats", "ops", "ops-pw", 200},
		{"json no creds", withAuth, "/status.json", "", "", 401},
		{"json admin", withAuth, "/status.json", "admin", "stats-pw", 200},
		{"metrics no creds", withAuth, "/metrics", "", "", 401},
		{"metrics admin", withAuth, "/metrics", "admin", "stats-pw", 200},
		{"root no creds", withAuth, "/", "", "", 401},
		{"unknown path", withAuth, "/admin", "admin", "stats-pw", 404},
		{"open metrics", openMetrics, "/metrics", "", "", 200},
		{"open metrics, stats still closed", openMetrics, "/stats", "", "", 401},
		{"no users stats", noUsers, "/stats", "", "", 200},
		{"no users metrics", noUsers, "/metrics", "", "", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			srv := testEndpoint(t, tc.cfg, sampleStatus(), &logs)
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			req, _ := http.NewRequest("GET", srv.URL+tc.path, nil)
			if tc.user != "" || tc.pass != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("%s: %d, want %d", tc.path, resp.StatusCode, tc.want)
			}
			wa := resp.Header.Get("WWW-Authenticate")
			if tc.want == 401 && wa != fmt.Sprintf(`Basic realm=%q, charset="UTF-8"`, tc.cfg.Realm) {
				t.Errorf("WWW-Authenticate %q", wa)
			}
			if tc.want != 401 && wa != "" {
				t.Errorf("WWW-Authenticate on %d: %q", resp.StatusCode, wa)
			}
			if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("security headers missing: %v", resp.Header)
			}
			for _, secret := range []string{"stats-pw", "ops-pw", "wrong", hashStatsPW, hashOpsPW} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("logs contain %q:\n%s", secret, logs.String())
				}
			}
			if tc.user == "admin" && tc.want == 401 && !strings.Contains(logs.String(), "authentication failed") {
				t.Errorf("failed login not logged:\n%s", logs.String())
			}
		})
	}
	// GET / redirects to the stats page.
	srv := testEndpoint(t, noUsers, sampleStatus(), nil)
	resp, _ := get(t, srv.URL+"/", "", "")
	if resp.Request.URL.Path != "/stats" {
		t.Errorf("/ ended at %s", resp.Request.URL)
	}
}

// TestHTTPAuthLogLimited: a burst of wrong passwords logs one line, and
// the next line says how many were held back.
func TestHTTPAuthLogLimited(t *testing.T) {
	var logs bytes.Buffer
	srv := testEndpoint(t, &conf.HTTP{Realm: "lvsd", Users: []conf.HTTPUser{{Name: "admin", PasswordBcrypt: hashStatsPW}}}, sampleStatus(), &logs)
	for i := range 20 {
		if resp, _ := get(t, srv.URL+"/stats", "admin", fmt.Sprint("guess", i)); resp.StatusCode != 401 {
			t.Fatalf("guess %d: %d", i, resp.StatusCode)
		}
	}
	time.Sleep(authLogInterval)
	get(t, srv.URL+"/stats", "admin", "last-guess")
	lines := strings.Count(logs.String(), "authentication failed")
	if lines < 2 || lines > 4 || !regexp.MustCompile(`suppressed=1[0-9]`).MatchString(logs.String()) {
		t.Errorf("%d lines for 21 failures:\n%s", lines, logs.String())
	}
	if strings.Contains(logs.String(), "guess") {
		t.Errorf("a password reached the log:\n%s", logs.String())
	}
}

// TestHTTPAuthCache: a verified credential is cached per settings
// generation; a new generation (reload) forgets it, and a wrong password
// never enters the cache.
func TestHTTPAuthCache(t *testing.T) {
	s := newHTTPSettings(&conf.HTTP{Users: []conf.HTTPUser{{Name: "admin", PasswordBcrypt: hashStatsPW}}})
	req := httptest.NewRequest("GET", "/stats", nil)
	req.SetBasicAuth("admin", "nope")
	if _, ok := s.authorized(req); ok || len(s.verified) != 0 {
		t.Fatalf("wrong password accepted or cached (%d)", len(s.verified))
	}
	req.SetBasicAuth("admin", "stats-pw")
	for range 3 {
		if _, ok := s.authorized(req); !ok {
			t.Fatal("right password refused")
		}
	}
	if len(s.verified) != 1 {
		t.Errorf("%d cache entries, want 1", len(s.verified))
	}
	// Same user, hash changed by a reload: the old password no longer works.
	s2 := newHTTPSettings(&conf.HTTP{Users: []conf.HTTPUser{{Name: "admin", PasswordBcrypt: hashOpsPW}}})
	if _, ok := s2.authorized(req); ok {
		t.Error("old password accepted after the hash changed")
	}
}

func TestHTTPMetrics(t *testing.T) {
	e := newHTTPEndpoint(slog.New(slog.DiscardHandler), sampleStatus, func() reloadCounts { return reloadCounts{OK: 4, Failed: 1} })
	e.settings.Store(newHTTPSettings(&conf.HTTP{Realm: "lvsd"}))
	c := &lvsdCollector{e: e}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
	// The exposition sorts labels by name.
	rs := `address="198.51.100.40:80",protocol="TCP",rs="%s",rs_address="198.51.100.%d:80",vs="web"`
	lbl := func(name string, n int) string { return fmt.Sprintf(rs, name, n) }
	vl := `address="198.51.100.40:80",protocol="TCP",vs="web"`
	vr := `instance="VI_1",interface="eth0",vrid="51"`
	vrx := func(k, v string) string { return `instance="VI_1",interface="eth0",` + k + `="` + v + `",vrid="51"` }
	want := `
# HELP lvsd_config_reloads_total Reloads since start, by result (success: the new file runs; failure: refused, the old one kept).
# TYPE lvsd_config_reloads_total counter
lvsd_config_reloads_total{result="failure"} 1
lvsd_config_reloads_total{result="success"} 4
# HELP lvsd_config_last_reload_successful 1 if the last reload was applied, 0 if it was refused (absent before the first reload).
# TYPE lvsd_config_last_reload_successful gauge
lvsd_config_last_reload_successful 0
# HELP lvsd_config_info The running configuration: file and sha256 of its bytes.
# TYPE lvsd_config_info gauge
lvsd_config_info{file="/etc/lvsd/lvsd.hcl",sha256="` + strings.Repeat("ab", 32) + `"} 1
# HELP lvsd_vrrp_state 1 for the instance's current VRRP state, 0 for the others.
# TYPE lvsd_vrrp_state gauge
lvsd_vrrp_state{` + vrx("state", "BACKUP") + `} 0
lvsd_vrrp_state{` + vrx("state", "INIT") + `} 0
lvsd_vrrp_state{` + vrx("state", "MASTER") + `} 1
# HELP lvsd_vrrp_effective_priority Priority sent in adverts.
# TYPE lvsd_vrrp_effective_priority gauge
lvsd_vrrp_effective_priority{` + vr + `} 100
# HELP lvsd_vrrp_adverts_sent_total VRRP adverts sent.
# TYPE lvsd_vrrp_adverts_sent_total counter
lvsd_vrrp_adverts_sent_total{` + vr + `} 42
# HELP lvsd_vrrp_drops_total VRRP packets dropped, by reason.
# TYPE lvsd_vrrp_drops_total counter
lvsd_vrrp_drops_total{` + vrx("reason", "auth") + `} 5
lvsd_vrrp_drops_total{` + vrx("reason", "ttl") + `} 1
# HELP lvsd_virtual_server_connections_total Connections scheduled (kernel IPVS counters).
# TYPE lvsd_virtual_server_connections_total counter
lvsd_virtual_server_connections_total{` + vl + `} 10
# HELP lvsd_virtual_server_out_bytes_per_second Outgoing byte rate estimated by the kernel.
# TYPE lvsd_virtual_server_out_bytes_per_second gauge
lvsd_virtual_server_out_bytes_per_second{` + vl + `} 400
# HELP lvsd_real_server_up 1 if the real server's checks pass (or it has none), 0 if down.
# TYPE lvsd_real_server_up gauge
lvsd_real_server_up{` + lbl("a", 10) + `} 1
lvsd_real_server_up{` + lbl("b<i>", 11) + `} 0
lvsd_real_server_up{` + lbl("c", 12) + `} 1
# HELP lvsd_real_server_kernel_weight Weight in the kernel IPVS table (absent when the server is not in it).
# TYPE lvsd_real_server_kernel_weight gauge
lvsd_real_server_kernel_weight{` + lbl("a", 10) + `} 2
lvsd_real_server_kernel_weight{` + lbl("c", 12) + `} 0
# HELP lvsd_real_server_check_transitions_total Health check state changes of the real server.
# TYPE lvsd_real_server_check_transitions_total counter
lvsd_real_server_check_transitions_total{` + lbl("a", 10) + `} 0
lvsd_real_server_check_transitions_total{` + lbl("b<i>", 11) + `} 1
lvsd_real_server_check_transitions_total{` + lbl("c", 12) + `} 0
# HELP lvsd_real_server_active_connections Active connections (kernel).
# TYPE lvsd_real_server_active_connections gauge
lvsd_real_server_active_connections{` + lbl("a", 10) + `} 3
lvsd_real_server_active_connections{` + lbl("c", 12) + `} 0
# HELP lvsd_real_server_out_bytes_total Outgoing bytes (kernel IPVS counters).
# TYPE lvsd_real_server_out_bytes_total counter
lvsd_real_server_out_bytes_total{` + lbl("a", 10) + `} 9000
lvsd_real_server_out_bytes_total{` + lbl("c", 12) + `} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"lvsd_config_reloads_total", "lvsd_config_last_reload_successful", "lvsd_config_info",
		"lvsd_vrrp_state", "lvsd_vrrp_effective_priority", "lvsd_vrrp_adverts_sent_total", "lvsd_vrrp_drops_total",
		"lvsd_virtual_server_connections_total", "lvsd_virtual_server_out_bytes_per_second",
		"lvsd_real_server_up", "lvsd_real_server_kernel_weight", "lvsd_real_server_check_transitions_total",
		"lvsd_real_server_active_connections", "lvsd_real_server_out_bytes_total"); err != nil {
		t.Error(err)
	}
	// The version is a metric only when shown.
	if n := testutil.CollectAndCount(c, "lvsd_build_info"); n != 0 {
		t.Errorf("lvsd_build_info exported with show_version off")
	}
	e.settings.Store(newHTTPSettings(&conf.HTTP{Realm: "lvsd", ShowVersion: true}))
	if err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP lvsd_build_info lvsd's version (only with show_version = true).
# TYPE lvsd_build_info gauge
lvsd_build_info{version="v9.9.9-test"} 1
`), "lvsd_build_info"); err != nil {
		t.Error(err)
	}

	// Through HTTP: Prometheus text format, Go and process metrics too.
	srv := testEndpoint(t, &conf.HTTP{Realm: "lvsd"}, sampleStatus(), nil)
	resp, body := get(t, srv.URL+"/metrics", "", "")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Errorf("content type %q", resp.Header.Get("Content-Type"))
	}
	for _, s := range []string{"\nlvsd_real_server_up{", "\ngo_goroutines ", "\nprocess_start_time_seconds "} {
		if !strings.Contains(body, s) {
			t.Errorf("/metrics lacks %q", s)
		}
	}
}

func TestHTTPStatusJSON(t *testing.T) {
	st := sampleStatus()
	for _, show := range []bool{false, true} {
		srv := testEndpoint(t, &conf.HTTP{Realm: "lvsd", ShowVersion: show}, st, nil)
		resp, body := get(t, srv.URL+"/status.json", "", "")
		if resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("content type %q", resp.Header.Get("Content-Type"))
		}
		want := st
		if !show {
			want.Version = ""
		}
		exp, _ := json.MarshalIndent(want, "", "  ")
		if strings.TrimSpace(body) != string(exp) {
			t.Errorf("show_version=%v: /status.json differs from the control socket document:\n%s\nwant\n%s", show, body, exp)
		}
		if strings.Contains(body, "v9.9.9-test") != show {
			t.Errorf("show_version=%v: version shown = %v", show, !show)
		}
	}
}

func TestHTTPStatsPage(t *testing.T) {
	srv := testEndpoint(t, &conf.HTTP{Realm: "lvsd", Refresh: 5 * time.Second}, sampleStatus(), nil)
	resp, body := get(t, srv.URL+"/stats", "", "")
	if resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("content type %q", resp.Header.Get("Content-Type"))
	}
	for _, re := range []string{
		`<meta http-equiv="refresh" content="5">`,
		`<tr class="rs up">\s*<td><b>a</b></td><td class="mono">198\.51\.100\.10:80</td><td><span class="pill up">UP</span></td><td class="num">2 / 2</td>`,
		`<tr class="rs down has-err">\s*<td><b>b&lt;i&gt;</b></td><td class="mono">198\.51\.100\.11:80</td><td><span class="pill down">DOWN</span></td><td class="num">- / 1</td>`,
		`<tr class="rs drain">\s*<td><b>c</b></td>.*<span class="pill drain">DRAINING \(weight 0\)</span>`,
		`connection refused &lt;img src=x onerror=alert\(1\)&gt;`,
		`<span class="pill master">VI_1 MASTER</span>`,
		`<td class="mono">auth=5,ttl=1</td>`,
		`TCP 198\.51\.100\.40:80</span><span class="tag">scheduler wrr · NAT \(Masq\)</span>`,
		`10 conns · 2 conn/s`,
		`Last reload \(\d+[smhd].*\) was refused: /etc/lvsd/lvsd\.hcl: invalid configuration`,
		`<small>Real servers up</small><b>1</b>`,
		`<small>Down</small><b>1</b>`,
		`<small>Draining</small><b>1</b>`,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("stats page lacks %s", re)
		}
	}
	for _, bad := range []string{"<img", "<i>", "v9.9.9-test", "<script", "http://", "https://"} {
		if strings.Contains(body, bad) {
			t.Errorf("stats page contains %q", bad)
		}
	}
	// Version shown when enabled; no auto-refresh with refresh = 0.
	srv = testEndpoint(t, &conf.HTTP{Realm: "lvsd", ShowVersion: true}, sampleStatus(), nil)
	_, body = get(t, srv.URL+"/stats", "", "")
	if !strings.Contains(body, "lvsd v9.9.9-test") || strings.Contains(body, `http-equiv="refresh"`) {
		t.Errorf("show_version / refresh 0 not honoured")
	}
}

func TestRSClass(t *testing.T) {
	for _, tc := range []struct {
		rs          rsStatus
		class, text string
	}{
		{rsStatus{Check: "up", Weight: 1, KernelWeight: intp(1)}, "up", "UP"},
		{rsStatus{Check: "none", Weight: 1, KernelWeight: intp(1)}, "up", "UP (no check)"},
		{rsStatus{Check: "down", Weight: 1}, "down", "DOWN"},
		{rsStatus{Check: "down", Weight: 1, KernelWeight: intp(0)}, "down", "DOWN (inhibited, weight 0)"},
		{rsStatus{Check: "up", Weight: 0, KernelWeight: intp(0)}, "drain", "DRAINING (weight 0)"},
		{rsStatus{Check: "up", Weight: 3, KernelWeight: intp(0)}, "drain", "DRAINING (weight 0)"},
	} {
		if c, txt := rsClass(tc.rs); c != tc.class || txt != tc.text {
			t.Errorf("%+v: %s %q, want %s %q", tc.rs, c, txt, tc.class, tc.text)
		}
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

const httpTestFile = vrrpBlock + `virtual_server "mysql" {
  address    = "198.51.100.30:3306"
  lvs_method = "DR"
  real_server "db1" {
    address = "198.51.100.10:3306"
    mysql_check {
      user     = "lvsd_check"
      password = "mysqlpw9x"
    }
  }
}
http {
  listen = "127.0.0.1:%d"
  user "admin" {
    password_bcrypt = "` + hashStatsPW + `"
  }
}
`

// TestHTTPDaemonReloadAndSecrets runs the endpoint inside a daemon built
// from a file with every kind of secret: the three pages never show them,
// nor do the logs; a reload moves the listener, a reload to an address
// that is taken is refused and the old listener keeps serving, and
// removing the block stops it.
func TestHTTPDaemonReloadAndSecrets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "lvsd.hcl")
	port1 := freePort(t)
	write := func(port int, extra string) {
		t.Helper()
		src := fmt.Sprintf(httpTestFile, 100, port)
		if err := os.WriteFile(file, []byte(src+extra), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(port1, "")
	// The reconciler goroutine started by a reload logs while the test
	// reads the log at the end.
	var logs lockedBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l, _, _, err := loadFor(modeDirector, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := &daemonOptions{file: file, resync: time.Hour}
	dr := newDirector(l.cfg, o, log)
	// Not started (VRRP would open sockets): the reloads below start
	// the IPVS reconciler on a fake kernel, under this context.
	dr.ctx, dr.cancel = context.WithCancel(context.Background())
	defer func() { dr.cancel(); dr.wg.Wait() }()
	for _, vi := range l.cfg.VRRP {
		inst, err := vrrp.New(vi, log) // not run: no sockets
		if err != nil {
			t.Fatal(err)
		}
		dr.inst[vi.Name] = &runningInstance{cfg: vi, inst: inst}
	}
	dr.checks.Set(l.cfg.VirtualServers)
	fk := &fakeKernel{table: map[ipvs.Key]ipvs.Service{}}
	dr.newKernel = func() (ipvs.Kernel, error) { return fk, nil }
	d := &daemon{mode: modeDirector, opts: o, svc: dr, log: log, notify: notifier{log: log},
		config: configStatus{File: file, SHA256: l.sha256(), Loaded: time.Now()}}
	d.http = newHTTPEndpoint(log, d.status, d.reloadCounts)
	if err := d.http.apply(l.cfg.HTTP); err != nil {
		t.Fatal(err)
	}
	defer d.http.close()

	base := fmt.Sprintf("http://127.0.0.1:%d", port1)
	pages := map[string]string{}
	for _, p := range []string{"/metrics", "/status.json", "/stats"} {
		resp, body := get(t, base+p, "admin", "stats-pw")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
		pages[p] = body
		if resp, _ := get(t, base+p, "admin", "mysqlpw9x"); resp.StatusCode != 401 {
			t.Errorf("%s with a wrong password: %d", p, resp.StatusCode)
		}
	}
	if !strings.Contains(pages["/stats"], "db1") || !strings.Contains(pages["/metrics"], `lvsd_vrrp_priority{instance="VI_1",interface="eth0",vrid="51"} 100`) {
		t.Errorf("pages lack the director's state:\n%s\n%s", pages["/stats"], pages["/metrics"])
	}

	// A broken reload whose error is on the hash's own line: refused, the
	// diagnostics (which quote the line) redact it.
	src, _ := os.ReadFile(file)
	if err := os.WriteFile(file, bytes.Replace(src, []byte(hashStatsPW), []byte(hashStatsPW[:40]), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	r := d.reload("control")
	if r.Applied || !strings.Contains(r.Diagnostics, "password_bcrypt") {
		t.Fatalf("broken hash reload: %+v", r)
	}
	_, pages["/status.json after refused reload"] = get(t, base+"/status.json", "admin", "stats-pw")

	// Move to another port: the old one stops answering.
	port2 := freePort(t)
	write(port2, "")
	if r := d.reload("control"); !r.Applied || !strings.Contains(strings.Join(r.Changes, ";"), fmt.Sprintf("moved from 127.0.0.1:%d to 127.0.0.1:%d", port1, port2)) {
		t.Fatalf("move reload: %+v", r)
	}
	if resp, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/stats", port2), "admin", "stats-pw"); resp.StatusCode != 200 {
		t.Errorf("new listener: %d", resp.StatusCode)
	}
	if _, err := http.Get(base + "/stats"); err == nil {
		t.Errorf("old listener still answers")
	}

	// An address already in use: the reload is refused, port2 keeps serving.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	write(busy.Addr().(*net.TCPAddr).Port, "")
	r = d.reload("control")
	if r.Applied || !strings.Contains(r.Error, "address already in use") {
		t.Fatalf("busy port reload: %+v", r)
	}
	resp, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", port2), "admin", "stats-pw")
	if resp.StatusCode != 200 || !strings.Contains(body, `lvsd_config_reloads_total{result="failure"} 2`) ||
		!strings.Contains(body, `lvsd_config_reloads_total{result="success"} 1`) || !strings.Contains(body, "lvsd_config_last_reload_successful 0") {
		t.Errorf("after a refused reload the old listener must serve and count it:\n%s", body)
	}
	pages["/metrics after"] = body

	// The block removed: the endpoint stops.
	if err := os.WriteFile(file, []byte(fmt.Sprintf(vrrpBlock, 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := d.reload("control"); !r.Applied || d.http.addr() != "" {
		t.Fatalf("removing http: %+v, still on %q", r, d.http.addr())
	}

	pages["logs"] = logs.String()
	for name, out := range pages {
		for _, secret := range []string{"s3cr3tpw", "mysqlpw9x", hashStatsPW, hashStatsPW[:40], hashStatsPW[7:29], "stats-pw"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s contains the secret %q", name, secret)
			}
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for a logger writing from other
// goroutines while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDummyHash: the constant is a bcrypt hash of its documented text at
// the default cost, so an unknown user costs what a known one does.
func TestDummyHash(t *testing.T) {
	if err := bcrypt.CompareHashAndPassword(dummyHash, []byte("lvsd: no such user")); err != nil {
		t.Fatal(err)
	}
	if c, err := bcrypt.Cost(dummyHash); err != nil || c != bcrypt.DefaultCost {
		t.Fatalf("cost %d %v, want %d", c, err, bcrypt.DefaultCost)
	}
}
