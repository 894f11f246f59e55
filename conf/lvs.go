package conf

import (
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
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
		{Name: "persistence_timeout"},
		{Name: "persistence_granularity"},
		{Name: "inhibit_on_failure"},
		{Name: "fwmark"},
		{Name: "ip_family"},
		{Name: "group"},
		{Name: "lvs_flags"},
		{Name: "tun_type"},
		{Name: "tun_port"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "real_server", LabelNames: []string{"name"}}},
}

func init() {
	// Membership attributes (sorry_server, quorum, drain, ...) live in
	// membership.go; appended here so other edits to the list stay apart.
	vsSchema.Attributes = append(vsSchema.Attributes, membershipAttrs...)
}

var rsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "address"}, {Name: "weight"}, {Name: "inhibit_on_failure"},
		{Name: "lvs_method"}, {Name: "lb_kind"}, {Name: "uthreshold"}, {Name: "lthreshold"},
		{Name: "tun_type"}, {Name: "tun_port"}, {Name: "notify_up"}, {Name: "notify_down"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "tcp_check"}, {Type: "mysql_check"}, {Type: "http_get"}, {Type: "ssl_get"},
		{Type: "misc_check"}, {Type: "udp_check"}, {Type: "dns_check"},
	},
}

// checkKinds maps a checker block type to its Check.Kind, in the order the
// kinds are documented.
var checkKinds = []struct{ block, kind string }{
	{"tcp_check", CheckTCP},
	{"mysql_check", CheckMySQL},
	{"http_get", CheckHTTP},
	{"ssl_get", CheckSSL},
	{"misc_check", CheckMisc},
	{"udp_check", CheckUDP},
	{"dns_check", CheckDNS},
}

// commonCheckAttrs are the options every checker block takes.
var commonCheckAttrs = []hcl.AttributeSchema{
	{Name: "connect_timeout"},
	{Name: "retry"},
	{Name: "nb_get_retry"},
	{Name: "delay_before_retry"},
	{Name: "delay_loop"},
	{Name: "connect_ip"},
	{Name: "connect_port"},
	{Name: "bindto"},
	{Name: "bind_port"},
	{Name: "rise"},
	{Name: "fall"},
	{Name: "warmup"},
}

var checkSchemas = map[string]*hcl.BodySchema{
	"tcp_check": {Attributes: commonCheckAttrs},
	"mysql_check": {
		Attributes: append(slices.Clip(commonCheckAttrs),
			hcl.AttributeSchema{Name: "user"}, hcl.AttributeSchema{Name: "password"},
			hcl.AttributeSchema{Name: "query"}, hcl.AttributeSchema{Name: "read_only"}),
		Blocks: []hcl.BlockHeaderSchema{{Type: "replication"}},
	},
	"http_get": {Attributes: append(slices.Clip(commonCheckAttrs), httpAttrs...)},
	"ssl_get": {Attributes: append(append(slices.Clip(commonCheckAttrs), httpAttrs...),
		hcl.AttributeSchema{Name: "ca_file"}, hcl.AttributeSchema{Name: "server_name"},
		hcl.AttributeSchema{Name: "insecure_skip_verify"})},
	// misc_check runs a program: it connects nowhere.
	"misc_check": {Attributes: []hcl.AttributeSchema{
		{Name: "retry"}, {Name: "nb_get_retry"}, {Name: "delay_before_retry"}, {Name: "delay_loop"},
		{Name: "rise"}, {Name: "fall"}, {Name: "warmup"},
		{Name: "misc_path"}, {Name: "misc_timeout"}, {Name: "misc_dynamic"}, {Name: "user"},
	}},
	"udp_check": {Attributes: append(slices.Clip(commonCheckAttrs),
		hcl.AttributeSchema{Name: "payload"}, hcl.AttributeSchema{Name: "require_reply"},
		hcl.AttributeSchema{Name: "reply"}, hcl.AttributeSchema{Name: "reply_regex"},
		hcl.AttributeSchema{Name: "min_reply_length"}, hcl.AttributeSchema{Name: "max_reply_length"})},
	"dns_check": {Attributes: append(slices.Clip(commonCheckAttrs),
		hcl.AttributeSchema{Name: "type"}, hcl.AttributeSchema{Name: "name"})},
}

// dnsTypes are the query types dns_check accepts: keepalived's list.
var dnsTypes = []string{"A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"}

var httpAttrs = []hcl.AttributeSchema{
	{Name: "path"}, {Name: "status_code"}, {Name: "body_regex"}, {Name: "digest"}, {Name: "virtualhost"},
}

var replicationSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "max_lag"}}}

var md5Hex = regexp.MustCompile(`^[0-9a-f]{32}$`)

