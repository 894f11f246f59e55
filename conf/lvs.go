package conf

import (
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// keepalived's checker and virtual_server defaults.
const (
	defaultDelayLoop        = 60 * time.Second
	defaultConnectTimeout   = 5 * time.Second
	defaultRetry            = 1
	defaultDelayBeforeRetry = time.Second
	defaultWeight           = 1
	defaultProtocol         = "TCP"
	defaultSched            = "wlc"
	defaultMethod           = "NAT"
)

// schedulers are the IPVS schedulers the kernel ships (ip_vs_*.ko).
var schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"}

var vsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "address"},
		{Name: "protocol"},
		{Name: "lvs_sched"},
		{Name: "lb_algo"},
		{Name: "lvs_method"},
		{Name: "lb_kind"},
		{Name: "delay_loop"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "real_server", LabelNames: []string{"name"}}},
}

var rsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "address"}, {Name: "weight"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "tcp_check"}},
}

var tcpCheckSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "connect_timeout"},
		{Name: "retry"},
		{Name: "nb_get_retry"},
		{Name: "delay_before_retry"},
		{Name: "delay_loop"},
		{Name: "connect_ip"},
		{Name: "connect_port"},
	},
}

// virtualServer decodes one virtual_server block and its real servers.
func (d *decoder) virtualServer(b *hcl.Block) (VirtualServer, bool) {
	errs := len(d.diags)
	vs := VirtualServer{
		Name:      b.Labels[0],
		Protocol:  defaultProtocol,
		Sched:     defaultSched,
		Method:    defaultMethod,
		DelayLoop: defaultDelayLoop,
		DeclRange: b.DefRange,
	}
	content, diags := b.Body.Content(vsSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	d.require(b, attrs, "address")

	addrOK := false
	if a := attrs["address"]; a != nil {
		vs.Address, addrOK = d.addrPort(a)
	}
	protoOK := true
	if a := attrs["protocol"]; a != nil {
		vs.Protocol, protoOK = d.enum(a, strings.ToUpper, "TCP", "UDP", "SCTP")
	}
	if addrOK && protoOK {
		d.uniqueVS(vs, attrs["address"])
	}
	if a := d.alias(attrs, "lvs_sched", "lb_algo"); a != nil {
		if s, ok := d.enum(a, strings.ToLower, schedulers...); ok {
			vs.Sched = s
		}
	}
	if a := d.alias(attrs, "lvs_method", "lb_kind"); a != nil {
		if s, ok := d.enum(a, strings.ToUpper, "NAT", "DR", "TUN"); ok {
			vs.Method = s
		}
	}
	if a := attrs["delay_loop"]; a != nil {
		if dur, ok := d.duration(a, false); ok {
			vs.DelayLoop = dur
		}
	}

	names := map[string]hcl.Range{}
	addrs := map[string]hcl.Range{}
	for _, rb := range content.Blocks {
		dup := d.uniqueLabel(rb, names)
		rs, ok := d.realServer(rb, &vs, addrOK, addrs)
		if ok && !dup {
			vs.RealServers = append(vs.RealServers, rs)
		}
	}
	return vs, !d.diags[errs:].HasErrors()
}

// uniqueVS refuses two virtual servers for one address and protocol: IPVS
// has a single service per (protocol, address, port).
func (d *decoder) uniqueVS(vs VirtualServer, a *hcl.Attribute) {
	if d.vsAddrs == nil {
		d.vsAddrs = map[vsKey]string{}
	}
	k := vsKey{vs.Address, vs.Protocol}
	if first, ok := d.vsAddrs[k]; ok {
		d.errorf(a.Expr.Range(), "Duplicate virtual_server address",
			"%s %s is already used by %s.", vs.Address, vs.Protocol, first)
		return
	}
	d.vsAddrs[k] = "virtual_server \"" + vs.Name + "\" at " + pos(vs.DeclRange)
}

// realServer decodes one real_server block inside vs. vsAddrOK says whether
// vs.Address is usable for cross-checks; addrs tracks the addresses already
// used in this virtual server.
func (d *decoder) realServer(b *hcl.Block, vs *VirtualServer, vsAddrOK bool, addrs map[string]hcl.Range) (RealServer, bool) {
	errs := len(d.diags)
	rs := RealServer{Name: b.Labels[0], Weight: defaultWeight, DeclRange: b.DefRange}
	content, diags := b.Body.Content(rsSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	d.require(b, attrs, "address")

	addrOK := false
	if a := attrs["address"]; a != nil {
		if rs.Address, addrOK = d.addrPort(a); addrOK {
			d.checkRSAddr(a, rs, vs, vsAddrOK, addrs)
		}
	}
	if a := attrs["weight"]; a != nil {
		// IPVS weights are 32-bit, but keepalived and ipvsadm cap them
		// at 65535.
		if n, ok := d.integer(a, 0, math.MaxUint16); ok {
			rs.Weight = int(n)
		}
	}
	if cb := d.singleBlock(content.Blocks, "tcp_check"); cb != nil {
		rs.TCPCheck = d.tcpCheck(cb, rs, vs.DelayLoop)
	}
	return rs, !d.diags[errs:].HasErrors()
}

// checkRSAddr applies the cross-checks on a real server's address.
func (d *decoder) checkRSAddr(a *hcl.Attribute, rs RealServer, vs *VirtualServer, vsAddrOK bool, addrs map[string]hcl.Range) {
	key := rs.Address.String()
	if first, ok := addrs[key]; ok {
		d.errorf(a.Expr.Range(), "Duplicate real_server address",
			"%s is already a real server of virtual_server %q at %s.", rs.Address, vs.Name, pos(first))
		return
	}
	addrs[key] = a.Expr.Range()
	if !vsAddrOK {
		return
	}
	// Only tunnelling can carry packets across address families; NAT and
	// DR forward the original packet.
	if vs.Method != "TUN" && rs.Address.Addr().Is4() != vs.Address.Addr().Is4() {
		d.errorf(a.Expr.Range(), "Invalid address",
			"real server %s and virtual server %s are of different address families; only lvs_method TUN can mix them.", rs.Address, vs.Address)
		return
	}
	// DR (and TUN) deliver the packet unchanged, so the real server sees
	// the virtual server's port whatever port is configured here.
	if vs.Method != "NAT" && rs.Address.Port() != vs.Address.Port() {
		d.warnf(a.Expr.Range(), "Port ignored with lvs_method "+vs.Method,
			"lvs_method %s cannot rewrite ports: clients reach %s on port %d, not %d.", vs.Method, rs.Address.Addr(), vs.Address.Port(), rs.Address.Port())
	}
}

// tcpCheck decodes a tcp_check block, cascading delay_loop from the virtual
// server and keepalived's defaults for the rest.
func (d *decoder) tcpCheck(b *hcl.Block, rs RealServer, delayLoop time.Duration) *TCPCheck {
	content, diags := b.Body.Content(tcpCheckSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	tc := &TCPCheck{
		Target:           rs.Address,
		ConnectTimeout:   defaultConnectTimeout,
		Retry:            defaultRetry,
		DelayBeforeRetry: defaultDelayBeforeRetry,
		DelayLoop:        delayLoop,
	}
	if a := attrs["connect_timeout"]; a != nil {
		if dur, ok := d.duration(a, false); ok {
			tc.ConnectTimeout = dur
		}
	}
	if a := d.alias(attrs, "retry", "nb_get_retry"); a != nil {
		if n, ok := d.integer(a, 0, math.MaxInt32); ok {
			tc.Retry = int(n)
		}
	}
	if a := attrs["delay_before_retry"]; a != nil {
		// 0 is meaningful: retry at once.
		if dur, ok := d.duration(a, true); ok {
			tc.DelayBeforeRetry = dur
		}
	}
	if a := attrs["delay_loop"]; a != nil {
		if dur, ok := d.duration(a, false); ok {
			tc.DelayLoop = dur
		}
	}
	ip, port := rs.Address.Addr(), rs.Address.Port()
	if a := attrs["connect_ip"]; a != nil {
		if s, ok := d.str(a); ok {
			if addr, err := parseAddr(s); err != nil {
				d.errorf(a.Expr.Range(), "Invalid connect_ip", "connect_ip must be an IP address; %q is not: %v.", s, err)
			} else {
				ip = addr
			}
		}
	}
	if a := attrs["connect_port"]; a != nil {
		if n, ok := d.integer(a, 1, math.MaxUint16); ok {
			port = uint16(n)
		}
	}
	tc.Target = netip.AddrPortFrom(ip, port)
	return tc
}
