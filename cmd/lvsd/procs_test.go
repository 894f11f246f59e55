package main

import (
	"slices"
	"testing"
)

func TestProcsBursts(t *testing.T) {
	var set []int
	p := &procs{all: 4, manage: true, setProc: func(n int) int { set = append(set, n); return 0 }}
	start := p.burst()
	reload := p.burst() // a reload during the start's burst
	start()
	start() // twice: counted once
	if !slices.Equal(set, []int{4}) {
		t.Fatalf("set %v while a burst runs, want [4]", set)
	}
	reload()
	p.burst()()
	if !slices.Equal(set, []int{4, 1, 4, 1}) {
		t.Errorf("set %v, want [4 1 4 1]", set)
	}
	for _, q := range []*procs{{all: 4, manage: false}, {all: 1, manage: true}} {
		q.setProc = func(int) int { t.Errorf("procs %+v changed GOMAXPROCS", q); return 0 }
		q.burst()()
	}
}
