package conf_test

import (
	"fmt"
	"os"

	"github.com/lvsd/lvsd/conf"
)

// ExampleLoadWithSources shows the `lvsd check` flow: load, print every
// diagnostic with its source line, and use the config only if there was no
// error.
func ExampleLoadWithSources() {
	cfg, sources, diags := conf.LoadWithSources("../examples/seed-001-director.hcl")
	if err := conf.WriteDiagnostics(os.Stdout, diags, sources); err != nil {
		fmt.Println(err)
	}
	if cfg == nil {
		return
	}
	for _, vi := range cfg.VRRP {
		fmt.Printf("vrrp %s: vrid %d on %s, VIPs %v\n", vi.Name, vi.VRID, vi.Interface, vi.VIPs)
	}
	for _, vs := range cfg.VirtualServers {
		fmt.Printf("vs %s: %s %s %s/%s\n", vs.Name, vs.Protocol, vs.Address, vs.Sched, vs.Method)
		for _, rs := range vs.RealServers {
			fmt.Printf("  rs %s: %s weight %d, check every %v\n", rs.Name, rs.Address, rs.Weight, rs.Checks[0].DelayLoop)
		}
	}
	// Output:
	// ../examples/seed-001-director.hcl:6,3: warning: nopreempt with state MASTER: this node starts as BACKUP and becomes MASTER only if no master is heard within Master_Down (3 x advert_int + skew); keepalived silently drops nopreempt here, lvsd keeps it. Set state = "BACKUP" to say what happens.
	//   6 |   nopreempt         = true
	//     |   ^^^^^^^^^^^^^^^^^^^^^^^^
	// vrrp VI_1: vrid 51 on eth0, VIPs [198.51.100.30/32]
	// vs mysql: TCP 198.51.100.30:3306 rr/DR
	//   rs db1: 198.51.100.10:3306 weight 1, check every 3s
	//   rs db2: 198.51.100.11:3306 weight 1, check every 3s
}

// ExampleParse shows an error report.
func ExampleParse() {
	src := []byte(`agent {
  vips = ["198.51.100.30/24"]
}
`)
	cfg, diags := conf.Parse(src, "agent.hcl")
	_ = conf.WriteDiagnostics(os.Stdout, diags, map[string][]byte{"agent.hcl": src})
	fmt.Println(cfg == nil)
	// Output:
	// agent.hcl:2,11: error: Invalid vips: vips entries must be IP addresses without a prefix length; "198.51.100.30/24" is not: ParseAddr("198.51.100.30/24"): unexpected character (at "/24").
	//   2 |   vips = ["198.51.100.30/24"]
	//     |           ^^^^^^^^^^^^^^^^^^
	// true
}
