package conf

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

const (
	directorExample = "../examples/seed-001-director.hcl"
	agentExample    = "../examples/seed-001-agent.hcl"
)

// mustParse parses src and fails the test on any error diagnostic.
func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	cfg, diags := Parse([]byte(src), "test.hcl")
	if diags.HasErrors() {
		t.Fatalf("unexpected errors: %v", diags)
	}
	if cfg == nil {
		t.Fatal("nil config without errors")
	}
	return cfg
}

func TestLoadDirectorExample(t *testing.T) {
	cfg, diags := Load(directorExample)
	if diags.HasErrors() {
		t.Fatalf("errors: %v", diags)
	}
	if cfg.File != directorExample {
		t.Errorf("File = %q", cfg.File)
	}
	if cfg.Agent != nil {
		t.Errorf("Agent = %+v, want nil", cfg.Agent)
	}
	if len(cfg.VRRP) != 1 {
		t.Fatalf("len(VRRP) = %d, want 1", len(cfg.VRRP))
	}
	vi := cfg.VRRP[0]
	checkEq(t, "Name", vi.Name, "VI_1")
	checkEq(t, "State", vi.State, StateMaster)
	checkEq(t, "Interface", vi.Interface, "eth0")
	checkEq(t, "VRID", vi.VRID, uint8(51))
	checkEq(t, "Priority", vi.Priority, uint8(101))
	checkEq(t, "Nopreempt", vi.Nopreempt, true)
	checkEq(t, "AdvertInt", vi.AdvertInt, time.Second)
	checkEq(t, "Version", vi.Version, 2)
	checkEq(t, "AuthType", vi.AuthType, "PASS")
	checkEq(t, "AuthPass", vi.AuthPass, "mypasswd")
	if len(vi.VIPs) != 1 || vi.VIPs[0] != netip.MustParsePrefix("198.51.100.30/32") {
		t.Errorf("VIPs = %v", vi.VIPs)
	}
	checkEq(t, "VRRP DeclRange.Start.Line", vi.DeclRange.Start.Line, 1)
	checkEq(t, "VRRP DeclRange.Filename", vi.DeclRange.Filename, directorExample)

	if len(cfg.VirtualServers) != 1 {
		t.Fatalf("len(VirtualServers) = %d, want 1", len(cfg.VirtualServers))
	}
	vs := cfg.VirtualServers[0]
	checkEq(t, "VS Name", vs.Name, "mysql")
	checkEq(t, "VS Address", vs.Address, netip.MustParseAddrPort("198.51.100.30:3306"))
	checkEq(t, "Protocol", vs.Protocol, "TCP")
	checkEq(t, "Sched", vs.Sched, "rr")
	checkEq(t, "Method", vs.Method, "DR")
	checkEq(t, "DelayLoop", vs.DelayLoop, 3*time.Second)
	checkEq(t, "VS DeclRange.Start.Line", vs.DeclRange.Start.Line, 17)
	if len(vs.RealServers) != 2 {
		t.Fatalf("len(RealServers) = %d, want 2", len(vs.RealServers))
	}
	for i, want := range []struct {
		name string
		addr string
		line int
	}{{"db1", "198.51.100.10:3306", 24}, {"db2", "198.51.100.11:3306", 34}} {
		rs := vs.RealServers[i]
		checkEq(t, "RS Name", rs.Name, want.name)
		checkEq(t, "RS Address", rs.Address, netip.MustParseAddrPort(want.addr))
		checkEq(t, "RS Weight", rs.Weight, 1)
		checkEq(t, "RS DeclRange.Line", rs.DeclRange.Line, uint32(want.line))
		checkEq(t, "RS DeclRange.Range", rs.DeclRange.Range(vs.DeclRange.Filename).Start.Column, 3)
		if len(rs.Checks) != 1 {
			t.Fatalf("%s: Checks = %+v, want one tcp_check", want.name, rs.Checks)
		}
		wantTC := Check{
			Kind:             CheckTCP,
			Rise:             1,
			Target:           netip.MustParseAddrPort(want.addr),
			ConnectTimeout:   10 * time.Second,
			Retry:            3,
			DelayBeforeRetry: 3 * time.Second,
			DelayLoop:        3 * time.Second, // cascaded from the virtual server
		}
		checkEq(t, want.name+" TCPCheck", rs.Checks[0], wantTC)
	}

	// The example sets nopreempt with state MASTER: one warning, kept in
	// both places.
	if len(cfg.Warnings) != 1 || len(diags) != 1 {
		t.Fatalf("Warnings = %v, diags = %v; want exactly the nopreempt warning", cfg.Warnings, diags)
	}
	w := cfg.Warnings[0]
	checkEq(t, "warning severity", w.Severity, hcl.DiagWarning)
	checkEq(t, "warning line", w.Subject.Start.Line, 6)
	if !strings.Contains(w.Summary+w.Detail, "nopreempt") || !strings.Contains(w.Detail, "Master_Down") {
		t.Errorf("warning = %v", w)
	}
}

