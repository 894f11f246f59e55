package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/integration/benchtable"
	"github.com/lvsd/lvsd/ipvs"
)

// leanKernel is an in-memory IPVS table for the memory test: it keeps the
// table the way the kernel would (outside lvsd's reach, so its size is
// reported apart) and counts the ops, nothing more.
type leanKernel struct {
	mu    sync.Mutex
	table map[ipvs.Key]*ipvs.Service
	ops   atomic.Int64
}

func (k *leanKernel) Dump() ([]ipvs.Service, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]ipvs.Service, 0, len(k.table))
	for _, s := range k.table {
		c := *s
		c.Dests = append([]ipvs.Dest(nil), s.Dests...)
		out = append(out, c)
	}
	// The reconciler sorts what it needs; Netlink.Dump returns a sorted
	// table, so does this.
	slices.SortFunc(out, func(a, b ipvs.Service) int {
		if c := strings.Compare(a.Protocol, b.Protocol); c != 0 {
			return c
		}
		if c := a.Addr.Compare(b.Addr); c != 0 {
			return c
		}
		return cmp.Compare(a.FWMark, b.FWMark)
	})
	return out, nil
}

func (k *leanKernel) Apply(o ipvs.Op) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.ops.Add(1)
	switch o.Kind {
	case ipvs.AddService:
		s := o.Service
		s.Dests = nil
		k.table[s.Key] = &s
	case ipvs.AddDest:
		s := k.table[o.Service.Key]
		s.Dests = append(s.Dests, o.Dest)
	case ipvs.UpdateDest:
		s := k.table[o.Service.Key]
		for i := range s.Dests {
			if s.Dests[i].Addr == o.Dest.Addr {
				s.Dests[i] = o.Dest
			}
		}
	default:
		return fmt.Errorf("leanKernel: %s not modelled", o.Kind)
	}
	return nil
}

// heapPeak samples the Go heap every millisecond: the largest live-object
// total seen and the largest heap the runtime held from the OS (objects,
// free and unswept spans; what RSS follows).
type heapPeak struct {
	objects, mapped atomic.Uint64
	// live is the largest heap found live by a GC, and prof the heap
	// profile taken just after that GC: what was live at the peak.
	mu   sync.Mutex
	live uint64
	prof []byte
	stop chan struct{}
	done sync.WaitGroup
}

func startHeapPeak() *heapPeak {
	p := &heapPeak{stop: make(chan struct{})}
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(samples)
			obj := samples[0].Value.Uint64()
			mapped := samples[1].Value.Uint64() - samples[2].Value.Uint64()
			if obj > p.objects.Load() {
				p.objects.Store(obj)
			}
			if mapped > p.mapped.Load() {
				p.mapped.Store(mapped)
			}
			if live := samples[3].Value.Uint64(); live > 0 {
				p.mu.Lock()
				if live > p.live+p.live/20 {
					var b bytes.Buffer
					_ = pprof.Lookup("heap").WriteTo(&b, 0)
					p.live, p.prof = live, b.Bytes()
				}
				p.mu.Unlock()
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *heapPeak) reset() {
	p.objects.Store(0)
	p.mapped.Store(0)
	p.mu.Lock()
	p.live, p.prof = 0, nil
	p.mu.Unlock()
}

func (p *heapPeak) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("peak objects %.1f MB (live at a GC %.1f MB), peak mapped %.1f MB", mb(p.objects.Load()), mb(p.live), mb(p.mapped.Load()))
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

func procKB(field string) int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb
		}
	}
	return -1
}

