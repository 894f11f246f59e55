package main

import (
	"fmt"
	"io"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/ipvs"
)

// applyTimeouts hands the config's lvs_timeouts to the reconciler and
// sets them at once when the kernel's differ (an unchanged reload writes
// nothing); every resync then repairs them. A failure is logged, not
// fatal: the services do not depend on it. Without the block the kernel's
// timeouts are left alone, like keepalived without lvs_timeouts.
func (d *director) applyTimeouts(cfg *conf.Config) {
	if d.rec == nil {
		return
	}
	want, ok := ipvs.TimeoutsOf(cfg.LVSTimeouts)
	d.rec.SetTimeouts(want, ok)
	if err := d.rec.SyncTimeouts(); err != nil {
		d.log.Error("ipvs timeouts", "err", err)
	}
}

// planTimeouts is the timeouts line of `lvsd plan`: "" when the file does
// not manage timeouts or the kernel already has them.
func planTimeouts(cfg *conf.Config, k ipvs.TimeoutKernel) (string, error) {
	want, ok := ipvs.TimeoutsOf(cfg.LVSTimeouts)
	if !ok {
		return "", nil
	}
	cur, err := k.Timeouts()
	if err != nil {
		return "", err
	}
	if want.Overlay(cur) == cur {
		return "", nil
	}
	return "~ set timeouts " + cur.String() + " -> " + want.Overlay(cur).String(), nil
}

// schedulerAvailable is how the director and plan ask the running kernel
// whether a scheduler can be had; tests replace it.
var schedulerAvailable = func(name string) (bool, string) { return ipvs.HostSchedRoot().SchedulerAvailable(name) }

// schedProblems names each virtual server whose scheduler the running
// kernel cannot provide, one line each. Such a service is refused by the
// kernel (ENOENT) while every other service is programmed; this tells the
// operator which one and why before the reconciler's error does.
func schedProblems(vss []conf.VirtualServer) []string {
	var out []string
	verdict := map[string]string{}
	// Runs of virtual servers share a scheduler: the last one's verdict
	// spares a map lookup (a string hash each) per virtual server, which
	// at 10k was a twentieth of a one-weight reload under emulation.
	last, lastWhy := "", ""
	for i := range vss {
		vs := &vss[i]
		why := lastWhy
		if i == 0 || vs.Sched != last {
			var seen bool
			if why, seen = verdict[vs.Sched]; !seen {
				why = ""
				if ok, w := schedulerAvailable(vs.Sched); !ok {
					why = w
				}
				verdict[vs.Sched] = why
			}
			last, lastWhy = vs.Sched, why
		}
		if why != "" {
			out = append(out, fmt.Sprintf("virtual_server %q (%s): scheduler %q is not available: %s; the service cannot be added", vs.Name, ipvs.KeyOf(*vs), vs.Sched, why))
		}
	}
	return out
}

// writeSchedProblems prints schedProblems as errors; it reports whether
// there were any.
func writeSchedProblems(w io.Writer, vss []conf.VirtualServer) bool {
	probs := schedProblems(vss)
	for _, p := range probs {
		fmt.Fprintln(w, "error: "+p)
	}
	return len(probs) > 0
}

// logSchedProblems logs schedProblems at Error and returns them as
// "error: ..." lines for a reload's answer.
func (d *director) logSchedProblems(cfg *conf.Config) []string {
	var lines []string
	for _, p := range schedProblems(cfg.VirtualServers) {
		d.log.Error("ipvs scheduler unavailable", "err", p)
		lines = append(lines, "error: "+p)
	}
	return lines
}
