package vrrp

import (
	"context"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/healthcheck"
)

// Coordinator is what the instances of one daemon share: the vrrp_script
// runners (one per script, whatever the number of instances tracking it),
// the vrrp_sync_groups, and the Notifier. The director attaches each
// instance before running it and detaches it after.
type Coordinator struct {
	log    *slog.Logger
	notify *Notifier
	// runScript runs one vrrp_script attempt (tests inject a fake).
	runScript func(ctx context.Context, s conf.VRRPScript) error

	mu      sync.Mutex
	ctx     context.Context
	insts   map[string]*Instance
	scripts map[string]*scriptRun
	groups  map[string]*groupState // by group name
	groupOf map[string]string      // instance -> group

	// vrrp_track_file (trackfile.go): files by name, whether Apply ran
	// once (init_file overwrites only then), the wake-up of the watch
	// loop, and the reader and watcher (tests inject fakes).
	files        map[string]*fileRun
	applied      bool
	filesChanged chan struct{}
	readTrack    func(path string) (int64, bool, error)
	newWatcher   func() (fileWatcher, error)

	// vrrp_track_process (trackproc.go), and the /proc reader.
	procs     map[string]*procRun
	listProcs func(names map[string]bool, cmdline bool) ([]procInfo, error)

	// stateHook hears every instance's state changes (OnState).
	stateHook func(instance string, to State)
}

// OnState makes fn hear every state change of every attached instance
// (the director's lvs_sync_daemon follows one). fn runs on the instance's
// goroutine, between its transition and its next packet: it must not
// block.
func (c *Coordinator) OnState(fn func(instance string, to State)) {
	c.mu.Lock()
	c.stateHook = fn
	c.mu.Unlock()
}

type scriptRun struct {
	cfg    conf.VRRPScript
	ok     bool
	cancel context.CancelFunc
}

type groupState struct {
	cfg   conf.SyncGroup
	own   map[string]bool // members whose own tracking is in fault
	state map[string]State
	last  string // group state last notified
}

// NewCoordinator returns a coordinator; Run starts its notifier.
func NewCoordinator(log *slog.Logger) *Coordinator {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Coordinator{
		log:       log,
		notify:    NewNotifier(log),
		runScript: execScript,
		insts:     map[string]*Instance{},
		scripts:   map[string]*scriptRun{},
		groups:    map[string]*groupState{},
		groupOf:   map[string]string{},

		files:        map[string]*fileRun{},
		filesChanged: make(chan struct{}, 1),
		readTrack:    readTrackFile,
		newWatcher:   newInotifyWatcher,

		procs:     map[string]*procRun{},
		listProcs: listProcs,
	}
}

func execScript(ctx context.Context, s conf.VRRPScript) error {
	m := &healthcheck.MiscChecker{Argv: s.Argv, Timeout: s.Timeout, User: s.User, Label: "vrrp_script " + s.Name}
	return m.Check(ctx)
}

// Notifier is the shared notify script queue.
func (c *Coordinator) Notifier() *Notifier { return c.notify }

// Run runs the notifier and the script runners until ctx is done; it
// returns after the notify scripts queued by the stopping instances ran.
func (c *Coordinator) Run(ctx context.Context) {
	c.mu.Lock()
	c.ctx = ctx
	for _, s := range c.scripts {
		c.startScript(s)
	}
	c.mu.Unlock()
	go c.watchFiles(ctx)
	go c.scanProcesses(ctx)
	c.notify.Run(ctx)
}

