//go:build vm

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// TestMiscDynamicWeight runs a director with a misc_check { misc_dynamic }
// whose script exits with the code found in a file, and follows the
// kernel weight in ipvsadm -Ln as the code changes: keepalived's mapping,
// 2-255 -> code - 2, 0 -> the configured weight, 1 -> down (removed).
func TestMiscDynamicWeight(t *testing.T) {
	l := newLab(t, "hkd")
	h := addHost(t, l, "lvs", "198.51.100.20/24")
	if _, err := h.Run("modprobe", "ip_vs"); err != nil {
		t.Fatal(err)
	}
	codeFile := filepath.Join(l.Dir, "code")
	setCode := func(code int) {
		t.Helper()
		if err := os.WriteFile(codeFile, fmt.Appendf(nil, "%d\n", code), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setCode(12)
	script := filepath.Join(l.Dir, "weight.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexit $(cat "+codeFile+")\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	file, err := l.WriteFile("lvs.hcl", `virtual_server "web" {
  address    = "198.51.100.40:80"
  lvs_sched  = "wrr"
  lvs_method = "NAT"
  delay_loop = "1s"

  real_server "a" {
    address = "198.51.100.10:80"
    weight  = 3
    misc_check {
      misc_path    = "`+script+`"
      misc_dynamic = true
      retry        = 0
      warmup       = 0
    }
  }
}
`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.Start("lvsd", lvsdBin, "director", "-f", file, "--control", l.Dir+"/lvs.sock", "--pid-file", l.Dir+"/lvs.pid")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("lvsd log:\n%s", p.Output())
		}
	})
	var last string
	wait := func(what string, re *regexp.Regexp, present bool) {
		t.Helper()
		start := time.Now()
		if _, ok := lab.WaitFor(20*time.Second, func() bool {
			last, _ = h.Run("ipvsadm", "-Ln")
			return re.MatchString(last) == present
		}); !ok {
			t.Fatalf("%s; ipvsadm -Ln:\n%s", what, last)
		}
		t.Logf("%s after %v", what, time.Since(start).Round(time.Millisecond))
	}
	weight := func(w string) *regexp.Regexp {
		return regexp.MustCompile(`->\s+198\.51\.100\.10:80\s+Masq\s+` + w + `\s`)
	}
	wait("exit 12 -> weight 10", weight("10"), true)
	setCode(0)
	wait("exit 0 -> configured weight 3", weight("3"), true)
	setCode(52)
	wait("exit 52 -> weight 50", weight("50"), true)
	setCode(1)
	wait("exit 1 -> removed", regexp.MustCompile(`198\.51\.100\.10:80`), false)
	setCode(2)
	wait("exit 2 -> back with weight 0", weight("0"), true)
}