// TestDirectorMemory reproduces on the host the memory side of the IPVS
// benchmark: lvsd director parses a file of N services x 10 real servers
// (LVSD_MEMTEST=N; skipped otherwise), programs them into an empty table
// (an in-memory kernel stands in for netlink, so the moby/ipvs dump is not
// part of it) and reloads one changed weight. It logs the Go heap's peaks
// and the process's VmHWM/VmRSS at each step, and writes heap profiles to
// LVSD_MEMTEST_PROFILE (a directory), if set. Nothing is asserted on the
// figures; the test fails only if the table is not programmed.
func TestDirectorMemory(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("LVSD_MEMTEST"))
	if n <= 0 {
		t.Skip("set LVSD_MEMTEST=N to measure the director's memory at N services x 10")
	}
	profDir := os.Getenv("LVSD_MEMTEST_PROFILE")
	if profDir != "" {
		defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
		runtime.MemProfileRate = 1024 // sampled at 512 KB, small retained objects vanish or loom
	}
	tab := benchtable.Table{Services: n, Dests: 10}
	file := filepath.Join(t.TempDir(), "lvsd.hcl")
	write := func(w benchtable.Weights) {
		f, err := os.Create(file)
		if err != nil {
			t.Fatal(err)
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		if err := tab.WriteHCL(bw, w); err != nil {
			t.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	write(nil)
	// As the daemon runs: its GOGC and its trimmer.
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	tuneGC()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go trimMemory(ctx, slog.New(slog.DiscardHandler), 2*time.Second)
	runtime.GC()
	base := procKB("VmRSS")
	peak := startHeapPeak()
	defer func() { close(peak.stop); peak.done.Wait() }()
	profile := func(name string) {
		if profDir == "" {
			return
		}
		peak.mu.Lock()
		_ = os.WriteFile(filepath.Join(profDir, "peak-"+name), peak.prof, 0o644)
		peak.mu.Unlock()
		f, err := os.Create(filepath.Join(profDir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		runtime.GC()
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			t.Fatal(err)
		}
	}
	report := func(step string) {
		t.Logf("%s: %s; VmHWM %d kB, VmRSS %d kB (%d kB before the start)", step, peak, procKB("VmHWM"), procKB("VmRSS"), base)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		t.Logf("%s: after a GC: live heap %.1f MB, heap from the OS %.1f MB", step, mb(ms.HeapAlloc), mb(ms.HeapSys-ms.HeapReleased))
	}

	start := time.Now()
	cache := &conf.Cache{} // as the daemon loads: a reload reuses it
	l, _, text, err := loadFor(modeDirector, file, cache)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	report(fmt.Sprintf("parsed in %s", time.Since(start).Round(time.Millisecond)))
	profile("parse.pprof")
	peak.reset()
	k := &leanKernel{table: map[ipvs.Key]*ipvs.Service{}}
	d := newDirector(l.cfg, &daemonOptions{resync: time.Hour}, slog.New(slog.DiscardHandler))
	d.newKernel = func() (ipvs.Kernel, error) { return k, nil }
	l = nil
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	waitOps := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Minute)
		for k.ops.Load() < want {
			if time.Now().After(deadline) {
				t.Fatalf("%d ops applied, want %d", k.ops.Load(), want)
			}
			time.Sleep(time.Millisecond)
		}
		// The sync folds the ops into its observed table after the last.
		for d.rec.SyncStatus().Synced.IsZero() {
			time.Sleep(time.Millisecond)
		}
	}
	waitOps(int64(tab.Entries()))
	time.Sleep(100 * time.Millisecond)
	report(fmt.Sprintf("programmed %d entries in %s", tab.Entries(), time.Since(start).Round(time.Millisecond)))
	profile("start.pprof")

	// The new file is written before the reload is measured: writing
	// it is the test's garbage, not lvsd's.
	write(benchtable.Weights{{n / 2, 3}: 5})
	runtime.GC()
	peak.reset()
	start = time.Now()
	l, _, text, err = loadFor(modeDirector, file, cache)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if _, err := d.Reload(l.cfg); err != nil {
		t.Fatal(err)
	}
	l = nil
	waitOps(int64(tab.Entries()) + 1)
	time.Sleep(100 * time.Millisecond)
	report(fmt.Sprintf("reloaded one weight in %s", time.Since(start).Round(time.Millisecond)))
	profile("reload.pprof")
	kt, _ := k.Dump()
	var kernelBytes uintptr
	for _, s := range kt {
		kernelBytes += unsafe.Sizeof(s) + uintptr(cap(s.Dests))*unsafe.Sizeof(ipvs.Dest{})
	}
	t.Logf("the in-memory kernel's own table (not lvsd's) holds %.1f MB of that", mb(uint64(kernelBytes)))
	time.Sleep(5 * time.Second)
	t.Logf("5 s later: VmRSS %d kB", procKB("VmRSS"))
}
