package vrrp

import (
	"errors"
	"fmt"

	"github.com/lvsd/lvsd/conf"
)

// validateFamily checks the address family of an instance: all VIPs IPv4, or
// all IPv6 with VRRP version 3 (RFC 5798; VRRPv2 is IPv4 only). keepalived
// 2.2.7 refuses an instance mixing the two families too. IPv6 runs over
// multicast only here: unicast_peer with IPv6 is not implemented.
func validateFamily(cfg conf.VRRPInstance) error {
	v6 := IsIPv6(cfg)
	for _, p := range cfg.VIPs {
		a := p.Addr()
		if a.Is4In6() {
			return fmt.Errorf("virtual address %v: IPv4-mapped IPv6 address", p)
		}
		if a.Is6() != v6 {
			return fmt.Errorf("virtual address %v: an instance carries IPv4 or IPv6 addresses, not both", p)
		}
	}
	if !v6 {
		return nil
	}
	switch {
	case cfg.Version != Version3:
		return errors.New("IPv6 virtual addresses need VRRP version 3 (RFC 5798)")
	case cfg.UnicastPeers != nil || cfg.UnicastSrcIP.IsValid():
		return errors.New("unicast_peer and unicast_src_ip are IPv4 only: IPv6 instances run over multicast ff02::12")
	}
	return nil
}