// defaultMaxLag is the replication max_lag when the block does not set it.
const defaultMaxLag = 30 * time.Second

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
		Rev:       nextRev(),
	}
	content, diags := bodyContent(b.Body, vsSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes

	d.groupEntries = nil
	addrOK := d.vsIdentity(b, attrs, &vs)
	protoOK := true
	if a := attrs["protocol"]; a != nil {
		vs.Protocol, protoOK = d.enum(a, strings.ToUpper, "TCP", "UDP", "SCTP")
	}
	if addrOK && protoOK {
		key := attrs["address"]
		if key == nil {
			key = attrs["fwmark"]
		}
		if d.groupEntries != nil {
			key = attrs["group"]
		}
		d.vsKeyRange = key.Expr.Range()
		if d.groupEntries == nil {
			d.uniqueVS(vs, d.vsKeyRange)
		}
		for _, e := range d.groupEntries {
			m := vs
			m.Address, m.FWMark = e.Address, e.FWMark
			d.uniqueVS(m, d.vsKeyRange)
		}
	}
	schedOK := true
	if a := d.alias(attrs, "lvs_sched", "lb_algo"); a != nil {
		var s string
		if s, schedOK = d.enum(a, strings.ToLower, schedulers...); schedOK {
			vs.Sched = s
		}
	}
	if a := attrs["lvs_flags"]; a != nil && schedOK && protoOK {
		vs.SchedFlags = d.schedFlags(a, vs)
	}
	if a := d.alias(attrs, "lvs_method", "lb_kind"); a != nil {
		if s, ok := d.enum(a, strings.ToUpper, "NAT", "DR", "TUN"); ok {
			vs.Method = s
		}
	}
	d.tunnel(attrs, vs.Method)
	if a := attrs["delay_loop"]; a != nil {
		if dur, ok := d.duration(a, false); ok {
			vs.DelayLoop = dur
		}
	}

	d.persistence(attrs, &vs, addrOK)
	// Decoded before the real servers, which take it as their default.
	if a := attrs["inhibit_on_failure"]; a != nil {
		if v, ok := d.boolean(a); ok {
			vs.InhibitOnFailure = v
		}
	}

	d.membership(attrs, &vs, addrOK)

	names := map[string]hcl.Range{}
	addrs := map[netip.AddrPort]hcl.Range{}
	// Sized once: grown by append, the slice of 10 real servers got room
	// for 16, which was 40% of a 10k-service config's memory.
	if len(content.Blocks) > 0 {
		vs.RealServers = make([]RealServer, 0, len(content.Blocks))
	}
	for _, rb := range content.Blocks {
		dup := d.uniqueLabel(rb, names)
		rs, ok := d.realServer(rb, &vs, addrOK, addrs)
		if ok && !dup {
			vs.RealServers = append(vs.RealServers, rs)
		}
	}
	return vs, !d.diags[errs:].HasErrors()
}

// vsIdentity decodes what identifies the service in IPVS: address, or
// fwmark with ip_family. It returns whether vs.Address is usable (for a
// fwmark service: the unspecified address of its family, port 0).
func (d *decoder) vsIdentity(b *hcl.Block, attrs hcl.Attributes, vs *VirtualServer) bool {
	addr, mark, fam := attrs["address"], attrs["fwmark"], attrs["ip_family"]
	if grp := attrs["group"]; grp != nil {
		return d.vsGroupIdentity(grp, addr, mark, fam, vs)
	}
	switch {
	case addr != nil && mark != nil:
		d.errorf(mark.NameRange, "Conflicting fwmark",
			"a virtual_server is either an address (address) or a firewall mark (fwmark), not both (address at %s).", pos(addr.NameRange))
		return false
	case addr == nil && mark == nil:
		d.errorf(b.DefRange, "Missing required attribute", "%s needs address (or fwmark).", blockName(b))
		return false
	case addr != nil:
		if fam != nil {
			d.errorf(fam.NameRange, "ip_family with address",
				"ip_family only applies to a fwmark virtual_server; this one's family is its address's.")
		}
		var ok bool
		vs.Address, ok = d.addrPort(addr)
		return ok
	}
	// IPVS keys firewall-mark services by mark and address family
	// (ip_vs_ctl.c); mark 0 means "no mark" to the kernel.
	n, ok := d.integer(mark, 1, math.MaxUint32)
	if !ok {
		return false
	}
	vs.FWMark = uint32(n)
	vs.Address = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	if fam != nil {
		f, ok := d.enum(fam, strings.ToLower, "inet", "inet6")
		if !ok {
			return false
		}
		if f == "inet6" {
			vs.Address = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
		}
	}
	return true
}

// vsGroupIdentity takes the identity of a virtual_server naming a group
// (keepalived's `virtual_server group NAME`): the first entry's, so that
// everything checked against the service's family is checked against the
// group's; the decoder then makes one service per entry (rootStream).
func (d *decoder) vsGroupIdentity(grp, addr, mark, fam *hcl.Attribute, vs *VirtualServer) bool {
	if other := cmp.Or(addr, mark); other != nil {
		d.errorf(other.NameRange, "Conflicting "+other.Name,
			"a virtual_server names a group, an address or a firewall mark, only one (group at %s).", pos(grp.NameRange))
		return false
	}
	name, ok := d.str(grp)
	if !ok {
		return false
	}
	g := d.vsGroups[name]
	switch {
	case g == nil:
		d.errorf(grp.Expr.Range(), "Unknown virtual_server_group", "group %q names no virtual_server_group block.", name)
		return false
	case !g.ok:
		return false // its own errors are reported
	}
	unspec := netip.IPv4Unspecified()
	if fam != nil {
		f, ok := d.enum(fam, strings.ToLower, "inet", "inet6")
		switch {
		case !ok:
			return false
		case len(g.addrs) > 0:
			d.errorf(fam.NameRange, "ip_family with a group of addresses",
				"ip_family only applies to a group of firewall marks only; this group's family is its addresses'.")
			return false
		case f == "inet6":
			unspec = netip.IPv6Unspecified()
		}
	}
	d.groupEntries = g.entries(unspec)
	vs.Address, vs.FWMark = d.groupEntries[0].Address, d.groupEntries[0].FWMark
	return true
}

