package ipvs

import (
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/lvsd/lvsd/conf"
)

func TestDesired(t *testing.T) {
	vss := []conf.VirtualServer{
		{
			Name: "mysql", Address: ap("198.51.100.30:3306"), Protocol: TCP, Sched: "rr", Method: DR,
			RealServers: []conf.RealServer{
				{Name: "db2", Address: ap("198.51.100.11:3306"), Weight: 1, Checks: []conf.Check{{Kind: conf.CheckTCP}}},
				{Name: "db1", Address: ap("198.51.100.10:3306"), Weight: 3},
				{Name: "db3", Address: ap("198.51.100.12:3306"), Weight: 1, Checks: []conf.Check{{Kind: conf.CheckTCP}}},
			},
		},
		{
			Name: "dead", Address: ap("198.51.100.29:80"), Protocol: TCP, Sched: "wlc", Method: NAT,
			RealServers: []conf.RealServer{
				{Name: "web1", Address: ap("198.51.100.10:80"), Weight: 1},
			},
		},
	}
	down := map[[2]string]bool{{"mysql", "db3"}: true, {"dead", "web1"}: true}
	var asked [][2]string
	up := func(vs conf.VirtualServer, rs conf.RealServer) Health {
		asked = append(asked, [2]string{vs.Name, rs.Name})
		return Health{Up: !down[[2]string{vs.Name, rs.Name}]}
	}
	got := Desired(vss, up)
	want := []Service{
		// Sorted by key; a service whose real servers are all down stays,
		// empty.
		svc(tcp("198.51.100.29:80"), "wlc"),
		svc(vip1, "rr", dr("198.51.100.10:3306", 3), dr("198.51.100.11:3306", 1)),
	}
	// Down servers are named, so the reconciler deletes them at once
	// instead of draining them.
	want[0].Down = []netip.AddrPort{ap("198.51.100.10:80")}
	want[1].Down = []netip.AddrPort{ap("198.51.100.12:3306")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if len(asked) != 4 {
		t.Errorf("up asked %d times, want once per real server: %v", len(asked), asked)
	}
}

func TestDesiredDuplicatesKeepFirst(t *testing.T) {
	vss := []conf.VirtualServer{
		{Name: "a", Address: vip1.Addr, Protocol: TCP, Sched: "rr", Method: DR, RealServers: []conf.RealServer{
			{Name: "x", Address: ap("198.51.100.10:3306"), Weight: 1},
			{Name: "y", Address: ap("198.51.100.10:3306"), Weight: 9},
		}},
		{Name: "b", Address: vip1.Addr, Protocol: TCP, Sched: "wlc", Method: NAT},
	}
	got := Desired(vss, AllUp)
	want := []Service{svc(vip1, "rr", dr("198.51.100.10:3306", 1))}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestMembershipDesiredOrder calls one Membership over virtual servers in
// changing orders: the result is sorted every time, whether the order of
// the last call is reused or not.
func TestMembershipDesiredOrder(t *testing.T) {
	vs := func(addr string, dests ...string) conf.VirtualServer {
		v := conf.VirtualServer{Name: addr, Address: ap(addr), Protocol: TCP, Sched: "rr", Method: DR}
		for _, d := range dests {
			v.RealServers = append(v.RealServers, conf.RealServer{Name: d, Address: ap(d), Weight: 1})
		}
		return v
	}
	a := vs("198.51.100.30:80", "198.51.100.12:80", "198.51.100.10:80")
	b := vs("198.51.100.20:80", "198.51.100.10:80")
	c := vs("198.51.100.40:80")
	d := vs("198.51.100.25:80", "198.51.100.11:80")
	m := NewMembership()
	for i, vss := range [][]conf.VirtualServer{
		{a, b, c},
		{a, b, c}, // same order: reused
		{c, b, a},
		{c, b, a, d},
		{c, b, a},
		{d, b, a},
		{d, b, a},
		{},
		{a},
	} {
		got, _ := m.Desired(vss, AllUp)
		want := Desired(vss, AllUp)
		sorted := cloneTable(want)
		slices.SortFunc(sorted, func(x, y Service) int { return compareKeys(x.Key, y.Key) })
		for _, s := range sorted {
			if !slices.IsSortedFunc(s.Dests, compareDests) {
				t.Fatalf("call %d: dests not sorted in %+v", i, s)
			}
		}
		if !reflect.DeepEqual(got, sorted) || len(got) != len(vss) {
			t.Errorf("call %d: got %+v\nwant %+v", i, got, sorted)
		}
	}
}
