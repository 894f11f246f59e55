package main

import "testing"

func TestShouldTrim(t *testing.T) {
	for _, c := range []struct {
		free, live uint64
		want       bool
	}{
		{0, 0, false},
		{trimMin, 0, false},          // not worth a collection
		{trimMin + 1, 0, true},       // a burst on an empty heap
		{40 << 20, 200 << 20, false}, // headroom GOGC leaves anyway
		{60 << 20, 200 << 20, true},
		{300 << 20, 50 << 20, true}, // after a start at 10k services
	} {
		if got := shouldTrim(c.free, c.live); got != c.want {
			t.Errorf("shouldTrim(%d, %d) = %v, want %v", c.free, c.live, got, c.want)
		}
	}
}