// schedFlags decodes lvs_flags: keepalived's flag keywords, each valid
// for vs.Sched (sh-* only with sh, mh-* only with mh, as ipvsadm -b names
// them; flag-1..3 with any scheduler) and ops only for UDP services and
// fwmark services, as ipvsadm --ops requires. Names are kept as written,
// lower-cased; a duplicate is an error.
func (d *decoder) schedFlags(a *hcl.Attribute, vs VirtualServer) []string {
	elems, ok := d.strList(a)
	if !ok {
		return nil
	}
	var out []string
	seen := map[string]hcl.Range{}
	for _, e := range elems {
		name := strings.ToLower(e.s)
		if first, dup := seen[name]; dup {
			d.errorf(e.rng, "Duplicate lvs_flags entry", "%q is already listed at %s.", e.s, pos(first))
			continue
		}
		seen[name] = e.rng
		switch {
		case !slices.Contains(lvsFlags, name):
			d.errorf(e.rng, "Invalid lvs_flags", "unknown flag %q; allowed: %s.", e.s, strings.Join(lvsFlags, " "))
			continue
		case strings.HasPrefix(name, "sh-") || strings.HasPrefix(name, "mh-"):
			if sched := name[:2]; vs.Sched != sched {
				d.errorf(e.rng, "Invalid lvs_flags", "%s only applies to lvs_sched %q; this virtual_server uses %q.", name, sched, vs.Sched)
				continue
			}
		case name == "ops":
			if vs.FWMark == 0 && vs.Protocol != "UDP" {
				d.errorf(e.rng, "Invalid lvs_flags", "ops (one-packet scheduling) only applies to UDP services; this one is %s.", vs.Protocol)
				continue
			}
		}
		out = append(out, name)
	}
	return out
}

// lvsFlags are the lvs_flags names: keepalived's keywords for IPVS service
// flags (ipvsadm -b and --ops).
var lvsFlags = []string{"sh-fallback", "sh-port", "mh-fallback", "mh-port", "flag-1", "flag-2", "flag-3", "ops"}

// tunnel refuses tunnel options lvsd cannot program. The kernel (5.3+)
// takes IPVS_DEST_ATTR_TUN_TYPE/TUN_PORT for GUE and GRE tunnels, but
// moby/ipvs does not send them, so only ipip, the kernel's default when the
// attribute is absent, can be honoured; anything else is an error rather
// than a silently different tunnel.
func (d *decoder) tunnel(attrs hcl.Attributes, method string) {
	if a := attrs["tun_type"]; a != nil {
		if t, ok := d.enum(a, strings.ToLower, "ipip", "gue", "gre"); ok {
			switch {
			case method != "TUN":
				d.errorf(a.NameRange, "tun_type without TUN", "tun_type only applies with lvs_method TUN; this one is %s.", method)
			case t != "ipip":
				d.errorf(a.Expr.Range(), "Unsupported tun_type",
					"tun_type %q is not supported: lvsd programs IPVS through moby/ipvs, which cannot send the tunnel type, so only \"ipip\" (the kernel's default) is available.", t)
			}
		}
	}
	if a := attrs["tun_port"]; a != nil {
		d.errorf(a.NameRange, "Unsupported tun_port",
			"tun_port is only meaningful for GUE tunnels, which lvsd cannot program (moby/ipvs cannot send the tunnel type); remove it to use ipip.")
	}
}

// maxPersistenceTimeout is the largest timeout IPVS keeps: the kernel
// multiplies the seconds by HZ into an int (ip_vs_ctl.c), and ipvsadm
// refuses more than this too.
const maxPersistenceTimeout = math.MaxInt32 / 1000 * time.Second

// persistence decodes persistence_timeout and persistence_granularity.
// vsAddrOK says whether vs.Address is known, which decides the address
// family a granularity is checked against.
func (d *decoder) persistence(attrs hcl.Attributes, vs *VirtualServer, vsAddrOK bool) {
	if a := attrs["persistence_timeout"]; a != nil {
		if dur, ok := d.duration(a, false); ok {
			switch {
			case dur%time.Second != 0:
				// IPVS counts persistence in whole seconds; rounding
				// silently would program another value than written.
				d.errorf(a.Expr.Range(), "Invalid persistence_timeout", "persistence_timeout must be whole seconds (IPVS keeps seconds); got %v.", dur)
			case dur > maxPersistenceTimeout:
				d.errorf(a.Expr.Range(), "Invalid persistence_timeout", "persistence_timeout must be at most %v; got %v.", maxPersistenceTimeout, dur)
			default:
				vs.PersistenceTimeout = dur
			}
		}
	}
	a := attrs["persistence_granularity"]
	if a == nil {
		if vsAddrOK {
			vs.PersistenceGranularity = vs.Address.Addr().BitLen()
		}
		return
	}
	if vs.PersistenceTimeout == 0 && attrs["persistence_timeout"] == nil {
		d.warnf(a.NameRange, "persistence_granularity without persistence_timeout",
			"persistence_granularity has no effect unless persistence_timeout is set (the service is not persistent).")
	}
	v, ok := d.value(a)
	if !ok || !vsAddrOK {
		return
	}
	plen, ok := -1, false
	v6 := vs.Address.Addr().Is6()
	switch v.Type() {
	case cty.String:
		s := v.AsString()
		if m, err := netip.ParseAddr(s); err == nil && m.Is4() && !v6 {
			plen, ok = maskBits(m)
		} else if n, err := strconv.Atoi(strings.TrimPrefix(s, "/")); err == nil {
			plen, ok = n, true
		}
	case cty.Number:
		if n, acc := v.AsBigFloat().Int64(); acc == big.Exact && v.AsBigFloat().IsInt() {
			plen, ok = int(n), true
		}
	}
	// The kernel refuses an IPv6 prefix of 0 (ip_vs_ctl.c checks 1-128);
	// an IPv4 mask of 0.0.0.0 is accepted and means one group for all.
	if !ok || plen < 0 || plen > vs.Address.Addr().BitLen() || (v6 && plen == 0) {
		if v6 {
			d.errorf(a.Expr.Range(), "Invalid persistence_granularity",
				"persistence_granularity of an IPv6 service must be a prefix length from 1 to 128, such as 64.")
		} else {
			d.errorf(a.Expr.Range(), "Invalid persistence_granularity",
				"persistence_granularity must be a contiguous netmask such as \"255.255.255.0\", or a prefix length from 0 to 32.")
		}
		return
	}
	vs.PersistenceGranularity = plen
}

