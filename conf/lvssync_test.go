package conf

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestLVSSyncDaemonLoaded(t *testing.T) {
	cfg := mustParse(t, vrrp("v", "")+`lvs_sync_daemon {
  interface     = "eth1"
  vrrp_instance = "v"
  maxlen        = 1400
  group         = "239.0.0.81"
  port          = 8850
  ttl           = 2
}
`)
	want := LVSSyncDaemon{Interface: "eth1", Instance: "v", SyncID: 51, MaxLen: 1400, Group: netip.MustParseAddr("239.0.0.81"), Port: 8850, TTL: 2}
	got := *cfg.LVSSyncDaemon
	got.DeclRange, got.instRange, got.syncIDSet = hcl.Range{}, hcl.Range{}, false
	if got != want {
		t.Errorf("got %+v\nwant %+v (sync id defaults to the VRID, as keepalived)", got, want)
	}
	cfg = mustParse(t, vrrp("v", "")+"lvs_sync_daemon {\n  interface = \"eth1\"\n  vrrp_instance = \"v\"\n  sync_id = 0\n  group = \"ff02::81\"\n}\n")
	if s := cfg.LVSSyncDaemon; s.SyncID != 0 || s.Group != netip.MustParseAddr("ff02::81") || s.Port != 0 || s.TTL != 0 || s.MaxLen != 0 {
		t.Errorf("explicit sync_id 0 / IPv6 group / kernel defaults: %+v", s)
	}
}

func TestLVSSyncDaemonErrors(t *testing.T) {
	sd := func(body string) string {
		return vrrp("v", "") + "lvs_sync_daemon {\n  interface = \"eth1\"\n  vrrp_instance = \"v\"\n" + body + "}\n"
	}
	for _, tc := range []struct {
		name, src, want string
		line            int
	}{
		{"unknown instance", vrrp("v", "") + "lvs_sync_daemon {\n  interface = \"eth1\"\n  vrrp_instance = \"w\"\n}\n", `vrrp_instance "w"`, 10},
		{"missing interface", vrrp("v", "") + "lvs_sync_daemon {\n  vrrp_instance = \"v\"\n}\n", "interface", 8},
		{"bad interface", vrrp("v", "") + "lvs_sync_daemon {\n  interface = \"a b\"\n  vrrp_instance = \"v\"\n}\n", "not a valid interface name", 9},
		{"not multicast", sd("  group = \"192.0.2.1\"\n"), "not a multicast address", 11},
		{"not an address", sd("  group = \"x\"\n"), "not an IP address", 11},
		{"ttl 0", sd("  ttl = 0\n"), "", 11},
		{"sync_id 256", sd("  sync_id = 256\n"), "", 11},
		{"maxlen too big", sd("  maxlen = 65508\n"), "", 11},
		{"port 0", sd("  port = 0\n"), "", 11},
		{"two blocks", sd("") + "lvs_sync_daemon {\n  interface = \"eth1\"\n  vrrp_instance = \"v\"\n}\n", "only one lvs_sync_daemon", 12},
		{"unknown attribute", sd("  inst = \"v\"\n"), "", 11},
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
