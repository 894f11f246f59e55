// Package benchtable generates one IPVS table (N services x M real servers)
// in the three formats the IPVS benchmark feeds its contenders: an
// `ipvsadm -R` script, a keepalived.conf (IPVS only, no VRRP, no checkers)
// and an lvsd director HCL file. Table is the single source of truth, so the
// three programs are asked for exactly the same kernel table.
package benchtable

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// Addresses stay inside RFC 5737 documentation ranges: virtual servers on
// 203.0.113.1-250, real servers on 198.51.100.1-250. A service is a
// (VIP, port) pair, so 250 VIPs x ports from basePort give room for far more
// than 50k services.
const (
	vips     = 250
	basePort = 1000
)

// Table is N services with M real servers each, all TCP, wrr, NAT, weight 1.
type Table struct {
	Services int
	Dests    int
}

// Service is the address of service i (0-based).
func (t Table) Service(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(1 + i%vips)}), uint16(basePort+i/vips))
}

// Dest is the address of real server j (0-based) of service i: the real
// servers listen on the service's port.
func (t Table) Dest(i, j int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + j)}), t.Service(i).Port())
}

// Entries is the number of lines /proc/net/ip_vs lists for the table: one
// per service and one per destination.
func (t Table) Entries() int { return t.Services * (1 + t.Dests) }

// Validate refuses tables the address plan cannot hold.
func (t Table) Validate() error {
	if t.Services < 1 || t.Dests < 0 {
		return fmt.Errorf("table %dx%d: need at least one service and no negative destination count", t.Services, t.Dests)
	}
	if t.Dests > 250 {
		return fmt.Errorf("table %dx%d: at most 250 real servers per service", t.Services, t.Dests)
	}
	if basePort+(t.Services-1)/vips > 65535 {
		return fmt.Errorf("table %dx%d: at most %d services", t.Services, t.Dests, (65535-basePort+1)*vips)
	}
	return nil
}

// Weights overrides the weight (default 1) of real server j of service i,
// keyed {i, j}: the reload benchmark changes one.
type Weights map[[2]int]int

func (w Weights) of(i, j int) int {
	if v, ok := w[[2]int{i, j}]; ok {
		return v
	}
	return 1
}

// WriteIPVSAdm writes an `ipvsadm -R` script for the table.
func (t Table) WriteIPVSAdm(w io.Writer, weights Weights) error {
	var b strings.Builder
	for i := range t.Services {
		vs := t.Service(i)
		fmt.Fprintf(&b, "-A -t %s -s wrr\n", vs)
		for j := range t.Dests {
			fmt.Fprintf(&b, "-a -t %s -r %s -m -w %d\n", vs, t.Dest(i, j), weights.of(i, j))
		}
		if b.Len() > 1<<16 {
			if _, err := io.WriteString(w, b.String()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteKeepalived writes a keepalived.conf with the table's virtual
// servers and nothing else: no vrrp_instance, and real servers without a
// checker, which keepalived treats as always up.
func (t Table) WriteKeepalived(w io.Writer, weights Weights) error {
	var b strings.Builder
	b.WriteString("global_defs {\n  router_id lvsd_bench\n}\n")
	for i := range t.Services {
		vs := t.Service(i)
		fmt.Fprintf(&b, "virtual_server %s %d {\n  delay_loop 60\n  lb_algo wrr\n  lb_kind NAT\n  protocol TCP\n", vs.Addr(), vs.Port())
		for j := range t.Dests {
			rs := t.Dest(i, j)
			fmt.Fprintf(&b, "  real_server %s %d {\n    weight %d\n  }\n", rs.Addr(), rs.Port(), weights.of(i, j))
		}
		b.WriteString("}\n")
		if b.Len() > 1<<16 {
			if _, err := io.WriteString(w, b.String()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteHCL writes an lvsd director file with the table's virtual servers
// and no vrrp_instance (IPVS only, as keepalived allows).
func (t Table) WriteHCL(w io.Writer, weights Weights) error {
	var b strings.Builder
	for i := range t.Services {
		vs := t.Service(i)
		fmt.Fprintf(&b, "virtual_server \"vs%d\" {\n  address    = \"%s\"\n  protocol   = \"TCP\"\n  lvs_sched  = \"wrr\"\n  lvs_method = \"NAT\"\n  delay_loop = \"60s\"\n", i, vs)
		for j := range t.Dests {
			fmt.Fprintf(&b, "  real_server \"rs%d\" {\n    address = \"%s\"\n    weight  = %d\n  }\n", j, t.Dest(i, j), weights.of(i, j))
		}
		b.WriteString("}\n")
		if b.Len() > 1<<16 {
			if _, err := io.WriteString(w, b.String()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
