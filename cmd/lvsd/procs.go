package main

import (
	"os"
	"runtime"
	"sync"
)

// procs runs the daemon on one P (GOMAXPROCS 1) in steady state and on all
// of them during bursts: the start and each reload. A director's steady work
// is a few event loops (the tcp_check loop, VRRP, the reconciler's timer),
// each one goroutine; with a second P idle, every wake-up of one of them
// also woke a spinning thread looking for work to steal, which cost lvsd
// 11-21% more CPU per health check than keepalived in the VM benchmark
// against parity on one P. Bursts parse in parallel (parseInPieces sizes
// its workers by GOMAXPROCS) and let the collector mark beside the sync.
// A GOMAXPROCS in the environment wins: procs then changes nothing.
type procs struct {
	mu      sync.Mutex
	all     int
	manage  bool
	bursts  int
	setProc func(int) int // runtime.GOMAXPROCS (tests replace it)
}

func newProcs() *procs {
	return &procs{all: runtime.GOMAXPROCS(0), manage: os.Getenv("GOMAXPROCS") == "", setProc: runtime.GOMAXPROCS}
}

// burst gives the daemon every P until end is called; bursts nest.
func (p *procs) burst() (end func()) {
	if p == nil || !p.manage || p.all <= 1 {
		return func() {}
	}
	p.mu.Lock()
	p.bursts++
	if p.bursts == 1 {
		p.setProc(p.all)
	}
	p.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			p.bursts--
			if p.bursts == 0 {
				p.setProc(1)
			}
			p.mu.Unlock()
		})
	}
}