// Apply installs cfg's scripts and sync groups: runners of scripts that are
// unchanged keep running (and their verdict), changed ones restart, removed
// ones stop. Only scripts some instance tracks run.
func (c *Coordinator) Apply(cfg *conf.Config) {
	c.mu.Lock()
	defer c.mu.Unlock()
	used := map[string]conf.VRRPScript{}
	for _, vi := range cfg.VRRP {
		for _, ts := range vi.TrackScripts {
			used[ts.Script.Name] = ts.Script
		}
	}
	for name, s := range c.scripts {
		if w, ok := used[name]; !ok || !sameScript(w, s.cfg) {
			if s.cancel != nil {
				s.cancel()
			}
			delete(c.scripts, name)
		}
	}
	for name, sc := range used {
		if _, ok := c.scripts[name]; ok {
			continue
		}
		s := &scriptRun{cfg: sc, ok: !sc.InitFail}
		c.scripts[name] = s
		if c.ctx != nil {
			c.startScript(s)
		}
	}
	c.applyFiles(cfg)
	c.applyProcesses(cfg)
	groups := map[string]*groupState{}
	groupOf := map[string]string{}
	for _, g := range cfg.SyncGroups {
		gs := &groupState{cfg: g, own: map[string]bool{}, state: map[string]State{}}
		if old, ok := c.groups[g.Name]; ok && reflect.DeepEqual(old.cfg.Members, g.Members) {
			gs.own, gs.state, gs.last = old.own, old.state, old.last
		}
		groups[g.Name] = gs
		for _, m := range g.Members {
			groupOf[m] = g.Name
		}
	}
	c.groups, c.groupOf = groups, groupOf
	for name, i := range c.insts {
		i.mu.Lock()
		i.group = groupOf[name]
		i.mu.Unlock()
	}
}

func sameScript(a, b conf.VRRPScript) bool {
	a.DeclRange = b.DeclRange
	return reflect.DeepEqual(a, b)
}

// startScript runs s every interval; c.mu held.
func (c *Coordinator) startScript(s *scriptRun) {
	ctx, cancel := context.WithCancel(c.ctx)
	s.cancel = cancel
	go func() {
		st := NewScriptState(s.cfg.Rise, s.cfg.Fall, s.cfg.InitFail)
		t := time.NewTimer(0)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := c.runScript(ctx, s.cfg)
			if ctx.Err() != nil {
				return
			}
			if st.Observe(err == nil) {
				if err != nil {
					c.log.Warn("vrrp_script failed", "script", s.cfg.Name, "err", err)
				} else {
					c.log.Info("vrrp_script succeeded", "script", s.cfg.Name)
				}
				c.mu.Lock()
				s.ok = st.OK
				var insts []*Instance
				for _, i := range c.insts {
					insts = append(insts, i)
				}
				c.mu.Unlock()
				for _, i := range insts {
					i.SetTracked(KindScript, s.cfg.Name, st.OK)
				}
			}
			t.Reset(s.cfg.Interval)
		}
	}()
}

// Attach wires i to the shared scripts, its sync group and the notifier;
// call it before i.Run.
func (c *Coordinator) Attach(i *Instance) {
	name := i.cfg.Name
	c.mu.Lock()
	c.insts[name] = i
	group := c.groupOf[name]
	var states []struct {
		name string
		ok   bool
	}
	for n, s := range c.scripts {
		states = append(states, struct {
			name string
			ok   bool
		}{n, s.ok})
	}
	files := map[string]int64{}
	for n, f := range c.files {
		files[n] = f.value
	}
	procs := map[string]procState{}
	for n, p := range c.procs {
		procs[n] = p.st
	}
	var groupFault bool
	if g := c.groups[group]; g != nil {
		for m, f := range g.own {
			groupFault = groupFault || (f && m != name)
		}
	}
	c.mu.Unlock()
	for _, s := range states {
		i.SetTracked(KindScript, s.name, s.ok)
	}
	for n, v := range files {
		i.SetTrackedValue(KindFile, n, v)
	}
	for n, st := range procs {
		i.SetTrackedProcess(n, st.up, int64(st.n))
	}
	i.mu.Lock()
	i.group = group
	i.groupFault = groupFault
	i.notifier = c.notify
	i.onState = func(from, to State) {
		c.memberState(name, to)
		c.mu.Lock()
		hook := c.stateHook
		c.mu.Unlock()
		if hook != nil {
			hook(name, to)
		}
	}
	i.onFault = func(own bool) { c.memberFault(name, own) }
	i.syncGuard = func() bool { return c.canGoMaster(name) }
	i.mu.Unlock()
}

