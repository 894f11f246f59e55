package ipvs

import (
	"net/netip"
)

// ap parses an address:port of the RFC 5737 test ranges.
func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func tcp(addr string) Key { return Key{Protocol: TCP, Addr: ap(addr)} }

func svc(k Key, sched string, dests ...Dest) Service {
	return Service{Key: k, Sched: sched, Dests: dests}
}

func dr(addr string, w int) Dest  { return Dest{Addr: ap(addr), Weight: w, Method: DR} }
func nat(addr string, w int) Dest { return Dest{Addr: ap(addr), Weight: w, Method: NAT} }

var (
	vip1  = tcp("198.51.100.30:3306")
	vip2  = tcp("198.51.100.31:3306")
	other = tcp("203.0.113.5:80") // a service lvsd does not manage
)
