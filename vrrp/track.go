package vrrp

// Tracking (keepalived's track_interface, vrrp_script + track_script): pure
// functions from the states of the tracked objects to the effective
// priority, and the rise/fall counter of a script.

// Tracked-object kinds, as shown in the status.
const (
	KindInterface = "interface"
	KindScript    = "script"
	KindGroup     = "sync_group" // a sync group member in fault
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
		switch {
		case o.Weight == 0 && !o.Up:
			fault = true
		case o.Weight > 0 && o.Up, o.Weight < 0 && !o.Up:
			sum += o.Weight
		}
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
