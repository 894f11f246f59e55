package conf

import (
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Value decoding. Every helper reports its own error (naming the attribute,
// with the expression's range as subject) and returns ok=false, so callers
// only decide what to do with good values.

// value evaluates attr without variables or functions: the language is
// static, so a reference or a call is an error reported by hcl itself.
func (d *decoder) value(attr *hcl.Attribute) (cty.Value, bool) {
	return d.exprValue(attr.Name, attr.Expr)
}

func (d *decoder) exprValue(name string, expr hcl.Expression) (cty.Value, bool) {
	// A quoted string without interpolation is a template of one string
	// literal, and its value is that literal. TemplateExpr.Value gets
	// there through a buffer, a map of marks, a conversion and a
	// refinement: at 1k services that was a fifth of decoding a real
	// server under emulation.
	if t, ok := expr.(*hclsyntax.TemplateExpr); ok && len(t.Parts) == 1 {
		if lit, ok := t.Parts[0].(*hclsyntax.LiteralValueExpr); ok &&
			lit.Val.Type() == cty.String && lit.Val.IsKnown() && !lit.Val.IsNull() && !lit.Val.IsMarked() {
			return lit.Val, true
		}
	}
	v, diags := expr.Value(nil)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if v.IsNull() {
		d.errorf(expr.Range(), "Invalid "+name, "%s must not be null.", name)
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() {
		// Cannot happen without variables; kept so a future EvalContext
		// cannot smuggle unknowns into the typed config.
		d.errorf(expr.Range(), "Invalid "+name, "%s must be a constant.", name)
		return cty.NilVal, false
	}
	v, _ = v.Unmark()
	return v, true
}

func (d *decoder) str(attr *hcl.Attribute) (string, bool) {
	return d.exprStr(attr.Name, attr.Expr)
}

func (d *decoder) exprStr(name string, expr hcl.Expression) (string, bool) {
	v, ok := d.exprValue(name, expr)
	if !ok {
		return "", false
	}
	if v.Type() != cty.String {
		d.errorf(expr.Range(), "Invalid "+name, "%s must be a string; got %s.", name, v.Type().FriendlyName())
		return "", false
	}
	return v.AsString(), true
}

func (d *decoder) boolean(attr *hcl.Attribute) (bool, bool) {
	v, ok := d.value(attr)
	if !ok {
		return false, false
	}
	if v.Type() != cty.Bool {
		d.errorf(attr.Expr.Range(), "Invalid "+attr.Name, "%s must be true or false; got %s.", attr.Name, v.Type().FriendlyName())
		return false, false
	}
	return v.True(), true
}

// integer decodes a whole number in [lo, hi].
func (d *decoder) integer(attr *hcl.Attribute, lo, hi int64) (int64, bool) {
	v, ok := d.value(attr)
	if !ok {
		return 0, false
	}
	if v.Type() != cty.Number {
		d.errorf(attr.Expr.Range(), "Invalid "+attr.Name, "%s must be a number; got %s.", attr.Name, v.Type().FriendlyName())
		return 0, false
	}
	bf := v.AsBigFloat()
	// Messages print the value through float64: formatting a big.Float
	// with a huge exponent (1e9999999) in decimal takes minutes.
	approx, _ := bf.Float64()
	if !bf.IsInt() {
		d.errorf(attr.Expr.Range(), "Invalid "+attr.Name, "%s must be a whole number; got %g.", attr.Name, approx)
		return 0, false
	}
	n, acc := bf.Int64()
	if acc != big.Exact {
		d.errorf(attr.Expr.Range(), "Invalid "+attr.Name, "%s must be between %d and %d; got %g.", attr.Name, lo, hi, approx)
		return 0, false
	}
	if n < lo || n > hi {
		d.errorf(attr.Expr.Range(), "Invalid "+attr.Name, "%s must be between %d and %d; got %d.", attr.Name, lo, hi, n)
		return 0, false
	}
	return n, true
}

// duration decodes a Go duration string ("1s", "100ms") or a number of
// seconds (3, 0.5). Zero and negative durations are refused: every duration
// in the language is an interval or a timeout, where they are meaningless.
// allowZero admits 0 (delay_before_retry: retry at once).
func (d *decoder) duration(attr *hcl.Attribute, allowZero bool) (time.Duration, bool) {
	v, ok := d.value(attr)
	if !ok {
		return 0, false
	}
	rng := attr.Expr.Range()
	var dur time.Duration
	switch v.Type() {
	case cty.String:
		s := v.AsString()
		var err error
		dur, err = time.ParseDuration(s)
		if err != nil {
			d.errorf(rng, "Invalid "+attr.Name,
				"%s must be a duration such as \"3s\" or \"100ms\", or a number of seconds; %q is not (%v).", attr.Name, s, err)
			return 0, false
		}
	case cty.Number:
		ns := new(big.Float).Mul(v.AsBigFloat(), big.NewFloat(float64(time.Second)))
		if ns.IsInf() || ns.Cmp(big.NewFloat(math.MaxInt64)) >= 0 || ns.Cmp(big.NewFloat(math.MinInt64)) <= 0 {
			d.errorf(rng, "Invalid "+attr.Name, "%s is out of range.", attr.Name)
			return 0, false
		}
		n, _ := ns.Int64() // truncates below a nanosecond
		dur = time.Duration(n)
	default:
		d.errorf(rng, "Invalid "+attr.Name,
			"%s must be a duration string such as \"3s\" or a number of seconds; got %s.", attr.Name, v.Type().FriendlyName())
		return 0, false
	}
	switch {
	case dur < 0:
		d.errorf(rng, "Invalid "+attr.Name, "%s must not be negative; got %v.", attr.Name, dur)
		return 0, false
	case dur == 0 && !allowZero:
		d.errorf(rng, "Invalid "+attr.Name, "%s must be greater than zero.", attr.Name)
		return 0, false
	}
	return dur, true
}

// listElem is one string of a list attribute with its own range, so that a
// bad entry is pointed at precisely.
type listElem struct {
	s   string
	rng hcl.Range
}

// strList decodes a non-empty list of strings.
func (d *decoder) strList(attr *hcl.Attribute) ([]listElem, bool) {
	v, ok := d.value(attr)
	if !ok {
		return nil, false
	}
	rng := attr.Expr.Range()
	if !v.Type().IsTupleType() && !v.Type().IsListType() {
		d.errorf(rng, "Invalid "+attr.Name, "%s must be a list of strings, such as [\"198.51.100.30\"]; got %s.", attr.Name, v.Type().FriendlyName())
		return nil, false
	}
	if v.LengthInt() == 0 {
		d.errorf(rng, "Invalid "+attr.Name, "%s must not be empty.", attr.Name)
		return nil, false
	}
	// Static list syntax gives each element's range; anything else (there
	// is nothing else today) falls back to the attribute's range.
	exprs, diags := hcl.ExprList(attr.Expr)
	var out []listElem
	good := true
	if !diags.HasErrors() && len(exprs) == v.LengthInt() {
		for _, e := range exprs {
			s, ok := d.exprStr(attr.Name+" entry", e)
			if !ok {
				good = false
				continue
			}
			out = append(out, listElem{s, e.Range()})
		}
		return out, good
	}
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		if ev.IsNull() || ev.Type() != cty.String {
			d.errorf(rng, "Invalid "+attr.Name, "%s must be a list of strings.", attr.Name)
			return nil, false
		}
		out = append(out, listElem{ev.AsString(), rng})
	}
	return out, true
}

// parseAddr parses a plain IP address; zones (fe80::1%eth0) are refused:
// VIPs and real servers are global addresses.
func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, err
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("zone %q not allowed", a.Zone())
	}
	return a, nil
}

