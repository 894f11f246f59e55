//go:build integration

package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

func httpBlock(port int) string {
	return fmt.Sprintf(`
http {
  listen       = "198.51.100.20:%d"
  refresh      = 5
  show_version = true
  user "admin" {
    password_bcrypt = "%s"
  }
}
`, port, statsHash)
}

// TestHTTPStatsChromiumHost runs a VRRP-only director (this kernel has no
// IPVS; the VM test TestHTTPEndpoint covers the real servers) with an http
// block in a namespace: Chromium loads the stats page with credentials and
// shows the master, refuses a wrong password, and its screenshot is not
// blank. Reloads move the listener, or are refused when the new address is
// taken while the old listener keeps serving.
func TestHTTPStatsChromiumHost(t *testing.T) {
	needChromium(t)
	l := newLab(t, "hth")
	h := addHost(t, l, "lvs", "198.51.100.20/24")
	const secret = "s3cr3tpw"
	p := startDirector(t, l, h, vrrpOnly("MASTER", 100, secret, false)+httpBlock(9999))
	file := filepath.Join(l.Dir, "lvs.hcl")
	sock := l.Dir + "/lvs.sock"
	waitVIP(t, h, true, 10*time.Second)
	c := netnsClient(h)

	var metrics string
	if _, ok := lab.WaitFor(10*time.Second, func() bool {
		resp, err := c.Get("http://198.51.100.20:9999/metrics")
		if err != nil {
			return false
		}
		resp.Body.Close()
		_, metrics = httpGet(t, c, "http://198.51.100.20:9999/metrics", "admin", "stats-pw")
		return metricValue(metrics, "lvsd_vrrp_state", `state="MASTER"`) == 1 && metricValue(metrics, "lvsd_vrrp_adverts_sent_total") > 0
	}); !ok {
		t.Fatalf("metrics never showed the master:\n%s", metrics)
	}
	if metricValue(metrics, "lvsd_build_info", `version="`) != 1 {
		t.Errorf("show_version = true but no lvsd_build_info")
	}
	if resp, _ := httpGet(t, c, "http://198.51.100.20:9999/metrics", "admin", "wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password on /metrics: %d", resp.StatusCode)
	}

	shot := filepath.Join(t.TempDir(), "stats-page-vrrp.png")
	dom := chromium(t, h, 2*time.Minute, "http://admin:stats-pw@198.51.100.20:9999/stats", "--dump-dom", "--screenshot="+shot)
	for _, want := range []string{`<span class="pill master">VI_1 MASTER</span>`, `<td class="mono">198.51.100.30/24</td>`, `content="5"`, `<div class="meta">lvsd `} {
		if !strings.Contains(dom, want) {
			t.Errorf("Chromium's DOM lacks %s:\n%s", want, dom)
		}
	}
	// A wrong password: headless Chromium shows nothing of the page
	// (it cannot prompt) and lvsd logs the refusal, without the password.
	failures := strings.Count(p.Output(), `msg="http: authentication failed" user=admin`)
	denied := chromium(t, h, 2*time.Minute, "http://admin:wrong@198.51.100.20:9999/stats", "--dump-dom")
	if strings.Contains(denied, "VI_1") || strings.Count(p.Output(), `msg="http: authentication failed" user=admin`) <= failures {
		t.Errorf("wrong password: Chromium shows\n%s\nlog:\n%s", denied, p.Output())
	}
	checkScreenshot(t, shot, map[string][3]int{"blue (master)": {0x25, 0x63, 0xeb}, "dark header": {0x17, 0x20, 0x2d}})
	keepArtifact(t, shot)

	// Move the listener.
	content := vrrpOnly("MASTER", 100, secret, false)
	if err := os.WriteFile(file, []byte(content+httpBlock(9998)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := h.Run(lvsdBin, "reload", "--control", sock)
	if err != nil || !strings.Contains(out, "http endpoint moved from 198.51.100.20:9999 to 198.51.100.20:9998") {
		t.Fatalf("move: %v\n%s", err, out)
	}
	if resp, _ := httpGet(t, c, "http://198.51.100.20:9998/stats", "admin", "stats-pw"); resp.StatusCode != 200 {
		t.Errorf("new listener: %d", resp.StatusCode)
	}
	if _, err := c.Get("http://198.51.100.20:9999/stats"); err == nil {
		t.Error("old listener still answers")
	}

	// A taken address: refused, 9998 keeps serving, the failure counted.
	busy, err := h.Serve("198.51.100.20:9997", "busy\n")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if err := os.WriteFile(file, []byte(content+httpBlock(9997)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = h.Run(lvsdBin, "reload", "--control", sock)
	if err == nil || !strings.Contains(out, "address already in use") {
		t.Errorf("taken address: want exit 1 and the reason: %v\n%s", err, out)
	}
	resp, body := httpGet(t, c, "http://198.51.100.20:9998/metrics", "admin", "stats-pw")
	if resp.StatusCode != 200 || metricValue(body, "lvsd_config_reloads_total", `result="failure"`) != 1 ||
		metricValue(body, "lvsd_config_reloads_total", `result="success"`) != 1 || metricValue(body, "lvsd_config_last_reload_successful") != 0 {
		t.Errorf("after the refused reload:\n%s", body)
	}
	if !h.HasAddr(vip) {
		t.Error("the refused reload cost the VIP")
	}

	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Errorf("stop: %v", err)
	}
	for name, s := range map[string]string{"metrics": metrics + body, "dom": dom, "log": p.Output()} {
		for _, bad := range []string{secret, statsHash, statsHash[7:29], "stats-pw"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s contains the secret %q", name, bad)
			}
		}
	}
}
