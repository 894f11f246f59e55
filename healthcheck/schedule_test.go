package healthcheck

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// maxPerBin is the largest number of times falling in one bin of width w.
func maxPerBin(times []time.Time, w time.Duration) int {
	bins := map[int64]int{}
	best := 0
	for _, t := range times {
		b := t.UnixNano() / int64(w)
		bins[b]++
		best = max(best, bins[b])
	}
	return best
}

// TestSpreadEveryInterval: N probes with the same delay_loop that start
// together (warmup = 0) drift apart thanks to the jitter on every
// interval, while without it they would fire together forever. Fake clock,
// seeded randomness: exact and repeatable.
func TestSpreadEveryInterval(t *testing.T) {
	for _, tc := range []struct {
		n      int
		delay  time.Duration
		cycles int
		spread bool
		// at most this many of the n probes in one delay_loop/20 window
		// during the last cycle.
		wantMax int
	}{
		{100, 3 * time.Second, 20, false, 100}, // the herd: all together
		{100, 3 * time.Second, 20, true, 25},
		{500, time.Second, 40, true, 80},
		{50, 60 * time.Second, 10, true, 20},
	} {
		t.Run(fmt.Sprintf("n=%d/delay=%v/cycles=%d/spread=%v", tc.n, tc.delay, tc.cycles, tc.spread), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.n)))
			var mu sync.Mutex
			fired := map[netip.AddrPort][]time.Time{}
			h := newHarness(t, nil, 0)
			h.m.newChecker = func(c conf.Check) Checker {
				return checkFunc(func(context.Context) error {
					mu.Lock()
					fired[c.Target] = append(fired[c.Target], h.clk.Now())
					mu.Unlock()
					return nil
				})
			}
			h.m.spread = noSpread
			if tc.spread {
				h.m.spread = func(d time.Duration) time.Duration {
					w := d / spreadFraction
					return d - w + time.Duration(rng.Int64N(int64(2*w+1)))
				}
			}
			var rss []conf.RealServer
			for i := range tc.n {
				addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i % 250)}), uint16(1000+i))
				rss = append(rss, rs(addr.String(), &conf.Check{DelayLoop: tc.delay, Warmup: -1}))
			}
			h.m.Set([]conf.VirtualServer{{Name: "vs", RealServers: rss}})
			h.run(tc.n)
			h.clk.Advance(time.Duration(tc.cycles) * tc.delay)
			h.stop()
			var last []time.Time
			mu.Lock()
			for addr, ts := range fired {
				if len(ts) < tc.cycles*9/10 {
					t.Fatalf("%v checked %d times in %d cycles", addr, len(ts), tc.cycles)
				}
				last = append(last, ts[tc.cycles*9/10-1])
				// The mean interval stays delay_loop (within 5%).
				mean := ts[len(ts)-1].Sub(ts[0]) / time.Duration(len(ts)-1)
				if mean < tc.delay*95/100 || mean > tc.delay*105/100 {
					t.Errorf("%v: mean interval %v", addr, mean)
				}
			}
			mu.Unlock()
			got := maxPerBin(last, tc.delay/20)
			t.Logf("%d probes, cycle %d: at most %d in one %v window", tc.n, tc.cycles*9/10, got, tc.delay/20)
			if got > tc.wantMax {
				t.Errorf("%d probes in one window, want at most %d", got, tc.wantMax)
			}
			if !tc.spread && got != tc.n {
				t.Errorf("without spread %d of %d together", got, tc.n)
			}
		})
	}
	for range 1000 {
		d := defaultSpread(3 * time.Second)
		if d < 2850*time.Millisecond || d > 3150*time.Millisecond {
			t.Fatalf("defaultSpread(3s) = %v", d)
		}
	}
}

