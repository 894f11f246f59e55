package conf

import (
	"net/netip"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// keepalived's vrrp_instance defaults.
const (
	defaultAdvertInt = time.Second
	defaultVersion   = 2
	// maxV2AdvertInt: the v2 Adver Int field is 8 bits of seconds
	// (RFC 3768 section 5.3.7).
	maxV2AdvertInt = 255 * time.Second
	// The v3 Max Adver Int is 12 bits of centiseconds (RFC 5798 section
	// 5.2.7).
	v3AdvertUnit   = 10 * time.Millisecond
	maxV3AdvertInt = 4095 * v3AdvertUnit
	// maxAuthPass: the v2 Authentication Data field is 8 octets
	// (RFC 3768 section 5.3.10).
	maxAuthPass = 8
	// maxIfName is IFNAMSIZ (16) minus the terminating NUL.
	maxIfName = 15
	// keepalived's gratuitous ARP defaults.
	defaultGARPMasterDelay  = 5 * time.Second
	defaultGARPMasterRepeat = 5
	// maxPreemptDelay is keepalived's upper bound for preempt_delay.
	maxPreemptDelay = 1000 * time.Second
	// maxGARPRepeat bounds a burst (keepalived has no bound; 255 is already
	// far beyond what a switch needs).
	maxGARPRepeat = 255
)

var vrrpSchema = &hcl.BodySchema{
	Attributes: append([]hcl.AttributeSchema{
		{Name: "state"},
		{Name: "interface"},
		{Name: "virtual_router_id"},
		{Name: "priority"},
		{Name: "nopreempt"},
		{Name: "advert_int"},
		{Name: "version"},
		{Name: "virtual_ipaddress"},
		{Name: "virtual_ipaddress_excluded"},
		{Name: "unicast_src_ip"},
		{Name: "mcast_src_ip"}, // deprecated keepalived alias of unicast_src_ip
		{Name: "unicast_peer"},
		{Name: "preempt_delay"},
		{Name: "garp_master_delay"},
		{Name: "garp_master_repeat"},
		{Name: "garp_master_refresh"},
		{Name: "v3_checksum_as_v2"},
	}, vrrpTrackAttrs...),
	Blocks: append([]hcl.BlockHeaderSchema{{Type: "authentication"}}, vrrpTrackBlocks...),
}

var authSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "auth_type"}, {Name: "auth_pass"}},
}

