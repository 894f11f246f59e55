package main

import (
	"context"
	"log/slog"
	"os"
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
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(samples)
		free, live := samples[0].Value.Uint64(), samples[3].Value.Uint64()
		held := free + samples[1].Value.Uint64() + samples[2].Value.Uint64()
		if shouldTrim(free, held, live) {
			debug.FreeOSMemory()
			log.Debug("returned free heap to the kernel", "free_bytes", free, "heap_bytes", held, "live_bytes", live)
		}
	}
}

// trimMin is the least free heap worth a forced collection.
const trimMin = 16 << 20

// shouldTrim says whether a forced collection and release is worth it,
// given the heap's free bytes, all it holds (objects dead or alive, free
// and unused), and the live bytes the last collection found: when more
// than trimMin and a quarter of the live heap is free, or when the heap
// holds more than twice the live data (the dead objects of a burst that
// no collection has swept yet; GOGC 50 keeps a steady heap below 1.5
// times). A steady resync stays under both, so it never forces anything.
func shouldTrim(free, held, live uint64) bool {
	return (free > trimMin && free > live/4) || held > 2*live+trimMin
}
