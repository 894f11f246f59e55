package main

import "testing"

func TestShouldTrim(t *testing.T) {
	const mb = 1 << 20
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
		if got := shouldTrim(c.free, c.held, c.live); got != c.want {
			t.Errorf("%s: shouldTrim(%d, %d, %d) = %v, want %v", c.name, c.free, c.held, c.live, got, c.want)
		}
	}
}
