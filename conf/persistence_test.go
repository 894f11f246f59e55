package conf

import (
	"testing"
	"time"
)

// Persistence values as keepalived users write them (seconds, a dotted
// netmask) and as lvsd spells them elsewhere (duration strings, prefix
// lengths) decode to the same typed values; without the attributes a
// service is not persistent and its granularity is the whole address.
func TestPersistence(t *testing.T) {
	for _, tc := range []struct {
		name    string
		extra   string
		timeout time.Duration
		bits    int
	}{
		{"none", "", 0, 32},
		{"seconds", "  persistence_timeout = 300", 300 * time.Second, 32},
		{"duration", `  persistence_timeout = "5m"`, 300 * time.Second, 32},
		{"netmask", "  persistence_timeout = 300\n  persistence_granularity = \"255.255.255.0\"", 300 * time.Second, 24},
		{"prefix number", "  persistence_timeout = 300\n  persistence_granularity = 16", 300 * time.Second, 16},
		{"prefix string", "  persistence_timeout = 300\n  persistence_granularity = \"/20\"", 300 * time.Second, 20},
		{"mask zero", "  persistence_timeout = 300\n  persistence_granularity = \"0.0.0.0\"", 300 * time.Second, 0},
		{"v6 default", "  address = \"[2001:db8::1]:80\"\n  persistence_timeout = 60", time.Minute, 128},
		{"v6 prefix", "  address = \"[2001:db8::1]:80\"\n  persistence_timeout = 60\n  persistence_granularity = 64", time.Minute, 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(vs("vs", tc.extra)), "test.hcl")
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got := cfg.VirtualServers[0]
			if got.PersistenceTimeout != tc.timeout || got.PersistenceGranularity != tc.bits {
				t.Errorf("timeout %v granularity %d, want %v %d", got.PersistenceTimeout, got.PersistenceGranularity, tc.timeout, tc.bits)
			}
		})
	}
}

// A granularity without a timeout does nothing in IPVS: warned, not an
// error, so a keepalived file that carries one still loads.
func TestPersistenceGranularityAloneWarns(t *testing.T) {
	cfg, diags := Parse([]byte(vs("vs", "  persistence_granularity = \"255.255.255.0\"")), "test.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if len(cfg.Warnings) != 1 || cfg.Warnings[0].Summary != "persistence_granularity without persistence_timeout" {
		t.Errorf("warnings = %v", cfg.Warnings)
	}
}
