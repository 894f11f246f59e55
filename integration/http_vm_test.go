//go:build vm

package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// httpDirector is a director with a VRRP instance (auth_pass is a secret),
// one NAT service on the VIP with three real servers: a (checked against a listener
// on the director: up), b (checked against a closed port: down, kept at
// weight 0 by inhibit_on_failure) and c (weight 0, no check: draining),
// and the http block under test.
const httpDirector = `vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  advert_int        = 1
  authentication {
    auth_type = "PASS"
    auth_pass = "s3cr3tpw"
  }
  virtual_ipaddress = ["198.51.100.30/24"]
}

virtual_server "web" {
  address    = "198.51.100.30:80"
  lvs_sched  = "wrr"
  lvs_method = "NAT"
  delay_loop = "1s"

  real_server "a" {
    address = "198.51.100.10:80"
    weight  = 2
    tcp_check {
      connect_ip      = "198.51.100.20"
      connect_port    = 3306
      connect_timeout = "1s"
    }
  }
  real_server "b" {
    address            = "198.51.100.11:80"
    weight             = 1
    inhibit_on_failure = true
    tcp_check {
      connect_ip         = "198.51.100.20"
      connect_port       = 3307
      connect_timeout    = "1s"
      delay_before_retry = "1s"
    }
  }
  real_server "c" {
    address = "198.51.100.12:80"
    weight  = 0
  }
}

http {
  listen  = "198.51.100.20:9999"
  refresh = %d
  user "admin" {
    password_bcrypt = "` + statsHash + `"
  }
}
`

