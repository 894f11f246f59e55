package healthcheck

import (
	"errors"
	"slices"
	"testing"
	"time"
)

var errProbe = errors.New("connect: connection refused")

// change is one transition at an offset from the first check.
type change struct {
	at time.Duration
	up bool
}

func TestStateObserve(t *testing.T) {
	const s = time.Second
	seed001 := Policy{Retry: 3, DelayBeforeRetry: 3 * s, DelayLoop: 3 * s}
	tests := []struct {
		name     string
		policy   Policy
		outcomes string // '+' success, '-' failure, one attempt each
		wantNext []time.Duration
		want     []change
	}{
		{
			name:     "healthy stays up at delay_loop pace",
			policy:   seed001,
			outcomes: "+++",
			wantNext: []time.Duration{3 * s, 3 * s, 3 * s},
		},
		{
			// seed 001: listener killed between two checks; the first
			// failed attempt is at 6 s, the removal 9 s later, then the
			// server is re-added by the first success.
			name:     "seed-001: down at first failure + 9s, up at first success",
			policy:   seed001,
			outcomes: "++----" + "--" + "+",
			wantNext: []time.Duration{3 * s, 3 * s, 3 * s, 3 * s, 3 * s, 3 * s, 3 * s, 3 * s, 3 * s},
			want:     []change{{15 * s, false}, {24 * s, true}},
		},
		{
			name:     "success during retries forgives them",
			policy:   seed001,
			outcomes: "---+" + "---" + "-",
			wantNext: []time.Duration{3 * s, 3 * s, 3 * s, 3 * s, 3 * s, 3 * s, 3 * s, 3 * s},
			// failures at 12,15,18 are retries 1..3 again; 21 is the 4th.
			want: []change{{21 * s, false}},
		},
		{
			name:     "retry delay differs from delay_loop",
			policy:   Policy{Retry: 2, DelayBeforeRetry: 1 * s, DelayLoop: 10 * s},
			outcomes: "+---" + "--+",
			wantNext: []time.Duration{10 * s, 1 * s, 1 * s, 10 * s, 10 * s, 10 * s, 10 * s},
			// first failure at 10 s, retries at 11 and 12 s: down at 12 s;
			// down checks at 22, 32 do not retry; up at 42.
			want: []change{{12 * s, false}, {42 * s, true}},
		},
		{
			name:     "retry 0: one failure is down",
			policy:   Policy{Retry: 0, DelayBeforeRetry: 1 * s, DelayLoop: 5 * s},
			outcomes: "-+-",
			wantNext: []time.Duration{5 * s, 5 * s, 5 * s},
			want:     []change{{0, false}, {5 * s, true}, {10 * s, false}},
		},
		{
			name:     "keepalived defaults: retry 1",
			policy:   Policy{Retry: 1, DelayBeforeRetry: 1 * s, DelayLoop: 60 * s},
			outcomes: "--",
			wantNext: []time.Duration{1 * s, 60 * s},
			want:     []change{{1 * s, false}},
		},
		{
			name:     "rise 3: three successes in a row bring it back",
			policy:   Policy{Retry: 0, DelayBeforeRetry: 1 * s, DelayLoop: 2 * s, Rise: 3},
			outcomes: "-++" + "-" + "+++" + "+",
			wantNext: []time.Duration{2 * s, 2 * s, 2 * s, 2 * s, 2 * s, 2 * s, 2 * s, 2 * s},
			// down at 0; 2,4 ok; 6 fails (count restarts); 8,10,12 ok:
			// up at 12.
			want: []change{{0, false}, {12 * s, true}},
		},
		{
			name:     "rise does not delay staying up",
			policy:   Policy{Retry: 1, DelayBeforeRetry: 1 * s, DelayLoop: 2 * s, Rise: 5},
			outcomes: "-+-+",
			wantNext: []time.Duration{1 * s, 2 * s, 1 * s, 2 * s},
		},
		{
			name:     "zero policy gets keepalived defaults, never spins",
			policy:   Policy{},
			outcomes: "-+",
			wantNext: []time.Duration{60 * s, 60 * s},
			want:     []change{{0, false}, {60 * s, true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			st := NewState(tt.policy, t0)
			if !st.Up {
				t.Fatal("new state is not up")
			}
			var gotNext []time.Duration
			var got []change
			now := t0
			for i, o := range tt.outcomes {
				var err error
				if o == '-' {
					err = errProbe
				}
				next, changed := st.Observe(err, now)
				gotNext = append(gotNext, next)
				if changed {
					got = append(got, change{now.Sub(t0), st.Up})
					if !st.Since.Equal(now) {
						t.Errorf("step %d: Since = %v, want %v", i, st.Since, now)
					}
				}
				if !st.LastCheck.Equal(now) {
					t.Errorf("step %d: LastCheck = %v, want %v", i, st.LastCheck, now)
				}
				if (err == nil) != (st.LastErr == "") {
					t.Errorf("step %d: LastErr = %q with err %v", i, st.LastErr, err)
				}
				now = now.Add(next)
			}
			if !slices.Equal(gotNext, tt.wantNext) {
				t.Errorf("next delays = %v, want %v", gotNext, tt.wantNext)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("transitions = %v, want %v", got, tt.want)
			}
			if st.Transitions != len(tt.want) {
				t.Errorf("Transitions = %d, want %d", st.Transitions, len(tt.want))
			}
		})
	}
}

// TestSeed001Window checks the removal and re-add windows measured against
// keepalived (removed 9.7-11.9 s after the listener died, re-added 2.4-3.0 s
// after it came back) hold for any phase of the kill within a delay_loop.
func TestSeed001Window(t *testing.T) {
	p := Policy{Retry: 3, DelayBeforeRetry: 3 * time.Second, DelayLoop: 3 * time.Second}
	t0 := time.Unix(0, 0)
	for phase := time.Duration(0); phase < p.DelayLoop; phase += 100 * time.Millisecond {
		kill := t0.Add(10*time.Second + phase) // service dies
		back := kill.Add(60 * time.Second)     // service returns
		st := NewState(p, t0)
		var down, up time.Time
		for now := t0; up.IsZero(); {
			var err error
			if !now.Before(kill) && now.Before(back) {
				err = errProbe
			}
			next, changed := st.Observe(err, now)
			if changed && !st.Up {
				down = now
			}
			if changed && st.Up {
				up = now
			}
			now = now.Add(next)
		}
		if d := down.Sub(kill); d < 9*time.Second || d >= 12*time.Second {
			t.Errorf("phase %v: removed %v after kill, want [9s,12s)", phase, d)
		}
		if d := up.Sub(back); d < 0 || d >= 3*time.Second {
			t.Errorf("phase %v: re-added %v after return, want [0,3s)", phase, d)
		}
	}
}
