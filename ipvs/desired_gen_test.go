package ipvs

import (
	"reflect"
	"testing"

	"github.com/lvsd/lvsd/conf"
)

// DesiredGen hands back the last call's service for a virtual server with
// the same Rev under the same health generation, asks health again for
// everything else, and always equals a fresh Desired.
func TestMembershipDesiredGen(t *testing.T) {
	vs := func(addr string, rev uint64, quorum int, dests ...string) conf.VirtualServer {
		v := conf.VirtualServer{Name: addr, Address: ap(addr), Protocol: TCP, Sched: "rr", Method: DR, Rev: rev}
		v.Quorum = quorum
		for _, d := range dests {
			v.RealServers = append(v.RealServers, conf.RealServer{Name: d, Address: ap(d), Weight: 1})
		}
		return v
	}
	a := vs("198.51.100.30:80", 1, 1, "198.51.100.12:80", "198.51.100.10:80")
	b := vs("198.51.100.20:80", 2, 2, "198.51.100.10:80", "198.51.100.11:80")
	b2 := vs("198.51.100.20:80", 3, 2, "198.51.100.10:80") // b edited: new Rev
	handmade := vs("198.51.100.40:80", 0, 1, "198.51.100.13:80")
	down := map[string]bool{}
	asked := map[string]int{}
	health := func(v conf.VirtualServer, rs conf.RealServer) Health {
		asked[v.Name]++
		return Health{Up: !down[v.Name+" "+rs.Name]}
	}
	m := NewMembership()
	for i, step := range []struct {
		vss       []conf.VirtualServer
		gen       uint64
		down      []string // set before the call
		wantAsked []string // virtual servers whose health is asked
		wantEvent bool
	}{
		{vss: []conf.VirtualServer{a, b, handmade}, gen: 1, wantAsked: []string{a.Name, b.Name, handmade.Name}},
		{vss: []conf.VirtualServer{a, b, handmade}, gen: 1, wantAsked: []string{handmade.Name}}, // Rev 0: always built
		// b2 has one server (weight 1) under quorum 2: its quorum is lost,
		// once; reusing it must not report it again.
		{vss: []conf.VirtualServer{a, b2, handmade}, gen: 1, wantAsked: []string{b.Name, handmade.Name}, wantEvent: true},
		{vss: []conf.VirtualServer{a, b2, handmade}, gen: 1, wantAsked: []string{handmade.Name}},
		// A health change: everything is asked again.
		{vss: []conf.VirtualServer{a, b2, handmade}, gen: 2, down: []string{a.Name + " 198.51.100.10:80"}, wantAsked: []string{a.Name, b.Name, handmade.Name}},
		// Moved: positions differ, so the services are built again.
		{vss: []conf.VirtualServer{b2, a, handmade}, gen: 2, wantAsked: []string{a.Name, b.Name, handmade.Name}},
		{vss: []conf.VirtualServer{b2, a}, gen: 2, wantAsked: nil, wantEvent: true},             // handmade removed with its quorum up
		{vss: []conf.VirtualServer{b, a}, gen: 2, wantAsked: []string{b.Name}, wantEvent: true}, // b's quorum back
	} {
		for _, k := range step.down {
			down[k] = true
		}
		clear(asked)
		got, events := m.DesiredGen(step.vss, health, step.gen)
		var gotAsked []string
		for _, v := range step.vss {
			if asked[v.Name] > 0 {
				gotAsked = append(gotAsked, v.Name)
			}
		}
		var want []string
		for _, v := range step.vss {
			for _, n := range step.wantAsked {
				if v.Name == n {
					want = append(want, n)
				}
			}
		}
		if !reflect.DeepEqual(gotAsked, want) {
			t.Errorf("step %d: health asked for %v, want %v", i, gotAsked, want)
		}
		// The same as a Membership without memory that saw the same
		// history: quorum states come from the call before.
		fresh := Desired(step.vss, health)
		if !SameTable(got, fresh) && !step.wantEvent {
			// (A quorum event means the state came from history.)
			t.Errorf("step %d: got %+v\nfresh %+v", i, got, fresh)
		}
		if (len(events) > 0) != step.wantEvent {
			t.Errorf("step %d: events %+v, want some: %v", i, events, step.wantEvent)
		}
	}
}
