//go:build integration || vm

package integration

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// Cost-4 bcrypt hash of "stats-pw" (cheap under TCG; the cost is the
// operator's choice, not lvsd's).
const statsHash = "$2a$04$zIDhLU86jZwpe0Fl4SjuDO/Q6F/M4p/nlui6rFFaYOJn4OEkCGmxe"

// netnsClient is an HTTP client whose connections are opened inside h's
// network namespace.
func netnsClient(h *lab.Host) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				var c net.Conn
				err := h.Do(func() error {
					var err error
					c, err = (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, network, addr)
					return err
				})
				return c, err
			},
		},
	}
}

// httpGet fetches url with basic auth (none when user is "").
func httpGet(t *testing.T, c *http.Client, url, user, pass string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// chromiumArgs are the flags of a headless, offline, throw-away Chromium
// run as root.
func chromiumArgs(t *testing.T) []string {
	return []string{"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--window-size=1280,900"}
}

func needChromium(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("chromium"); err != nil {
		t.Fatal("chromium is not installed (make deps installs it)")
	}
}

// chromium runs Chromium in h's namespace with extra (--dump-dom or
// --screenshot=FILE) on url and returns its standard output.
func chromium(t *testing.T, h *lab.Host, timeout time.Duration, url string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := append([]string{"netns", "exec", h.NS}, append(append(chromiumArgs(t), extra...), url)...)
	cmd := exec.CommandContext(ctx, "ip", args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, errb.String())
	}
	t.Logf("chromium %v took %v", extra, time.Since(start).Round(time.Millisecond))
	return out.String()
}

// pngStats decodes a screenshot and counts its distinct colours and the
// pixels close to each of want (RGB).
func pngStats(t *testing.T, path string, want map[string][3]int) (w, h, colours int, near map[string]int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	seen := map[uint32]bool{}
	near = map[string]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r8, g8, b8 := int(r>>8), int(g>>8), int(bl>>8)
			seen[uint32(r8)<<16|uint32(g8)<<8|uint32(b8)] = true
			for name, c := range want {
				if abs(r8-c[0]) <= 12 && abs(g8-c[1]) <= 12 && abs(b8-c[2]) <= 12 {
					near[name]++
				}
			}
		}
	}
	return b.Dx(), b.Dy(), len(seen), near
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// keepArtifact copies a file to $LVSD_ARTIFACTS (when set) so a run leaves
// the screenshot behind for people to look at.
func keepArtifact(t *testing.T, path string) {
	t.Helper()
	dir := os.Getenv("LVSD_ARTIFACTS")
	if dir == "" {
		t.Logf("artifact %s (set LVSD_ARTIFACTS=DIR to keep it)", path)
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("artifact kept: %s", dst)
}

// checkScreenshot: a 1280x900 PNG with real variety (text, tables: a
// blank or error page has a handful of colours) and each state colour
// present on a fair number of pixels.
func checkScreenshot(t *testing.T, path string, want map[string][3]int) {
	t.Helper()
	w, hgt, colours, near := pngStats(t, path, want)
	t.Logf("screenshot %dx%d, %d colours, state colour pixels %v", w, hgt, colours, near)
	if w != 1280 || hgt != 900 {
		t.Errorf("screenshot is %dx%d, want 1280x900", w, hgt)
	}
	if colours < 200 {
		t.Errorf("screenshot has %d colours: blank?", colours)
	}
	for name, n := range near {
		if n < 100 {
			t.Errorf("screenshot has only %d %s pixels", n, name)
		}
	}
	for name := range want {
		if near[name] == 0 {
			t.Errorf("screenshot has no %s pixel", name)
		}
	}
}

// metricValue returns the value of the first sample of name whose labels
// contain every labels fragment (-1 if none).
func metricValue(body, name string, labels ...string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			return v
		}
	}
	return -1
}
