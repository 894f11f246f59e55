package main

import (
	"testing"
	"time"
)

func TestShouldTrim(t *testing.T) {
	const mb = 1 << 20
	t0 := time.Unix(1000, 0)
	for _, c := range []struct {
		name             string
		free, held, live uint64
		want             bool
	}{
		{"empty", 0, 0, 0, false},
		{"little free", trimMin, trimMin, 0, false},
		{"burst on a small heap", trimMin + 1, trimMin + 1, 0, true},
		{"steady, GOGC headroom", 40 * mb, 290 * mb, 200 * mb, false},
		{"free after a burst", 60 * mb, 260 * mb, 200 * mb, true},
		{"after a start at 10k", 150 * mb, 200 * mb, 50 * mb, true},
		{"dead objects not swept yet", 0, 140 * mb, 55 * mb, true},
		{"steady at 1.5x live", 0, 82 * mb, 55 * mb, false},
	} {
		var h heapState
		if got := h.shouldTrim(heapSample{at: t0, free: c.free, held: c.held, live: c.live}); got != c.want {
			t.Errorf("%s: shouldTrim = %v, want %v", c.name, got, c.want)
		}
	}

	// A burst that ends before the next collection: forced once quiet.
	var h heapState
	s := heapSample{at: t0, held: 80 * mb, live: 55 * mb, cycles: 10, allocs: 1000 * mb}
	if h.shouldTrim(s) {
		t.Fatal("trimmed at the first look")
	}
	s.allocs += 20 * mb // the burst's tail, no collection since
	for _, dt := range []time.Duration{2 * time.Second, 4 * time.Second} {
		s.at = t0.Add(dt)
		if h.shouldTrim(s) {
			t.Fatalf("trimmed %s after the last collection", dt)
		}
	}
	s.at = t0.Add(trimQuiet)
	if !h.shouldTrim(s) {
		t.Fatal("not trimmed after a quiet burst")
	}

	// Steady: collections keep running, however much is allocated.
	h = heapState{}
	s = heapSample{at: t0, held: 80 * mb, live: 55 * mb, cycles: 10, allocs: 1000 * mb}
	for i := range 20 {
		s.at = s.at.Add(2 * time.Second)
		s.allocs += 20 * mb
		if i%2 == 0 {
			s.cycles++
		}
		if h.shouldTrim(s) {
			t.Fatalf("trimmed in a steady state at step %d", i)
		}
	}
	// An idle daemon that allocates almost nothing: never forced.
	h = heapState{}
	s = heapSample{at: t0, held: 80 * mb, live: 55 * mb, cycles: 10, allocs: 1000 * mb}
	for range 20 {
		s.at = s.at.Add(2 * time.Second)
		s.allocs += 100 << 10
		if h.shouldTrim(s) {
			t.Fatal("trimmed an idle daemon")
		}
	}
}
