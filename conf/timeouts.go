package conf

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// LVSTimeouts is the lvs_timeouts block: the kernel's global IPVS
// connection timeouts (keepalived's global_defs lvs_timeouts, ipvsadm
// --set). A zero field is not set: the kernel keeps its value.
type LVSTimeouts struct {
	TCP    time.Duration // established TCP connections
	TCPFin time.Duration // TCP connections after a FIN
	UDP    time.Duration // UDP "connections"
}

var lvsTimeoutsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "tcp"}, {Name: "tcpfin"}, {Name: "udp"}},
}

// lvsTimeouts decodes an lvs_timeouts block. The kernel keeps each timeout
// as seconds times HZ in an int and refuses more (ip_vs_set_timeout), so
// values are whole seconds up to the same bound as persistence_timeout.
func (d *decoder) lvsTimeouts(b *hcl.Block) *LVSTimeouts {
	content, diags := b.Body.Content(lvsTimeoutsSchema)
	d.diags = append(d.diags, diags...)
	t := &LVSTimeouts{}
	for _, f := range []struct {
		name string
		dst  *time.Duration
	}{{"tcp", &t.TCP}, {"tcpfin", &t.TCPFin}, {"udp", &t.UDP}} {
		a := content.Attributes[f.name]
		if a == nil {
			continue
		}
		dur, ok := d.duration(a, false)
		switch {
		case !ok:
		case dur%time.Second != 0:
			d.errorf(a.Expr.Range(), "Invalid "+f.name, "lvs_timeouts %s must be whole seconds (IPVS keeps seconds); got %v.", f.name, dur)
		case dur > maxPersistenceTimeout:
			d.errorf(a.Expr.Range(), "Invalid "+f.name, "lvs_timeouts %s must be at most %v; got %v.", f.name, maxPersistenceTimeout, dur)
		default:
			*f.dst = dur
		}
	}
	if len(content.Attributes) == 0 && !diags.HasErrors() {
		d.warnf(b.DefRange, "Empty lvs_timeouts", "lvs_timeouts sets none of tcp, tcpfin, udp: the kernel's timeouts are left as they are.")
	}
	return t
}
