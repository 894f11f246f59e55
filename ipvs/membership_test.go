package ipvs

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/lvsd/lvsd/conf"
)

// nextQuorum follows keepalived's update_quorum_state: gained at
// quorum+hysteresis, lost below quorum-hysteresis or at 0.
func TestNextQuorum(t *testing.T) {
	tests := []struct {
		name                string
		prev, known         bool
		sum, quorum, hyst   int
		sorry               bool
		wantUp, wantChanged bool
	}{
		{"start up", false, false, 2, 1, 0, false, true, false},
		{"start down without sorry server: silent", false, false, 0, 1, 0, false, false, false},
		{"start down with sorry server: reported", false, false, 0, 1, 0, true, false, true},
		{"start needs quorum+hysteresis", false, false, 3, 3, 1, false, false, false},
		{"start at quorum+hysteresis", false, false, 4, 3, 1, false, true, false},
		{"up stays at quorum", true, true, 3, 3, 0, false, true, false},
		{"up lost below quorum", true, true, 2, 3, 0, false, false, true},
		{"up kept inside hysteresis band", true, true, 2, 3, 1, false, true, false},
		{"up lost below quorum-hysteresis", true, true, 1, 3, 1, false, false, true},
		{"up lost at zero even with hysteresis >= quorum", true, true, 0, 1, 2, false, false, true},
		{"up kept at 1 with hysteresis >= quorum", true, true, 1, 1, 2, false, true, false},
		{"down stays inside hysteresis band", false, true, 3, 3, 1, false, false, false},
		{"down gained at quorum+hysteresis", false, true, 4, 3, 1, false, true, true},
		{"down gained at quorum", false, true, 1, 1, 0, true, true, true},
		{"down stays down at zero", false, true, 0, 1, 0, true, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			up, changed := nextQuorum(tc.prev, tc.known, tc.sum, tc.quorum, tc.hyst, tc.sorry)
			if up != tc.wantUp || changed != tc.wantChanged {
				t.Errorf("nextQuorum = (%v, %v), want (%v, %v)", up, changed, tc.wantUp, tc.wantChanged)
			}
		})
	}
}

// A sequence of health states through one Membership: the sorry server
// replaces the real servers while the quorum is lost, quorum_up/down events
// carry the scripts, hysteresis holds across calls.
func TestMembershipSorryServerAndQuorum(t *testing.T) {
	upCmd := &conf.Command{Line: "/bin/up", Argv: []string{"/bin/up"}}
	downCmd := &conf.Command{Line: "/bin/down", Argv: []string{"/bin/down"}}
	a, b, sorry := ap("198.51.100.10:3306"), ap("198.51.100.11:3306"), ap("198.51.100.50:3306")
	vs := conf.VirtualServer{
		Name: "db", Address: vip1.Addr, Protocol: TCP, Sched: "rr", Method: DR,
		Membership: conf.Membership{SorryServer: sorry, SorryServerMethod: NAT, Quorum: 2, Hysteresis: 1,
			QuorumUp: upCmd, QuorumDown: downCmd},
		RealServers: []conf.RealServer{
			{Name: "a", Address: a, Weight: 2},
			{Name: "b", Address: b, Weight: 1, InhibitOnFailure: true},
		},
	}
	m := NewMembership()
	type step struct {
		name       string
		upA, upB   bool
		wantDests  []Dest
		wantDown   []netip.AddrPort
		wantEvents []QuorumEvent
	}
	sorryDest := Dest{Addr: sorry, Weight: 1, Method: NAT}
	steps := []step{
		{"start: sum 3 = quorum+hysteresis, up, no event", true, true,
			[]Dest{dr("198.51.100.10:3306", 2), dr("198.51.100.11:3306", 1)}, []netip.AddrPort{sorry}, nil},
		{"b down: sum 2, within hysteresis, still up", true, false,
			[]Dest{dr("198.51.100.10:3306", 2), dr("198.51.100.11:3306", 0)}, []netip.AddrPort{sorry}, nil},
		{"a down, b up: sum 1 = quorum-hysteresis, still up", false, true,
			[]Dest{dr("198.51.100.11:3306", 1)}, []netip.AddrPort{a, sorry}, nil},
		{"both down: lost; sorry server in", false, false,
			[]Dest{dr("198.51.100.11:3306", 0), sorryDest}, []netip.AddrPort{a},
			[]QuorumEvent{{VS: "db", Key: vip1, Up: false, WeightSum: 0, Threshold: 1, Script: downCmd}}},
		{"a back: sum 2 < 3, still down; a stays out (sorry server serves)", true, false,
			[]Dest{dr("198.51.100.11:3306", 0), sorryDest}, []netip.AddrPort{a}, nil},
		{"both back: gained; sorry server out (deleted at once, not drained)", true, true,
			[]Dest{dr("198.51.100.10:3306", 2), dr("198.51.100.11:3306", 1)}, []netip.AddrPort{sorry},
			[]QuorumEvent{{VS: "db", Key: vip1, Up: true, WeightSum: 3, Threshold: 3, Script: upCmd}}},
	}
	for _, st := range steps {
		health := func(_ conf.VirtualServer, rs conf.RealServer) Health {
			if rs.Address == a {
				return Health{Up: st.upA}
			}
			return Health{Up: st.upB}
		}
		got, evs := m.Desired([]conf.VirtualServer{vs}, health)
		sortTable([]Service{{Dests: st.wantDests}})
		want := []Service{{Key: vip1, Sched: "rr", Dests: st.wantDests, Down: st.wantDown}}
		sortTable(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got  %+v\n want %+v", st.name, got, want)
		}
		if !reflect.DeepEqual(evs, st.wantEvents) {
			t.Errorf("%s: events %+v, want %+v", st.name, evs, st.wantEvents)
		}
	}
	// Removing the virtual server while its quorum is up reports it, with
	// the quorum_down it had (keepalived runs it then).
	_, evs := m.Desired(nil, AllUp)
	want := []QuorumEvent{{VS: "db", Key: vip1, Removed: true, Script: downCmd}}
	if !reflect.DeepEqual(evs, want) {
		t.Errorf("removal events %+v, want %+v", evs, want)
	}
}