// maskBits turns a contiguous IPv4 netmask into its prefix length.
func maskBits(m netip.Addr) (int, bool) {
	b := m.As4()
	n := binary.BigEndian.Uint32(b[:])
	ones := bits.LeadingZeros32(^n)
	if n<<ones != 0 {
		return 0, false
	}
	return ones, true
}

// uniqueVS refuses two virtual servers for one address and protocol: IPVS
// has a single service per (protocol, address, port).
// keyRange is the address or fwmark value, where a duplicate is reported.
func (d *decoder) uniqueVS(vs VirtualServer, keyRange hcl.Range) {
	if d.vsAddrs == nil {
		d.vsAddrs = make(map[vsKey]declared, d.checkHint)
	}
	k := vsKeyOf(&vs)
	if first, ok := d.vsAddrs[k]; ok {
		what := vs.Address.String() + " " + vs.Protocol
		if vs.FWMark != 0 {
			what = fmt.Sprintf("fwmark %d (%s)", vs.FWMark, familyName(vs.Address.Addr()))
		}
		d.errorf(keyRange, "Duplicate virtual_server address",
			"%s is already used by virtual_server %q at %s.", what, first.name, pos(first.at))
		return
	}
	// The message is formatted only for a duplicate: at 10k services
	// formatting each position cost a reload more than the rest of the
	// checks across blocks.
	d.vsAddrs[k] = declared{vs.Name, vs.DeclRange}
}

// vsKeyOf is what makes two virtual servers the same kernel service.
func vsKeyOf(vs *VirtualServer) vsKey {
	if vs.FWMark != 0 {
		// The kernel keys fwmark services by mark and family only.
		return vsKey{vs.Address, "", vs.FWMark}
	}
	return vsKey{vs.Address, vs.Protocol, vs.FWMark}
}

// familyName is keepalived's ip_family word for a's family.
func familyName(a netip.Addr) string {
	if a.Is6() {
		return "inet6"
	}
	return "inet"
}

// internMax bounds decoder.names: enough for the names real servers
// share across a piece's virtual servers, little garbage when every name
// is different.
const internMax = 256

// intern returns s, or an equal string it returned before. Real servers
// are named alike across virtual servers (db1 and db2 in each), and every
// label was a string of its own, kept with the config: at 10k services x
// 10, 100,000 strings, each in a 16-byte block of the allocator's.
func (d *decoder) intern(s string) string {
	if c, ok := d.names[s]; ok {
		return c
	}
	if d.names == nil {
		d.names = make(map[string]string)
	}
	if len(d.names) < internMax {
		d.names[s] = s
	}
	return s
}

