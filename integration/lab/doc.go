// Package lab builds test topologies out of network namespaces: hosts joined
// by veth pairs to a bridge in a switch namespace, processes started inside
// them, sockets opened inside them. The host-tier and VM-tier integration
// tests and `make demo` share it, so the demo shows exactly what the tests
// prove.
//
// It only ever uses the addresses it is given; callers use the RFC 5737
// documentation ranges. Everything it creates carries a per-lab prefix and
// is removed by Close.
package lab