// vrrpInstance decodes one vrrp_instance block; ok is false if it had errors.
func (d *decoder) vrrpInstance(b *hcl.Block) (VRRPInstance, bool) {
	errs := len(d.diags)
	vi := VRRPInstance{
		Name:      b.Labels[0],
		State:     StateBackup,
		AdvertInt: defaultAdvertInt,
		Version:   defaultVersion,
		DeclRange: b.DefRange,

		GARPMasterDelay:  defaultGARPMasterDelay,
		GARPMasterRepeat: defaultGARPMasterRepeat,
	}
	content, diags := b.Body.Content(vrrpSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	d.require(b, attrs, "interface", "virtual_router_id", "priority", "virtual_ipaddress")

	if a := attrs["state"]; a != nil {
		if s, ok := d.enum(a, strings.ToUpper, string(StateMaster), string(StateBackup)); ok {
			vi.State = State(s)
		}
	}
	if a := attrs["interface"]; a != nil {
		if s, ok := d.str(a); ok {
			if s == "" || len(s) > maxIfName || strings.ContainsAny(s, "/ \t\n:") {
				d.errorf(a.Expr.Range(), "Invalid interface",
					"interface %q is not a valid interface name (1-%d bytes, no '/', ':' or spaces).", s, maxIfName)
			}
			vi.Interface = s
		}
	}
	if a := attrs["virtual_router_id"]; a != nil {
		if n, ok := d.integer(a, 1, 255); ok {
			vi.VRID = uint8(n)
			if vi.Interface != "" {
				d.uniqueVRID(vi, a)
			}
		}
	}
	if a := attrs["priority"]; a != nil {
		// 0 is reserved for "master is leaving" (RFC 3768 section 5.3.4).
		if n, ok := d.integer(a, 1, 255); ok {
			vi.Priority = uint8(n)
		}
	}
	if a := attrs["nopreempt"]; a != nil {
		if v, ok := d.boolean(a); ok {
			vi.Nopreempt = v
		}
	}
	// Decoded before version: IPv6 addresses imply version 3.
	seenVIP := map[netip.Addr]hcl.Range{}
	if a := attrs["virtual_ipaddress"]; a != nil {
		vi.Addresses = d.vips(a, vi.Interface, false, seenVIP)
		for _, v := range vi.Addresses {
			vi.VIPs = append(vi.VIPs, v.Prefix)
		}
	}
	if a := attrs["virtual_ipaddress_excluded"]; a != nil {
		vi.Addresses = append(vi.Addresses, d.vips(a, vi.Interface, true, seenVIP)...)
	}
	ipv6 := len(vi.VIPs) > 0 && vi.VIPs[0].Addr().Is6()
	if ipv6 {
		vi.Version = 3
	}
	if a := attrs["version"]; a != nil {
		if n, ok := d.integer(a, 1, 255); ok {
			switch n {
			case 2, 3:
			default:
				d.errorf(a.Expr.Range(), "Invalid version", "version must be 2 (RFC 3768) or 3 (RFC 5798); got %d.", n)
			}
			if n == 2 && ipv6 {
				d.errorf(a.Expr.Range(), "Invalid version",
					"virtual_ipaddress is IPv6, which VRRP version 2 cannot carry (RFC 3768 is IPv4 only); use version = 3 or leave version out.")
			}
			vi.Version = int(n)
		}
	}
	if a := attrs["advert_int"]; a != nil {
		if dur, ok := d.duration(a, false); ok {
			vi.AdvertInt = dur
			switch vi.Version {
			case 2:
				d.checkV2AdvertInt(a, dur)
			case 3:
				d.checkV3AdvertInt(a, dur)
			}
		}
	}
	if ab := d.singleBlock(content.Blocks, "authentication"); ab != nil {
		vi.AuthType, vi.AuthPass = d.authentication(ab)
		if vi.Version == 3 {
			// RFC 5798 section 9 removed authentication; keepalived
			// ignores the block with v3, lvsd refuses it so that the
			// operator does not believe the adverts are protected.
			d.errorf(ab.DefRange, "Authentication with version 3",
				"VRRP version 3 has no authentication (RFC 5798 section 9); remove the authentication block or use version = 2.")
		}
	}
	if a := attrs["v3_checksum_as_v2"]; a != nil {
		if v, ok := d.boolean(a); ok {
			if v && vi.Version != 3 {
				d.errorf(a.NameRange, "v3_checksum_as_v2 without version 3", "v3_checksum_as_v2 applies to VRRP version 3 only; set version = 3 or remove it.")
			}
			vi.V3ChecksumAsV2 = v
		}
	}
	d.unicast(attrs, &vi)
	if a := attrs["preempt_delay"]; a != nil {
		if dur, ok := d.duration(a, true); ok {
			if dur > maxPreemptDelay {
				d.errorf(a.Expr.Range(), "Invalid preempt_delay", "preempt_delay must be at most %v; got %v.", maxPreemptDelay, dur)
			}
			vi.PreemptDelay = dur
			if vi.Nopreempt && dur > 0 {
				d.warnf(a.NameRange, "preempt_delay with nopreempt",
					"preempt_delay has no effect with nopreempt = true: this node never preempts a live master.")
			}
		}
	}
	if a := attrs["garp_master_delay"]; a != nil {
		if dur, ok := d.duration(a, true); ok {
			vi.GARPMasterDelay = dur
		}
	}
	if a := attrs["garp_master_repeat"]; a != nil {
		if n, ok := d.integer(a, 1, maxGARPRepeat); ok {
			vi.GARPMasterRepeat = int(n)
		}
	}
	if a := attrs["garp_master_refresh"]; a != nil {
		if dur, ok := d.duration(a, true); ok {
			vi.GARPMasterRefresh = dur
		}
	}

	d.trackBlocks(content.Blocks, &vi)
	d.trackFileBlocks(content.Blocks, &vi)
	d.trackProcessBlocks(content.Blocks, &vi)
	if a := attrs["dont_track_primary"]; a != nil {
		if v, ok := d.boolean(a); ok {
			vi.DontTrackPrimary = v
		}
	}
	vi.Notify = d.notify(attrs)

	if vi.Nopreempt && vi.State == StateMaster {
		rng := attrs["nopreempt"].Range
		d.warnf(rng, "nopreempt with state MASTER",
			"this node starts as BACKUP and becomes MASTER only if no master is heard within Master_Down (3 x advert_int + skew); "+
				"keepalived silently drops nopreempt here, lvsd keeps it. Set state = \"BACKUP\" to say what happens.")
	}
	if vi.Priority == 255 && vi.State == StateBackup {
		d.warnf(attrs["priority"].Expr.Range(), "priority 255 with state BACKUP",
			"priority 255 marks the address owner (RFC 3768 section 5.3.4): it takes over as MASTER at once and preempts any other router, whatever its state.")
	}
	return vi, !d.diags[errs:].HasErrors()
}

// checkV2AdvertInt enforces the v2 wire format: whole seconds, 1-255.
func (d *decoder) checkV2AdvertInt(a *hcl.Attribute, dur time.Duration) {
	switch {
	case dur < time.Second:
		d.errorf(a.Expr.Range(), "Invalid advert_int",
			"advert_int must be at least 1s for VRRP version 2 (RFC 3768 section 5.3.7 counts whole seconds); got %v.", dur)
	case dur%time.Second != 0:
		d.errorf(a.Expr.Range(), "Invalid advert_int",
			"advert_int must be a whole number of seconds for VRRP version 2 (RFC 3768 section 5.3.7); got %v.", dur)
	case dur > maxV2AdvertInt:
		d.errorf(a.Expr.Range(), "Invalid advert_int",
			"advert_int must be at most %v for VRRP version 2 (8-bit field, RFC 3768 section 5.3.7); got %v.", maxV2AdvertInt, dur)
	}
}

// checkV3AdvertInt enforces the v3 wire format: centiseconds, 10ms-40.95s.
func (d *decoder) checkV3AdvertInt(a *hcl.Attribute, dur time.Duration) {
	switch {
	case dur < v3AdvertUnit:
		d.errorf(a.Expr.Range(), "Invalid advert_int",
			"advert_int must be at least 10ms for VRRP version 3 (RFC 5798 section 5.2.7 counts centiseconds); got %v.", dur)
	case dur%v3AdvertUnit != 0:
		d.errorf(a.Expr.Range(), "Invalid advert_int",
			"advert_int must be a multiple of 10ms for VRRP version 3 (RFC 5798 section 5.2.7); got %v.", dur)
	case dur > maxV3AdvertInt:
		d.errorf(a.Expr.Range(), "Invalid advert_int",
			"advert_int must be at most %v for VRRP version 3 (12-bit field, RFC 5798 section 5.2.7); got %v.", maxV3AdvertInt, dur)
	}
}

// uniqueVRID refuses a second instance with the same VRID on one interface:
// both would send and accept the same adverts (RFC 3768 section 5.3.3: the
// VRID identifies the router on a LAN).
func (d *decoder) uniqueVRID(vi VRRPInstance, a *hcl.Attribute) {
	if d.vrids == nil {
		d.vrids = map[vridKey]string{}
	}
	k := vridKey{vi.Interface, vi.VRID}
	if first, ok := d.vrids[k]; ok {
		d.errorf(a.Expr.Range(), "Duplicate virtual_router_id",
			"virtual_router_id %d is already used on interface %s by %s.", vi.VRID, vi.Interface, first)
		return
	}
	d.vrids[k] = "vrrp_instance \"" + vi.Name + "\" at " + pos(vi.DeclRange)
}

// vips decodes virtual_ipaddress (excluded false: all IPv4, or all IPv6,
// which makes the instance VRRP version 3, RFC 5798; version 2 is IPv4
// only, RFC 3768 section 5.3.9) or virtual_ipaddress_excluded (any family:
// never in adverts). Each entry is "IP[/len]", optionally followed by
// keepalived's "dev IF" and "label LABEL". seen holds the addresses of
// both lists, for duplicates across them.
func (d *decoder) vips(a *hcl.Attribute, iface string, excluded bool, seen map[netip.Addr]hcl.Range) []VIPAddr {
	elems, _ := d.strList(a)
	var out []VIPAddr
	for _, e := range elems {
		v, ok := d.vipEntry(e, iface, a.Name)
		if !ok {
			continue
		}
		if !excluded && len(out) > 0 && out[0].Prefix.Addr().Is6() != v.Prefix.Addr().Is6() {
			// As keepalived: one instance, one family (the family is the
			// IP version of the adverts, RFC 5798 section 5.2.5).
			d.errorf(e.rng, "Mixed address families in virtual_ipaddress",
				"%s and %s are of different families: a vrrp_instance carries IPv4 or IPv6 addresses, not both; use one instance per family, or list the other family's in virtual_ipaddress_excluded (not advertised).", out[0].Prefix.Addr(), v.Prefix.Addr())
			continue
		}
		if first, ok := seen[v.Prefix.Addr()]; ok {
			d.errorf(e.rng, "Duplicate "+a.Name, "%s is already listed at %s.", v.Prefix.Addr(), pos(first))
			continue
		}
		seen[v.Prefix.Addr()] = e.rng
		v.Excluded = excluded
		out = append(out, v)
	}
	return out
}

// vipEntry parses one virtual address: "IP[/len] [dev IF] [label LABEL]".
func (d *decoder) vipEntry(e listElem, iface, attr string) (VIPAddr, bool) {
	fields := strings.Fields(e.s)
	if len(fields) == 0 {
		d.errorf(e.rng, "Invalid "+attr, `an entry must be "IP" or "IP/len", optionally followed by "dev IF" and "label LABEL"; it is empty.`)
		return VIPAddr{}, false
	}
	p, err := parseVIP(fields[0])
	if err != nil {
		d.errorf(e.rng, "Invalid "+attr,
			`%s entries must be "IP" or "IP/len", optionally followed by "dev IF" and "label LABEL"; %q is not: %v.`, attr, fields[0], err)
		return VIPAddr{}, false
	}
	if p.Addr().Is4In6() {
		d.errorf(e.rng, "Invalid "+attr, "%q is an IPv4-mapped IPv6 address; write the IPv4 address.", fields[0])
		return VIPAddr{}, false
	}
	v := VIPAddr{Prefix: p}
	for i := 1; i < len(fields); i += 2 {
		opt := fields[i]
		if opt != "dev" && opt != "label" {
			d.errorf(e.rng, "Invalid "+attr, `unknown option %q in %q: lvsd takes "dev IF" and "label LABEL" (keepalived's scope, brd and the others are not supported).`, opt, e.s)
			return VIPAddr{}, false
		}
		if i+1 >= len(fields) {
			d.errorf(e.rng, "Invalid "+attr, "%q in %q needs a value.", opt, e.s)
			return VIPAddr{}, false
		}
		val := fields[i+1]
		if opt == "dev" {
			if len(val) > maxIfName || strings.ContainsAny(val, "/:") {
				d.errorf(e.rng, "Invalid "+attr, "dev %q is not a valid interface name (1-%d bytes, no '/' or ':').", val, maxIfName)
				return VIPAddr{}, false
			}
			if val != iface {
				v.Dev = val
			}
		} else {
			v.Label = val
		}
	}
	if v.Label != "" {
		dev := v.Dev
		if dev == "" {
			dev = iface
		}
		switch {
		case p.Addr().Is6():
			d.errorf(e.rng, "Invalid "+attr, "label %q on IPv6 address %s: address labels are IPv4 only.", v.Label, p.Addr())
			return VIPAddr{}, false
		case len(v.Label) > maxIfName || (v.Label != dev && !strings.HasPrefix(v.Label, dev+":")):
			// The kernel keeps labels of IFNAMSIZ; ip(8) and ifconfig
			// expect the device's name, or it with ":suffix".
			d.errorf(e.rng, "Invalid "+attr, "label %q must be the interface's name %q or begin with %q, at most %d bytes.", v.Label, dev, dev+":", maxIfName)
			return VIPAddr{}, false
		}
	}
	return v, true
}

// authentication decodes the authentication block. NONE is stored as "".
func (d *decoder) authentication(b *hcl.Block) (authType, authPass string) {
	content, diags := b.Body.Content(authSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	if !d.require(b, attrs, "auth_type") {
		return "", ""
	}
	ta := attrs["auth_type"]
	t, ok := d.str(ta)
	if !ok {
		return "", ""
	}
	pa := attrs["auth_pass"]
	switch strings.ToUpper(t) {
	case "NONE":
		if pa != nil {
			d.errorf(pa.NameRange, "Unexpected auth_pass", "auth_pass is set but auth_type is NONE; remove one of them.")
		}
		return "", ""
	case "PASS":
	case "AH":
		d.errorf(ta.Expr.Range(), "Unsupported auth_type",
			"auth_type AH (IPsec authentication header) is not supported; use PASS or NONE.")
		return "", ""
	default:
		d.errorf(ta.Expr.Range(), "Invalid auth_type", "auth_type must be PASS or NONE; got %q.", t)
		return "", ""
	}
	if pa == nil {
		d.errorf(b.DefRange, "Missing required attribute", "authentication needs auth_pass when auth_type is PASS.")
		return "PASS", ""
	}
	p, ok := d.str(pa)
	if !ok {
		return "PASS", ""
	}
	switch {
	case p == "":
		d.errorf(pa.Expr.Range(), "Invalid auth_pass", "auth_pass must not be empty.")
	case len(p) > maxAuthPass:
		// keepalived truncates silently, so two nodes configured with
		// different long passwords would still agree: refuse instead.
		d.errorf(pa.Expr.Range(), "Invalid auth_pass",
			"auth_pass is %d bytes; VRRP version 2 carries at most %d (RFC 3768 section 5.3.10). keepalived silently truncates it; lvsd refuses.", len(p), maxAuthPass)
	}
	return "PASS", p
}

// unicast decodes unicast_src_ip (alias mcast_src_ip) and unicast_peer.
// keepalived treats an empty peer list as multicast (fault 11 of
// keepalived-reference.md: adverts silently go where the peers never listen);
// lvsd refuses it.
func (d *decoder) unicast(attrs hcl.Attributes, vi *VRRPInstance) {
	isVIP := func(a netip.Addr) bool {
		for _, p := range vi.VIPs {
			if p.Addr() == a {
				return true
			}
		}
		return false
	}
	if a := d.alias(attrs, "unicast_src_ip", "mcast_src_ip"); a != nil {
		if s, ok := d.str(a); ok {
			ip, err := parseAddr(s)
			switch {
			case err != nil:
				d.errorf(a.Expr.Range(), "Invalid "+a.Name, "%s must be an IPv4 address; %q is not: %v.", a.Name, s, err)
			case !ip.Is4():
				d.errorf(a.Expr.Range(), "Invalid "+a.Name, "%s %q is not IPv4: VRRP version 2 runs over IPv4 only.", a.Name, s)
			case !usableUnicast(ip):
				d.errorf(a.Expr.Range(), "Invalid "+a.Name, "%s %s is not a unicast host address.", a.Name, ip)
			case isVIP(ip):
				d.errorf(a.Expr.Range(), "Invalid "+a.Name,
					"%s %s is one of this instance's virtual_ipaddress: the source must be the node's own address, which stays when the VIP moves.", a.Name, ip)
			default:
				vi.UnicastSrcIP = ip
			}
		}
	}
	a := attrs["unicast_peer"]
	if a == nil {
		return
	}
	if len(vi.VIPs) > 0 && vi.VIPs[0].Addr().Is6() {
		d.errorf(a.NameRange, "unicast_peer with IPv6", "lvsd runs IPv6 instances over multicast ff02::12 only; remove unicast_peer or use IPv4 virtual addresses.")
		return
	}
	elems, ok := d.strList(a) // refuses an empty list
	if !ok && len(elems) == 0 {
		return
	}
	seen := map[netip.Addr]hcl.Range{}
	peers := []netip.Addr{}
	for _, e := range elems {
		ip, err := parseAddr(e.s)
		switch {
		case err != nil:
			d.errorf(e.rng, "Invalid unicast_peer", "unicast_peer entries must be IPv4 addresses; %q is not: %v.", e.s, err)
			continue
		case !ip.Is4():
			d.errorf(e.rng, "Invalid unicast_peer", "%q is not IPv4: VRRP version 2 runs over IPv4 only.", e.s)
			continue
		case !usableUnicast(ip):
			d.errorf(e.rng, "Invalid unicast_peer", "%s is not a unicast host address.", ip)
			continue
		case ip == vi.UnicastSrcIP:
			d.errorf(e.rng, "Invalid unicast_peer", "%s is this node's unicast_src_ip, not a peer.", ip)
			continue
		case isVIP(ip):
			d.errorf(e.rng, "Invalid unicast_peer", "%s is one of this instance's virtual_ipaddress, not a peer.", ip)
			continue
		}
		if first, dup := seen[ip]; dup {
			d.errorf(e.rng, "Duplicate unicast_peer", "%s is already listed at %s.", ip, pos(first))
			continue
		}
		seen[ip] = e.rng
		peers = append(peers, ip)
	}
	vi.UnicastPeers = peers
}

// usableUnicast reports whether ip can be a VRRP speaker's address.
func usableUnicast(ip netip.Addr) bool {
	return !ip.IsUnspecified() && !ip.IsMulticast() && !ip.IsLoopback() && ip != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}
