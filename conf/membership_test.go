package conf

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMembershipAttributes(t *testing.T) {
	src := `virtual_server "db" {
  address                 = "198.51.100.30:3306"
  lvs_method              = "DR"
  sorry_server            = "198.51.100.50:3306"
  sorry_server_inhibit    = true
  sorry_server_lvs_method = "NAT"
  quorum                  = 3
  hysteresis              = 1
  quorum_up               = "/usr/local/bin/notify 'quorum up' db"
  quorum_down             = "/usr/local/bin/notify down"
  alpha                   = true
  omega                   = true
  drain_timeout           = "90s"
  real_server "a" {
    address = "198.51.100.10:3306"
  }
}
virtual_server "defaults" {
  address = "198.51.100.31:3306"
}
`
	cfg, diags := Parse([]byte(src), "test.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := Membership{
		SorryServer: netip.MustParseAddrPort("198.51.100.50:3306"), SorryServerInhibit: true, SorryServerMethod: "NAT",
		Quorum: 3, Hysteresis: 1,
		QuorumUp:   &Command{Line: "/usr/local/bin/notify 'quorum up' db", Argv: []string{"/usr/local/bin/notify", "quorum up", "db"}, Timeout: DefaultScriptTimeout},
		QuorumDown: &Command{Line: "/usr/local/bin/notify down", Argv: []string{"/usr/local/bin/notify", "down"}, Timeout: DefaultScriptTimeout},
		Alpha:      true, Omega: true, DrainTimeout: 90 * time.Second,
	}
	if got := cfg.VirtualServers[0].Membership; !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// keepalived's defaults: quorum 1, no hysteresis, start up; lvsd's
	// drain default.
	def := Membership{Quorum: 1, SorryServerMethod: "NAT", DrainTimeout: DefaultDrainTimeout}
	if got := cfg.VirtualServers[1].Membership; !reflect.DeepEqual(got, def) {
		t.Errorf("defaults %+v, want %+v", got, def)
	}
}

func TestMembershipErrors(t *testing.T) {
	tests := []struct{ attr, want string }{
		{`quorum = 0`, "quorum must be between 1"},
		{`hysteresis = -1`, "hysteresis"},
		{`quorum_up = "notify up"`, "absolute program path"},
		{`quorum_down = "/bin/x 'open"`, "cannot be split"},
		{`sorry_server = "2001:db8::1:80"`, "sorry_server"},
		{`sorry_server_lvs_method = "LOCAL"`, "sorry_server_lvs_method"},
		{`drain_timeout = "-1s"`, "drain_timeout"},
		{`alpha = "yes please"`, "alpha"},
	}
	for _, tc := range tests {
		src := "virtual_server \"db\" {\n  address = \"198.51.100.30:3306\"\n  " + tc.attr + "\n}\n"
		_, diags := Parse([]byte(src), "test.hcl")
		if !diags.HasErrors() {
			t.Errorf("%s: accepted", tc.attr)
			continue
		}
		if msg := diags.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, "test.hcl:3") {
			t.Errorf("%s: error %q lacks %q or the position test.hcl:3", tc.attr, msg, tc.want)
		}
	}
	// A sorry server of the other family cannot be programmed even with
	// TUN (moby/ipvs sends no destination family), as for real servers.
	for _, method := range []string{"NAT", "TUN"} {
		src := "virtual_server \"db\" {\n  address = \"198.51.100.30:3306\"\n  lvs_method = \"" + method + "\"\n  sorry_server = \"[2001:db8::1]:3306\"\n}\n"
		if _, diags := Parse([]byte(src), "test.hcl"); !strings.Contains(diags.Error(), "test.hcl:4") || !strings.Contains(diags.Error(), "different address families") {
			t.Errorf("%s: IPv6 sorry_server of an IPv4 service gives %q", method, diags.Error())
		}
	}
	// drain_timeout 0 is keepalived's immediate delete.
	src := "virtual_server \"db\" {\n  address = \"198.51.100.30:3306\"\n  drain_timeout = 0\n}\n"
	cfg, diags := Parse([]byte(src), "test.hcl")
	if diags.HasErrors() || cfg.VirtualServers[0].DrainTimeout != 0 {
		t.Errorf("drain_timeout = 0: %v %+v", diags, cfg)
	}
}
