package main

import (
	"net/netip"
	"testing"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/ipvs"
)

// A DR real server configured on another port than its service's is found
// in the kernel under the service's port (conf.VirtualServer.DestAddr); a
// NAT one under its own.
func TestStatusFindsKernelDestination(t *testing.T) {
	ap := netip.MustParseAddrPort
	vs := conf.VirtualServer{Name: "db", Address: ap("198.51.100.30:3306"), Protocol: "TCP", Sched: "rr", Method: "DR",
		RealServers: []conf.RealServer{
			{Name: "a", Address: ap("198.51.100.10:3307"), Weight: 2, Method: "DR"},
			{Name: "b", Address: ap("198.51.100.11:3308"), Weight: 3, Method: "NAT"},
		}}
	table := []ipvs.Service{{Key: ipvs.KeyOf(vs), Sched: "rr", Dests: []ipvs.Dest{
		{Addr: ap("198.51.100.10:3306"), Weight: 2, Method: "DR"},
		{Addr: ap("198.51.100.11:3308"), Weight: 3, Method: "NAT"},
	}}}
	got := buildVirtualServers([]conf.VirtualServer{vs}, nil, table, nil)
	if len(got) != 1 || len(got[0].RealServers) != 2 {
		t.Fatalf("status %+v", got)
	}
	for i, want := range []int{2, 3} {
		r := got[0].RealServers[i]
		if r.KernelWeight == nil || *r.KernelWeight != want {
			t.Errorf("real server %s: kernel weight %v, want %d", r.Name, r.KernelWeight, want)
		}
	}
}

// `lvsd drain VS RS` takes a real server by name, by its configured
// address, or by the address ipvsadm shows for it.
func TestFindRSByKernelAddress(t *testing.T) {
	ap := netip.MustParseAddrPort
	vss := []conf.VirtualServer{{Name: "db", Address: ap("198.51.100.30:3306"), Protocol: "TCP", Method: "DR",
		RealServers: []conf.RealServer{{Name: "a", Address: ap("198.51.100.10:3307"), Method: "DR"}}}}
	for _, arg := range []string{"a", "198.51.100.10:3307", "198.51.100.10:3306"} {
		if _, rs, err := findRS(vss, "db", arg); err != nil || rs.Name != "a" {
			t.Errorf("findRS(%q) = %v, %v", arg, rs.Name, err)
		}
	}
	if _, _, err := findRS(vss, "db", "198.51.100.10:3308"); err == nil {
		t.Error("found a real server by an address it does not have")
	}
}
