package conf

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// virtual_ipaddress entries take keepalived's "dev IF" and "label L";
// virtual_ipaddress_excluded adds addresses of any family that adverts do
// not carry.
func TestVIPOptions(t *testing.T) {
	cfg := mustParse(t, vrrp("v", `  virtual_ipaddress = ["198.51.100.30", "203.0.113.1/24 dev eth1 label eth1:gw", "198.51.100.31/24 dev eth0 label eth0"]
  virtual_ipaddress_excluded = ["2001:db8::30/64", "192.0.2.9 dev eth2"]`))
	vi := cfg.VRRP[0]
	pfx := netip.MustParsePrefix
	if want := []netip.Prefix{pfx("198.51.100.30/32"), pfx("203.0.113.1/24"), pfx("198.51.100.31/24")}; !reflect.DeepEqual(vi.VIPs, want) {
		t.Errorf("VIPs = %v, want the advertised ones %v", vi.VIPs, want)
	}
	want := []VIPAddr{
		{Prefix: pfx("198.51.100.30/32")},
		{Prefix: pfx("203.0.113.1/24"), Dev: "eth1", Label: "eth1:gw"},
		{Prefix: pfx("198.51.100.31/24"), Label: "eth0"}, // dev = the instance's interface
		{Prefix: pfx("2001:db8::30/64"), Excluded: true},
		{Prefix: pfx("192.0.2.9/32"), Dev: "eth2", Excluded: true},
	}
	if !reflect.DeepEqual(vi.Addresses, want) || !reflect.DeepEqual(vi.InstallAddrs(), want) {
		t.Errorf("Addresses = %+v\nwant %+v", vi.Addresses, want)
	}
	if vi.Version != 2 {
		t.Errorf("an excluded IPv6 address made the instance version %d", vi.Version)
	}
	// A hand-built instance installs its VIPs on its interface.
	if got := (VRRPInstance{VIPs: []netip.Prefix{pfx("192.0.2.1/32")}}).InstallAddrs(); !reflect.DeepEqual(got, []VIPAddr{{Prefix: pfx("192.0.2.1/32")}}) {
		t.Errorf("InstallAddrs of VIPs only = %+v", got)
	}
}

func TestVIPOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		name, vips, want string
	}{
		{"unknown option", `virtual_ipaddress = ["198.51.100.30 scope link"]`, `unknown option "scope"`},
		{"dev without value", `virtual_ipaddress = ["198.51.100.30 dev"]`, `needs a value`},
		{"bad dev", `virtual_ipaddress = ["198.51.100.30 dev a/b"]`, `not a valid interface name`},
		{"label of another device", `virtual_ipaddress = ["198.51.100.30 dev eth1 label eth0:1"]`, `must be the interface's name "eth1"`},
		{"label on the instance's interface", `virtual_ipaddress = ["198.51.100.30 label eth1:1"]`, `must be the interface's name "eth0"`},
		{"label on IPv6", "virtual_ipaddress = [\"198.51.100.30\"]\n  virtual_ipaddress_excluded = [\"2001:db8::1 label eth0:1\"]", `IPv4 only`},
		{"mixed families", `virtual_ipaddress = ["198.51.100.30", "2001:db8::1"]`, `virtual_ipaddress_excluded`},
		{"in both lists", "virtual_ipaddress = [\"198.51.100.30\"]\n  virtual_ipaddress_excluded = [\"198.51.100.30/24\"]", `already listed at test.hcl:2`},
		{"empty entry", `virtual_ipaddress = [" "]`, `it is empty`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := vrrp("v", "  "+tc.vips)
			_, diags := Parse([]byte(src), "test.hcl")
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Subject != nil && strings.Contains(d.Summary+": "+d.Detail, tc.want) {
					return
				}
			}
			t.Errorf("no error containing %q; got:\n%s", tc.want, render(diags))
		})
	}
}