// parseVIP parses "IP" or "IP/len". The address keeps its host bits (it is
// the address added to the interface, with len as its prefix length); a bare
// address gets the full length (/32 or /128).
func parseVIP(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p, nil
	}
	a, err := parseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// parseAddrPort parses "IP:PORT" ("[IPv6]:PORT") with a port in 1-65535.
func parseAddrPort(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if ap.Addr().Zone() != "" {
		return netip.AddrPort{}, fmt.Errorf("zone %q not allowed", ap.Addr().Zone())
	}
	if ap.Port() == 0 {
		return netip.AddrPort{}, fmt.Errorf("port must be between 1 and 65535")
	}
	return ap, nil
}

// addrPort decodes an address attribute.
func (d *decoder) addrPort(attr *hcl.Attribute) (netip.AddrPort, bool) {
	s, ok := d.str(attr)
	if !ok {
		return netip.AddrPort{}, false
	}
	ap, err := parseAddrPort(s)
	if err != nil {
		d.errorf(attr.Expr.Range(), "Invalid "+attr.Name,
			"%s must be \"IP:PORT\" (IPv6: \"[IP]:PORT\"); %q is not: %v.", attr.Name, s, err)
		return netip.AddrPort{}, false
	}
	return ap, true
}

// enum decodes a string attribute that must be one of allowed after
// normalising its case with norm.
func (d *decoder) enum(attr *hcl.Attribute, norm func(string) string, allowed ...string) (string, bool) {
	s, ok := d.str(attr)
	if !ok {
		return "", false
	}
	n := norm(s)
	for _, a := range allowed {
		if n == a {
			return n, true
		}
	}
	d.errorf(attr.Expr.Range(), "Invalid "+attr.Name, "unknown %s %q; allowed: %s.", attr.Name, s, strings.Join(allowed, " "))
	return "", false
}

// require reports each of names missing from attrs, pointing at the block
// header so the user sees which block lacks it.
func (d *decoder) require(b *hcl.Block, attrs hcl.Attributes, names ...string) bool {
	ok := true
	for _, n := range names {
		if _, set := attrs[n]; !set {
			d.errorf(b.DefRange, "Missing required attribute", "%s needs %s.", blockName(b), n)
			ok = false
		}
	}
	return ok
}

func blockName(b *hcl.Block) string {
	if len(b.Labels) > 0 {
		return fmt.Sprintf("%s %q", b.Type, b.Labels[0])
	}
	return b.Type
}

// alias resolves a deprecated keepalived alias: alone it is accepted with a
// warning, together with the current name it is an error. It returns the
// attribute to use (nil if neither is set).
func (d *decoder) alias(attrs hcl.Attributes, name, old string) *hcl.Attribute {
	cur, oldAttr := attrs[name], attrs[old]
	switch {
	case oldAttr == nil:
		return cur
	case cur != nil:
		d.errorf(oldAttr.NameRange, "Conflicting "+name,
			"both %s and its deprecated alias %s are set (%s at %s); remove %s.", name, old, name, pos(cur.NameRange), old)
		return nil
	default:
		d.warnf(oldAttr.NameRange, "Deprecated "+old, "%s is a deprecated keepalived alias; use %s.", old, name)
		return oldAttr
	}
}

// singleBlock returns the only block of type typ, reporting any extra ones.
func (d *decoder) singleBlock(blocks hcl.Blocks, typ string) *hcl.Block {
	var first *hcl.Block
	for _, b := range blocks {
		if b.Type != typ {
			continue
		}
		if first != nil {
			d.errorf(b.DefRange, "Duplicate "+typ+" block", "only one %s block is allowed here; the first is at %s.", typ, pos(first.DefRange))
			continue
		}
		first = b
	}
	return first
}
