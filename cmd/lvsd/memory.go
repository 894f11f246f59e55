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
// resident for a table of ~50 MB. Every interval it looks at how much
// free heap the runtime still holds; when that is more than trimMin and
// more than a quarter of the live heap, debug.FreeOSMemory collects and
// returns it at once. In steady state (a resync allocates a table and
// drops the previous one) it stays below that and nothing happens.
func trimMemory(ctx context.Context, log *slog.Logger, interval time.Duration) {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/free:bytes"},
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
		free, live := samples[0].Value.Uint64(), samples[1].Value.Uint64()
		if shouldTrim(free, live) {
			debug.FreeOSMemory()
			log.Debug("returned free heap to the kernel", "free_bytes", free, "live_bytes", live)
		}
	}
}

// trimMin is the least free heap worth a forced collection.
const trimMin = 16 << 20

func shouldTrim(free, live uint64) bool { return free > trimMin && free > live/4 }