// Detach forgets i (after its Run returned).
func (c *Coordinator) Detach(i *Instance) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.insts[i.cfg.Name] == i {
		delete(c.insts, i.cfg.Name)
	}
	if g := c.groups[c.groupOf[i.cfg.Name]]; g != nil {
		delete(g.own, i.cfg.Name)
		delete(g.state, i.cfg.Name)
	}
}

// memberFault: a member's own tracking went into or out of fault; the
// others are in FAULT while any member is (keepalived's sync group).
func (c *Coordinator) memberFault(name string, own bool) {
	c.mu.Lock()
	g := c.groups[c.groupOf[name]]
	if g == nil {
		c.mu.Unlock()
		return
	}
	g.own[name] = own
	type order struct {
		i  *Instance
		on bool
	}
	var orders []order
	for _, m := range g.cfg.Members {
		other := false
		for n, f := range g.own {
			other = other || (f && n != m)
		}
		if i := c.insts[m]; i != nil {
			orders = append(orders, order{i, other})
		}
	}
	c.mu.Unlock()
	for _, o := range orders {
		o.i.setGroupFault(o.on)
	}
}

// memberState: a member changed state. Entering MASTER or leaving it for
// BACKUP, the other members follow (keepalived's vrrp_sync_group); the
// group's own notify scripts run when the group's state changes: FAULT if
// any member is in FAULT, MASTER when all are master, BACKUP when all are
// backup (keepalived passes STOP to instances only).
func (c *Coordinator) memberState(name string, to State) {
	c.mu.Lock()
	g := c.groups[c.groupOf[name]]
	if g == nil {
		c.mu.Unlock()
		return
	}
	from := g.state[name]
	g.state[name] = to
	var follow []*Instance
	if (to == StateMaster || (to == StateBackup && from == StateMaster)) && to != StateInit {
		for _, m := range g.cfg.Members {
			if i := c.insts[m]; i != nil && m != name && g.state[m] != to && g.state[m] != StateFault {
				follow = append(follow, i)
			}
		}
	}
	gstate := groupStateName(g)
	notify := gstate != "" && gstate != g.last
	if notify {
		g.last = gstate
	}
	gn, gname := g.cfg.Notify, g.cfg.Name
	c.mu.Unlock()
	for _, i := range follow {
		i.syncTo(to)
	}
	if notify {
		c.log.Info("vrrp sync group state", "group", gname, "state", gstate)
		c.notify.Transition(gn, "GROUP", gname, gstate, 0, nil)
	}
}

func groupStateName(g *groupState) string {
	all := func(s State) bool {
		for _, m := range g.cfg.Members {
			if g.state[m] != s {
				return false
			}
		}
		return true
	}
	for _, m := range g.cfg.Members {
		if g.state[m] == StateFault {
			return "FAULT"
		}
	}
	switch {
	case all(StateMaster):
		return "MASTER"
	case all(StateBackup):
		return "BACKUP"
	}
	// Members stopping do not make a group state: keepalived's STOP applies
	// to instances only.
	return ""
}

// canGoMaster is keepalived's vrrp_sync_can_goto_master: a member whose
// Master_Down_Timer ran out takes the group to MASTER only if no other
// member still hears a master; otherwise members of different priorities
// would flap (one preempts, takes the others along, they yield to their
// higher-priority peers, which takes it back to BACKUP, and so on).
func (c *Coordinator) canGoMaster(name string) bool {
	c.mu.Lock()
	g := c.groups[c.groupOf[name]]
	var others []*Instance
	if g != nil {
		for _, m := range g.cfg.Members {
			if i := c.insts[m]; i != nil && m != name {
				others = append(others, i)
			}
		}
	}
	c.mu.Unlock()
	for _, i := range others {
		if i.hearsMaster() {
			return false
		}
	}
	return true
}
