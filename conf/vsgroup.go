package conf

import (
	"bytes"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// virtual_server_group (keepalived's virtual_server_group NAME { ... } and
// `virtual_server group NAME`): one virtual_server block programs one IPVS
// service per address (and firewall mark) of the group, all with the same
// settings and real servers. The decoder expands the block into one
// VirtualServer per entry, named "NAME/ADDRESS" ("NAME/fwmark:N"), so the
// rest of lvsd (reconciler, status, drain, metrics) sees plain services;
// identical checks of the shared real servers run once (the checker
// dedups identical probes).

// maxGroupEntries bounds the services one group expands to (a /16 range):
// far beyond any real group, it keeps a typo from asking for millions.
const maxGroupEntries = 65536

var vsGroupSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "addresses"}, {Name: "fwmarks"}}}

// vsGroup is a decoded virtual_server_group.
type vsGroup struct {
	addrs   []netip.AddrPort
	fwmarks []uint32
	ok      bool // decoded without error: virtual servers may use it
}

// groupKeyword is what tells Parse a file may hold groups (see
// scanGroups).
var groupKeyword = []byte("virtual_server_group")

// scanGroups decodes the virtual_server_group blocks of a whole file
// before its virtual servers, which then find their group wherever it is
// written. Files with groups are therefore parsed whole, never in pieces
// or through a Cache (Parse, Cache.Parse): groups replace many blocks, so
// such files are small.
func (d *decoder) scanGroups(body hcl.Body) {
	d.vsGroups = map[string]*vsGroup{}
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return
	}
	names := map[string]hcl.Range{}
	for _, b := range sb.Blocks {
		if b.Type != "virtual_server_group" || len(b.Labels) != 1 {
			continue // the root schema reports malformed blocks
		}
		hb := b.AsHCLBlock()
		if d.uniqueLabel(hb, names) {
			continue
		}
		d.vsGroups[hb.Labels[0]] = d.vsGroup(hb)
	}
}

// vsGroup decodes one virtual_server_group block: addresses ("IP:PORT",
// "[IPv6]:PORT", a last-part range "198.51.100.40-45:80" or
// "[2001:db8::1-ff]:80", a network "198.51.100.32/30:80", as keepalived's
// entries) of one family, and fwmarks.
func (d *decoder) vsGroup(b *hcl.Block) *vsGroup {
	errs := len(d.diags)
	content, diags := b.Body.Content(vsGroupSchema)
	d.diags = append(d.diags, diags...)
	g := &vsGroup{}
	seen := map[netip.AddrPort]hcl.Range{}
	if a := content.Attributes["addresses"]; a != nil {
		elems, _ := d.strList(a)
		for _, e := range elems {
			aps, err := expandGroupAddr(e.s)
			switch {
			case err != nil:
				d.errorf(e.rng, "Invalid addresses", "%q: %v.", e.s, err)
				continue
			case len(g.addrs) > 0 && g.addrs[0].Addr().Is6() != aps[0].Addr().Is6():
				d.errorf(e.rng, "Mixed address families in virtual_server_group",
					"%s and %s are of different families: the group's services share real servers, which have one family; use one group per family.", g.addrs[0].Addr(), aps[0].Addr())
				continue
			case len(g.addrs)+len(aps) > maxGroupEntries:
				d.errorf(e.rng, "Too many addresses", "the group would hold more than %d services.", maxGroupEntries)
				continue
			}
			for _, ap := range aps {
				if first, ok := seen[ap]; ok {
					d.errorf(e.rng, "Duplicate group address", "%s is already listed at %s.", ap, pos(first))
					break
				}
				seen[ap] = e.rng
			}
			g.addrs = append(g.addrs, aps...)
		}
	}
	if a := content.Attributes["fwmarks"]; a != nil {
		exprs, diags := hcl.ExprList(a.Expr)
		d.diags = append(d.diags, diags...)
		if len(exprs) == 0 && !diags.HasErrors() {
			d.errorf(a.Expr.Range(), "Invalid fwmarks", "fwmarks must be a non-empty list of numbers, such as [1, 2].")
		}
		have := map[uint32]hcl.Range{}
		for _, e := range exprs {
			// IPVS keys firewall-mark services by mark; 0 means no mark.
			n, ok := d.integer(&hcl.Attribute{Name: "fwmarks entry", Expr: e, Range: e.Range()}, 1, math.MaxUint32)
			if !ok {
				continue
			}
			if first, dup := have[uint32(n)]; dup {
				d.errorf(e.Range(), "Duplicate fwmarks entry", "firewall mark %d is already listed at %s.", n, pos(first))
				continue
			}
			have[uint32(n)] = e.Range()
			g.fwmarks = append(g.fwmarks, uint32(n))
		}
	}
	if len(g.addrs) == 0 && len(g.fwmarks) == 0 && len(d.diags) == errs {
		d.errorf(b.DefRange, "Empty virtual_server_group", "virtual_server_group %q has no addresses and no fwmarks (keepalived drops such a group).", b.Labels[0])
	}
	g.ok = !d.diags[errs:].HasErrors()
	return g
}

