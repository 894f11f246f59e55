package main

import (
	"fmt"
	"os"
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
