package conf

import (
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// keepalived's vrrp_track_process and an instance's track_process
// references: the process is up while between quorum and quorum_max
// processes match.

// Param matching of a vrrp_track_process with arguments (keepalived's
// param_match).
const (
	ParamExact   = "exact"   // the arguments are exactly these
	ParamPartial = "partial" // they start with these
	ParamInitial = "initial" // as partial, the last one being a prefix
)

// maxCommLen is the longest name the kernel keeps as a task's comm
// (TASK_COMM_LEN 16, NUL included).
const maxCommLen = 15

// maxProcessDelay bounds delay, fork_delay and terminate_delay
// (keepalived: 3600 s).
const maxProcessDelay = time.Hour

// VRRPTrackProcess is one top-level vrrp_track_process block.
type VRRPTrackProcess struct {
	Name string
	// Process is the name as written; Argv is it split into words. One
	// word without FullCommand matches the task name (comm, what ps -o
	// comm and pgrep without -f show); otherwise Argv[0] must equal the
	// command line's first word and the rest match by ParamMatch.
	Process     string
	Argv        []string
	FullCommand bool
	ParamMatch  string // "" (no argument check), ParamExact, ParamPartial, ParamInitial
	// Up while Quorum <= matching processes <= QuorumMax (keepalived:
	// 1 and unlimited; quorum_max 0 makes quorum 0: up while none runs).
	Quorum, QuorumMax int
	// Weight is the default weight of track_process references (0 = FAULT
	// while down), Reverse their default reverse.
	Weight  int
	Reverse bool
	// ForkDelay: quorum must hold this long before the process counts as
	// up; TerminateDelay: lost this long before it counts as down.
	ForkDelay, TerminateDelay time.Duration

	DeclRange hcl.Range
}

// TrackProcess is one track_process block of a vrrp_instance.
type TrackProcess struct {
	Process VRRPTrackProcess
	Weight  int
	Reverse bool
}

// unlimitedQuorum is quorum_max's default.
const unlimitedQuorum = 1<<31 - 1

var trackProcessSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "process"}, {Name: "param_match"}, {Name: "full_command"}, {Name: "quorum"}, {Name: "quorum_max"},
		{Name: "weight"}, {Name: "reverse"}, {Name: "delay"}, {Name: "fork_delay"}, {Name: "terminate_delay"},
	},
}

