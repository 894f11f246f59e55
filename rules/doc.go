// Package rules is lvsd's agent mode on real servers: for every VIP it keeps
// one nat PREROUTING rule
//
//	-d VIP/32 -m comment --comment "lvsd: VIP" -j REDIRECT
//
// (ip6tables and /128 for IPv6 VIPs) so that packets an LVS director
// forwards in DR mode, which still carry the VIP as destination address, are
// accepted by the local MySQL listener without configuring the VIP on lo and
// tuning arp_ignore/arp_announce.
//
// The package owns exactly the rules whose comment starts with "lvsd: " in
// the nat table's PREROUTING chain, in both families. It never touches any
// other rule, chain, table or sysctl: the comment is the ownership mark, so
// an operator's hand-written REDIRECT for the same VIP survives both reload
// and shutdown.
//
// The core (parsing `iptables -S` lines, planning adds and deletes) is pure
// and table-tested; the kernel is reached only through the Table interface,
// which *iptables.IPTables from github.com/coreos/go-iptables satisfies.
// It works with both the nf_tables and the legacy iptables backends: they
// print rules identically.
package rules
