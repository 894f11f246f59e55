package ipvs

import (
	"reflect"
	"slices"
	"testing"

	"github.com/lvsd/lvsd/conf"
)

func TestDesiredShapes(t *testing.T) {
	for _, tc := range []struct {
		name string
		vs   conf.VirtualServer
		want Service
	}{
		{
			"sh flags",
			conf.VirtualServer{Address: ap("198.51.100.30:80"), Protocol: TCP, Sched: "sh", SchedFlags: []string{"sh-port", "sh-fallback"}, Method: NAT},
			Service{Key: tcp("198.51.100.30:80"), Sched: "sh", Flags: FlagSched1 | FlagSched2},
		},
		{
			"mh port",
			conf.VirtualServer{Address: ap("198.51.100.30:80"), Protocol: TCP, Sched: "mh", SchedFlags: []string{"mh-port"}, Method: NAT},
			Service{Key: tcp("198.51.100.30:80"), Sched: "mh", Flags: FlagSched2},
		},
		{
			"generic flags and ops",
			conf.VirtualServer{Address: ap("198.51.100.30:53"), Protocol: UDP, Sched: "rr", SchedFlags: []string{"flag-3", "ops"}, Method: NAT},
			Service{Key: Key{Protocol: UDP, Addr: ap("198.51.100.30:53")}, Sched: "rr", Flags: FlagSched3 | FlagOnePacket},
		},
		{
			// A flag of another scheduler (only from a hand-built config:
			// conf refuses it) is left out rather than programmed.
			"foreign flag dropped",
			conf.VirtualServer{Address: ap("198.51.100.30:80"), Protocol: TCP, Sched: "rr", SchedFlags: []string{"sh-port"}, Method: NAT},
			Service{Key: tcp("198.51.100.30:80"), Sched: "rr"},
		},
		{
			"fwmark v4, per real server method and thresholds",
			conf.VirtualServer{
				FWMark: 5, Address: ap("0.0.0.0:0"), Protocol: TCP, Sched: "wrr", Method: DR,
				RealServers: []conf.RealServer{
					{Address: ap("198.51.100.11:80"), Weight: 2, Method: TUN, UThreshold: 10, LThreshold: 5},
					{Address: ap("198.51.100.10:80"), Weight: 1},
				},
			},
			// DR and TUN destinations of a fwmark service get port 0,
			// as keepalived programs them.
			Service{Key: FWMarkKey(5, false), Sched: "wrr", Dests: []Dest{
				{Addr: ap("198.51.100.10:0"), Weight: 1, Method: DR},
				{Addr: ap("198.51.100.11:0"), Weight: 2, Method: TUN, UThreshold: 10, LThreshold: 5},
			}},
		},
		{
			// keepalived and ipvsadm give DR and TUN destinations the
			// service's port; NAT keeps the real server's. Two real
			// servers that are one IPVS destination make one entry.
			"DR and TUN take the service's port",
			conf.VirtualServer{
				Address: ap("198.51.100.31:3306"), Protocol: TCP, Sched: "rr", Method: DR,
				RealServers: []conf.RealServer{
					{Address: ap("198.51.100.10:3307"), Weight: 1},
					{Address: ap("198.51.100.11:3308"), Weight: 1, Method: TUN},
					{Address: ap("198.51.100.12:3309"), Weight: 1, Method: NAT},
					{Address: ap("198.51.100.10:3306"), Weight: 5},
				},
			},
			Service{Key: tcp("198.51.100.31:3306"), Sched: "rr", Dests: []Dest{
				{Addr: ap("198.51.100.10:3306"), Weight: 1, Method: DR},
				{Addr: ap("198.51.100.11:3306"), Weight: 1, Method: TUN},
				{Addr: ap("198.51.100.12:3309"), Weight: 1, Method: NAT},
			}},
		},
		{
			"fwmark v6",
			conf.VirtualServer{FWMark: 6, Address: ap("[::]:0"), Protocol: TCP, Sched: "rr", Method: NAT,
				RealServers: []conf.RealServer{{Address: ap("[2001:db8::10]:80"), Weight: 1, Method: NAT}}},
			Service{Key: FWMarkKey(6, true), Sched: "rr", Dests: []Dest{nat("[2001:db8::10]:80", 1)}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Desired([]conf.VirtualServer{tc.vs}, AllUp)
			if len(got) != 1 || !reflect.DeepEqual(got[0], tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestFlagByName(t *testing.T) {
	for _, tc := range []struct {
		sched, name string
		want        Flags
		ok          bool
	}{
		{"sh", "sh-fallback", FlagSched1, true},
		{"sh", "sh-port", FlagSched2, true},
		{"mh", "mh-fallback", FlagSched1, true},
		{"mh", "mh-port", FlagSched2, true},
		{"rr", "sh-port", FlagSched2, false},
		{"sh", "mh-port", FlagSched2, false},
		{"rr", "flag-1", FlagSched1, true},
		{"wlc", "flag-3", FlagSched3, true},
		{"rr", "ops", FlagOnePacket, true},
		{"rr", "bogus", 0, false},
	} {
		got, ok := FlagByName(tc.sched, tc.name)
		if got != tc.want || ok != tc.ok {
			t.Errorf("FlagByName(%q, %q) = %v, %v; want %v, %v", tc.sched, tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestDiffShapes(t *testing.T) {
	fw := FWMarkKey(3, false)
	fw6 := FWMarkKey(3, true)
	thr := Dest{Addr: ap("198.51.100.10:80"), Weight: 1, Method: NAT, UThreshold: 10}
	for _, tc := range []struct {
		name              string
		desired, observed []Service
		want              []string
	}{
		{
			"flags changed in place",
			[]Service{{Key: vip1, Sched: "sh", Flags: FlagSched2}},
			[]Service{{Key: vip1, Sched: "sh", Flags: FlagSched1}},
			[]string{"update service TCP 198.51.100.30:3306 flags (sh-fallback)->(sh-port)"},
		},
		{
			"flags equal: nothing",
			[]Service{{Key: vip1, Sched: "mh", Flags: FlagSched1 | FlagSched2}},
			[]Service{{Key: vip1, Sched: "mh", Flags: FlagSched1 | FlagSched2}},
			nil,
		},
		{
			"fwmark families are distinct services",
			[]Service{{Key: fw, Sched: "rr"}, {Key: fw6, Sched: "rr", Flags: FlagOnePacket}},
			[]Service{{Key: fw, Sched: "rr"}},
			[]string{"add service FWM 3 IPv6 rr (ops)"},
		},
		{
			"fwmark not desired but managed is deleted",
			nil,
			[]Service{{Key: fw, Sched: "rr"}},
			[]string{"delete service FWM 3"},
		},
		{
			"thresholds updated",
			[]Service{{Key: vip1, Sched: "rr", Dests: []Dest{thr}}},
			[]Service{{Key: vip1, Sched: "rr", Dests: []Dest{nat("198.51.100.10:80", 1)}}},
			[]string{"update dest TCP 198.51.100.30:3306 -> 198.51.100.10:80 thresholds 0/0->10/0"},
		},
		{
			"per dest method updated",
			[]Service{{Key: vip1, Sched: "rr", Dests: []Dest{{Addr: ap("198.51.100.10:80"), Weight: 1, Method: TUN}}}},
			[]Service{{Key: vip1, Sched: "rr", Dests: []Dest{dr("198.51.100.10:80", 1)}}},
			[]string{"update dest TCP 198.51.100.30:3306 -> 198.51.100.10:80 method route->tunnel"},
		},
		{
			"added dest shows thresholds",
			[]Service{{Key: vip1, Sched: "rr", Dests: []Dest{{Addr: ap("198.51.100.10:80"), Weight: 1, Method: NAT, UThreshold: 10, LThreshold: 2}}}},
			[]Service{{Key: vip1, Sched: "rr"}},
			[]string{"add dest TCP 198.51.100.30:3306 -> 198.51.100.10:80 masq weight 1 uthreshold 10 lthreshold 2"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			managed := map[Key]bool{fw: true, fw6: true, vip1: true}
			var got []string
			for _, o := range Diff(tc.desired, tc.observed, managed) {
				got = append(got, o.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestKeyOrderAndString(t *testing.T) {
	keys := []Key{tcp("198.51.100.30:80"), FWMarkKey(2, true), FWMarkKey(2, false), FWMarkKey(1, false)}
	slices.SortFunc(keys, compareKeys)
	var got []string
	for _, k := range keys {
		got = append(got, k.String())
	}
	want := []string{"FWM 1", "FWM 2", "FWM 2 IPv6", "TCP 198.51.100.30:80"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTimeoutsOverlay(t *testing.T) {
	cur := Timeouts{TCP: 900e9, TCPFin: 120e9, UDP: 300e9}
	got := Timeouts{TCP: 60e9}.Overlay(cur)
	if want := (Timeouts{TCP: 60e9, TCPFin: 120e9, UDP: 300e9}); got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	if s := got.String(); s != "tcp 60 tcpfin 120 udp 300" {
		t.Errorf("String = %q", s)
	}
}