// vrrpTrackProcess decodes one vrrp_track_process block.
func (d *decoder) vrrpTrackProcess(b *hcl.Block) (VRRPTrackProcess, bool) {
	errs := len(d.diags)
	p := VRRPTrackProcess{Name: b.Labels[0], Quorum: 1, QuorumMax: unlimitedQuorum, DeclRange: b.DefRange}
	content, diags := b.Body.Content(trackProcessSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	if d.require(b, attrs, "process") {
		a := attrs["process"]
		if s, ok := d.str(a); ok {
			argv, err := SplitCommand(s)
			switch {
			case err != nil:
				d.errorf(a.Expr.Range(), "Invalid process", "%v.", err)
			case len(argv) == 0:
				d.errorf(a.Expr.Range(), "Invalid process", "process must name a process, such as \"haproxy\" or \"/usr/sbin/haproxy -f /etc/haproxy/haproxy.cfg\".")
			default:
				p.Process, p.Argv = s, argv
			}
		}
	}
	if len(p.Argv) > 1 {
		// keepalived: arguments mean the whole command line, matched
		// exactly unless param_match says otherwise.
		p.FullCommand, p.ParamMatch = true, ParamExact
	}
	if a := attrs["full_command"]; a != nil {
		if v, ok := d.boolean(a); ok {
			p.FullCommand = p.FullCommand || v
			if !v && len(p.Argv) > 1 {
				d.errorf(a.Expr.Range(), "Invalid full_command", "process has arguments, which only the full command line has; remove full_command = false.")
			}
		}
	}
	if a := attrs["param_match"]; a != nil {
		if m, ok := d.enum(a, strings.ToLower, ParamExact, ParamPartial, ParamInitial); ok {
			p.ParamMatch, p.FullCommand = m, true
		}
	}
	if !p.FullCommand && len(p.Argv) == 1 && len(p.Argv[0]) > maxCommLen {
		d.errorf(attrs["process"].Expr.Range(), "Process name too long",
			"%q is longer than the %d bytes the kernel keeps as a task name, so it would never match; set full_command = true to match the command line's first word instead.", p.Argv[0], maxCommLen)
	}
	quorumSet := false
	if a := attrs["quorum"]; a != nil {
		if n, ok := d.integer(a, 1, 65535); ok {
			p.Quorum, quorumSet = int(n), true
		}
	}
	if a := attrs["quorum_max"]; a != nil {
		if n, ok := d.integer(a, 0, 65535); ok {
			p.QuorumMax = int(n)
			switch {
			case n == 0 && !quorumSet:
				p.Quorum = 0 // up while no process matches
			case int(n) < p.Quorum:
				d.errorf(a.Expr.Range(), "Invalid quorum_max", "quorum_max %d is below quorum %d.", n, p.Quorum)
			}
		}
	}
	if a := attrs["weight"]; a != nil {
		if n, ok := d.integer(a, -maxFileWeight, maxFileWeight); ok {
			p.Weight = int(n)
		}
	}
	if a := attrs["reverse"]; a != nil {
		if v, ok := d.boolean(a); ok {
			p.Reverse = v
		}
	}
	delay := func(name string) (time.Duration, bool) {
		a := attrs[name]
		if a == nil {
			return 0, false
		}
		dur, ok := d.duration(a, true)
		if ok && dur > maxProcessDelay {
			d.errorf(a.Expr.Range(), "Invalid "+name, "%s must be at most 1h; got %s.", name, dur)
			return 0, false
		}
		return dur, ok
	}
	if dur, ok := delay("delay"); ok {
		p.ForkDelay, p.TerminateDelay = dur, dur
	}
	if dur, ok := delay("fork_delay"); ok {
		p.ForkDelay = dur
	}
	if dur, ok := delay("terminate_delay"); ok {
		p.TerminateDelay = dur
	}
	return p, !d.diags[errs:].HasErrors()
}

// trackProcessBlocks decodes the track_process blocks of an instance,
// resolved later (resolveTrackProcesses).
func (d *decoder) trackProcessBlocks(blocks hcl.Blocks, vi *VRRPInstance) {
	d.trackRefBlocks(blocks, "track_process", func(name string, rng hcl.Range, weight int, reverse bool, ref trackFileRef) {
		ref.at = len(vi.TrackProcesses)
		vi.TrackProcesses = append(vi.TrackProcesses, TrackProcess{Process: VRRPTrackProcess{Name: name, DeclRange: rng}, Weight: weight, Reverse: reverse})
		vi.trackProcRefs = append(vi.trackProcRefs, ref)
	})
}

// resolveTrackProcesses binds the track_process references of vi.
func (d *decoder) resolveTrackProcesses(procs map[string]VRRPTrackProcess, declared map[string]hcl.Range, vi *VRRPInstance) {
	refs := vi.trackProcRefs
	vi.trackProcRefs = nil
	for _, ref := range refs {
		tp := &vi.TrackProcesses[ref.at]
		p, ok := procs[tp.Process.Name]
		if !ok {
			if _, bad := declared[tp.Process.Name]; !bad {
				d.errorf(tp.Process.DeclRange, "Unknown vrrp_track_process", "track_process %q names no vrrp_track_process block.", tp.Process.Name)
			}
			continue
		}
		tp.Process = p
		if !ref.weightSet {
			tp.Weight = p.Weight
		}
		if !ref.reverseSet {
			tp.Reverse = p.Reverse
		}
	}
}
