package conf

import (
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Tracking, sync groups and notify scripts of VRRP (keepalived's
// track_interface, vrrp_script/track_script, vrrp_sync_group, notify*).

const (
	// keepalived's vrrp_script defaults.
	defaultScriptInterval = time.Second
	// maxTrackWeight is keepalived's bound on a tracking weight.
	maxTrackWeight = 253
	// defaultNotifyTimeout bounds one notify script run: a hung script must
	// not hold the ones queued behind it forever (keepalived has no bound).
	defaultNotifyTimeout = 30 * time.Second
)

// VRRPScript is one top-level vrrp_script block.
type VRRPScript struct {
	Name string
	// Path is script as written; Argv is it split into words
	// (SplitCommand); Argv[0] is an absolute path, run without a shell.
	Path string
	Argv []string
	// Interval between runs (default 1s); Timeout bounds one run (default
	// the interval); the process group is killed when it expires.
	Interval time.Duration
	Timeout  time.Duration
	// Rise successes in a row bring a failed script back; Fall failures in
	// a row fail an OK one (defaults 1).
	Rise, Fall int
	// Weight is the default weight of track_script references (0 = a
	// failure puts the instance in FAULT).
	Weight int
	// User runs the script under this account; "" = root.
	User string
	// InitFail: the script starts failed instead of OK (keepalived's
	// init_fail).
	InitFail bool

	DeclRange hcl.Range
}

// TrackInterface is one track_interface block of a vrrp_instance.
type TrackInterface struct {
	Name string
	// Weight 0: link down puts the instance in FAULT. > 0: added to the
	// priority while the link is up. < 0: added (subtracted) while it is
	// down (keepalived's semantics).
	Weight int
}

// TrackScript is one track_script block of a vrrp_instance: the script it
// names, resolved, and the weight that applies (its own weight attribute,
// else the script's).
type TrackScript struct {
	Script VRRPScript
	Weight int
}

// Notify are the notify scripts of an instance or a sync group, each split
// into argv and run without a shell, one at a time, in order.
type Notify struct {
	Master, Backup, Fault, Stop []string
	// Generic is keepalived's notify: called after the state's own script
	// with the arguments INSTANCE|GROUP name state priority.
	Generic []string
	// Timeout bounds one run (default 30s).
	Timeout time.Duration
	// User runs the scripts under this account; "" = root.
	User string
}

// Empty reports whether no script is set.
func (n Notify) Empty() bool {
	return n.Master == nil && n.Backup == nil && n.Fault == nil && n.Stop == nil && n.Generic == nil
}

// SyncGroup is one vrrp_sync_group block: the named instances change state
// together.
type SyncGroup struct {
	Name    string
	Members []string
	Notify  Notify
	// TrackInterfaces, TrackScripts, TrackFiles and TrackProcesses are the
	// group's own tracked objects (keepalived 2.x's vrrp_sync_group
	// track_*), resolved. They are also added to every member's lists,
	// which is what the VRRP runtime follows: a failing one puts each
	// member, hence the group, in FAULT (weight 0), or moves every
	// member's priority by its weight.
	TrackInterfaces []TrackInterface
	TrackScripts    []TrackScript
	TrackFiles      []TrackFile
	TrackProcesses  []TrackProcess
	// TrackingWeight (sync_group_tracking_weight) lets the members' own
	// tracked objects change their priorities. Without it a member's
	// weights are set to 0, as keepalived's vrrp_complete_instance does
	// for sync group members: members whose priorities move apart can
	// leave both nodes' groups short of a member that wants MASTER.
	TrackingWeight bool

	DeclRange hcl.Range
	// memberRanges are where each member is named, for messages.
	memberRanges []hcl.Range
	// track holds the track_* blocks while decoding, in the shape of an
	// instance's so the instance resolvers bind them; cleared once they
	// are copied into the fields above (resolveTracking).
	track *VRRPInstance
}

var scriptSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "script", Required: false}, {Name: "interval"}, {Name: "timeout"},
		{Name: "rise"}, {Name: "fall"}, {Name: "weight"}, {Name: "user"}, {Name: "init_fail"},
	},
}

var trackWeightSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "weight"}}}

var notifyAttrs = []hcl.AttributeSchema{
	{Name: "notify_master"}, {Name: "notify_backup"}, {Name: "notify_fault"}, {Name: "notify_stop"},
	{Name: "notify"}, {Name: "notify_timeout"}, {Name: "notify_user"},
}

var syncGroupSchema = &hcl.BodySchema{
	Attributes: append([]hcl.AttributeSchema{{Name: "group"}, {Name: "sync_group_tracking_weight"}}, notifyAttrs...),
	Blocks:     vrrpTrackBlocks,
}

// vrrpTrackAttrs and vrrpTrackBlocks extend vrrpSchema.
var (
	vrrpTrackAttrs  = append([]hcl.AttributeSchema{{Name: "dont_track_primary"}}, notifyAttrs...)
	vrrpTrackBlocks = []hcl.BlockHeaderSchema{
		{Type: "track_interface", LabelNames: []string{"interface"}},
		{Type: "track_script", LabelNames: []string{"script"}},
		{Type: "track_file", LabelNames: []string{"file"}},
		{Type: "track_process", LabelNames: []string{"process"}},
	}
)

// vrrpScript decodes one vrrp_script block.
func (d *decoder) vrrpScript(b *hcl.Block) (VRRPScript, bool) {
	errs := len(d.diags)
	s := VRRPScript{Name: b.Labels[0], Interval: defaultScriptInterval, Rise: 1, Fall: 1, DeclRange: b.DefRange}
	content, diags := b.Body.Content(scriptSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	if d.require(b, attrs, "script") {
		s.Path, s.Argv = d.command(attrs["script"])
	}
	if a := attrs["interval"]; a != nil {
		if dur, ok := d.duration(a, false); ok {
			s.Interval = dur
		}
	}
	s.Timeout = s.Interval
	if a := attrs["timeout"]; a != nil {
		if dur, ok := d.duration(a, false); ok {
			s.Timeout = dur
		}
	}
	if a := attrs["rise"]; a != nil {
		if n, ok := d.integer(a, 1, 1000); ok {
			s.Rise = int(n)
		}
	}
	if a := attrs["fall"]; a != nil {
		if n, ok := d.integer(a, 1, 1000); ok {
			s.Fall = int(n)
		}
	}
	if a := attrs["weight"]; a != nil {
		if n, ok := d.integer(a, -maxTrackWeight, maxTrackWeight); ok {
			s.Weight = int(n)
		}
	}
	if a := attrs["user"]; a != nil {
		s.User = d.user(a)
	}
	if a := attrs["init_fail"]; a != nil {
		if v, ok := d.boolean(a); ok {
			s.InitFail = v
		}
	}
	return s, !d.diags[errs:].HasErrors()
}

func (d *decoder) user(a *hcl.Attribute) string {
	s, ok := d.str(a)
	if ok && (s == "" || strings.ContainsAny(s, " \t\r\n:")) {
		d.errorf(a.Expr.Range(), "Invalid "+a.Name, "%s must be a user name or numeric uid such as \"nobody\"; got %q. Remove it to run as root.", a.Name, s)
	}
	return s
}

// notify decodes the notify* attributes shared by vrrp_instance and
// vrrp_sync_group.
func (d *decoder) notify(attrs hcl.Attributes) Notify {
	n := Notify{Timeout: defaultNotifyTimeout}
	for name, dst := range map[string]*[]string{
		"notify_master": &n.Master, "notify_backup": &n.Backup, "notify_fault": &n.Fault,
		"notify_stop": &n.Stop, "notify": &n.Generic,
	} {
		if a := attrs[name]; a != nil {
			_, *dst = d.command(a)
		}
	}
	if a := attrs["notify_timeout"]; a != nil {
		if dur, ok := d.duration(a, false); ok {
			n.Timeout = dur
		}
	}
	if a := attrs["notify_user"]; a != nil {
		n.User = d.user(a)
	}
	return n
}

// trackBlocks decodes track_interface and track_script blocks of an
// instance; scripts are resolved later (resolveTracking), once every
// vrrp_script is known. The script's name goes in Script.Name, the weight
// override in Weight with weightSet.
func (d *decoder) trackBlocks(blocks hcl.Blocks, vi *VRRPInstance) {
	seenIf := map[string]hcl.Range{}
	seenScript := map[string]hcl.Range{}
	for _, b := range blocks {
		var seen map[string]hcl.Range
		switch b.Type {
		case "track_interface":
			seen = seenIf
		case "track_script":
			seen = seenScript
		default:
			continue
		}
		name, rng := b.Labels[0], b.LabelRanges[0]
		if first, ok := seen[name]; ok {
			d.errorf(rng, "Duplicate "+b.Type, "%s %q is already listed at %s.", b.Type, name, pos(first))
			continue
		}
		seen[name] = rng
		content, diags := b.Body.Content(trackWeightSchema)
		d.diags = append(d.diags, diags...)
		weight, weightSet := 0, false
		if a := content.Attributes["weight"]; a != nil {
			if n, ok := d.integer(a, -maxTrackWeight, maxTrackWeight); ok {
				weight, weightSet = int(n), true
			}
		}
		switch b.Type {
		case "track_interface":
			if name == "" || len(name) > maxIfName || strings.ContainsAny(name, "/ \t\n:") {
				d.errorf(rng, "Invalid track_interface", "%q is not a valid interface name (1-%d bytes, no '/', ':' or spaces).", name, maxIfName)
			}
			vi.TrackInterfaces = append(vi.TrackInterfaces, TrackInterface{Name: name, Weight: weight})
		case "track_script":
			vi.TrackScripts = append(vi.TrackScripts, TrackScript{Script: VRRPScript{Name: name, DeclRange: rng}, Weight: weight})
			if !weightSet {
				vi.trackScriptDefault = append(vi.trackScriptDefault, len(vi.TrackScripts)-1)
			}
		}
	}
}

// resolveTracking binds track_script references to the vrrp_script blocks,
// checks sync group members, and applies keepalived's address owner rule:
// priority 255 cannot be changed by tracking, so weights become 0 (a failure
// puts the owner in FAULT instead).
func (d *decoder) resolveTracking(cfg *Config, instBlocks map[string]*hcl.Block, declared, declaredFiles, declaredProcs map[string]hcl.Range) {
	scripts := map[string]VRRPScript{}
	for _, s := range cfg.VRRPScripts {
		scripts[s.Name] = s
	}
	files := map[string]VRRPTrackFile{}
	for _, f := range cfg.VRRPTrackFiles {
		files[f.Name] = f
	}
	procs := map[string]VRRPTrackProcess{}
	for _, p := range cfg.VRRPTrackProcesses {
		procs[p.Name] = p
	}
	resolve := func(vi *VRRPInstance) {
		d.resolveTrackFiles(files, declaredFiles, vi)
		d.resolveTrackProcesses(procs, declaredProcs, vi)
		useDefault := map[int]bool{}
		for _, i := range vi.trackScriptDefault {
			useDefault[i] = true
		}
		vi.trackScriptDefault = nil
		for j := range vi.TrackScripts {
			ts := &vi.TrackScripts[j]
			s, ok := scripts[ts.Script.Name]
			if !ok {
				if _, bad := declared[ts.Script.Name]; bad {
					continue // its own errors are reported
				}
				d.errorf(ts.Script.DeclRange, "Unknown vrrp_script", "track_script %q names no vrrp_script block.", ts.Script.Name)
				continue
			}
			ts.Script = s
			if useDefault[j] {
				ts.Weight = s.Weight
			}
		}
	}
	for k := range cfg.VRRP {
		resolve(&cfg.VRRP[k])
	}
	for k := range cfg.SyncGroups {
		if g := &cfg.SyncGroups[k]; g.track != nil {
			resolve(g.track)
		}
	}
	inGroup := map[string]string{}
	byName := map[string]*VRRPInstance{}
	for k := range cfg.VRRP {
		byName[cfg.VRRP[k].Name] = &cfg.VRRP[k]
	}
	for k := range cfg.SyncGroups {
		g := &cfg.SyncGroups[k]
		var members []*VRRPInstance
		for j, m := range g.Members {
			rng := g.memberRanges[j]
			switch {
			case byName[m] == nil:
				d.errorf(rng, "Unknown sync group member", "vrrp_sync_group %q lists %q, which is no vrrp_instance.", g.Name, m)
			case inGroup[m] != "":
				d.errorf(rng, "Instance in two sync groups", "vrrp_instance %q is already a member of vrrp_sync_group %q.", m, inGroup[m])
			default:
				inGroup[m] = g.Name
				members = append(members, byName[m])
			}
		}
		d.syncGroupTracking(g, members, instBlocks)
	}
	for k := range cfg.VRRP {
		vi := &cfg.VRRP[k]
		if vi.Priority != 255 {
			continue
		}
		if zeroWeights(vi) {
			d.warnf(instRange(vi, instBlocks), "Tracking weight with priority 255",
				"vrrp_instance %q has priority 255 (address owner, RFC 3768 section 5.3.4), which tracking cannot change: its weights are set to 0, so a failing tracked object puts it in FAULT (as keepalived).", vi.Name)
		}
	}
}

// syncGroupTracking applies a sync group's tracking to its members: the
// members' own weights are set to 0 unless sync_group_tracking_weight is
// set, then the group's tracked objects are added to each member
// (keepalived's sync_group_tracking_init, run after the instances are
// complete, so the group's weights survive where the members' do not).
func (d *decoder) syncGroupTracking(g *SyncGroup, members []*VRRPInstance, instBlocks map[string]*hcl.Block) {
	t := g.track
	g.track = nil
	if t != nil {
		g.TrackInterfaces, g.TrackScripts, g.TrackFiles, g.TrackProcesses = t.TrackInterfaces, t.TrackScripts, t.TrackFiles, t.TrackProcesses
	}
	for _, vi := range members {
		if !g.TrackingWeight && zeroWeights(vi) {
			d.warnf(instRange(vi, instBlocks), "Tracking weight in a sync group",
				"vrrp_instance %q is a member of vrrp_sync_group %q: its tracking weights are set to 0, so a failing tracked object puts the whole group in FAULT. keepalived does the same for track_interface and ignores weighted track_script and track_file entries altogether. Set sync_group_tracking_weight = true in the group to keep the weights, or track the objects in the group.", vi.Name, g.Name)
		}
		if t == nil {
			continue
		}
		dup := func(kind, name string) {
			d.warnf(instRange(vi, instBlocks), "Tracked twice",
				"vrrp_instance %q tracks %s %q itself and through vrrp_sync_group %q: the instance's own entry applies, the group's is not added again.", vi.Name, kind, name, g.Name)
		}
		vi.TrackInterfaces = mergeTracked(vi.TrackInterfaces, g.TrackInterfaces, func(t TrackInterface) string { return t.Name }, "track_interface", dup)
		vi.TrackScripts = mergeTracked(vi.TrackScripts, g.TrackScripts, func(t TrackScript) string { return t.Script.Name }, "track_script", dup)
		vi.TrackFiles = mergeTracked(vi.TrackFiles, g.TrackFiles, func(t TrackFile) string { return t.File.Name }, "track_file", dup)
		vi.TrackProcesses = mergeTracked(vi.TrackProcesses, g.TrackProcesses, func(t TrackProcess) string { return t.Process.Name }, "track_process", dup)
	}
}

// mergeTracked appends the group's entries to a member's own, but for
// those the member already tracks by name (reported through dup).
func mergeTracked[T any](own, group []T, name func(T) string, kind string, dup func(kind, name string)) []T {
	for _, x := range group {
		if slices.ContainsFunc(own, func(y T) bool { return name(y) == name(x) }) {
			dup(kind, name(x))
			continue
		}
		own = append(own, x)
	}
	return own
}

// zeroWeights sets every tracking weight of vi to 0 and reports whether
// one was not.
func zeroWeights(vi *VRRPInstance) bool {
	weighted := false
	zero := func(w *int) {
		weighted = weighted || *w != 0
		*w = 0
	}
	for j := range vi.TrackScripts {
		zero(&vi.TrackScripts[j].Weight)
	}
	for j := range vi.TrackInterfaces {
		zero(&vi.TrackInterfaces[j].Weight)
	}
	for j := range vi.TrackFiles {
		zero(&vi.TrackFiles[j].Weight)
	}
	for j := range vi.TrackProcesses {
		zero(&vi.TrackProcesses[j].Weight)
	}
	return weighted
}

// instRange is where vi's block is declared, for messages.
func instRange(vi *VRRPInstance, instBlocks map[string]*hcl.Block) hcl.Range {
	if b := instBlocks[vi.Name]; b != nil {
		return b.DefRange
	}
	return vi.DeclRange
}

// syncGroup decodes one vrrp_sync_group block.
func (d *decoder) syncGroup(b *hcl.Block) (SyncGroup, bool) {
	errs := len(d.diags)
	g := SyncGroup{Name: b.Labels[0], DeclRange: b.DefRange}
	content, diags := b.Body.Content(syncGroupSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	if d.require(b, attrs, "group") {
		elems, _ := d.strList(attrs["group"])
		seen := map[string]hcl.Range{}
		for _, e := range elems {
			if first, ok := seen[e.s]; ok {
				d.errorf(e.rng, "Duplicate group member", "%q is already listed at %s.", e.s, pos(first))
				continue
			}
			seen[e.s] = e.rng
			g.Members = append(g.Members, e.s)
			g.memberRanges = append(g.memberRanges, e.rng)
		}
	}
	g.Notify = d.notify(attrs)
	if a := attrs["sync_group_tracking_weight"]; a != nil {
		if v, ok := d.boolean(a); ok {
			g.TrackingWeight = v
		}
	}
	// The group's track_* blocks decode as an instance's would; the
	// scratch instance carries the group's name into messages.
	g.track = &VRRPInstance{Name: g.Name, DeclRange: b.DefRange}
	d.trackBlocks(content.Blocks, g.track)
	d.trackFileBlocks(content.Blocks, g.track)
	d.trackProcessBlocks(content.Blocks, g.track)
	if a := attrs["notify_stop"]; a != nil {
		d.warnf(a.NameRange, "notify_stop in a sync group",
			"a vrrp_sync_group has no STOP state (as in keepalived, it applies to instances only): this script never runs. Set notify_stop on the member instances.")
	}
	return g, !d.diags[errs:].HasErrors()
}

// Equal reports whether two instances have the same settings, ignoring
// where their blocks (and the vrrp_scripts they track) sit in the file.
func (vi VRRPInstance) Equal(o VRRPInstance) bool {
	strip := func(v VRRPInstance) VRRPInstance {
		v.DeclRange = hcl.Range{}
		ts := make([]TrackScript, len(v.TrackScripts))
		for k, t := range v.TrackScripts {
			t.Script.DeclRange = hcl.Range{}
			ts[k] = t
		}
		v.TrackScripts = ts
		tf := make([]TrackFile, len(v.TrackFiles))
		for k, t := range v.TrackFiles {
			t.File.DeclRange = hcl.Range{}
			tf[k] = t
		}
		v.TrackFiles = tf
		tp := make([]TrackProcess, len(v.TrackProcesses))
		for k, t := range v.TrackProcesses {
			t.Process.DeclRange = hcl.Range{}
			tp[k] = t
		}
		v.TrackProcesses = tp
		return v
	}
	return reflect.DeepEqual(strip(vi), strip(o))
}