// expandGroupAddr expands one group address entry into its addresses.
func expandGroupAddr(s string) ([]netip.AddrPort, error) {
	host, portStr, ok := splitHostPort(s)
	if !ok {
		return nil, fmt.Errorf(`want "IP:PORT", "[IPv6]:PORT", a range "IP-LAST:PORT" or a network "IP/LEN:PORT"`)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return nil, fmt.Errorf("port %q is not 1-65535", portStr)
	}
	var addrs []netip.Addr
	switch {
	case strings.Contains(host, "/"):
		p, err := netip.ParsePrefix(host)
		if err != nil {
			return nil, err
		}
		if p.Masked() != p {
			return nil, fmt.Errorf("%s has host bits set (the network is %s)", p, p.Masked())
		}
		if p.Addr().BitLen()-p.Bits() > 16 {
			return nil, fmt.Errorf("%s holds more than %d addresses", p, maxGroupEntries)
		}
		for a := p.Addr(); p.Contains(a); a = a.Next() {
			addrs = append(addrs, a)
		}
	case strings.Contains(host, "-"):
		base, last, _ := strings.Cut(host, "-")
		a, err := netip.ParseAddr(base)
		if err != nil {
			return nil, err
		}
		b := a.As16()
		if a.Is4() {
			end, err := strconv.ParseUint(last, 10, 8)
			if err != nil || byte(end) < b[15] {
				return nil, fmt.Errorf("range end %q is not a last byte from %d to 255", last, b[15])
			}
			for x := int(b[15]); x <= int(end); x++ {
				b[15] = byte(x)
				addrs = append(addrs, netip.AddrFrom16(b).Unmap())
			}
			break
		}
		end, err := strconv.ParseUint(last, 16, 16)
		start := uint64(b[14])<<8 | uint64(b[15])
		if err != nil || end < start {
			return nil, fmt.Errorf("range end %q is not a last group (hex) from %x to ffff", last, start)
		}
		for x := start; x <= end; x++ {
			b[14], b[15] = byte(x>>8), byte(x)
			addrs = append(addrs, netip.AddrFrom16(b))
		}
	default:
		a, err := netip.ParseAddr(host)
		if err != nil {
			return nil, err
		}
		addrs = []netip.Addr{a}
	}
	out := make([]netip.AddrPort, len(addrs))
	for i, a := range addrs {
		if a.Is4In6() || a.Zone() != "" || !usableUnicast(a) {
			return nil, fmt.Errorf("%s is not a unicast service address", a)
		}
		out[i] = netip.AddrPortFrom(a, uint16(port))
	}
	return out, nil
}

// splitHostPort splits "HOST:PORT" and "[HOST]:PORT".
func splitHostPort(s string) (host, port string, ok bool) {
	if strings.HasPrefix(s, "[") {
		i := strings.Index(s, "]:")
		if i < 0 {
			return "", "", false
		}
		return s[1:i], s[i+2:], true
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.Contains(s[:i], ":") {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// mayHaveGroups reports whether src may hold a virtual_server_group.
func mayHaveGroups(src []byte) bool { return bytes.Contains(src, groupKeyword) }

// groupEntries are the service identities of g: its addresses, then its
// fwmarks in the family of its addresses (or fam when it has none).
func (g *vsGroup) entries(fam netip.Addr) (out []VirtualServer) {
	for _, ap := range g.addrs {
		out = append(out, VirtualServer{Address: ap})
	}
	unspec := fam
	if len(g.addrs) > 0 {
		unspec = netip.IPv4Unspecified()
		if g.addrs[0].Addr().Is6() {
			unspec = netip.IPv6Unspecified()
		}
	}
	for _, m := range g.fwmarks {
		out = append(out, VirtualServer{Address: netip.AddrPortFrom(unspec, 0), FWMark: m})
	}
	return out
}

// groupMemberName names the service of a group's entry e of the virtual
// server name.
func groupMemberName(name string, e VirtualServer) string {
	if e.FWMark != 0 {
		return fmt.Sprintf("%s/fwmark:%d", name, e.FWMark)
	}
	return name + "/" + e.Address.String()
}
