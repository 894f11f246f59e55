//go:build vm

package integration

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

const inhibitConf = `virtual_server "web" {
  address            = "198.51.100.40:80"
  lvs_sched          = "rr"
  lvs_method         = "NAT"
  delay_loop         = "1s"
  inhibit_on_failure = true

  real_server "a" {
    address = "198.51.100.10:80"
    tcp_check {
      connect_timeout = "1s"
      retry           = 0
    }
  }
  real_server "b" {
    address = "198.51.100.11:80"
    tcp_check {
      connect_timeout = "1s"
      retry           = 0
    }
  }
  real_server "c" {
    address            = "198.51.100.12:80"
    inhibit_on_failure = false
    tcp_check {
      connect_timeout = "1s"
      retry           = 0
    }
  }
}
`

// TestInhibitOnFailure runs a director whose checks fail for two real
// servers (no host behind b and c) and pass for a: b, inhibited by the
// virtual server's default, stays with weight 0 while c, which opts out,
// is removed. When a's listener goes away it drops to weight 0 too, in
// place.
func TestInhibitOnFailure(t *testing.T) {
	l := newLab(t, "pai")
	h := addHost(t, l, "lvs", "198.51.100.20/24")
	rs := addHost(t, l, "rs", "198.51.100.10/24")
	if _, err := h.Run("modprobe", "ip_vs"); err != nil {
		t.Fatal(err)
	}
	ln, err := rs.Serve("198.51.100.10:80", "a")
	if err != nil {
		t.Fatal(err)
	}
	file, err := l.WriteFile("lvs.hcl", inhibitConf)
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
	dest := func(addr, weight string) *regexp.Regexp {
		return regexp.MustCompile(`->\s+` + regexp.QuoteMeta(addr) + `\s+Masq\s+` + weight + `\s`)
	}
	var last string
	waitTable := func(what string, cond func(string) bool) {
		t.Helper()
		if _, ok := lab.WaitFor(15*time.Second, func() bool {
			last, _ = h.Run("ipvsadm", "-Ln")
			return cond(last)
		}); !ok {
			t.Fatalf("%s; ipvsadm -Ln:\n%s", what, last)
		}
	}
	waitTable("failed servers not handled", func(s string) bool {
		return dest("198.51.100.10:80", "1").MatchString(s) && dest("198.51.100.11:80", "0").MatchString(s) &&
			!strings.Contains(s, "198.51.100.12:80")
	})

	ln.Close()
	waitTable("a not inhibited after its listener closed", func(s string) bool {
		return dest("198.51.100.10:80", "0").MatchString(s) && dest("198.51.100.11:80", "0").MatchString(s)
	})
}
