package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
)

// startProfile writes a CPU profile of the whole run to the file named by
// LVSD_CPUPROFILE, if set: how the IPVS benchmark finds where a from-empty
// sync spends its time. With LVSD_CPUPROFILE_FROM=reload it starts at the
// first reload instead (profileReload), so that a reload's few hundred
// milliseconds are not lost in the start's seconds. The profile is complete
// once the process exits normally (SIGTERM), not when it is killed.
func startProfile() (stop func()) {
	path := os.Getenv("LVSD_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	start := func() {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "lvsd: LVSD_CPUPROFILE: %v\n", err)
			return
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "lvsd: LVSD_CPUPROFILE: %v\n", err)
			f.Close()
			return
		}
		profiling.f = f
	}
	if os.Getenv("LVSD_CPUPROFILE_FROM") == "reload" {
		profiling.start = start
	} else {
		start()
	}
	return func() {
		profiling.mu.Lock()
		defer profiling.mu.Unlock()
		profiling.start = nil
		if profiling.f != nil {
			pprof.StopCPUProfile()
			profiling.f.Close()
			profiling.f = nil
		}
	}
}

// profiling is the CPU profile startProfile manages.
var profiling struct {
	mu    sync.Mutex
	start func() // set while a profile waits for the first reload
	f     *os.File
}

// profileReload starts the profile that waits for the first reload.
func profileReload() {
	profiling.mu.Lock()
	defer profiling.mu.Unlock()
	if profiling.start != nil {
		profiling.start()
		profiling.start = nil
	}
}

// writeMemProfile writes a heap profile to the file named by
// LVSD_MEMPROFILE, if set. The daemon calls it on SIGTERM before stopping,
// so the profile's inuse figures are the steady state of a running
// director (after a GC, so they are current) and its alloc figures count
// everything the start and any reloads allocated: how the IPVS benchmark
// finds where lvsd's memory goes.
func writeMemProfile() {
	path := os.Getenv("LVSD_MEMPROFILE")
	if path == "" {
		return
	}
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lvsd: LVSD_MEMPROFILE: %v\n", err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		fmt.Fprintf(os.Stderr, "lvsd: LVSD_MEMPROFILE: %v\n", err)
	}
}
