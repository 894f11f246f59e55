package vrrp

// Tracking (keepalived's track_interface, vrrp_script + track_script): pure
// functions from the states of the tracked objects to the effective
// priority, and the rise/fall counter of a script.

// Tracked-object kinds, as shown in the status.
const (
	KindInterface = "interface"
	KindScript    = "script"
	KindGroup     = "sync_group" // a sync group member in fault
	KindFile      = "file"       // a vrrp_track_file (trackfile.go)
	KindProcess   = "process"    // a vrrp_track_process (trackproc.go)
)

// Tracked is one tracked object and its current state.
type Tracked struct {
	Kind string `json:"kind"` // KindInterface, KindScript, KindGroup
	Name string `json:"name"`
	// Weight 0: a failure puts the instance in FAULT. > 0: added to the
	// priority while the object is up. < 0: added (so subtracted) while it
	// is down.
	Weight int  `json:"weight"`
	Up     bool `json:"up"`
	// A file (KindFile) counts by its integer Value instead: see
	// FileContribution. Up is then false while it puts the instance in
	// FAULT. Path is the file's path; Value absent from JSON means 0. For a
	// process (KindProcess) Up is its quorum and Value the number of
	// matching processes. Reverse (files, processes) negates the weight;
	// with weight 0 it makes up the FAULT state.
	Value   int64  `json:"value,omitempty"`
	Reverse bool   `json:"reverse,omitempty"`
	Path    string `json:"path,omitempty"`
}

// contribution is what one object adds to the priority now, or fault.
func (o Tracked) contribution() (delta int, fault bool) {
	switch {
	case o.Kind == KindFile:
		return FileContribution(o.Value, o.Weight, o.Reverse)
	case o.Weight == 0:
		return 0, o.Up == o.Reverse
	case (o.Weight > 0) == o.Up:
		// keepalived's track_process with reverse: the weight applies
		// under the same condition, negated.
		if o.Reverse {
			return -o.Weight, false
		}
		return o.Weight, false
	}
	return 0, false
}

// fileFault is keepalived's track_file status meaning FAULT: value x
// weight at or below it puts the instance in FAULT.
const fileFault = -254

// FileContribution is keepalived's track_file rule (trackers/track_file.c
// of 2.2.7): with weight 0 a non-zero value means FAULT (reverse: a zero
// value does); otherwise the priority moves by value x weight, negated by
// reverse, capped at +253, and a result at or below -254 means FAULT.
func FileContribution(value int64, weight int, reverse bool) (delta int, fault bool) {
	if weight == 0 {
		return 0, (value != 0) != reverse
	}
	// |value| <= 2^31 and |weight| <= 254: the product fits in an int64.
	s := value * int64(weight)
	if reverse {
		s = -s
	}
	if s <= fileFault {
		return 0, true
	}
	return int(min(s, 253)), false
}

// Effective is keepalived's effective priority: base plus the weights that
// apply (positive ones of objects up, negative ones of objects down),
// clamped to 1-254 so that tracking never makes a router the address owner
// nor turns its adverts into priority 0 (leaving). An object of weight 0
// that is down means FAULT. The address owner (255) keeps 255: tracking
// cannot change its priority (keepalived ignores its weights; conf turns them
// into 0 with a warning).
func Effective(base uint8, objs []Tracked) (prio uint8, fault bool) {
	sum := int(base)
	for _, o := range objs {
		d, f := o.contribution()
		sum += d
		fault = fault || f
	}
	if base == 255 {
		return 255, fault
	}
	return uint8(min(max(sum, 1), 254)), fault
}

// ScriptState is the rise/fall verdict of a vrrp_script: Fall failures in a
// row fail an OK script, Rise successes in a row bring a failed one back.
type ScriptState struct {
	Rise, Fall int
	OK         bool
	run        int // consecutive results against OK
}

// NewScriptState starts OK, or failed with init_fail (keepalived).
func NewScriptState(rise, fall int, initFail bool) ScriptState {
	return ScriptState{Rise: max(rise, 1), Fall: max(fall, 1), OK: !initFail}
}

// Observe records one run (ok = exit status 0) and reports whether OK
// changed.
func (s *ScriptState) Observe(ok bool) bool {
	if ok == s.OK {
		s.run = 0
		return false
	}
	s.run++
	need := s.Fall
	if ok {
		need = s.Rise
	}
	if s.run < need {
		return false
	}
	s.OK, s.run = ok, 0
	return true
}
