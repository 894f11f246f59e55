// Package ipvs owns the kernel IPVS table on a director: it turns the
// configured virtual servers (filtered by health) into a desired table,
// compares it with one dump of the kernel table, and applies the minimal
// changes ("reconcile, don't replay").
//
// The pure core is Desired (config + health -> []Service) and Diff (desired,
// observed, managed -> []Op); both are plain functions over values. The
// kernel sits behind the small Kernel interface (Dump, Apply); the Linux
// implementation in kernel_linux.go uses github.com/moby/ipvs over generic
// netlink. Reconciler ties them together: it keeps the desired table, syncs
// on every change and on a timer so that manual ipvsadm edits and lost
// entries are repaired (keepalived only diffs config against old config and
// never notices, acassen/keepalived #1877, #1018).
//
// Membership (desired.go) adds keepalived's quorum, hysteresis and sorry
// server on top of health, remembering each virtual server's quorum state
// between calls and reporting quorum changes as values for the caller to
// act on (quorum_up/quorum_down programs run in cmd/lvsd, not here).
// Graceful drain (drain.go) is planned by the Reconciler from the same
// single dump: a destination leaving the configuration, or drained by hand,
// is set to weight 0 and deleted when its connection counts reach zero or
// its deadline passes.
//
// The package touches only IPVS services that lvsd manages (the keys of its
// configuration, and keys it managed before a reload). Anything else in the
// kernel table - entries of other tools - is read but never changed. It never flushes the table: existing entries that already match
// the configuration are adopted with zero operations, so restarting lvsd
// does not disturb traffic.
//
// Service shapes and moby/ipvs. Every IPVS attribute lvsd models goes
// through moby/ipvs v1.1.0 unchanged: scheduler flags and one-packet
// scheduling ride in its Service.Flags (sent with a full mask), fwmark
// services in Service.FWMark (moby then leaves address, protocol and port
// out, as the kernel wants), IPv6 in AddressFamily, thresholds in
// Destination.UpperThreshold/LowerThreshold (sent and dumped), and the
// global timeouts through Handle.SetConfig/GetConfig (zero = unchanged,
// the kernel's own rule). Two kernel attributes have no field there:
// IPVS_DEST_ATTR_TUN_TYPE/TUN_PORT (GUE and GRE tunnels, kernel 5.3+) and
// IPVS_DEST_ATTR_ADDR_FAMILY on requests (a destination of the other family
// than its service). Rather than fork the library or shadow its netlink
// code for two rarely used features, conf refuses them with a clear error
// (tun_type other than ipip, tun_port, mixed families); ipip, the kernel's
// default without the attribute, is what TUN programs. A small request
// builder beside moby/ipvs (the batched path) is where they would go.
//
// It must not touch addresses, routes, iptables or VRRP; those belong to the
// vrrp and rules packages.
package ipvs
