package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfile writes a CPU profile of the whole run to the file named by
// LVSD_CPUPROFILE, if set: how the IPVS benchmark finds where a from-empty
// sync spends its time. The profile is complete once the process exits
// normally (SIGTERM), not when it is killed.
func startProfile() (stop func()) {
	path := os.Getenv("LVSD_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lvsd: LVSD_CPUPROFILE: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "lvsd: LVSD_CPUPROFILE: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
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