func TestLoadAgentExample(t *testing.T) {
	cfg, diags := Load(agentExample)
	if len(diags) != 0 {
		t.Fatalf("diags: %v", diags)
	}
	if cfg.Agent == nil {
		t.Fatal("Agent nil")
	}
	if len(cfg.VRRP) != 0 || len(cfg.VirtualServers) != 0 {
		t.Errorf("director parts in agent config: %+v", cfg)
	}
	want := []netip.Addr{netip.MustParseAddr("198.51.100.30")}
	if len(cfg.Agent.VIPs) != 1 || cfg.Agent.VIPs[0] != want[0] {
		t.Errorf("Agent.VIPs = %v, want %v", cfg.Agent.VIPs, want)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("Warnings = %v", cfg.Warnings)
	}
}

func TestLoadWithSources(t *testing.T) {
	cfg, sources, diags := LoadWithSources(agentExample)
	if cfg == nil || diags.HasErrors() {
		t.Fatalf("cfg=%v diags=%v", cfg, diags)
	}
	want, err := os.ReadFile(agentExample)
	if err != nil {
		t.Fatal(err)
	}
	if string(sources[agentExample]) != string(want) {
		t.Errorf("sources[%q] = %q", agentExample, sources[agentExample])
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.hcl")
	cfg, sources, diags := LoadWithSources(path)
	if cfg != nil || !diags.HasErrors() {
		t.Fatalf("cfg=%v diags=%v", cfg, diags)
	}
	if sources == nil || len(sources) != 0 {
		t.Errorf("sources = %v, want empty map", sources)
	}
	if !strings.Contains(diags[0].Detail, "nope.hcl") {
		t.Errorf("detail %q does not name the file", diags[0].Detail)
	}
}

func TestDefaults(t *testing.T) {
	cfg := mustParse(t, `
vrrp_instance "v" {
  interface         = "eth0"
  virtual_router_id = 1
  priority          = 100
  virtual_ipaddress = ["198.51.100.30/24", "198.51.100.31"]
}
virtual_server "vs" {
  address = "198.51.100.30:80"
  real_server "a" {
    address = "198.51.100.10:8080"
    tcp_check {}
  }
  real_server "b" {
    address = "198.51.100.11:8080"
  }
}
`)
	if len(cfg.Warnings) != 0 {
		t.Errorf("Warnings = %v", cfg.Warnings)
	}
	vi := cfg.VRRP[0]
	checkEq(t, "State", vi.State, StateBackup)
	checkEq(t, "AdvertInt", vi.AdvertInt, time.Second)
	checkEq(t, "Version", vi.Version, 2)
	checkEq(t, "Nopreempt", vi.Nopreempt, false)
	checkEq(t, "AuthType", vi.AuthType, "")
	checkEq(t, "AuthPass", vi.AuthPass, "")
	// A prefix length keeps the host address; a bare address gets /32.
	checkEq(t, "VIPs[0]", vi.VIPs[0], netip.MustParsePrefix("198.51.100.30/24"))
	checkEq(t, "VIPs[1]", vi.VIPs[1], netip.MustParsePrefix("198.51.100.31/32"))

	vs := cfg.VirtualServers[0]
	checkEq(t, "Protocol", vs.Protocol, "TCP")
	checkEq(t, "Sched", vs.Sched, "wlc")
	checkEq(t, "Method", vs.Method, "NAT")
	checkEq(t, "DelayLoop", vs.DelayLoop, 60*time.Second)
	a, b := vs.RealServers[0], vs.RealServers[1]
	checkEq(t, "Weight", a.Weight, 1)
	checkEq(t, "TCPCheck", a.Checks[0], Check{
		Kind:             CheckTCP,
		Rise:             1,
		Target:           netip.MustParseAddrPort("198.51.100.10:8080"),
		ConnectTimeout:   5 * time.Second,
		Retry:            1,
		DelayBeforeRetry: time.Second,
		DelayLoop:        60 * time.Second,
	})
	if b.Checks != nil {
		t.Errorf("real server without tcp_check has Checks %+v", b.Checks)
	}
}

func TestTCPCheckOverrides(t *testing.T) {
	cfg := mustParse(t, `
virtual_server "vs" {
  address    = "198.51.100.30:3306"
  delay_loop = 10
  real_server "a" {
    address = "198.51.100.10:3306"
    weight  = 0
    tcp_check {
      delay_loop         = "2s"
      connect_ip         = "198.51.100.20"
      delay_before_retry = 0
      retry              = 0
    }
  }
  real_server "b" {
    address = "198.51.100.11:3306"
    weight  = 65535
    tcp_check {
      connect_port = 9200
    }
  }
}
`)
	vs := cfg.VirtualServers[0]
	checkEq(t, "DelayLoop", vs.DelayLoop, 10*time.Second)
	a, b := vs.RealServers[0], vs.RealServers[1]
	checkEq(t, "a.Weight", a.Weight, 0)
	checkEq(t, "b.Weight", b.Weight, 65535)
	checkEq(t, "a.TCPCheck", a.Checks[0], Check{
		Kind:             CheckTCP,
		Rise:             1,
		Target:           netip.MustParseAddrPort("198.51.100.20:3306"),
		ConnectTimeout:   5 * time.Second,
		Retry:            0,
		DelayBeforeRetry: 0,
		DelayLoop:        2 * time.Second,
	})
	checkEq(t, "b.Target", b.Checks[0].Target, netip.MustParseAddrPort("198.51.100.11:9200"))
	checkEq(t, "b.DelayLoop", b.Checks[0].DelayLoop, 10*time.Second)
}

func TestNormalisedEnums(t *testing.T) {
	cfg := mustParse(t, `
vrrp_instance "v" {
  state             = "master"
  interface         = "eth0"
  virtual_router_id = 1
  priority          = 100
  virtual_ipaddress = ["198.51.100.30"]
  authentication {
    auth_type = "none"
  }
}
virtual_server "vs" {
  address    = "198.51.100.30:53"
  protocol   = "udp"
  lvs_sched  = "WRR"
  lvs_method = "tun"
}
virtual_server "vs-tcp" {
  address  = "198.51.100.30:53"
  protocol = "TCP"
}
virtual_server "v6" {
  address = "[2001:db8::1]:80"
  protocol = "sctp"
}
`)
	checkEq(t, "State", cfg.VRRP[0].State, StateMaster)
	checkEq(t, "AuthType", cfg.VRRP[0].AuthType, "")
	vs := cfg.VirtualServers[0]
	checkEq(t, "Protocol", vs.Protocol, "UDP")
	checkEq(t, "Sched", vs.Sched, "wrr")
	checkEq(t, "Method", vs.Method, "TUN")
	checkEq(t, "v6 Address", cfg.VirtualServers[2].Address, netip.MustParseAddrPort("[2001:db8::1]:80"))
	checkEq(t, "v6 Protocol", cfg.VirtualServers[2].Protocol, "SCTP")
}

func TestDurations(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want time.Duration
	}{
		{`"10s"`, 10 * time.Second},
		{`"100ms"`, 100 * time.Millisecond},
		{`"1m30s"`, 90 * time.Second},
		{`3`, 3 * time.Second},
		{`0.5`, 500 * time.Millisecond},
		{`0.001`, time.Millisecond},
		{`120`, 2 * time.Minute},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			cfg := mustParse(t, `
virtual_server "vs" {
  address = "198.51.100.30:80"
  real_server "a" {
    address = "198.51.100.10:80"
    tcp_check {
      connect_timeout = `+tc.expr+`
    }
  }
}
`)
			checkEq(t, "ConnectTimeout", cfg.VirtualServers[0].RealServers[0].Checks[0].ConnectTimeout, tc.want)
		})
	}
}

