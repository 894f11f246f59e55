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
	// maxAuthPass: the v2 Authentication Data field is 8 octets
	// (RFC 3768 section 5.3.10).
	maxAuthPass = 8
	// maxIfName is IFNAMSIZ (16) minus the terminating NUL.
	maxIfName = 15
)

var vrrpSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "state"},
		{Name: "interface"},
		{Name: "virtual_router_id"},
		{Name: "priority"},
		{Name: "nopreempt"},
		{Name: "advert_int"},
		{Name: "version"},
		{Name: "virtual_ipaddress"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "authentication"}},
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
	if a := attrs["version"]; a != nil {
		if n, ok := d.integer(a, 1, 255); ok {
			switch n {
			case 2:
			case 3:
				d.errorf(a.Expr.Range(), "Unsupported version", "version 3 not supported yet; use version = 2.")
			default:
				d.errorf(a.Expr.Range(), "Invalid version", "version must be 2 (RFC 3768); got %d.", n)
			}
			vi.Version = int(n)
		}
	}
	if a := attrs["advert_int"]; a != nil {
		if dur, ok := d.duration(a, false); ok {
			vi.AdvertInt = dur
			if vi.Version == 2 {
				d.checkV2AdvertInt(a, dur)
			}
		}
	}
	if a := attrs["virtual_ipaddress"]; a != nil {
		vi.VIPs = d.vips(a)
	}
	if ab := d.singleBlock(content.Blocks, "authentication"); ab != nil {
		vi.AuthType, vi.AuthPass = d.authentication(ab)
	}

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

// vips decodes virtual_ipaddress. VRRP version 2 carries IPv4 addresses only
// (RFC 3768 section 5.3.9), so IPv6 entries are refused until version 3.
func (d *decoder) vips(a *hcl.Attribute) []netip.Prefix {
	elems, _ := d.strList(a)
	var out []netip.Prefix
	seen := map[netip.Addr]hcl.Range{}
	for _, e := range elems {
		p, err := parseVIP(e.s)
		if err != nil {
			d.errorf(e.rng, "Invalid virtual_ipaddress",
				"virtual_ipaddress entries must be \"IP\" or \"IP/len\"; %q is not: %v.", e.s, err)
			continue
		}
		if !p.Addr().Is4() {
			d.errorf(e.rng, "Invalid virtual_ipaddress",
				"%q is not IPv4: VRRP version 2 carries IPv4 addresses only (RFC 3768 section 5.3.9); version 3 is not supported yet.", e.s)
			continue
		}
		if first, ok := seen[p.Addr()]; ok {
			d.errorf(e.rng, "Duplicate virtual_ipaddress", "%s is already listed at %s.", p.Addr(), pos(first))
			continue
		}
		seen[p.Addr()] = e.rng
		out = append(out, p)
	}
	return out
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