func TestWarmup(t *testing.T) {
	for _, tc := range []struct {
		warmup, delay, wantBound time.Duration
	}{
		{0, 7 * time.Second, 7 * time.Second}, // unset: the delay_loop
		{-1, 7 * time.Second, 0},              // warmup = 0: at once
		{30 * time.Second, 7 * time.Second, 30 * time.Second},
	} {
		h := newHarness(t, func(conf.Check) Checker { return checkFunc(func(context.Context) error { return nil }) }, 0)
		var got []time.Duration
		h.m.jitter = func(d time.Duration) time.Duration { got = append(got, d); return d / 2 }
		h.m.Set([]conf.VirtualServer{{Name: "vs", RealServers: []conf.RealServer{
			rs("192.0.2.1:80", &conf.Check{DelayLoop: tc.delay, Warmup: tc.warmup}),
		}}})
		h.run(1)
		if !slices.Equal(got, []time.Duration{tc.wantBound}) || !slices.Equal(h.clk.Delays(), []time.Duration{tc.wantBound / 2}) {
			t.Errorf("warmup %v: jitter bound %v, first timer %v", tc.warmup, got, h.clk.Delays())
		}
		h.stop()
	}
}

// weightChecker reports scripted (weight, err) pairs.
type weightChecker struct {
	mu    sync.Mutex
	steps []struct {
		w   int
		err error
	}
}

func (w *weightChecker) Check(ctx context.Context) error { _, err := w.CheckWeight(ctx); return err }
func (w *weightChecker) CheckWeight(context.Context) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.steps[0]
	if len(w.steps) > 1 {
		w.steps = w.steps[1:]
	}
	return s.w, s.err
}

func TestManagerDynamicWeight(t *testing.T) {
	wc := &weightChecker{}
	add := func(w int, err error) {
		wc.steps = append(wc.steps, struct {
			w   int
			err error
		}{w, err})
	}
	// Exit 2+w -> w; exit 0 -> configured; exit 1 -> down, weight kept.
	add(5, nil)
	add(-1, nil)
	add(40, nil)
	add(-1, fmt.Errorf("exit status 1"))
	add(40, nil)
	h := newHarness(t, func(conf.Check) Checker { return wc }, 0)
	h.m.Set([]conf.VirtualServer{{Name: "vs", RealServers: []conf.RealServer{
		rs("192.0.2.1:80", &conf.Check{Kind: conf.CheckMisc, DelayLoop: time.Second}),
	}}})
	if _, ok := h.m.Weight("vs", "192.0.2.1:80"); ok {
		t.Error("weight before the first check")
	}
	h.run(1)
	type wv struct {
		w  int
		ok bool
		up bool
	}
	var got []wv
	for range 5 {
		h.clk.Advance(time.Second)
		w, ok := h.m.Weight("vs", "192.0.2.1:80")
		got = append(got, wv{w, ok, h.m.Up("vs", "192.0.2.1:80")})
	}
	// Advance(1s) from t0 fires the check at 0 and 1 s: the first read
	// sees the second step.
	want := []wv{{0, false, true}, {40, true, true}, {40, true, false}, {40, true, true}, {40, true, true}}
	if !slices.Equal(got, want) {
		t.Errorf("weights %v\nwant    %v", got, want)
	}
	trs := h.transitions(5)
	var kinds []string
	for _, tr := range trs {
		kinds = append(kinds, fmt.Sprintf("%v/%v", tr.Up, tr.WeightOnly))
	}
	if strings.Join(kinds, " ") != "true/true true/true true/true false/false true/false" {
		t.Errorf("transitions %v", kinds)
	}
	st := h.m.Status()[0]
	if st.Weight == nil || *st.Weight != 40 || st.Transitions != 2 || len(st.History) != 2 || st.History[0].Up || !st.History[1].Up {
		t.Errorf("status weight %v transitions %d history %+v", st.Weight, st.Transitions, st.History)
	}
}

