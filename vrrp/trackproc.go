package vrrp

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// vrrp_track_process (keepalived's): a process is up while between quorum
// and quorum_max processes match it.
//
// keepalived follows process events through the netlink proc connector.
// lvsd scans /proc instead, once per procInterval for every tracked
// process together: the connector needs CAP_NET_ADMIN, drops events when
// its socket buffer overflows (keepalived then rescans /proc) and must be
// seeded by a scan anyway; and it answers in the initial network
// namespace only: keepalived 2.2.7 in another one (a container, the netns
// tests) gets ECONNREFUSED and counts every tracked process as absent. A
// scan is one small read per process (/proc/PID/stat, and
// /proc/PID/cmdline when a command line is matched): measured with 300
// processes (BenchmarkListProcs), 1.1 ms of CPU per scan reading the task
// names, 2.1 ms with the command lines; a whole director tracking both
// kinds used 0.45% of one core (0.05% without), on a loaded machine.
// The price is up to procInterval of detection delay, well under a VRRP
// Master_Down_Interval.
var procInterval = time.Second

// procInfo is what the scan reads of one process.
type procInfo struct {
	Comm   string   // task name, from /proc/PID/stat
	Zombie bool     // state Z: exited, not reaped (not counted, as keepalived)
	Argv   []string // command line, when a tracked process needs it
}

// matchProcess is keepalived's test of one process against a
// vrrp_track_process: the task name (comm), or with FullCommand the
// command line's first word, equals Argv[0]; then the arguments follow
// ParamMatch: exact, partial (they start with the configured ones) or
// initial (partial, the last configured one being a prefix).
func matchProcess(p conf.VRRPTrackProcess, pi procInfo) bool {
	if pi.Zombie || len(p.Argv) == 0 {
		return false
	}
	if !p.FullCommand {
		return pi.Comm == p.Argv[0]
	}
	if len(pi.Argv) == 0 || pi.Argv[0] != p.Argv[0] {
		return false
	}
	want, got := p.Argv[1:], pi.Argv[1:]
	switch p.ParamMatch {
	case "":
		return true
	case conf.ParamExact:
		return slices.Equal(want, got)
	}
	if len(want) == 0 {
		return true
	}
	if len(got) < len(want) {
		return false
	}
	last := len(want) - 1
	if !slices.Equal(want[:last], got[:last]) {
		return false
	}
	if p.ParamMatch == conf.ParamInitial {
		return strings.HasPrefix(got[last], want[last])
	}
	return got[last] == want[last]
}

// procState is the verdict of one tracked process with keepalived's
// fork_delay (quorum must hold that long before it counts as up) and
// terminate_delay (lost that long before it counts as down).
type procState struct {
	up      bool
	n       int
	pending bool
	since   time.Time
}

// observe records a scan that found n matching processes at now and
// reports whether up changed.
func (s *procState) observe(p conf.VRRPTrackProcess, n int, now time.Time) bool {
	s.n = n
	want := n >= p.Quorum && n <= p.QuorumMax
	if want == s.up {
		s.pending = false
		return false
	}
	delay := p.ForkDelay
	if s.up {
		delay = p.TerminateDelay
	}
	if !s.pending {
		s.pending, s.since = true, now
	}
	if now.Sub(s.since) < delay {
		return false
	}
	s.up, s.pending = want, false
	return true
}

// procRun is one tracked process.
type procRun struct {
	cfg conf.VRRPTrackProcess
	st  procState
}

func sameProcess(a, b conf.VRRPTrackProcess) bool {
	a.DeclRange = b.DeclRange
	return reflect.DeepEqual(a, b)
}

// applyProcesses installs cfg's tracked processes; c.mu held. New ones
// get their state from a scan now, without delay (keepalived reads /proc
// at start the same way), so instances start with it.
func (c *Coordinator) applyProcesses(cfg *conf.Config) {
	used := map[string]conf.VRRPTrackProcess{}
	for _, vi := range cfg.VRRP {
		for _, tp := range vi.TrackProcesses {
			used[tp.Process.Name] = tp.Process
		}
	}
	for name, p := range c.procs {
		if w, ok := used[name]; !ok || !sameProcess(w, p.cfg) {
			delete(c.procs, name)
		}
	}
	var fresh []*procRun
	for name, pc := range used {
		if _, ok := c.procs[name]; !ok {
			p := &procRun{cfg: pc}
			c.procs[name] = p
			fresh = append(fresh, p)
		}
	}
	if len(fresh) == 0 {
		return
	}
	counts, err := c.countProcesses(fresh)
	if err != nil {
		c.log.Error("vrrp_track_process: cannot scan processes", "err", err)
		return
	}
	for k, p := range fresh {
		p.st.n = counts[k]
		p.st.up = counts[k] >= p.cfg.Quorum && counts[k] <= p.cfg.QuorumMax
		c.log.Info("vrrp_track_process", "process", p.cfg.Name, "up", p.st.up, "running", p.st.n)
	}
}

// countProcesses scans the processes once and counts the matches of each
// of runs.
func (c *Coordinator) countProcesses(runs []*procRun) ([]int, error) {
	cmdline := false
	names := map[string]bool{}
	for _, p := range runs {
		cmdline = cmdline || p.cfg.FullCommand
		if len(p.cfg.Argv) > 0 {
			names[p.cfg.Argv[0]] = true
		}
	}
	procs, err := c.listProcs(names, cmdline)
	if err != nil {
		return nil, err
	}
	counts := make([]int, len(runs))
	for _, pi := range procs {
		for k, p := range runs {
			if matchProcess(p.cfg, pi) {
				counts[k]++
			}
		}
	}
	return counts, nil
}

// scanProcesses scans every procInterval and pushes changes to the
// instances until ctx is done.
func (c *Coordinator) scanProcesses(ctx context.Context) {
	t := time.NewTicker(procInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.scanOnce(time.Now())
	}
}

func (c *Coordinator) scanOnce(now time.Time) {
	c.mu.Lock()
	runs := make([]*procRun, 0, len(c.procs))
	for _, p := range c.procs {
		runs = append(runs, p)
	}
	c.mu.Unlock()
	if len(runs) == 0 {
		return
	}
	counts, err := c.countProcesses(runs)
	if err != nil {
		c.log.Error("vrrp_track_process: cannot scan processes", "err", err)
		return
	}
	type update struct {
		name string
		up   bool
		n    int64
	}
	var ups []update
	c.mu.Lock()
	for k, p := range runs {
		if c.procs[p.cfg.Name] != p {
			continue // replaced by a reload meanwhile
		}
		before := p.st.n
		if p.st.observe(p.cfg, counts[k], now) {
			c.log.Info("vrrp_track_process quorum "+map[bool]string{true: "gained", false: "lost"}[p.st.up],
				"process", p.cfg.Name, "running", counts[k], "quorum", p.cfg.Quorum, "quorum_max", p.cfg.QuorumMax)
		} else if before == counts[k] {
			continue
		}
		ups = append(ups, update{p.cfg.Name, p.st.up, int64(counts[k])})
	}
	var insts []*Instance
	if len(ups) > 0 {
		for _, i := range c.insts {
			insts = append(insts, i)
		}
	}
	c.mu.Unlock()
	for _, u := range ups {
		for _, i := range insts {
			i.SetTrackedProcess(u.name, u.up, u.n)
		}
	}
}
