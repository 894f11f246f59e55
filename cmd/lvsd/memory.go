package main

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// gcPercent is lvsd's GOGC. Most of a director's heap is long-lived (the
// config and the desired and observed IPVS tables: ~50 MB at 10k services
// x 10) and what it allocates comes in bursts (a start, a reload, a
// resync's dump): with Go's default of 100 the heap may grow to twice the
// live data before a collection, and at each burst it did. 50 bounds the
// headroom at half the live data; it is proportional, so it never makes
// the collector thrash the way a fixed memory limit below the live data
// would. A GOGC or GOMEMLIMIT in the environment wins.
const gcPercent = 50

// A reload keeps gcPercent. It allocates ~8 MB at 10k services (the file
// is read into a buffer kept outside the heap: fileBuffer), a third of the
// headroom GOGC 50 leaves over ~50 MB of live data, so a reload at rest
// never meets a collection. A GOGC of 100 held through each reload (when
// a reload allocated 17 MB) let a reload right after the start or another
// reload pile its garbage on a heap already at its goal, and the peak
// (VmHWM) past 100 MB.

// tuneGC applies gcPercent unless the environment sets the GC itself.
func tuneGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(gcPercent)
}

// trimMemory hands free heap back to the kernel after a burst. The Go
// runtime returns it slowly on its own (its background scavenger), so
// after a start or a reload at 10k services the process kept ~300 MB
// resident for a table of ~50 MB. Every interval it reads the heap's
// figures (cheap: no collection); shouldTrim decides, and then
// debug.FreeOSMemory collects and returns the free heap at once.
func trimMemory(ctx context.Context, log *slog.Logger, interval time.Duration) {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/gc/heap/allocs:bytes"},
	}
	var h heapState
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			metrics.Read(samples)
			s := heapSample{
				at:     now,
				free:   samples[0].Value.Uint64(),
				held:   samples[0].Value.Uint64() + samples[1].Value.Uint64() + samples[2].Value.Uint64(),
				live:   samples[3].Value.Uint64(),
				cycles: samples[4].Value.Uint64(),
				allocs: samples[5].Value.Uint64(),
			}
			if h.shouldTrim(s) {
				debug.FreeOSMemory()
				log.Debug("returned free heap to the kernel", "free_bytes", s.free, "heap_bytes", s.held, "live_bytes", s.live)
				metrics.Read(samples) // the forced collection is not a burst
				h.cycles, h.allocs, h.since = samples[4].Value.Uint64(), samples[5].Value.Uint64(), now
			}
		}
	}
}

// collectAfterBurst collects at once when a burst is over (the start's
// first IPVS sync, a reload), not after trimMemory's quiet period, and
// with release hands the free heap back to the kernel too. A reload right
// after the start put its garbage and its read buffer on top of the
// start's peak; and a reload allocates less than trimMin, so its garbage
// stayed for the next ones to pile on until a collection (VmHWM +16 MB
// after four reloads at 10k services, and the reload that met the
// collection took twice as long). After a reload the free heap is kept:
// it is about what the next reload allocates, and fresh pages cost that
// reload their page faults (~10 ms at 10k under emulation); trimMemory
// still returns it if it grows.
func collectAfterBurst(log *slog.Logger, what string, release bool) {
	if release {
		debug.FreeOSMemory()
		log.Debug("returned free heap to the kernel", "after", what)
		return
	}
	runtime.GC()
}

// trimMin is the least free heap worth a forced collection.
const trimMin = 16 << 20

// trimQuiet is how long no collection may have run, after more than
// trimMin was allocated, before trimMemory forces one.
const trimQuiet = 5 * time.Second

// heapSample is what trimMemory reads each interval.
type heapSample struct {
	at               time.Time
	free, held, live uint64
	cycles, allocs   uint64 // collections and bytes allocated, ever
}

// heapState remembers the last collection trimMemory saw.
type heapState struct {
	cycles, allocs uint64    // as of the last collection seen
	since          time.Time // when it was seen
}

// shouldTrim says whether a forced collection and release is worth it:
//   - more than trimMin and a quarter of the live heap is free;
//   - the heap holds more than twice the live data (GOGC 50 keeps a
//     steady heap under 1.5 times);
//   - or more than trimMin was allocated since the last collection and
//     none has run for trimQuiet: a burst (a start, a reload) that ended
//     before the heap reached the collector's goal leaves its dead objects
//     resident until something else allocates, which for an idle daemon
//     may be never.
//
// A steady resync stays under the first two, and its collections keep
// the third from firing while it allocates.
func (h *heapState) shouldTrim(s heapSample) bool {
	if s.cycles != h.cycles || h.since.IsZero() {
		h.cycles, h.allocs, h.since = s.cycles, s.allocs, s.at
	}
	if s.free > trimMin && s.free > s.live/4 {
		return true
	}
	if s.held > 2*s.live+trimMin {
		return true
	}
	return s.allocs-h.allocs > trimMin && s.at.Sub(h.since) >= trimQuiet
}
