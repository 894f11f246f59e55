package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/integration/benchtable"
	"github.com/lvsd/lvsd/ipvs"
)

// BenchmarkDirectorReload measures, on the host, what the VM benchmark's
// one-weight reload costs lvsd itself: the file read and parsed through
// the daemon's cache, the reload planned and the one op applied to an
// in-memory kernel (leanKernel, mem_test.go). Each iteration flips one
// weight; writing the file is not timed. LVSD_BENCH_RELOAD_N sets the
// table size (default 10,000 services x 10).
func BenchmarkDirectorReload(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("LVSD_BENCH_RELOAD_N")); err == nil && v > 0 {
		n = v
	}
	tab := benchtable.Table{Services: n, Dests: 10}
	file := filepath.Join(b.TempDir(), "lvsd.hcl")
	// The two versions of the file are made once: generating them in
	// the loop made more garbage than the reloads, and so more
	// collections.
	var versions [2][]byte
	for i := range versions {
		var buf bytes.Buffer
		w := benchtable.Weights{}
		if i == 1 {
			w[[2]int{n / 2, 3}] = 5
		}
		if err := tab.WriteHCL(&buf, w); err != nil {
			b.Fatal(err)
		}
		versions[i] = buf.Bytes()
	}
	write := func(i int) {
		if err := os.WriteFile(file, versions[i], 0o644); err != nil {
			b.Fatal(err)
		}
	}
	write(0)
	// As the daemon runs (memory.go): its GOGC decides how often a
	// reload's garbage costs a collection of the whole heap.
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	tuneGC()
	cache := &conf.Cache{}
	l, _, text, err := loadFor(modeDirector, file, cache)
	if err != nil {
		b.Fatalf("%v\n%s", err, text)
	}
	k := &leanKernel{table: map[ipvs.Key]*ipvs.Service{}}
	d := newDirector(l.cfg, &daemonOptions{resync: time.Hour}, slog.New(slog.DiscardHandler))
	d.newKernel = func() (ipvs.Kernel, error) { return k, nil }
	if err := d.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer d.Stop()
	waitOps := func(want int64) {
		deadline := time.Now().Add(5 * time.Minute)
		for k.ops.Load() < want {
			if time.Now().After(deadline) {
				b.Fatalf("%d ops applied, want %d", k.ops.Load(), want)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	waitOps(int64(tab.Entries()))
	for d.rec.SyncStatus().Synced.IsZero() {
		time.Sleep(time.Millisecond)
	}
	runtime.GC()
	// LVSD_BENCH_RELOAD_PROFILE=FILE: a CPU profile of the reloads alone
	// (-cpuprofile would mostly show the setup's first parse).
	if out := os.Getenv("LVSD_BENCH_RELOAD_PROFILE"); out != "" {
		f, err := os.Create(out)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
		// And what the reloads allocated: pprof -base FILE.allocs0 FILE.allocs
		writeAllocs := func(name string) {
			f, err := os.Create(name)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				b.Fatal(err)
			}
		}
		writeAllocs(out + ".allocs0")
		defer writeAllocs(out + ".allocs")
	}
	var buf fileBuffer // as daemon.reload reads
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		write(1 - i%2)
		want := k.ops.Load() + 1
		b.StartTimer()
		l, _, text, err := loadInto(modeDirector, file, cache, &buf)
		if err != nil {
			b.Fatalf("%v\n%s", err, text)
		}
		if _, err := d.Reload(l.cfg); err != nil {
			b.Fatal(err)
		}
		waitOps(want)
	}
}