// realServer decodes one real_server block inside vs. vsAddrOK says whether
// vs.Address is usable for cross-checks; addrs tracks the addresses already
// used in this virtual server.
func (d *decoder) realServer(b *hcl.Block, vs *VirtualServer, vsAddrOK bool, addrs map[netip.AddrPort]hcl.Range) (RealServer, bool) {
	errs := len(d.diags)
	rs := RealServer{Name: d.intern(b.Labels[0]), Weight: defaultWeight, InhibitOnFailure: vs.InhibitOnFailure, Method: vs.Method, DeclRange: PosOf(b.DefRange)}
	content, diags := bodyContent(b.Body, rsSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	d.require(b, attrs, "address")
	// Before the address, whose cross-checks depend on the method.
	if a := d.alias(attrs, "lvs_method", "lb_kind"); a != nil {
		if s, ok := d.enum(a, strings.ToUpper, "NAT", "DR", "TUN"); ok {
			rs.Method = s
		}
	}
	if attrs["tun_type"] != nil || attrs["tun_port"] != nil {
		d.tunnel(attrs, rs.Method)
	}
	d.thresholds(attrs, &rs)

	addrOK := false
	if a := attrs["address"]; a != nil {
		if vs.FWMark != 0 {
			rs.Address, addrOK = d.fwmarkRSAddr(a)
		} else {
			rs.Address, addrOK = d.addrPort(a)
		}
		if addrOK {
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
	if a := attrs["inhibit_on_failure"]; a != nil {
		if v, ok := d.boolean(a); ok {
			rs.InhibitOnFailure = v
		}
	}
	var up, down []string
	if a := attrs["notify_up"]; a != nil {
		_, up = d.command(a)
	}
	if a := attrs["notify_down"]; a != nil {
		_, down = d.command(a)
	}
	if up != nil || down != nil {
		rs.Notify = &RSNotify{Up: up, Down: down}
	}
	// One block per kind (reported by singleBlock), kept in file order.
	first := map[*hcl.Block]string{}
	for _, k := range checkKinds {
		if cb := d.singleBlock(content.Blocks, k.block); cb != nil {
			first[cb] = k.kind
		}
	}
	for _, cb := range content.Blocks {
		if kind, ok := first[cb]; ok {
			rs.Checks = append(rs.Checks, d.check(cb, kind, rs, vs.DelayLoop))
		}
	}
	return rs, !d.diags[errs:].HasErrors()
}

// checkRSAddr applies the cross-checks on a real server's address.
func (d *decoder) checkRSAddr(a *hcl.Attribute, rs RealServer, vs *VirtualServer, vsAddrOK bool, addrs map[netip.AddrPort]hcl.Range) {
	// Real servers are told apart by the destination IPVS gets: DR and
	// TUN take the service's port (VirtualServer.DestAddr).
	dest := rs.Address
	if vsAddrOK {
		dest = vs.DestAddrOf(&rs)
	}
	if first, ok := addrs[dest]; ok {
		if dest != rs.Address {
			d.errorf(a.Expr.Range(), "Duplicate real_server address",
				"%s is the IPVS destination %s (lvs_method %s takes the service's port), as is the real server at %s.", rs.Address, dest, rs.Method, pos(first))
			return
		}
		d.errorf(a.Expr.Range(), "Duplicate real_server address",
			"%s is already a real server of virtual_server %q at %s.", rs.Address, vs.Name, pos(first))
		return
	}
	addrs[dest] = a.Expr.Range()
	if !vsAddrOK {
		return
	}
	// NAT and DR forward the original packet, so the families must match.
	// A TUN destination of the other family needs IPVS_DEST_ATTR_ADDR_FAMILY,
	// which moby/ipvs does not send (the kernel would read the address as
	// the service's family), so lvsd refuses that too rather than program
	// a wrong destination.
	if rs.Address.Addr().Is4() != vs.Address.Addr().Is4() {
		vsWhat := "virtual server " + vs.Address.String()
		if vs.FWMark != 0 {
			vsWhat = fmt.Sprintf("fwmark virtual server (ip_family %q)", familyName(vs.Address.Addr()))
		}
		d.errorf(a.Expr.Range(), "Invalid address",
			"real server %s and %s are of different address families; lvsd cannot mix them (not even with lvs_method TUN).", rs.Address, vsWhat)
		return
	}
	// DR (and TUN) deliver the packet unchanged, so the real server sees
	// the virtual server's port whatever port is configured here. A fwmark
	// service matches any port.
	if vs.FWMark == 0 && rs.Method != "NAT" && rs.Address.Port() != vs.Address.Port() {
		d.warnf(a.Expr.Range(), "Port ignored with lvs_method "+rs.Method,
			"lvs_method %s cannot rewrite ports: clients reach %s on port %d, not %d. IPVS is given port %d (as keepalived and ipvsadm do); the checks connect to %d.", rs.Method, rs.Address.Addr(), vs.Address.Port(), rs.Address.Port(), vs.Address.Port(), rs.Address.Port())
	}
}

// fwmarkRSAddr decodes the address of a fwmark service's real server:
// "IP:PORT", or "IP" / "IP:0" for port 0, which IPVS reads as "the port the
// client used" (a fwmark service matches many ports).
func (d *decoder) fwmarkRSAddr(a *hcl.Attribute) (netip.AddrPort, bool) {
	s, ok := d.str(a)
	if !ok {
		return netip.AddrPort{}, false
	}
	if ip, err := parseAddr(s); err == nil {
		return netip.AddrPortFrom(ip, 0), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Port() == 0 && ap.Addr().Zone() == "" {
		return ap, true
	}
	return d.addrPort(a)
}

// thresholds decodes uthreshold and lthreshold (connections, 0 = none).
// The kernel refuses a lower threshold above the upper one, 0 included
// (ip_vs_ctl.c: ERANGE), so that is a config error here.
func (d *decoder) thresholds(attrs hcl.Attributes, rs *RealServer) {
	u, l := attrs["uthreshold"], attrs["lthreshold"]
	uOK, lOK := true, true
	if u != nil {
		var n int64
		if n, uOK = d.integer(u, 0, math.MaxUint32); uOK {
			rs.UThreshold = uint32(n)
		}
	}
	if l != nil {
		var n int64
		if n, lOK = d.integer(l, 0, math.MaxUint32); lOK {
			rs.LThreshold = uint32(n)
		}
	}
	if l != nil && uOK && lOK && rs.LThreshold > rs.UThreshold {
		d.errorf(l.Expr.Range(), "Invalid lthreshold",
			"lthreshold (%d) must not exceed uthreshold (%d, 0 = unset): the kernel refuses it.", rs.LThreshold, rs.UThreshold)
	}
}

// check decodes one checker block of the given kind, cascading delay_loop
// from the virtual server and keepalived's defaults for the rest.
func (d *decoder) check(b *hcl.Block, kind string, rs RealServer, delayLoop time.Duration) Check {
	content, diags := bodyContent(b.Body, checkSchemas[b.Type])
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	c := Check{
		Kind:             kind,
		Target:           rs.Address,
		ConnectTimeout:   defaultConnectTimeout,
		Retry:            defaultRetry,
		DelayBeforeRetry: defaultDelayBeforeRetry,
		DelayLoop:        delayLoop,
		Rise:             1,
	}
	if a := attrs["connect_timeout"]; a != nil {
		if dur, ok := d.duration(a, false); ok {
			c.ConnectTimeout = dur
		}
	}
	if a := d.alias(attrs, "retry", "nb_get_retry"); a != nil {
		if n, ok := d.integer(a, 0, math.MaxInt32); ok {
			c.Retry = int(n)
		}
		if f := attrs["fall"]; f != nil {
			d.errorf(f.NameRange, "Conflicting fall",
				"fall is retry + 1 (failed attempts in a row before down); set one of them, not both (%s at %s).", a.Name, pos(a.NameRange))
		}
	} else if a := attrs["fall"]; a != nil {
		if n, ok := d.integer(a, 1, math.MaxInt32); ok {
			c.Retry = int(n) - 1
		}
	}
	if a := attrs["rise"]; a != nil {
		if n, ok := d.integer(a, 1, 1000); ok {
			c.Rise = int(n)
		}
	}
	if a := attrs["delay_before_retry"]; a != nil {
		// 0 is meaningful: retry at once.
		if dur, ok := d.duration(a, true); ok {
			c.DelayBeforeRetry = dur
		}
	}
	if a := attrs["delay_loop"]; a != nil {
		if dur, ok := d.duration(a, false); ok {
			c.DelayLoop = dur
		}
	}
	if a := attrs["warmup"]; a != nil {
		if dur, ok := d.duration(a, true); ok {
			c.Warmup = dur
			if dur == 0 {
				c.Warmup = -1 // at once, not "unset"
			}
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
	c.Target = netip.AddrPortFrom(ip, port)
	d.bindTo(&c, attrs)
	if port == 0 && kind != CheckMisc {
		// A fwmark service's real server may have no port; its checker
		// must then say where to connect.
		d.errorf(b.DefRange, "Missing connect_port", "real server %s has no port (fwmark service): set connect_port in %s.", rs.Address, b.Type)
	}
	switch kind {
	case CheckMySQL:
		c.MySQL = d.mysqlCheck(b, content)
	case CheckHTTP, CheckSSL:
		c.HTTP = d.httpCheck(content, kind == CheckSSL)
	case CheckMisc:
		c.ConnectTimeout = 0
		c.Misc = d.miscCheck(b, content, c.DelayLoop)
	case CheckUDP:
		c.UDP = d.udpCheck(content)
	case CheckDNS:
		c.DNS = d.dnsCheck(content)
		// keepalived's DNS_CHECK retries 3 times unless told otherwise.
		if attrs["retry"] == nil && attrs["nb_get_retry"] == nil && attrs["fall"] == nil {
			c.Retry = defaultDNSRetry
		}
	}
	return c
}

// bindTo decodes bindto and bind_port, the probe's source (keepalived's
// co_srcip_handler and co_srcport_handler). keepalived ignores a bindto of
// the other family than the target with a warning; lvsd refuses it, since
// such a probe could never leave the host.
func (d *decoder) bindTo(c *Check, attrs hcl.Attributes) {
	if a := attrs["bindto"]; a != nil {
		if s, ok := d.str(a); ok {
			addr, err := parseAddr(s)
			switch {
			case err != nil:
				d.errorf(a.Expr.Range(), "Invalid bindto", "bindto must be an IP address of this host; %q is not: %v.", s, err)
			case addr.Is4() != c.Target.Addr().Is4():
				d.errorf(a.Expr.Range(), "Invalid bindto",
					"bindto %s is not of the address family of the target %s (connect_ip or the real server): a probe cannot go from one to the other.", addr, c.Target.Addr())
			case addr.IsUnspecified() || addr.IsMulticast():
				d.errorf(a.Expr.Range(), "Invalid bindto", "bindto %s is not a unicast address.", addr)
			case addr.Is6() && addr.IsLinkLocalUnicast():
				d.errorf(a.Expr.Range(), "Invalid bindto", "bindto %s is link-local: lvsd has no bind_if to give it an interface; use a global address.", addr)
			default:
				c.BindTo = addr
			}
		}
	}
	if a := attrs["bind_port"]; a != nil {
		if n, ok := d.integer(a, 1, math.MaxUint16); ok {
			c.BindPort = uint16(n)
		}
	}
}

// defaultDNSRetry is keepalived's DNS_DEFAULT_RETRY.
const defaultDNSRetry = 3

// udpCheck decodes the udp_check specific attributes (keepalived's
// UDP_CHECK: payload and reply are hex strings).
func (d *decoder) udpCheck(content *hcl.BodyContent) *UDPCheck {
	attrs := content.Attributes
	u := &UDPCheck{MaxReplyLen: 255}
	if a := attrs["payload"]; a != nil {
		u.Payload = d.hexBytes(a)
	}
	if a := attrs["require_reply"]; a != nil {
		if v, ok := d.boolean(a); ok {
			u.RequireReply = v
		}
	}
	if a := attrs["min_reply_length"]; a != nil {
		if n, ok := d.integer(a, 0, math.MaxUint16); ok {
			u.MinReplyLen = int(n)
		}
	}
	if a := attrs["max_reply_length"]; a != nil {
		if n, ok := d.integer(a, 0, math.MaxUint16); ok {
			u.MaxReplyLen = int(n)
		}
	}
	for _, name := range []string{"reply", "reply_regex", "min_reply_length", "max_reply_length"} {
		if a := attrs[name]; a != nil && !u.RequireReply {
			d.errorf(a.NameRange, "Needs require_reply", "%s only applies to a reply; set require_reply = true (without it, silence is a success and a reply is not read).", name)
		}
	}
	if a := attrs["reply"]; a != nil {
		u.Reply = d.hexBytes(a)
	}
	if a := attrs["reply_regex"]; a != nil {
		if s, ok := d.str(a); ok {
			if _, err := regexp.Compile(s); err != nil {
				d.errorf(a.Expr.Range(), "Invalid reply_regex", "reply_regex must be a regular expression (RE2 syntax); %q is not: %v.", s, err)
			}
			u.ReplyRegex = s
		}
	}
	if u.MinReplyLen > u.MaxReplyLen {
		a := attrs["min_reply_length"]
		if a == nil {
			a = attrs["max_reply_length"]
		}
		d.errorf(a.Expr.Range(), "Invalid reply length", "min_reply_length %d is above max_reply_length %d: every reply would fail.", u.MinReplyLen, u.MaxReplyLen)
	}
	if len(u.Reply) > u.MaxReplyLen {
		d.errorf(attrs["reply"].Expr.Range(), "Invalid reply", "reply is %d bytes, longer than max_reply_length %d: every reply would fail.", len(u.Reply), u.MaxReplyLen)
	}
	return u
}

// hexBytes decodes a hex string such as "0a1b" or "0a 1b ff" (spaces and
// colons between bytes are ignored).
func (d *decoder) hexBytes(a *hcl.Attribute) []byte {
	s, ok := d.str(a)
	if !ok {
		return nil
	}
	clean := strings.NewReplacer(" ", "", ":", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(clean)
	if err != nil || len(b) == 0 {
		d.errorf(a.Expr.Range(), "Invalid "+a.Name, "%s must be bytes in hex such as \"0a1bff\" or \"0a 1b ff\"; %q is not.", a.Name, s)
		return nil
	}
	if len(b) > 65507 {
		d.errorf(a.Expr.Range(), "Invalid "+a.Name, "%s is %d bytes, more than a UDP datagram carries (65507).", a.Name, len(b))
		return nil
	}
	return b
}

// dnsCheck decodes the dns_check specific attributes.
func (d *decoder) dnsCheck(content *hcl.BodyContent) *DNSCheck {
	attrs := content.Attributes
	c := &DNSCheck{Type: "SOA", Name: "."}
	if a := attrs["type"]; a != nil {
		if t, ok := d.enum(a, strings.ToUpper, dnsTypes...); ok {
			c.Type = t
		}
	}
	if a := attrs["name"]; a != nil {
		if s, ok := d.str(a); ok {
			if err := ValidDNSName(s); err != nil {
				d.errorf(a.Expr.Range(), "Invalid name", "name must be a domain name such as \"example.com\" or \".\"; %q is not: %v.", s, err)
			} else {
				c.Name = s
			}
		}
	}
	return c
}

// ValidDNSName checks a query name: labels of 1-63 bytes without dots,
// 253 bytes at most; "." is the root; a trailing dot is allowed.
func ValidDNSName(s string) error {
	if s == "." {
		return nil
	}
	t := strings.TrimSuffix(s, ".")
	if t == "" {
		return errors.New("empty")
	}
	if len(t) > 253 {
		return fmt.Errorf("%d bytes, at most 253", len(t))
	}
	for l := range strings.SplitSeq(t, ".") {
		switch {
		case l == "":
			return errors.New("empty label")
		case len(l) > 63:
			return fmt.Errorf("label %q is over 63 bytes", l)
		case strings.ContainsFunc(l, func(r rune) bool { return r <= ' ' || r >= 0x7f }):
			return fmt.Errorf("label %q has a space, control or non-ASCII character", l)
		}
	}
	return nil
}

// miscCheck decodes the misc_check specific attributes; misc_timeout
// defaults to the checker's delay_loop, as in keepalived.
func (d *decoder) miscCheck(b *hcl.Block, content *hcl.BodyContent, delayLoop time.Duration) *MiscCheck {
	attrs := content.Attributes
	m := &MiscCheck{Timeout: delayLoop}
	if d.require(b, attrs, "misc_path") {
		m.Path, m.Argv = d.command(attrs["misc_path"])
	}
	if a := attrs["misc_timeout"]; a != nil {
		if dur, ok := d.duration(a, false); ok {
			m.Timeout = dur
		}
	}
	if a := attrs["misc_dynamic"]; a != nil {
		if v, ok := d.boolean(a); ok {
			m.Dynamic = v
		}
	}
	if a := attrs["user"]; a != nil {
		if s, ok := d.str(a); ok {
			if s == "" || strings.ContainsAny(s, " \t\r\n:") {
				d.errorf(a.Expr.Range(), "Invalid user", "user must be a user name or numeric uid such as \"nobody\"; got %q. Remove it to run the program as root.", s)
			}
			// Resolved by the checker on each run, like ssl_get's
			// ca_file: an account created later is picked up.
			m.User = s
		}
	}
	return m
}

// mysqlCheck decodes the mysql_check specific attributes.
func (d *decoder) mysqlCheck(b *hcl.Block, content *hcl.BodyContent) *MySQLCheck {
	attrs := content.Attributes
	m := &MySQLCheck{}
	if d.require(b, attrs, "user") {
		if s, ok := d.str(attrs["user"]); ok {
			if s == "" {
				d.errorf(attrs["user"].Expr.Range(), "Invalid user", "user must not be empty.")
			}
			m.User = s
		}
	}
	if a := attrs["password"]; a != nil {
		if s, ok := d.str(a); ok {
			m.Password = s
		}
	}
	if a := attrs["query"]; a != nil {
		if s, ok := d.str(a); ok {
			if strings.TrimSpace(s) == "" {
				d.errorf(a.Expr.Range(), "Invalid query", "query must not be empty; remove it to skip the query.")
			}
			m.Query = s
		}
	}
	if a := attrs["read_only"]; a != nil {
		if v, ok := d.boolean(a); ok {
			m.ReadOnly = &v
		}
	}
	if rb := d.singleBlock(content.Blocks, "replication"); rb != nil {
		rc, diags := rb.Body.Content(replicationSchema)
		d.diags = append(d.diags, diags...)
		m.Replication = &Replication{MaxLag: defaultMaxLag}
		if a := rc.Attributes["max_lag"]; a != nil {
			// 0 is meaningful: no lag at all.
			if dur, ok := d.duration(a, true); ok {
				m.Replication.MaxLag = dur
			}
		}
	}
	return m
}

// httpCheck decodes the http_get / ssl_get specific attributes.
func (d *decoder) httpCheck(content *hcl.BodyContent, ssl bool) *HTTPCheck {
	attrs := content.Attributes
	h := &HTTPCheck{Path: "/", StatusCodes: []int{200}}
	if a := attrs["path"]; a != nil {
		if s, ok := d.str(a); ok {
			if !strings.HasPrefix(s, "/") {
				d.errorf(a.Expr.Range(), "Invalid path", "path must start with \"/\"; got %q.", s)
			} else if u, err := url.ParseRequestURI(s); err != nil || u.Host != "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
				d.errorf(a.Expr.Range(), "Invalid path", "path must be a request path such as \"/health?full=1\"; %q is not.", s)
			}
			h.Path = s
		}
	}
	if a := attrs["status_code"]; a != nil {
		if codes, ok := d.statusCodes(a); ok {
			h.StatusCodes = codes
		}
	}
	if a := attrs["body_regex"]; a != nil {
		if s, ok := d.str(a); ok {
			if _, err := regexp.Compile(s); err != nil {
				d.errorf(a.Expr.Range(), "Invalid body_regex", "body_regex must be a regular expression (RE2 syntax); %q is not: %v.", s, err)
			}
			h.BodyRegex = s
		}
	}
	if a := attrs["digest"]; a != nil {
		if s, ok := d.str(a); ok {
			s = strings.ToLower(s)
			if !md5Hex.MatchString(s) {
				d.errorf(a.Expr.Range(), "Invalid digest", "digest must be the MD5 of the body as 32 hex digits (md5sum or genhash output); got %q.", s)
			}
			h.Digest = s
		}
	}
	if a := attrs["virtualhost"]; a != nil {
		if s, ok := d.str(a); ok {
			if s == "" || strings.ContainsAny(s, " /\t\r\n") {
				d.errorf(a.Expr.Range(), "Invalid virtualhost", "virtualhost must be a host name such as \"db.example.com\"; got %q.", s)
			}
			h.VirtualHost = s
		}
	}
	if !ssl {
		return h
	}
	if a := attrs["ca_file"]; a != nil {
		if s, ok := d.str(a); ok {
			if s == "" {
				d.errorf(a.Expr.Range(), "Invalid ca_file", "ca_file must be a path; remove it to use the system's CAs.")
			}
			// Read by the checker, not here: a file that appears later (or
			// a certificate renewal) is picked up on reload.
			h.CAFile = s
		}
	}
	if a := attrs["server_name"]; a != nil {
		if s, ok := d.str(a); ok {
			if s == "" {
				d.errorf(a.Expr.Range(), "Invalid server_name", "server_name must not be empty.")
			}
			h.ServerName = s
		}
	}
	if a := attrs["insecure_skip_verify"]; a != nil {
		if v, ok := d.boolean(a); ok {
			h.InsecureSkipVerify = v
			if v {
				d.warnf(a.NameRange, "TLS verification off", "insecure_skip_verify = true accepts any certificate: the check cannot tell the real server from an impostor.")
			}
		}
	}
	return h
}

// statusCodes decodes a non-empty list of HTTP status codes, each 100-599.
func (d *decoder) statusCodes(a *hcl.Attribute) ([]int, bool) {
	v, ok := d.value(a)
	if !ok {
		return nil, false
	}
	rng := a.Expr.Range()
	if !v.Type().IsTupleType() && !v.Type().IsListType() {
		d.errorf(rng, "Invalid status_code", "status_code must be a list of numbers, such as [200, 204]; got %s.", v.Type().FriendlyName())
		return nil, false
	}
	if v.LengthInt() == 0 {
		d.errorf(rng, "Invalid status_code", "status_code must not be empty.")
		return nil, false
	}
	var codes []int
	good := true
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		if ev.IsNull() || !ev.IsKnown() || ev.Type() != cty.Number {
			d.errorf(rng, "Invalid status_code", "status_code must be a list of numbers.")
			return nil, false
		}
		bf := ev.AsBigFloat()
		n, acc := bf.Int64()
		if !bf.IsInt() || acc != big.Exact || n < 100 || n > 599 {
			f, _ := bf.Float64()
			d.errorf(rng, "Invalid status_code", "each status_code must be a whole number between 100 and 599; got %g.", f)
			good = false
			continue
		}
		codes = append(codes, int(n))
	}
	return codes, good
}
