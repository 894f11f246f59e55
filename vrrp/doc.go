// Package vrrp implements VRRP version 2 (RFC 3768, with simple-text PASS
// authentication) and version 3 (RFC 5798) over IPv4 multicast or unicast
// (unicast_peer) and, for version 3, IPv6 multicast (ff02::12, unsolicited
// neighbour advertisements instead of gratuitous ARP), with keepalived's
// preempt_delay and garp_master_* options, interoperable with keepalived.
//
// It owns:
//   - the advertisement wire format (packet.go: Advert, MarshalBinary,
//     UnmarshalBinary, typed decode errors);
//   - the receive checks applied to every advert, in keepalived's order, with
//     a stable reason name per drop (check.go: CheckAdvert, Reason);
//   - the protocol state machine as a pure function of
//     (state, event, now) -> (state, actions) (fsm.go: Step);
//   - the driver that runs one vrrp_instance on a real clock (instance.go:
//     Instance, New, Run, Status);
//   - tracking: the effective priority and FAULT from the tracked objects'
//     states and a vrrp_script's rise/fall (track.go, pure), the link
//     watcher (link.go, netlink in link_linux.go), and the Coordinator
//     (coord.go) that shares vrrp_script runners between instances, moves
//     vrrp_sync_group members together and owns the Notifier (notify.go),
//     which runs notify scripts one at a time, in order, through
//     healthcheck's misc_check runner (no shell, own process group,
//     timeout, optional user);
//   - the Linux edges (*_linux.go): the raw IP protocol 112 socket, the
//     virtual addresses (netlink) and gratuitous ARP; over IPv6 the raw
//     socket, link-local source and neighbour advertisements
//     (io_ipv6_linux.go).
//
// It must not touch anything but the VRRP socket, the configured VIPs on the
// configured interface, ARP on that interface, link state (read only) and
// the configured scripts: IPVS, iptables and health
// checks belong to other packages. It never exits the process; errors are
// returned wrapped (errno kept) and events are logged through the injected
// *slog.Logger with the keys vrid, state, vip, err.
package vrrp
