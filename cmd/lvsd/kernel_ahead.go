package main

import (
	"os"
	"sync"

	"github.com/lvsd/lvsd/ipvs"
)

// kernelAhead opens the IPVS table while the configuration is still being
// parsed. Opening it runs moby/ipvs's `modprobe -va ip_vs`, a fork and exec
// that took 0.3 to 1 s of a director's start in the VM (software
// emulation), where lvsd had to beat keepalived programming 1k services.
//
// It only starts when the ip_vs module is loaded already, so the open
// has no effect on the system: a director whose file turns out to have no
// virtual_server (VRRP only) does not load IPVS because of it.
type kernelAhead struct {
	mu    sync.Mutex
	done  chan struct{}
	k     *ipvs.Netlink
	err   error
	taken bool
}

// startKernelAhead starts the open, or returns nil when ip_vs is not
// loaded (or /sys is not there to tell).
func startKernelAhead(sysModule string) *kernelAhead {
	if _, err := os.Stat(sysModule); err != nil {
		return nil
	}
	a := &kernelAhead{done: make(chan struct{})}
	go func() {
		defer close(a.done)
		a.k, a.err = ipvs.NewKernel()
	}()
	return a
}

// open hands over the handle opened ahead the first time; later calls
// (after an error, say) open a new one.
func (a *kernelAhead) open() (ipvs.Kernel, error) {
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.taken {
		return ipvs.NewKernel()
	}
	a.taken = true
	if a.err != nil {
		return nil, a.err
	}
	return a.k, nil
}

// close releases the handle if nobody took it.
func (a *kernelAhead) close() {
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.taken && a.k != nil {
		_ = a.k.Close()
	}
	a.taken = true
}
