package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/vrrp"
)

// director is `lvsd director`: VRRP instances own the VIPs, the health
// checker decides which real servers are up, and the IPVS reconciler keeps
// the kernel table equal to config + health. The three run independently:
// a slow check or a slow netlink call never delays a VRRP advert.
type director struct {
	log  *slog.Logger
	opts *daemonOptions
	// procs gives full IPVS syncs every P (nil: nothing to manage).
	procs *procs
	// afterFirstSync, if set, runs once the first full IPVS sync is over
	// (the daemon hands the start's free heap back then: collectAfterBurst).
	afterFirstSync func()
	firstSync      sync.Once

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	cfg     *conf.Config
	started time.Time
	running bool // Start succeeded
	inst    map[string]*runningInstance
	// vrrpc shares vrrp_scripts, sync groups and notify scripts between
	// the instances.
	vrrpc     *vrrp.Coordinator
	coordStop context.CancelFunc
	coordDone chan struct{}

	checks *healthcheck.Manager
	// healthChanged wakes the loop that recomputes the desired IPVS table.
	healthChanged chan struct{}

	// newKernel opens the kernel IPVS table (tests inject a fake).
	newKernel func() (ipvs.Kernel, error)
	kernel    ipvs.Kernel
	rec       *ipvs.Reconciler
	// desired is the table last handed to the reconciler (which keeps the
	// same slice: neither changes it); publishDesired
	// skips identical tables so a reload that changes nothing in IPVS
	// does not even wake the reconciler.
	desiredMu sync.Mutex
	desired   []ipvs.Service
	published int // SetDesired calls, for tests

	memberState // quorum, manual drains, quorum scripts (membership.go)

	// syncd runs the lvs_sync_daemon (syncd.go); nil until IPVS is open.
	syncd *syncDaemon
}

type runningInstance struct {
	cfg    conf.VRRPInstance
	inst   *vrrp.Instance
	cancel context.CancelFunc
	done   chan struct{}
}

func newDirector(cfg *conf.Config, o *daemonOptions, log *slog.Logger) *director {
	d := &director{
		log:           log,
		opts:          o,
		cfg:           cfg,
		inst:          map[string]*runningInstance{},
		vrrpc:         vrrp.NewCoordinator(log),
		healthChanged: make(chan struct{}, 1),
		newKernel:     func() (ipvs.Kernel, error) { return ipvs.NewKernel() },
		memberState:   newMemberState(),
	}
	d.checks = healthcheck.NewManager(log, func(healthcheck.Transition) { d.poke() })
	return d
}

func (d *director) poke() {
	select {
	case d.healthChanged <- struct{}{}:
	default:
	}
}

func (d *director) Start(ctx context.Context) error {
	d.ctx, d.cancel = context.WithCancel(ctx)
	d.started = time.Now()
	if err := d.ensureIPVS(d.cfg); err != nil {
		return err
	}
	d.startSyncDaemon(d.cfg)
	d.applyTimeouts(d.cfg)
	d.logSchedProblems(d.cfg)
	// The coordinator stops after the instances (Stop), so that it runs
	// the notify_stop scripts they queue on their way out.
	var coordCtx context.Context
	coordCtx, d.coordStop = context.WithCancel(context.WithoutCancel(ctx))
	d.coordDone = make(chan struct{})
	go func() {
		defer close(d.coordDone)
		d.vrrpc.Run(coordCtx)
	}()
	if err := d.applyVRRP(d.cfg); err != nil {
		return err
	}
	d.checks.Set(d.cfg.VirtualServers)
	d.goRun(func(ctx context.Context) error { return d.checks.Run(ctx) })
	d.goRun(d.runScripts)
	if d.rec != nil {
		d.publishDesired()
		d.goRun(func(ctx context.Context) error { return d.rec.Run(ctx, d.opts.resync) })
		d.goRun(d.followHealth)
	}
	d.mu.Lock()
	d.running = true
	d.mu.Unlock()
	return nil
}

