package conf

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// A virtual_server naming a group becomes one service per entry, with the
// block's settings and real servers, wherever the group is written.
func TestVirtualServerGroup(t *testing.T) {
	cfg := mustParse(t, `virtual_server "web" {
  group      = "vips"
  lvs_sched  = "wrr"
  lvs_method = "DR"
  persistence_timeout = 60
  real_server "a" {
    address = "198.51.100.10:80"
    weight  = 3
  }
}
virtual_server "other" {
  address = "198.51.100.99:80"
}
virtual_server_group "vips" {
  addresses = ["198.51.100.30:80", "198.51.100.40-42:80", "198.51.100.32/31:80"]
  fwmarks   = [7]
}
virtual_server_group "marks6" {
  fwmarks = [8, 9]
}
virtual_server "m6" {
  group     = "marks6"
  ip_family = "inet6"
  real_server "b" {
    address = "[2001:db8::10]:80"
  }
}
`)
	var names []string
	for _, vs := range cfg.VirtualServers {
		names = append(names, vs.Name)
	}
	want := []string{"web/198.51.100.30:80", "web/198.51.100.40:80", "web/198.51.100.41:80", "web/198.51.100.42:80",
		"web/198.51.100.32:80", "web/198.51.100.33:80", "web/fwmark:7", "other", "m6/fwmark:8", "m6/fwmark:9"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("services %q\nwant %q", names, want)
	}
	for _, vs := range cfg.VirtualServers[:7] {
		if vs.Sched != "wrr" || vs.Method != "DR" || vs.PersistenceTimeout.Seconds() != 60 || len(vs.RealServers) != 1 || vs.RealServers[0].Weight != 3 {
			t.Errorf("%s: settings not the block's: %+v", vs.Name, vs)
		}
	}
	if fw := cfg.VirtualServers[6]; fw.FWMark != 7 || fw.Address != netip.MustParseAddrPort("0.0.0.0:0") {
		t.Errorf("fwmark entry %v %v", fw.FWMark, fw.Address)
	}
	if fw := cfg.VirtualServers[9]; fw.FWMark != 9 || fw.Address != netip.MustParseAddrPort("[::]:0") {
		t.Errorf("IPv6 fwmark entry %v %v", fw.FWMark, fw.Address)
	}
	// The cache parses a file with groups whole, with the same result.
	var c Cache
	src := []byte(strings.Repeat("# padding to make the file large enough for pieces\n", 4*chunkSize/50) + `virtual_server_group "g" {
  addresses = ["[2001:db8::1-3]:443"]
}
virtual_server "s" {
  group = "g"
  real_server "a" {
    address = "[2001:db8::10]:443"
  }
}
`)
	got, diags := c.Parse(src, "big.hcl")
	ref, _ := Parse(src, "big.hcl")
	if diags.HasErrors() || len(got.VirtualServers) != 3 || !sameParse(got, ref) || got.VirtualServers[2].Address != netip.MustParseAddrPort("[2001:db8::3]:443") {
		t.Errorf("cache: %v %+v", diags, got)
	}
}

func TestVirtualServerGroupErrors(t *testing.T) {
	group := func(body string) string { return "virtual_server_group \"g\" {\n" + body + "\n}\n" }
	vsg := `virtual_server "w" {
  group = "g"
  real_server "a" {
    address = "198.51.100.10:80"
  }
}
`
	for _, tc := range []struct {
		name, src, want string
		line            int
	}{
		{"unknown group", vsg, `names no virtual_server_group`, 2},
		{"group and address", group(`  addresses = ["198.51.100.30:80"]`) + "virtual_server \"w\" {\n  group = \"g\"\n  address = \"198.51.100.31:80\"\n}\n", "only one", 6},
		{"mixed families", group(`  addresses = ["198.51.100.30:80", "[2001:db8::1]:80"]`), "different families", 2},
		{"bad range", group(`  addresses = ["198.51.100.40-30:80"]`), "range end", 2},
		{"range of IPv6", group(`  addresses = ["[2001:db8::10-1]:80"]`), "range end", 2},
		{"host bits", group(`  addresses = ["198.51.100.33/30:80"]`), "host bits", 2},
		{"too big", group(`  addresses = ["198.0.0.0/8:80"]`), "more than 65536", 2},
		{"no port", group(`  addresses = ["198.51.100.30"]`), `want "IP:PORT"`, 2},
		{"port 0", group(`  addresses = ["198.51.100.30:0"]`), "not 1-65535", 2},
		{"multicast", group(`  addresses = ["224.0.0.1:80"]`), "not a unicast", 2},
		{"duplicate in group", group(`  addresses = ["198.51.100.30-31:80", "198.51.100.31:80"]`), "already listed", 2},
		{"duplicate fwmark", group(`  fwmarks = [3, 3]`), "already listed", 2},
		{"fwmark 0", group(`  fwmarks = [0]`), "between 1 and", 2},
		{"empty", group(""), "no addresses and no fwmarks", 1},
		{"address used by another", group(`  addresses = ["198.51.100.30:80"]`) + vsg + "virtual_server \"x\" {\n  address = \"198.51.100.30:80\"\n}\n", "already used by virtual_server", 11},
		{"ip_family with addresses", group(`  addresses = ["198.51.100.30:80"]`) + "virtual_server \"w\" {\n  group = \"g\"\n  ip_family = \"inet\"\n}\n", "ip_family", 6},
		{"real server of the other family", group(`  addresses = ["[2001:db8::1]:80"]`) + vsg, "different address families", 7},
		{"two groups one name", group(`  fwmarks = [1]`) + group(`  fwmarks = [2]`), "Duplicate", 4},
		{"member name taken", group(`  fwmarks = [1]`) + vsg + "virtual_server \"w/fwmark:1\" {\n  address = \"198.51.100.50:80\"\n}\n", "already declared", 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := Parse([]byte(tc.src), "test.hcl")
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Subject != nil && d.Subject.Start.Line == tc.line && strings.Contains(d.Summary+": "+d.Detail, tc.want) {
					return
				}
			}
			t.Errorf("no error containing %q at line %d; got:\n%s", tc.want, tc.line, render(diags))
		})
	}
}

// FuzzExpandGroupAddr: any entry either fails or expands to at most
// maxGroupEntries unicast addresses of one family, all with its port.
func FuzzExpandGroupAddr(f *testing.F) {
	for _, s := range []string{"198.51.100.30:80", "198.51.100.40-45:80", "[2001:db8::1-ff]:80", "198.51.100.32/30:80", "[2001:db8::/112]:1", "1.2.3.4-:5", "[::1]:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		aps, err := expandGroupAddr(s)
		if err != nil {
			return
		}
		if len(aps) == 0 || len(aps) > maxGroupEntries {
			t.Fatalf("%q: %d addresses", s, len(aps))
		}
		for _, ap := range aps {
			if ap.Port() == 0 || ap.Addr().Is6() != aps[0].Addr().Is6() || ap.Port() != aps[0].Port() {
				t.Fatalf("%q: %v among %v", s, ap, aps[0])
			}
		}
	})
}