// Starting with every server down and a sorry server: it goes in at once
// and the start is reported (keepalived's "starting with quorum down").
// sorry_server_inhibit keeps it at weight 0 while not needed. Without a
// sorry server, losing the quorum changes nothing in the table.
func TestMembershipStart(t *testing.T) {
	sorry := ap("198.51.100.50:3306")
	vs := conf.VirtualServer{
		Name: "db", Address: vip1.Addr, Protocol: TCP, Sched: "rr", Method: DR,
		Membership:  conf.Membership{SorryServer: sorry, SorryServerInhibit: true, Quorum: 1},
		RealServers: []conf.RealServer{{Name: "a", Address: ap("198.51.100.10:3306"), Weight: 1}},
	}
	down := func(conf.VirtualServer, conf.RealServer) Health { return Health{} }
	m := NewMembership()
	got, evs := m.Desired([]conf.VirtualServer{vs}, down)
	if want := []Dest{{Addr: sorry, Weight: 1, Method: DR}}; !reflect.DeepEqual(got[0].Dests, want) {
		t.Errorf("dests %+v, want %+v", got[0].Dests, want)
	}
	if len(evs) != 1 || evs[0].Up || !evs[0].Init {
		t.Errorf("events %+v, want one init down", evs)
	}
	got, _ = m.Desired([]conf.VirtualServer{vs}, AllUp)
	if want := []Dest{dr("198.51.100.10:3306", 1), {Addr: sorry, Weight: 0, Method: DR}}; !reflect.DeepEqual(got[0].Dests, want) {
		t.Errorf("inhibited sorry server: dests %+v, want %+v", got[0].Dests, want)
	}

	vs.SorryServer, vs.SorryServerInhibit = netip.AddrPort{}, false
	m = NewMembership()
	_, evs = m.Desired([]conf.VirtualServer{vs}, down)
	if len(evs) != 0 {
		t.Errorf("start down without sorry server: events %+v, want none", evs)
	}
	got, evs = m.Desired([]conf.VirtualServer{vs}, AllUp)
	if len(evs) != 1 || !evs[0].Up {
		t.Errorf("events %+v, want quorum gained", evs)
	}
	if want := []Dest{dr("198.51.100.10:3306", 1)}; !reflect.DeepEqual(got[0].Dests, want) {
		t.Errorf("dests %+v, want %+v", got[0].Dests, want)
	}
}

// Health.Weight overrides the configured weight (misc_dynamic) and counts
// toward the quorum; a drained server is marked, weight 0, and does not
// count.
func TestMembershipWeightAndDrain(t *testing.T) {
	vs := conf.VirtualServer{
		Name: "db", Address: vip1.Addr, Protocol: TCP, Sched: "wrr", Method: DR,
		Membership: conf.Membership{Quorum: 5},
		RealServers: []conf.RealServer{
			{Name: "a", Address: ap("198.51.100.10:3306"), Weight: 1},
			{Name: "b", Address: ap("198.51.100.11:3306"), Weight: 10},
		},
	}
	m := NewMembership()
	h := func(_ conf.VirtualServer, rs conf.RealServer) Health {
		if rs.Name == "a" {
			return Health{Up: true, Weight: 7, WeightSet: true}
		}
		return Health{Up: true, Draining: true}
	}
	got, _ := m.Desired([]conf.VirtualServer{vs}, h)
	want := []Dest{dr("198.51.100.10:3306", 7), {Addr: ap("198.51.100.11:3306"), Weight: 0, Method: DR, Draining: true}}
	if !reflect.DeepEqual(got[0].Dests, want) {
		t.Errorf("dests %+v, want %+v", got[0].Dests, want)
	}
	if up, known := m.QuorumState(vip1); !up || !known {
		t.Errorf("quorum (%v, %v), want up: 7 >= 5", up, known)
	}
}