func (d *director) goRun(f func(context.Context) error) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := f(d.ctx); err != nil && d.ctx.Err() == nil {
			d.log.Error("component stopped", "err", err)
		}
	}()
}

// ensureIPVS opens the kernel adapter the first time a config names a
// virtual server; a VRRP-only director never needs IPVS in the kernel.
func (d *director) ensureIPVS(cfg *conf.Config) error {
	if d.rec != nil || (len(cfg.VirtualServers) == 0 && cfg.LVSTimeouts == nil && cfg.LVSSyncDaemon == nil) {
		return nil
	}
	k, err := d.newKernel()
	if err != nil {
		return fmt.Errorf("ipvs: %w", err)
	}
	d.kernel = k
	d.rec = ipvs.NewReconciler(k, d.log)
	d.rec.SetBusy(func() (end func()) {
		endBurst := d.procs.burst()
		return func() {
			endBurst()
			if f := d.afterFirstSync; f != nil {
				d.firstSync.Do(f)
			}
		}
	})
	return nil
}

// startSyncDaemon hands cfg's lvs_sync_daemon to the sync daemon loop,
// starting the loop (and hooking it to the VRRP state changes) the first
// time IPVS is open.
func (d *director) startSyncDaemon(cfg *conf.Config) {
	if d.syncd == nil {
		sk, ok := d.kernel.(ipvs.SyncDaemonKernel)
		if !ok {
			if cfg.LVSSyncDaemon != nil {
				d.log.Error("lvs_sync_daemon", "err", "this IPVS adapter cannot run sync daemons")
			}
			return
		}
		d.syncd = newSyncDaemon(d.log, sk)
		d.vrrpc.OnState(d.syncd.state)
		d.goRun(d.syncd.run)
	}
	d.syncd.set(cfg.LVSSyncDaemon)
}

func (d *director) publishDesired() {
	d.mu.Lock()
	vss := d.cfg.VirtualServers
	d.mu.Unlock()
	d.desiredMu.Lock()
	defer d.desiredMu.Unlock()
	want, events := d.membership.DesiredGen(vss, d.health, d.healthGen())
	d.queueQuorum(events)
	if d.published > 0 && ipvs.SameTable(want, d.desired) {
		return
	}
	d.desired = want
	d.published++
	d.rec.SetDesired(want)
}

func (d *director) followHealth(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.healthChanged:
			d.publishDesired()
		}
	}
}

// applyVRRP starts instances that are new or changed and stops those that
// are gone or changed; an unchanged instance keeps running untouched, so a
// reload does not flap mastership.
func (d *director) applyVRRP(cfg *conf.Config) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	want := map[string]conf.VRRPInstance{}
	for _, vi := range cfg.VRRP {
		want[vi.Name] = vi
	}
	for name, ri := range d.inst {
		if w, ok := want[name]; ok && sameInstance(w, ri.cfg) {
			continue
		}
		ri.cancel()
		<-ri.done
		d.vrrpc.Detach(ri.inst)
		delete(d.inst, name)
	}
	d.vrrpc.Apply(cfg)
	for name, vi := range want {
		if _, ok := d.inst[name]; ok {
			continue
		}
		inst, err := vrrp.New(vi, d.log)
		if err != nil {
			return fmt.Errorf("vrrp_instance %q: %w", name, err)
		}
		d.vrrpc.Attach(inst)
		ctx, cancel := context.WithCancel(d.ctx)
		ri := &runningInstance{cfg: vi, inst: inst, cancel: cancel, done: make(chan struct{})}
		d.inst[name] = ri
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer close(ri.done)
			if err := inst.Run(ctx); err != nil && ctx.Err() == nil {
				d.log.Error("vrrp instance stopped", "vrid", vi.VRID, "err", err)
			}
		}()
	}
	return nil
}

// sameInstance compares configs ignoring where the blocks sit in the file.
func sameInstance(a, b conf.VRRPInstance) bool { return a.Equal(b) }