func TestMiscDynamicExitCodes(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		code    int
		dynamic bool
		weight  int
		up      bool
	}{
		{0, true, -1, true}, {1, true, -1, false}, {2, true, 0, true}, {7, true, 5, true}, {255, true, 253, true},
		{0, false, -1, true}, {2, false, -1, false}, {7, false, -1, false},
	} {
		p := filepath.Join(dir, fmt.Sprintf("exit%d", tc.code))
		if err := os.WriteFile(p, fmt.Appendf(nil, "#!/bin/sh\nexit %d\n", tc.code), 0o755); err != nil {
			t.Fatal(err)
		}
		m := &MiscChecker{Argv: []string{p}, Timeout: 5 * time.Second, Dynamic: tc.dynamic}
		w, err := m.CheckWeight(context.Background())
		if w != tc.weight || (err == nil) != tc.up {
			t.Errorf("exit %d dynamic %v: weight %d err %v, want %d up %v", tc.code, tc.dynamic, w, err, tc.weight, tc.up)
		}
	}
}

// TestNotifyScripts: notify_up / notify_down run with their arguments, one
// at a time in transition order (never concurrently), each killed at its
// timeout without holding the next.
func TestNotifyScripts(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	script := filepath.Join(dir, "notify")
	// Each run appends "start ARGS", sleeps, appends "end ARGS"; with "hang"
	// it sleeps past the timeout. A lock file shows overlap.
	body := `#!/bin/sh
if [ -e ` + dir + `/running ]; then echo OVERLAP >> ` + log + `; fi
touch ` + dir + `/running
echo "start $*" >> ` + log + `
if [ "$1" = hang ]; then sleep 30; fi
sleep 0.05
echo "end $*" >> ` + log + `
rm -f ` + dir + `/running
`
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	ups := map[string]bool{"192.0.2.1:80": true, "192.0.2.2:80": true}
	trs := make(chan Transition, 100)
	m := NewManager(nil, func(tr Transition) { trs <- tr }, WithJitter(func(time.Duration) time.Duration { return 0 }),
		// Long enough for a shell start and a 50 ms sleep on a loaded
		// machine (500 ms killed the non-hanging runs at load 12); the
		// hanging one sleeps 30 s, far past it.
		WithNotifyTimeout(3*time.Second),
		WithCheckerFunc(func(c conf.Check) Checker {
			return checkFunc(func(context.Context) error {
				mu.Lock()
				defer mu.Unlock()
				if ups[c.Target.String()] {
					return nil
				}
				return fmt.Errorf("down")
			})
		}))
	mk := func(addr string, up, down []string) conf.RealServer {
		r := rs(addr, &conf.Check{DelayLoop: 20 * time.Millisecond, Retry: 0, DelayBeforeRetry: time.Millisecond})
		if up != nil || down != nil {
			r.Notify = &conf.RSNotify{Up: up, Down: down}
		}
		return r
	}
	m.Set([]conf.VirtualServer{{Name: "vs", RealServers: []conf.RealServer{
		mk("192.0.2.1:80", []string{script, "up", "a b"}, []string{script, "hang", "one"}),
		mk("192.0.2.2:80", []string{script, "up", "two"}, []string{script, "down", "two"}),
	}}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	set := func(addr string, up bool) {
		mu.Lock()
		ups[addr] = up
		mu.Unlock()
		select {
		case <-trs:
		case <-time.After(10 * time.Second):
			t.Fatalf("no transition for %s", addr)
		}
	}
	set("192.0.2.1:80", false) // notify_down hang one: killed at 3 s
	set("192.0.2.2:80", false) // queued behind it
	set("192.0.2.2:80", true)
	set("192.0.2.1:80", true)
	want := "start hang one\nstart down two\nend down two\nstart up two\nend up two\nstart up a b\nend up a b\n"
	deadline := time.Now().Add(15 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(log)
		if got = string(b); strings.Contains(got, "end up a b") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	// The hung script was killed before it could write "end", and its
	// lock file stays: the next run sees it, so remove it from the
	// comparison (OVERLAP after a kill is not an overlap).
	got = strings.ReplaceAll(got, "OVERLAP\n", "")
	if got != want {
		t.Errorf("notify log:\n%s\nwant:\n%s", got, want)
	}
}
