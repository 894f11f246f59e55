package conf

import (
	"net/netip"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// LVSSyncDaemon is the lvs_sync_daemon block (keepalived's global_defs
// lvs_sync_daemon): the kernel's IPVS connection synchronisation daemon,
// run as master while the named VRRP instance is MASTER and as backup
// otherwise, so that the director taking the VIP over already has the
// connections in its table and established ones keep their real server.
type LVSSyncDaemon struct {
	// Interface carries the multicast sync traffic.
	Interface string
	// Instance is the vrrp_instance whose state the daemon follows.
	Instance string
	// SyncID (0-255) tells the sync streams of several director pairs on
	// one network apart; keepalived's default is the instance's VRID.
	SyncID uint32
	// MaxLen is the UDP payload size (0: the kernel sizes it from the
	// interface MTU); Group the multicast group (zero: 224.0.0.81); Port
	// its UDP port (0: 8848); TTL the multicast TTL (0: 1).
	MaxLen int
	Group  netip.Addr
	Port   int
	TTL    int

	DeclRange hcl.Range
	// instRange is where vrrp_instance is set; syncIDSet whether sync_id
	// is (resolveSyncDaemon).
	instRange hcl.Range
	syncIDSet bool
}

var lvsSyncSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "interface"}, {Name: "vrrp_instance"}, {Name: "sync_id"},
	{Name: "maxlen"}, {Name: "group"}, {Name: "port"}, {Name: "ttl"},
}}

// lvsSyncDaemon decodes one lvs_sync_daemon block, with keepalived's
// bounds (global_parser.c).
func (d *decoder) lvsSyncDaemon(b *hcl.Block) (*LVSSyncDaemon, bool) {
	errs := len(d.diags)
	content, diags := b.Body.Content(lvsSyncSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	s := &LVSSyncDaemon{DeclRange: b.DefRange}
	if d.require(b, attrs, "interface", "vrrp_instance") {
		if v, ok := d.str(attrs["interface"]); ok {
			if v == "" || len(v) > maxIfName || strings.ContainsAny(v, "/ \t\n:") {
				d.errorf(attrs["interface"].Expr.Range(), "Invalid interface", "%q is not a valid interface name (1-%d bytes, no '/', ':' or spaces).", v, maxIfName)
			}
			s.Interface = v
		}
		if v, ok := d.str(attrs["vrrp_instance"]); ok {
			s.Instance, s.instRange = v, attrs["vrrp_instance"].Expr.Range()
		}
	}
	ints := []struct {
		name   string
		lo, hi int64
		dst    *int
	}{
		// maxlen: a UDP payload in an IPv4 packet (65535 - 20 - 8).
		{"maxlen", 1, 65535 - 20 - 8, &s.MaxLen}, {"port", 1, 65535, &s.Port}, {"ttl", 1, 255, &s.TTL},
	}
	for _, f := range ints {
		if a := attrs[f.name]; a != nil {
			if n, ok := d.integer(a, f.lo, f.hi); ok {
				*f.dst = int(n)
			}
		}
	}
	if a := attrs["sync_id"]; a != nil {
		if n, ok := d.integer(a, 0, 255); ok {
			s.SyncID, s.syncIDSet = uint32(n), true
		}
	}
	if a := attrs["group"]; a != nil {
		if v, ok := d.str(a); ok {
			g, err := netip.ParseAddr(v)
			switch {
			case err != nil || g.Zone() != "":
				d.errorf(a.Expr.Range(), "Invalid group", "%q is not an IP address.", v)
			case !g.IsMulticast():
				d.errorf(a.Expr.Range(), "Invalid group", "%s is not a multicast address (224.0.0.0/4 or ff00::/8).", g)
			default:
				s.Group = g
			}
		}
	}
	return s, !d.diags[errs:].HasErrors()
}

// resolveSyncDaemon checks that the daemon's instance exists and takes
// its VRID as the sync id when none is set (keepalived's default).
func (d *decoder) resolveSyncDaemon(cfg *Config) {
	s := cfg.LVSSyncDaemon
	if s == nil || s.Instance == "" {
		return
	}
	for _, vi := range cfg.VRRP {
		if vi.Name == s.Instance {
			if !s.syncIDSet {
				s.SyncID = uint32(vi.VRID)
			}
			return
		}
	}
	d.errorf(s.instRange, "Unknown vrrp_instance", "lvs_sync_daemon follows vrrp_instance %q, which this file does not define.", s.Instance)
}