// TestHTTPEndpoint runs a director with kernel IPVS and its http block:
// /metrics, /status.json and /stats show the VRRP master, the IPVS counters
// and the three real servers in their states; a wrong password gets 401;
// a reload of the http block changes nothing else; no secret shows
// anywhere. Then Chromium (in the VM: slow under TCG, bounds are
// generous) loads the page with credentials, its DOM must show the real
// servers in their colours, and its screenshot must not be blank.
func TestHTTPEndpoint(t *testing.T) {
	l := newLab(t, "htv")
	h := addHost(t, l, "lvs", "198.51.100.20/24")
	if _, err := h.Run("modprobe", "ip_vs"); err != nil {
		t.Fatal(err)
	}
	up, err := h.Serve("198.51.100.20:3306", "mysql\n")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	good := fmt.Sprintf(httpDirector, 10)
	file, err := l.WriteFile("lvs.hcl", good)
	if err != nil {
		t.Fatal(err)
	}
	sock := l.Dir + "/lvs.sock"
	p, err := h.Start("lvsd", lvsdBin, "director", "-f", file, "--control", sock, "--pid-file", l.Dir+"/lvs.pid",
		"--resync-interval", "1s", "--log-level", "debug")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("lvsd log:\n%s", p.Output())
		}
	})
	c := netnsClient(h)
	const base = "http://198.51.100.20:9999"

	// Settled: master, a up (weight 2), b down at weight 0, c at 0.
	var metrics string
	took, ok := lab.WaitFor(60*time.Second, func() bool {
		resp, err := c.Get(base + "/healthz-not-a-page")
		if err != nil {
			return false
		}
		resp.Body.Close()
		_, metrics = httpGet(t, c, base+"/metrics", "admin", "stats-pw")
		return metricValue(metrics, "lvsd_vrrp_state", `state="MASTER"`) == 1 &&
			metricValue(metrics, "lvsd_real_server_up", `rs="a"`) == 1 &&
			metricValue(metrics, "lvsd_real_server_up", `rs="b"`) == 0 &&
			metricValue(metrics, "lvsd_real_server_kernel_weight", `rs="b"`) == 0 &&
			metricValue(metrics, "lvsd_real_server_kernel_weight", `rs="a"`) == 2
	})
	if !ok {
		t.Fatalf("metrics never showed master, a up (weight 2), b down (weight 0):\n%s", metrics)
	}
	t.Logf("settled after %v", took)

	// Traffic: a client on the LAN connects to the service on the VIP;
	// IPVS schedules each SYN (NAT to an address nobody answers on: the
	// kernel counts the connections all the same). wrr with weights
	// 2/0/0 sends every one to a.
	cli := addHost(t, l, "cli", "198.51.100.2/24")
	for range 3 {
		_, _ = cli.Dial("198.51.100.30:80", 300*time.Millisecond)
	}
	// The kernel publishes its counters from the rate estimator, every
	// 2 s, one estimator at a time: poll until the service's counters and
	// the real server's both show the connections. A dial whose deadline
	// passed before its SYN left (a stall of the loaded VM) sends nothing:
	// while a's count is short, dial again.
	if _, ok := lab.WaitFor(20*time.Second, func() bool {
		_, metrics = httpGet(t, c, base+"/metrics", "admin", "stats-pw")
		if metricValue(metrics, "lvsd_real_server_connections_total", `rs="a"`) < 3 {
			_, _ = cli.Dial("198.51.100.30:80", 300*time.Millisecond)
			return false
		}
		return metricValue(metrics, "lvsd_virtual_server_connections_total", `vs="web"`) >= 3 &&
			metricValue(metrics, "lvsd_virtual_server_in_packets_total", `vs="web"`) >= 3
	}); !ok {
		t.Errorf("the connections never showed in the kernel counters")
	}
	sum := sha256.Sum256([]byte(good))
	for _, m := range []struct {
		name   string
		labels []string
		check  func(float64) bool
		want   string
	}{
		{"lvsd_vrrp_state", []string{`instance="VI_1"`, `vrid="51"`, `state="MASTER"`}, eq(1), "1"},
		{"lvsd_vrrp_state", []string{`state="BACKUP"`}, eq(0), "0"},
		{"lvsd_vrrp_effective_priority", []string{`instance="VI_1"`}, eq(100), "100"},
		{"lvsd_vrrp_adverts_sent_total", []string{`instance="VI_1"`}, gt(0), "> 0"},
		{"lvsd_virtual_server_in_kernel", []string{`vs="web"`}, eq(1), "1"},
		{"lvsd_virtual_server_connections_total", []string{`vs="web"`, `address="198.51.100.30:80"`}, ge(3), ">= 3"},
		{"lvsd_virtual_server_in_packets_total", []string{`vs="web"`}, ge(3), ">= 3"},
		{"lvsd_real_server_connections_total", []string{`rs="a"`}, ge(3), ">= 3"},
		{"lvsd_real_server_connections_total", []string{`rs="b"`}, eq(0), "0"},
		{"lvsd_real_server_in_kernel", []string{`rs="b"`, `rs_address="198.51.100.11:80"`}, eq(1), "1"},
		{"lvsd_real_server_in_kernel", []string{`rs="c"`}, eq(1), "1"},
		{"lvsd_real_server_kernel_weight", []string{`rs="c"`}, eq(0), "0"},
		{"lvsd_real_server_weight", []string{`rs="a"`}, eq(2), "2"},
		{"lvsd_real_server_checked", []string{`rs="c"`}, eq(0), "0"},
		{"lvsd_real_server_check_transitions_total", []string{`rs="b"`}, ge(1), ">= 1"},
		{"lvsd_real_server_inactive_connections", []string{`rs="a"`}, ge(0), ">= 0"},
		{"lvsd_ipvs_sync_ok", nil, eq(1), "1"},
		{"lvsd_ipvs_managed_services", nil, eq(1), "1"},
		{"lvsd_config_info", []string{`sha256="` + hex.EncodeToString(sum[:]) + `"`}, eq(1), "1"},
		{"lvsd_config_reloads_total", []string{`result="success"`}, eq(0), "0"},
	} {
		if v := metricValue(metrics, m.name, m.labels...); !m.check(v) {
			t.Errorf("%s%v = %v, want %s", m.name, m.labels, v, m.want)
		}
	}
	if strings.Contains(metrics, "lvsd_build_info") {
		t.Error("lvsd_build_info exported without show_version")
	}

	// Wrong or missing credentials: 401 with the realm.
	for _, pass := range []string{"", "wrong", "s3cr3tpw"} {
		resp, _ := httpGet(t, c, base+"/stats", map[bool]string{true: "", false: "admin"}[pass == ""], pass)
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Basic realm="lvsd", charset="UTF-8"` {
			t.Errorf("password %q: %d %q", pass, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}

	// /status.json is the control socket's document (version hidden).
	_, js := httpGet(t, c, base+"/status.json", "admin", "stats-pw")
	ctl, err := h.Run(lvsdBin, "status", "--json", "--control", sock)
	if err != nil {
		t.Fatal(err)
	}
	var a, b map[string]any
	if err := json.Unmarshal([]byte(js), &a); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	if err := json.Unmarshal([]byte(ctl), &b); err != nil {
		t.Fatal(err)
	}
	if a["version"] != "" || a["mode"] != b["mode"] || fmt.Sprint(a["config"]) != fmt.Sprint(b["config"]) ||
		len(a["virtual_servers"].([]any)) != 1 || len(a["vrrp"].([]any)) != 1 {
		t.Errorf("/status.json differs from the control socket's:\n%s\n---\n%s", js, ctl)
	}

	_, page := httpGet(t, c, base+"/stats", "admin", "stats-pw")
	checkStatsDOM(t, page)

	// A reload that changes only the http block touches nothing else.
	before := len(p.Output())
	if err := os.WriteFile(file, []byte(fmt.Sprintf(httpDirector, 30)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := h.Run(lvsdBin, "reload", "--control", sock)
	if err != nil || !strings.Contains(out, "http settings changed") || strings.Contains(out, "vrrp_instance") || strings.Contains(out, "ipvs") {
		t.Errorf("http-only reload: %v\n%s", err, out)
	}
	_, page = httpGet(t, c, base+"/stats", "admin", "stats-pw")
	if !strings.Contains(page, `content="30"`) {
		t.Error("refresh not reloaded")
	}
	if after := p.Output()[before:]; strings.Contains(after, "vrrp state change") || strings.Contains(after, "ipvs op") {
		t.Errorf("http-only reload moved VRRP or IPVS:\n%s", after)
	}

	// Chromium, with the credentials in the URL (top-level navigations
	// may carry them); one run dumps the DOM and takes the screenshot
	// (each run takes minutes under TCG). The wrong-password case in
	// Chromium is the host test's (TestHTTPStatsChromiumHost).
	needChromium(t)
	shot := filepath.Join(t.TempDir(), "stats-page.png")
	dom := chromium(t, h, 10*time.Minute, "http://admin:stats-pw@198.51.100.20:9999/stats", "--dump-dom", "--screenshot="+shot)
	checkStatsDOM(t, dom)
	checkScreenshot(t, shot, map[string][3]int{"green (up)": {0x1f, 0x9d, 0x55}, "red (down)": {0xd0, 0x31, 0x2d}, "amber (draining)": {0xc7, 0x77, 0x00}, "blue (master)": {0x25, 0x63, 0xeb}})
	keepArtifact(t, shot)

	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Errorf("stop: %v", err)
	}
	for name, s := range map[string]string{"metrics": metrics, "status.json": js, "stats": page, "dom": dom, "log": p.Output()} {
		for _, secret := range []string{"s3cr3tpw", statsHash, statsHash[7:29], "stats-pw"} {
			if strings.Contains(s, secret) {
				t.Errorf("%s contains the secret %q", name, secret)
			}
		}
	}
}

func eq(w float64) func(float64) bool { return func(v float64) bool { return v == w } }
func ge(w float64) func(float64) bool { return func(v float64) bool { return v >= w } }
func gt(w float64) func(float64) bool { return func(v float64) bool { return v > w } }

// checkStatsDOM asserts the stats page (as served or as Chromium built it)
// shows the master and the three real servers in their states.
func checkStatsDOM(t *testing.T, dom string) {
	t.Helper()
	for _, re := range []string{
		`<span class="pill master">VI_1 MASTER</span>`,
		`<tr class="rs up">\s*<td><b>a</b></td><td class="mono">198\.51\.100\.10:80</td><td><span class="pill up">UP</span></td><td class="num">2 / 2</td>`,
		`<tr class="rs down has-err">\s*<td><b>b</b></td><td class="mono">198\.51\.100\.11:80</td><td><span class="pill down">DOWN \(inhibited, weight 0\)</span></td><td class="num">0 / 1</td>`,
		`<tr class="rs drain">\s*<td><b>c</b></td><td class="mono">198\.51\.100\.12:80</td><td><span class="pill drain">DRAINING \(weight 0\)</span>`,
		`connection refused`,
		`TCP 198\.51\.100\.30:80`,
	} {
		if !regexp.MustCompile(re).MatchString(dom) {
			t.Errorf("stats page lacks %s in\n%s", re, dom)
		}
	}
}
