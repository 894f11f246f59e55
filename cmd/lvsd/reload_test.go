package main

import (
	"fmt"
	"strings"
	"testing"
)

// vsN is a virtual server block for planVirtualServers tests.
func vsN(name string, port, weight int, timeout string) string {
	return fmt.Sprintf(`virtual_server %q {
  address   = "198.51.100.30:%d"
  lvs_sched = "rr"
  real_server "db1" {
    address = "198.51.100.10:%d"
    weight  = %d
    tcp_check {
      connect_timeout = %q
    }
  }
  real_server "db2" {
    address = "198.51.100.11:%d"
  }
}
`, name, port, port, weight, timeout, port)
}

func TestPlanVirtualServers(t *testing.T) {
	many := func(edit func(i int) string) string {
		var b strings.Builder
		for i := range 50 {
			if s := edit(i); s != "" {
				b.WriteString(s)
				continue
			}
			b.WriteString(vsN(fmt.Sprintf("vs%d", i), 1000+i, 1, "5s"))
		}
		return b.String()
	}
	base := parse(t, many(func(int) string { return "" }))
	for _, tc := range []struct {
		name                 string
		src                  string
		ipvs, checks, probes bool
	}{
		{"identical", many(func(int) string { return "" }), false, false, false},
		{"moved down", "\n\n\n" + many(func(int) string { return "" }), false, false, false},
		{"one weight", many(func(i int) string {
			if i == 25 {
				return vsN("vs25", 1025, 7, "5s")
			}
			return ""
		}), true, true, false},
		{"one check", many(func(i int) string {
			if i == 49 {
				return vsN("vs49", 1049, 1, "2s")
			}
			return ""
		}), false, true, true},
		{"renamed", many(func(i int) string {
			if i == 0 {
				return vsN("first", 1000, 1, "5s")
			}
			return ""
		}), false, true, true},
		{"two swapped", many(func(i int) string {
			switch i {
			case 3:
				return vsN("vs4", 1004, 1, "5s")
			case 4:
				return vsN("vs3", 1003, 1, "5s")
			}
			return ""
		}), false, true, true},
		{"address moved", many(func(i int) string {
			if i == 7 {
				return vsN("vs7", 2007, 1, "5s")
			}
			return ""
		}), true, true, true},
		{"one removed", many(func(i int) string {
			if i == 10 {
				return "\n"
			}
			return ""
		}), true, true, true},
		{"one added", many(func(int) string { return "" }) + vsN("new", 3000, 1, "5s"), true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := parse(t, tc.src)
			ipvsChanged, checksChanged, probesChanged := planVirtualServers(base.VirtualServers, cur.VirtualServers)
			if ipvsChanged != tc.ipvs || checksChanged != tc.checks || probesChanged != tc.probes {
				t.Errorf("ipvs %v checks %v probes %v, want %v %v %v", ipvsChanged, checksChanged, probesChanged, tc.ipvs, tc.checks, tc.probes)
			}
		})
	}
}