func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
		line            int
	}{
		{"nb_get_retry", `virtual_server "vs" {
  address = "198.51.100.30:80"
  real_server "a" {
    address = "198.51.100.10:80"
    tcp_check {
      nb_get_retry = 2
    }
  }
}`, "nb_get_retry is a deprecated keepalived alias; use retry", 6},
		{"lb_algo", `virtual_server "vs" {
  address = "198.51.100.30:80"
  lb_algo = "rr"
}`, "use lvs_sched", 3},
		{"lb_kind", `virtual_server "vs" {
  address = "198.51.100.30:80"
  lb_kind = "DR"
}`, "use lvs_method", 3},
		{"priority 255 backup", `vrrp_instance "v" {
  interface         = "eth0"
  virtual_router_id = 1
  priority          = 255
  virtual_ipaddress = ["198.51.100.30"]
}`, "address owner", 4},
		{"DR port", `virtual_server "vs" {
  address    = "198.51.100.30:80"
  lvs_method = "DR"
  real_server "a" {
    address = "198.51.100.10:8080"
  }
}`, "cannot rewrite ports", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustParse(t, tc.src)
			if len(cfg.Warnings) != 1 {
				t.Fatalf("Warnings = %v, want 1", cfg.Warnings)
			}
			w := cfg.Warnings[0]
			if w.Severity != hcl.DiagWarning || !strings.Contains(w.Detail, tc.want) || w.Subject.Start.Line != tc.line {
				t.Errorf("warning = %s (line %d), want %q at line %d", w, w.Subject.Start.Line, tc.want, tc.line)
			}
		})
	}
	// The aliases' values are used.
	cfg := mustParse(t, `virtual_server "vs" {
  address = "198.51.100.30:80"
  lb_algo = "sh"
  lb_kind = "tun"
  real_server "a" {
    address = "198.51.100.10:80"
    tcp_check {
      nb_get_retry = 7
    }
  }
}`)
	vs := cfg.VirtualServers[0]
	checkEq(t, "Sched", vs.Sched, "sh")
	checkEq(t, "Method", vs.Method, "TUN")
	checkEq(t, "Retry", vs.RealServers[0].Checks[0].Retry, 7)
	checkEq(t, "len(Warnings)", len(cfg.Warnings), 3)
}

func checkEq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
