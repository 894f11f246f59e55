// Package integration holds lvsd's end-to-end tests. They need root and are
// behind build tags:
//
//   - integration: the host tier, network namespaces on the machine's own
//     kernel (VRRP election and failover, gratuitous ARP, the agent's
//     iptables rule, interoperation with Debian's keepalived);
//   - vm: the VM tier, everything that needs kernel IPVS, run inside a QEMU
//     VM by integration/cmd/lvsd-vm (the seed-001 scenario).
//
// The lvsd binary under test is $LVSD_BIN, or built by TestMain.
package integration
