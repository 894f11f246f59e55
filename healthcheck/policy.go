package healthcheck

import "time"

// keepalived's defaults, used when a zero value reaches the policy (conf
// normally cascades them already); a zero delay would make a probe spin.
const (
	defaultDelayLoop        = 60 * time.Second
	defaultDelayBeforeRetry = 1 * time.Second
	defaultConnectTimeout   = 5 * time.Second
)

// Policy is the retry policy of one checker, keepalived's vocabulary.
type Policy struct {
	// Retry is the number of retries after a failed attempt before the
	// server is declared down (keepalived's retry / nb_get_retry).
	Retry int
	// DelayBeforeRetry separates a failed attempt from its retry.
	DelayBeforeRetry time.Duration
	// DelayLoop separates regular checks.
	DelayLoop time.Duration
	// Rise is the number of consecutive successful checks (delay_loop
	// apart) that bring a down server back; <= 1 is keepalived's one.
	Rise int
}

// withDefaults replaces unusable zero or negative values by keepalived's
// defaults.
func (p Policy) withDefaults() Policy {
	if p.Retry < 0 {
		p.Retry = 0
	}
	if p.Rise < 1 {
		p.Rise = 1
	}
	if p.DelayLoop <= 0 {
		p.DelayLoop = defaultDelayLoop
	}
	if p.DelayBeforeRetry <= 0 {
		p.DelayBeforeRetry = defaultDelayBeforeRetry
	}
	return p
}

// State is the health of one real server as seen by one checker. It is a
// plain value: the caller feeds it the outcome of each attempt and the time,
// and it answers when to check next. It is not safe for concurrent use.
type State struct {
	Policy Policy

	// Up is the current verdict.
	Up bool
	// Since is when Up last changed (or when the state was created).
	Since time.Time
	// Transitions counts changes of Up.
	Transitions int
	// LastCheck is when the last attempt finished (zero before the first).
	LastCheck time.Time
	// LastErr is the error of the last attempt, "" if it succeeded.
	LastErr string

	// retries made since the last success while up.
	retries int
	// successes in a row while down (toward Rise).
	successes int
}

// NewState returns the state of a real server that has not been checked yet:
// up, as keepalived assumes without `alpha`.
func NewState(p Policy, now time.Time) State {
	return State{Policy: p.withDefaults(), Up: true, Since: now}
}

// Observe records the outcome of one attempt finished at now (err == nil is a
// success). It returns the delay until the next attempt and whether Up
// changed.
func (s *State) Observe(err error, now time.Time) (next time.Duration, changed bool) {
	p := s.Policy.withDefaults()
	s.LastCheck = now
	s.LastErr = ""
	if err != nil {
		s.LastErr = err.Error()
	}

	switch {
	case err == nil:
		// By default one success is enough to come back (keepalived has
		// no "rise" for TCP_CHECK), and it forgives any retries in
		// progress.
		s.retries = 0
		if !s.Up {
			s.successes++
			if s.successes >= p.Rise {
				s.successes = 0
				s.set(true, now)
				changed = true
			}
		}
		return p.DelayLoop, changed
	case !s.Up:
		// Already down: keep checking at the regular pace; retrying
		// quickly would not change the verdict. A failure restarts the
		// count toward Rise.
		s.successes = 0
		return p.DelayLoop, false
	case s.retries < p.Retry:
		s.retries++
		return p.DelayBeforeRetry, false
	default:
		// retry+1 consecutive failed attempts.
		s.retries = 0
		s.set(false, now)
		return p.DelayLoop, true
	}
}

// Retries is the number of retries made since the last success.
func (s *State) Retries() int { return s.retries }

func (s *State) set(up bool, now time.Time) {
	s.Up = up
	s.Since = now
	s.Transitions++
}
