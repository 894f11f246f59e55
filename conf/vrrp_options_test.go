package conf

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

func TestVRRPOptionDefaults(t *testing.T) {
	vi := mustParse(t, vrrp("v", "")).VRRP[0]
	checkEq(t, "UnicastSrcIP", vi.UnicastSrcIP, netip.Addr{})
	if vi.UnicastPeers != nil {
		t.Errorf("UnicastPeers = %v, want nil (multicast)", vi.UnicastPeers)
	}
	checkEq(t, "PreemptDelay", vi.PreemptDelay, 0)
	checkEq(t, "GARPMasterDelay", vi.GARPMasterDelay, 5*time.Second)
	checkEq(t, "GARPMasterRepeat", vi.GARPMasterRepeat, 5)
	checkEq(t, "GARPMasterRefresh", vi.GARPMasterRefresh, 0)
}

func TestVRRPOptionsSet(t *testing.T) {
	cfg := mustParse(t, vrrp("v", `  unicast_src_ip      = "198.51.100.20"
  unicast_peer        = ["198.51.100.21", "198.51.100.22"]
  preempt_delay       = "30s"
  garp_master_delay   = 0
  garp_master_repeat  = 2
  garp_master_refresh = "60s"`))
	if len(cfg.Warnings) != 0 {
		t.Errorf("Warnings = %v", cfg.Warnings)
	}
	vi := cfg.VRRP[0]
	checkEq(t, "UnicastSrcIP", vi.UnicastSrcIP, netip.MustParseAddr("198.51.100.20"))
	want := []netip.Addr{netip.MustParseAddr("198.51.100.21"), netip.MustParseAddr("198.51.100.22")}
	if !reflect.DeepEqual(vi.UnicastPeers, want) {
		t.Errorf("UnicastPeers = %v, want %v", vi.UnicastPeers, want)
	}
	checkEq(t, "PreemptDelay", vi.PreemptDelay, 30*time.Second)
	checkEq(t, "GARPMasterDelay", vi.GARPMasterDelay, 0)
	checkEq(t, "GARPMasterRepeat", vi.GARPMasterRepeat, 2)
	checkEq(t, "GARPMasterRefresh", vi.GARPMasterRefresh, time.Minute)
}

func TestVRRPOptionWarnings(t *testing.T) {
	for _, tc := range []struct {
		name, extra, want string
		line              int
	}{
		{"mcast_src_ip alias", `  mcast_src_ip = "198.51.100.20"`, "mcast_src_ip is a deprecated keepalived alias; use unicast_src_ip", 2},
		{"preempt_delay with nopreempt", "  nopreempt = true\n  preempt_delay = 10", "no effect with nopreempt", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustParse(t, vrrp("v", tc.extra))
			if len(cfg.Warnings) != 1 {
				t.Fatalf("Warnings = %v, want 1", cfg.Warnings)
			}
			w := cfg.Warnings[0]
			if w.Severity != hcl.DiagWarning || !strings.Contains(w.Detail, tc.want) || w.Subject.Start.Line != tc.line {
				t.Errorf("warning = %s (line %d), want %q at line %d", w, w.Subject.Start.Line, tc.want, tc.line)
			}
		})
	}
	// The alias's value is used.
	vi := mustParse(t, vrrp("v", `  mcast_src_ip = "198.51.100.20"`)).VRRP[0]
	checkEq(t, "UnicastSrcIP", vi.UnicastSrcIP, netip.MustParseAddr("198.51.100.20"))
}

func TestVRRPOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		name, extra, want string
		line              int
	}{
		// keepalived fault 11: an empty list must not mean multicast.
		{"unicast_peer empty", `  unicast_peer = []`, "unicast_peer must not be empty", 2},
		{"unicast_peer not list", `  unicast_peer = "198.51.100.21"`, "unicast_peer must be a list of strings", 2},
		{"unicast_peer bad", `  unicast_peer = ["198.51.100.21", "peer"]`, `"peer" is not`, 2},
		{"unicast_peer ipv6", `  unicast_peer = ["2001:db8::1"]`, "is not IPv4", 2},
		{"unicast_peer multicast", `  unicast_peer = ["224.0.0.18"]`, "not a unicast host address", 2},
		{"unicast_peer duplicate", "  unicast_peer = [\n    \"198.51.100.21\",\n    \"198.51.100.21\",\n  ]", "198.51.100.21 is already listed", 4},
		{"unicast_peer is src", "  unicast_src_ip = \"198.51.100.21\"\n  unicast_peer = [\"198.51.100.21\"]", "is this node's unicast_src_ip", 3},
		{"unicast_peer is VIP", `  unicast_peer = ["198.51.100.30"]`, "virtual_ipaddress, not a peer", 2},
		{"unicast_src_ip bad", `  unicast_src_ip = "x"`, "unicast_src_ip must be an IPv4 address", 2},
		{"unicast_src_ip ipv6", `  unicast_src_ip = "2001:db8::1"`, "is not IPv4", 2},
		{"unicast_src_ip zero", `  unicast_src_ip = "0.0.0.0"`, "not a unicast host address", 2},
		{"unicast_src_ip is VIP", `  unicast_src_ip = "198.51.100.30"`, "is one of this instance's virtual_ipaddress", 2},
		{"both src spellings", "  unicast_src_ip = \"198.51.100.20\"\n  mcast_src_ip = \"198.51.100.20\"", "both unicast_src_ip and its deprecated alias mcast_src_ip are set", 3},
		{"preempt_delay negative", `  preempt_delay = -1`, "preempt_delay must not be negative", 2},
		{"preempt_delay huge", `  preempt_delay = 1001`, "preempt_delay must be at most 16m40s", 2},
		{"garp_master_repeat 0", `  garp_master_repeat = 0`, "garp_master_repeat must be between 1 and 255", 2},
		{"garp_master_delay bad", `  garp_master_delay = "soon"`, `"soon" is not`, 2},
		{"garp_master_refresh negative", `  garp_master_refresh = "-1s"`, "garp_master_refresh must not be negative", 2},

		// VRRPv3.
		{"v3 advert_int below 10ms", "  version = 3\n  advert_int = \"5ms\"", "at least 10ms for VRRP version 3", 3},
		{"v3 advert_int not centiseconds", "  version = 3\n  advert_int = \"15ms\"", "multiple of 10ms", 3},
		{"v3 advert_int above 40.95s", "  version = 3\n  advert_int = 41", "at most 40.95s", 3},
		{"v3 with auth", "  version = 3\n  authentication {\n    auth_type = \"PASS\"\n    auth_pass = \"x\"\n  }", "VRRP version 3 has no authentication", 3},
		{"v3_checksum_as_v2 with v2", "  v3_checksum_as_v2 = true", "applies to VRRP version 3 only", 2},
		{"ipv6 vip with unicast", "  virtual_ipaddress = [\"2001:db8::1\"]\n  unicast_peer = [\"198.51.100.21\"]", "unicast_peer with IPv6", 3},
		{"ipv6 vip v2 advert_int", "  virtual_ipaddress = [\"2001:db8::1\"]\n  advert_int = \"15ms\"", "multiple of 10ms", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(vrrp("v", tc.extra)), "test.hcl")
			if cfg != nil {
				t.Errorf("cfg = %+v, want nil", cfg)
			}
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Subject != nil &&
					strings.Contains(d.Summary+": "+d.Detail, tc.want) && d.Subject.Start.Line == tc.line {
					return
				}
			}
			t.Errorf("no error containing %q at line %d; got:\n%s", tc.want, tc.line, render(diags))
		})
	}
}

func TestVRRPv3(t *testing.T) {
	cfg := mustParse(t, vrrp("v", "  version = 3\n  advert_int = \"100ms\"\n  v3_checksum_as_v2 = true"))
	vi := cfg.VRRP[0]
	checkEq(t, "Version", vi.Version, 3)
	checkEq(t, "AdvertInt", vi.AdvertInt, 100*time.Millisecond)
	checkEq(t, "V3ChecksumAsV2", vi.V3ChecksumAsV2, true)
	// Numbers of seconds work too, down to the centisecond.
	vi = mustParse(t, vrrp("v", "  version = 3\n  advert_int = 0.01")).VRRP[0]
	checkEq(t, "AdvertInt", vi.AdvertInt, 10*time.Millisecond)
	vi = mustParse(t, vrrp("v", "  version = 3\n  advert_int = 40.95")).VRRP[0]
	checkEq(t, "AdvertInt", vi.AdvertInt, 40950*time.Millisecond)
	checkEq(t, "V3ChecksumAsV2", vi.V3ChecksumAsV2, false)
}

// IPv6 virtual addresses make the instance VRRPv3 (RFC 5798), as keepalived
// does: version may be left out, or set to 3.
func TestVRRPIPv6(t *testing.T) {
	vi := mustParse(t, vrrp("v", "  virtual_ipaddress = [\"2001:db8::100/64\", \"2001:db8::101\"]\n  advert_int = \"20ms\"")).VRRP[0]
	checkEq(t, "Version", vi.Version, 3)
	checkEq(t, "AdvertInt", vi.AdvertInt, 20*time.Millisecond)
	if want := []netip.Prefix{netip.MustParsePrefix("2001:db8::100/64"), netip.MustParsePrefix("2001:db8::101/128")}; !slices.Equal(vi.VIPs, want) {
		t.Errorf("VIPs = %v, want %v", vi.VIPs, want)
	}
	vi = mustParse(t, vrrp("v", "  version = 3\n  virtual_ipaddress = [\"2001:db8::100\"]")).VRRP[0]
	checkEq(t, "Version", vi.Version, 3)
}
