package rules

import (
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/coreos/go-iptables/iptables"
)

// lockWait bounds how long one iptables command waits for the xtables lock
// (its --wait option), so a stuck holder cannot stall the reconcile loop
// for ever; the next tick simply tries again.
const lockWait = 5 // seconds

// New returns an agent for vips driving the host's iptables and ip6tables
// binaries (whichever backend, nf_tables or legacy, they are linked to).
// ip6tables may be missing on an IPv4-only host; it is then an error only
// if vips holds an IPv6 address.
func New(vips []netip.Addr, log *slog.Logger) (*Agent, error) {
	v4, err := iptables.New(iptables.IPFamily(iptables.ProtocolIPv4), iptables.Timeout(lockWait))
	if err != nil {
		return nil, fmt.Errorf("rules: open iptables: %w", err)
	}
	var v6 Table
	ip6, err := iptables.New(iptables.IPFamily(iptables.ProtocolIPv6), iptables.Timeout(lockWait))
	switch {
	case err == nil:
		v6 = ip6
	case hasIPv6(vips):
		return nil, fmt.Errorf("rules: open ip6tables: %w", err)
	}
	return NewAgent(vips, v4, v6, log), nil
}

func hasIPv6(vips []netip.Addr) bool {
	for _, v := range vips {
		if v.Unmap().Is6() {
			return true
		}
	}
	return false
}

// Both go-iptables handles must satisfy Table.
var _ Table = (*iptables.IPTables)(nil)