// Reload switches to a validated config. planReload decides first, so a
// reload that changes only checks touches neither VRRP (no instance is
// restarted, no mastership flap) nor IPVS (the desired table is unchanged
// and not even re-published).
func (d *director) Reload(cfg *conf.Config) ([]string, error) {
	d.mu.Lock()
	plan := planReload(d.cfg, cfg)
	syncChanged := !sameSyncDaemon(d.cfg.LVSSyncDaemon, cfg.LVSSyncDaemon)
	d.mu.Unlock()
	if err := d.ensureIPVS(cfg); err != nil {
		return nil, err
	}
	d.startSyncDaemon(cfg)
	d.applyTimeouts(cfg)
	schedErrs := d.logSchedProblems(cfg)
	d.mu.Lock()
	d.cfg = cfg
	d.mu.Unlock()
	if len(plan.VRRPStart) > 0 || len(plan.VRRPStop) > 0 {
		if err := d.applyVRRP(cfg); err != nil {
			return plan.changes(), err
		}
	} else {
		d.vrrpc.Apply(cfg) // vrrp_sync_group changes
	}
	if plan.Probes {
		d.checks.Set(cfg.VirtualServers)
	}
	if d.rec != nil {
		d.desiredMu.Lock()
		first := d.published == 0
		d.desiredMu.Unlock()
		if first {
			// IPVS was opened by this reload: start what Start would have.
			d.publishDesired()
			d.goRun(func(ctx context.Context) error { return d.rec.Run(ctx, d.opts.resync) })
			d.goRun(d.followHealth)
		} else if plan.IPVS || plan.Checks {
			// A check removed or added can change a verdict; publishDesired
			// hands the table over only if it differs.
			d.publishDesired()
		}
	}
	changes := plan.changes()
	if syncChanged {
		changes = append(changes, "lvs_sync_daemon changed")
	}
	return append(changes, schedErrs...), nil
}

func (d *director) Stop() {
	if d.cancel == nil {
		return
	}
	// Instances see the cancellation and release: priority-0 advert, VIPs
	// removed (RFC 3768 §6.4.3 shutdown).
	d.cancel()
	d.wg.Wait()
	// A Start that failed may have stopped before the coordinator or
	// before the end; then the omega scripts (keepalived runs them on a
	// shutdown of a running service) are not run either.
	if d.coordStop != nil {
		d.coordStop()
		<-d.coordDone
	}
	d.mu.Lock()
	cfg, running := d.cfg, d.running
	d.mu.Unlock()
	if running {
		d.omega(cfg)
	}
	if d.rec != nil && !d.opts.keepIPVS {
		if err := d.rec.Cleanup(); err != nil {
			d.log.Error("ipvs cleanup", "err", err)
		}
	}
	if c, ok := d.kernel.(interface{ Close() error }); ok {
		_ = c.Close()
	}
}

func (d *director) Status() statusDoc {
	d.mu.Lock()
	cfg := d.cfg
	st := statusDoc{Mode: string(modeDirector), Version: version, Started: d.started}
	for _, vi := range cfg.VRRP {
		if ri, ok := d.inst[vi.Name]; ok {
			vs := ri.inst.Status()
			st.VRRP = append(st.VRRP, vrrpStatus{Status: vs, EffectivePriority: vs.EffectivePriority})
		}
	}
	d.mu.Unlock()
	var table []ipvs.Service
	var stats []ipvs.ServiceStats
	if d.rec != nil {
		table = d.rec.Status()
		ss := d.rec.SyncStatus()
		st.IPVSSync = &ipvsSync{Managed: len(ss.Managed), Synced: ss.Synced}
		if ss.Err != nil {
			st.IPVSSync.Error = ss.Err.Error()
		}
		if sr, ok := d.kernel.(ipvs.StatsReader); ok {
			var err error
			if stats, err = sr.Stats(); err != nil {
				st.StatsError = err.Error()
				stats = nil
			}
		}
	}
	st.VirtualServers = buildVirtualServers(cfg.VirtualServers, d.checks.Status(), table, stats)
	if d.syncd != nil {
		st.SyncDaemon = d.syncd.status()
	}
	st.Drains = d.drainStatuses()
	return st
}
