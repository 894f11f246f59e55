package conf

import (
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Membership is how health turns into IPVS membership for one virtual
// server beyond up/down: keepalived's sorry_server, quorum, hysteresis,
// quorum_up/quorum_down, alpha and omega, plus lvsd's graceful drain.
type Membership struct {
	// SorryServer is added to the service while the quorum is lost
	// (keepalived: "added when no real server is up" with the default
	// quorum of 1), and the live real servers are taken out meanwhile.
	// The zero value means none.
	SorryServer netip.AddrPort
	// SorryServerInhibit keeps the sorry server in the service with weight
	// 0 while it is not needed, instead of removing it.
	SorryServerInhibit bool
	// SorryServerMethod is the sorry server's forwarding method (default
	// the virtual server's).
	SorryServerMethod string

	// Quorum is the sum of the weights of live real servers below which
	// the service has lost its quorum (default 1).
	Quorum int
	// Hysteresis: the quorum is gained at Quorum+Hysteresis and lost
	// below Quorum-Hysteresis (default 0).
	Hysteresis int
	// QuorumUp and QuorumDown run when the quorum is gained and lost; nil
	// when not set.
	QuorumUp, QuorumDown *Command

	// Alpha: real servers with checkers start down and join the service
	// after their first successful check (without it they start up, as in
	// keepalived).
	Alpha bool
	// Omega: when lvsd stops, quorum_down runs for this virtual server
	// (keepalived runs the down notifiers on shutdown only with omega).
	Omega bool

	// DrainTimeout bounds how long a real server removed from the
	// configuration (or drained with `lvsd drain`) is kept with weight 0
	// while it still has connections; 0 deletes a removed real server at
	// once, as keepalived does. Default 5 minutes.
	DrainTimeout time.Duration
}

// Command is a notify program: a command line split into words without a
// shell (SplitCommand), run with a timeout.
type Command struct {
	Line    string
	Argv    []string // Argv[0] is an absolute path
	Timeout time.Duration
}

// Defaults of Membership.
const (
	DefaultQuorum        = 1
	DefaultDrainTimeout  = 5 * time.Minute
	DefaultScriptTimeout = 30 * time.Second
)

var membershipAttrs = []hcl.AttributeSchema{
	{Name: "sorry_server"}, {Name: "sorry_server_inhibit"}, {Name: "sorry_server_lvs_method"},
	{Name: "quorum"}, {Name: "hysteresis"}, {Name: "quorum_up"}, {Name: "quorum_down"},
	{Name: "alpha"}, {Name: "omega"}, {Name: "drain_timeout"},
}

// membership decodes the membership attributes of a virtual_server.
// vsAddrOK says whether vs.Address is known (for the family check of the
// sorry server).
func (d *decoder) membership(attrs hcl.Attributes, vs *VirtualServer, vsAddrOK bool) {
	m := Membership{Quorum: DefaultQuorum, DrainTimeout: DefaultDrainTimeout, SorryServerMethod: vs.Method}
	if a := attrs["sorry_server"]; a != nil {
		if ap, ok := d.addrPort(a); ok {
			// Refused even with TUN, as for real servers (checkRSAddr): a
			// destination of the other family needs
			// IPVS_DEST_ATTR_ADDR_FAMILY, which moby/ipvs does not send.
			if vsAddrOK && ap.Addr().Is4() != vs.Address.Addr().Is4() {
				d.errorf(a.Expr.Range(), "Invalid sorry_server",
					"sorry_server %s and virtual server %s are of different address families; lvsd cannot mix them (not even with lvs_method TUN).", ap, vs.Address)
			} else {
				m.SorryServer = ap
			}
		}
	}
	for _, name := range []string{"sorry_server_inhibit", "sorry_server_lvs_method"} {
		if a := attrs[name]; a != nil && attrs["sorry_server"] == nil {
			d.warnf(a.NameRange, name+" without sorry_server", "%s has no effect unless sorry_server is set.", name)
		}
	}
	if a := attrs["sorry_server_inhibit"]; a != nil {
		if v, ok := d.boolean(a); ok {
			m.SorryServerInhibit = v
		}
	}
	if a := attrs["sorry_server_lvs_method"]; a != nil {
		if s, ok := d.enum(a, strings.ToUpper, "NAT", "DR", "TUN"); ok {
			m.SorryServerMethod = s
		}
	}
	if a := attrs["quorum"]; a != nil {
		if n, ok := d.integer(a, 1, math.MaxInt32); ok {
			m.Quorum = int(n)
		}
	}
	if a := attrs["hysteresis"]; a != nil {
		if n, ok := d.integer(a, 0, math.MaxInt32); ok {
			m.Hysteresis = int(n)
		}
	}
	if a := attrs["hysteresis"]; a != nil && m.Hysteresis >= m.Quorum && attrs["quorum"] != nil {
		// keepalived accepts it, but the quorum is then never lost before
		// every server is down: say so.
		d.warnf(a.NameRange, "hysteresis not below quorum",
			"with hysteresis %d >= quorum %d the quorum is only lost when no real server is up.", m.Hysteresis, m.Quorum)
	}
	m.QuorumUp = d.script(attrs["quorum_up"])
	m.QuorumDown = d.script(attrs["quorum_down"])
	if a := attrs["alpha"]; a != nil {
		if v, ok := d.boolean(a); ok {
			m.Alpha = v
		}
	}
	if a := attrs["omega"]; a != nil {
		if v, ok := d.boolean(a); ok {
			m.Omega = v
		}
	}
	if a := attrs["drain_timeout"]; a != nil {
		if dur, ok := d.duration(a, true); ok {
			m.DrainTimeout = dur
		}
	}
	vs.Membership = m
}

// script decodes a quorum_up/quorum_down command line (see command).
func (d *decoder) script(a *hcl.Attribute) *Command {
	if a == nil {
		return nil
	}
	if line, argv := d.command(a); argv != nil {
		return &Command{Line: line, Argv: argv, Timeout: DefaultScriptTimeout}
	}
	return nil
}
