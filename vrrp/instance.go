package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// garpRepeat is keepalived's default garp_master_repeat, used when a config
// built in code leaves GARPMasterRepeat at 0 (conf.Load always sets it).
const garpRepeat = 5

// dropLogEvery bounds drop logging to one line per reason per period, so a
// misconfigured peer advertising every second cannot flood the log.
const dropLogEvery = 10 * time.Second

// Conn sends and receives VRRP messages on one interface. The Linux
// implementation is a raw IP protocol 112 socket; tests use a fake.
type Conn interface {
	// ReadAdvert blocks until a packet arrives and copies its VRRP message
	// (the IP payload) into b. It returns the IP TTL, source and
	// destination address. After Close it returns an error.
	ReadAdvert(b []byte) (n, ttl int, src, dst netip.Addr, err error)
	// WriteAdvert sends one VRRP message with TTL 255 and TOS 0xc0, from
	// LocalAddr: to 224.0.0.18 (IPv6: ff02::12), or in unicast mode one
	// copy to each unicast_peer.
	WriteAdvert(b []byte) error
	// LocalAddr is unicast_src_ip, or else the interface's primary IPv4
	// address (IPv6: its link-local address): the source of our adverts
	// and the tie breaker between masters of equal priority.
	LocalAddr() netip.Addr
	Close() error
}

// VIPs adds and removes virtual addresses, each on its own interface
// (Dev, or the instance's when "").
type VIPs interface {
	// AddVIP adds a; an address already present is not an error.
	AddVIP(a conf.VIPAddr) error
	// RemoveVIP removes a; an absent address is not an error.
	RemoveVIP(a conf.VIPAddr) error
	Close() error
}

// Announcer sends gratuitous ARP for the virtual addresses.
type Announcer interface {
	// GARP broadcasts one gratuitous ARP request for ip (sender = target
	// = ip, from the interface's hardware address); for an IPv6 ip, one
	// unsolicited neighbour advertisement to ff02::1. dev is the
	// interface ("" = the instance's).
	GARP(dev string, ip netip.Addr) error
	Close() error
}

// system is what Run needs from the host; opened by Run, closed on return.
type system struct {
	conn Conn
	vips VIPs
	arp  Announcer
}

// Status is a JSON-friendly snapshot of an instance.
type Status struct {
	Name           string            `json:"name"`
	VRID           uint8             `json:"vrid"`
	Interface      string            `json:"interface"`
	State          string            `json:"state"` // "INIT", "BACKUP", "MASTER"
	Priority       uint8             `json:"priority"`
	VIPs           []string          `json:"vips"`
	MasterIP       string            `json:"master_ip"` // "" when unknown
	Transitions    int               `json:"transitions"`
	LastTransition time.Time         `json:"last_transition"`
	RxAdverts      uint64            `json:"rx_adverts"`
	TxAdverts      uint64            `json:"tx_adverts"`
	Drops          map[string]uint64 `json:"drops"` // by Reason name
	// EffectivePriority is the priority of our adverts: Priority adjusted
	// by the tracked objects' weights (vrrp_track.go).
	EffectivePriority uint8 `json:"effective_priority"`
	// Tracked are the tracked objects and their states.
	Tracked []Tracked `json:"tracked,omitempty"`
	// SyncGroup is the vrrp_sync_group the instance belongs to ("" none).
	SyncGroup string `json:"sync_group,omitempty"`
	// LastNotify is the last notify script run for the instance.
	LastNotify *NotifyRun `json:"last_notify,omitempty"`
}

// Instance runs one vrrp_instance.
type Instance struct {
	cfg    conf.VRRPInstance
	log    *slog.Logger
	open   func(conf.VRRPInstance) (*system, error)
	params Params
	advert Advert // template of our adverts; Priority set per send

	mu          sync.Mutex
	state       State
	masterIP    netip.Addr
	transitions int
	lastTrans   time.Time
	rx, tx      uint64
	drops       map[string]uint64
	lastLog     map[string]time.Time // rate limit of drop/warn lines, by key
	running     bool

	// Tracking (vrrp_track.go): the objects and their states, the sync
	// group and its fault, the effective priority last handed to the FSM.
	links      LinkWatcher
	tracked    []Tracked
	group      string
	groupFault bool
	effPrio    uint8
	ctl        ctlQueue
	// hooks, set by the Coordinator before Run.
	notifier   *Notifier
	onState    func(from, to State)
	onFault    func(own bool)
	syncGuard  func() bool // may this member become master now
	lastNotify *NotifyRun
	// hearsUntil: in backup, the master we accept is heard until then.
	hearsUntil time.Time
}

// hearsMaster reports whether the instance is a backup that accepted a
// master's advert within its Master_Down_Interval.
func (i *Instance) hearsMaster() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.state == StateBackup && time.Now().Before(i.hearsUntil)
}

// ctlQueue hands tracking changes and sync group orders to the FSM loop
// without blocking the caller.
type ctlQueue struct {
	mu    sync.Mutex
	dirty bool    // tracked objects changed
	sync  []State // SyncState orders, in order
	wake  chan struct{}
}

func (q *ctlQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// New checks cfg and returns an instance in state INIT. It opens nothing:
// sockets are opened by Run (which needs CAP_NET_RAW and CAP_NET_ADMIN), so
// New can be used to validate a configuration without privileges.
func New(cfg conf.VRRPInstance, log *slog.Logger) (*Instance, error) {
	return newInstance(cfg, log, openSystem)
}

func newInstance(cfg conf.VRRPInstance, log *slog.Logger, open func(conf.VRRPInstance) (*system, error)) (*Instance, error) {
	if err := validate(cfg); err != nil {
		return nil, fmt.Errorf("vrrp instance %q: %w", cfg.Name, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	authType, authData := localAuth(cfg)
	addrs := make([]netip.Addr, len(cfg.VIPs))
	for k, p := range cfg.VIPs {
		addrs[k] = p.Addr()
	}
	return &Instance{
		cfg:  cfg,
		log:  log.With("vrid", cfg.VRID, "instance", cfg.Name),
		open: open,
		params: Params{
			Priority:    cfg.Priority,
			AdvertInt:   cfg.AdvertInt,
			V3:          cfg.Version == Version3,
			Nopreempt:   cfg.Nopreempt,
			StartMaster: cfg.State == conf.StateMaster,
			GARPDelay:   cfg.GARPMasterDelay,
			GARPRefresh: cfg.GARPMasterRefresh,
			// keepalived ignores preempt_delay with nopreempt; so do we.
			PreemptDelay: cfg.PreemptDelay,
		},
		advert:  advertTemplate(cfg, authType, authData, addrs),
		drops:   make(map[string]uint64),
		lastLog: make(map[string]time.Time),
		links:   newLinkWatcher(),
		tracked: trackedObjects(cfg),
		effPrio: cfg.Priority,
		ctl:     ctlQueue{wake: make(chan struct{}, 1)},
	}, nil
}

// trackedObjects lists what cfg tracks, in its initial state: interfaces
// down until read (Run reads them before Startup), scripts OK unless
// init_fail. The instance's own interface is tracked with weight 0 unless
// dont_track_primary (keepalived: its link going down means FAULT).
func trackedObjects(cfg conf.VRRPInstance) []Tracked {
	var objs []Tracked
	own := false
	for _, t := range cfg.TrackInterfaces {
		objs = append(objs, Tracked{Kind: KindInterface, Name: t.Name, Weight: t.Weight})
		own = own || t.Name == cfg.Interface
	}
	if !cfg.DontTrackPrimary && !own && cfg.Interface != "" {
		objs = append([]Tracked{{Kind: KindInterface, Name: cfg.Interface}}, objs...)
	}
	for _, t := range cfg.TrackScripts {
		objs = append(objs, Tracked{Kind: KindScript, Name: t.Script.Name, Weight: t.Weight, Up: !t.Script.InitFail})
	}
	// Files count as 0 until the coordinator has read them (Attach).
	for _, t := range cfg.TrackFiles {
		o := Tracked{Kind: KindFile, Name: t.File.Name, Weight: t.Weight, Reverse: t.Reverse, Path: t.File.Path}
		_, fault := o.contribution()
		o.Up = !fault
		objs = append(objs, o)
	}
	// Processes count as down until the coordinator has scanned (Attach).
	for _, t := range cfg.TrackProcesses {
		objs = append(objs, Tracked{Kind: KindProcess, Name: t.Process.Name, Weight: t.Weight, Reverse: t.Reverse, Path: t.Process.Process})
	}
	return objs
}

// SetTrackedProcess records a tracked process's quorum and count.
func (i *Instance) SetTrackedProcess(name string, up bool, n int64) {
	i.mu.Lock()
	changed := false
	for k := range i.tracked {
		o := &i.tracked[k]
		if o.Kind == KindProcess && o.Name == name && (o.Up != up || o.Value != n) {
			changed = changed || o.Up != up
			o.Up, o.Value = up, n
		}
	}
	i.mu.Unlock()
	if changed {
		i.markDirty()
	}
}

// SetTrackedValue records the value of a tracked file (kind and name as in
// Tracked), like SetTracked.
func (i *Instance) SetTrackedValue(kind, name string, v int64) {
	i.mu.Lock()
	changed := false
	for k := range i.tracked {
		o := &i.tracked[k]
		if o.Kind == kind && o.Name == name && o.Value != v {
			o.Value = v
			_, fault := o.contribution()
			o.Up = !fault
			changed = true
		}
	}
	i.mu.Unlock()
	if changed {
		i.markDirty()
	}
}

// SetTracked records the state of a tracked object (kind and name as in
// Tracked); the FSM loop applies the new effective priority or fault. Safe
// for concurrent use, never blocks. Unknown objects are ignored.
func (i *Instance) SetTracked(kind, name string, up bool) {
	i.mu.Lock()
	changed := false
	for k := range i.tracked {
		if i.tracked[k].Kind == kind && i.tracked[k].Name == name && i.tracked[k].Up != up {
			i.tracked[k].Up = up
			changed = true
		}
	}
	i.mu.Unlock()
	if changed {
		i.markDirty()
	}
}

// setGroupFault puts the instance in FAULT because another member of its
// sync group is (or takes it out).
func (i *Instance) setGroupFault(on bool) {
	i.mu.Lock()
	changed := i.groupFault != on
	i.groupFault = on
	i.mu.Unlock()
	if changed {
		i.markDirty()
	}
}

func (i *Instance) markDirty() {
	i.ctl.mu.Lock()
	i.ctl.dirty = true
	i.ctl.mu.Unlock()
	i.ctl.signal()
}

// syncTo orders the FSM to follow a sync group member to MASTER or BACKUP.
func (i *Instance) syncTo(s State) {
	i.ctl.mu.Lock()
	i.ctl.sync = append(i.ctl.sync, s)
	i.ctl.mu.Unlock()
	i.ctl.signal()
}

// verdict is the tracking verdict now: effective priority, fault, and fault
// of the instance's own objects (without the sync group's).
func (i *Instance) verdict() (prio uint8, fault, own bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	prio, own = Effective(i.cfg.Priority, i.tracked)
	return prio, own || i.groupFault, own
}

// advertTemplate is our advert without its priority.
func advertTemplate(cfg conf.VRRPInstance, authType uint8, authData [8]byte, addrs []netip.Addr) Advert {
	if cfg.Version == Version3 {
		return Advert{
			Version:      Version3,
			Type:         TypeAdvertisement,
			VRID:         cfg.VRID,
			MaxAdvertInt: uint16(cfg.AdvertInt / centisecond),
			Addrs:        addrs,
		}
	}
	return Advert{
		Version:   Version2,
		Type:      TypeAdvertisement,
		VRID:      cfg.VRID,
		AuthType:  authType,
		AuthData:  authData,
		AdvertInt: advertIntSeconds(cfg.AdvertInt),
		Addrs:     addrs,
	}
}

// centisecond is the unit of the v3 interval (RFC 5798 §5.2.7).
const centisecond = 10 * time.Millisecond

func validate(cfg conf.VRRPInstance) error {
	v2Int := cfg.AdvertInt < time.Second || cfg.AdvertInt > 255*time.Second || cfg.AdvertInt%time.Second != 0
	v3Int := cfg.AdvertInt < centisecond || cfg.AdvertInt > MaxAdvertIntV3*centisecond || cfg.AdvertInt%centisecond != 0
	switch {
	case cfg.Version != Version2 && cfg.Version != Version3:
		return fmt.Errorf("version %d: VRRP versions 2 and 3 are implemented", cfg.Version)
	case cfg.Version == Version3 && v3Int:
		return fmt.Errorf("advert_int %v: VRRPv3 needs centiseconds, 10ms-40.95s", cfg.AdvertInt)
	case cfg.Version == Version3 && cfg.AuthType != "":
		return errors.New("VRRPv3 has no authentication (RFC 5798 §9)")
	case cfg.V3ChecksumAsV2 && cfg.Version != Version3:
		return errors.New("v3_checksum_as_v2 needs version 3")
	case cfg.Interface == "":
		return errors.New("no interface")
	case cfg.VRID == 0:
		return errors.New("virtual_router_id must be 1-255")
	case cfg.Priority == 0:
		return errors.New("priority must be 1-255")
	case cfg.Version == Version2 && v2Int:
		return fmt.Errorf("advert_int %v: VRRPv2 needs whole seconds, 1-255", cfg.AdvertInt)
	case cfg.AuthType != "" && cfg.AuthType != "PASS":
		return fmt.Errorf("auth_type %q: only PASS is implemented", cfg.AuthType)
	case len(cfg.AuthPass) > authDataLen:
		return fmt.Errorf("auth_pass longer than %d bytes", authDataLen)
	case len(cfg.VIPs) == 0:
		return errors.New("no virtual addresses")
	case len(cfg.VIPs) > 255:
		return errors.New("more than 255 virtual addresses")
	}
	if err := validateFamily(cfg); err != nil {
		return err
	}
	if cfg.UnicastSrcIP.IsValid() && !cfg.UnicastSrcIP.Is4() {
		return fmt.Errorf("unicast_src_ip %v: VRRPv2 runs over IPv4 only", cfg.UnicastSrcIP)
	}
	if cfg.UnicastPeers != nil && len(cfg.UnicastPeers) == 0 {
		// Never a silent fall back to multicast (keepalived fault 11).
		return errors.New("unicast_peer is empty")
	}
	for _, a := range cfg.UnicastPeers {
		if !a.Is4() || a.IsMulticast() || a.IsUnspecified() {
			return fmt.Errorf("unicast_peer %v: not a unicast IPv4 address", a)
		}
	}
	switch {
	case cfg.GARPMasterRepeat < 0:
		return fmt.Errorf("garp_master_repeat %d: negative", cfg.GARPMasterRepeat)
	case cfg.GARPMasterDelay < 0 || cfg.GARPMasterRefresh < 0 || cfg.PreemptDelay < 0:
		return errors.New("negative garp_master_delay, garp_master_refresh or preempt_delay")
	}
	return nil
}

// Status returns a snapshot; safe for concurrent use.
func (i *Instance) Status() Status {
	i.mu.Lock()
	defer i.mu.Unlock()
	st := Status{
		Name:           i.cfg.Name,
		VRID:           i.cfg.VRID,
		Interface:      i.cfg.Interface,
		State:          i.state.String(),
		Priority:       i.cfg.Priority,
		VIPs:           i.vipStrings(),
		Transitions:    i.transitions,
		LastTransition: i.lastTrans,
		RxAdverts:      i.rx,
		TxAdverts:      i.tx,
		Drops:          make(map[string]uint64, len(i.drops)),

		EffectivePriority: i.effPrio,
		Tracked:           append([]Tracked(nil), i.tracked...),
		SyncGroup:         i.group,
		LastNotify:        i.lastNotify,
	}
	if i.groupFault {
		st.Tracked = append(st.Tracked, Tracked{Kind: KindGroup, Name: i.group})
	}
	if i.masterIP.IsValid() {
		st.MasterIP = i.masterIP.String()
	}
	for k, v := range i.drops {
		st.Drops[k] = v
	}
	return st
}

func (i *Instance) vipStrings() []string {
	s := make([]string, len(i.cfg.VIPs))
	for k, p := range i.cfg.VIPs {
		s[k] = p.String()
	}
	return s
}

// rxAdvert is an accepted advert handed from the reader to the FSM loop.
type rxAdvert struct {
	prio     uint8
	src      netip.Addr
	interval time.Duration // v3 only
}

// effect is a slow side effect (netlink, ARP) run on its own goroutine so
// that sending adverts never waits on it.
type effect int

const (
	effAddVIPs effect = iota
	effRemoveVIPs
	effGARP        // a burst: garp_master_repeat per VIP
	effGARPRefresh // garp_master_refresh: one per VIP
)

// effectQueue is an unbounded FIFO of effects: push never blocks, so the
// FSM loop (and with it the adverts) never waits on netlink or ARP.
type effectQueue struct {
	mu     sync.Mutex
	items  []effect
	closed bool
	wake   chan struct{} // capacity 1: "items or closed changed"
}

func newEffectQueue() *effectQueue {
	return &effectQueue{wake: make(chan struct{}, 1)}
}

func (q *effectQueue) push(e effect) {
	q.mu.Lock()
	q.items = append(q.items, e)
	q.mu.Unlock()
	q.signal()
}

func (q *effectQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *effectQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pop blocks until an effect is queued, or returns false once the queue is
// closed and drained.
func (q *effectQueue) pop() (effect, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			e := q.items[0]
			q.items = q.items[1:]
			q.mu.Unlock()
			return e, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return 0, false
		}
		<-q.wake
	}
}

// Run opens the socket and runs the instance until ctx is done or the socket
// fails. The state machine runs on its own goroutine with the adverts; VIP
// changes and gratuitous ARP run on another, in order, so a slow netlink
// call never delays an advert. When ctx is done a master sends a priority-0
// advert and removes its VIPs (RFC 3768 §6.4.3 Shutdown) before Run returns
// nil. A receive error also ends Run, after the same shutdown, with the
// error: a deaf instance would otherwise make itself master.
func (i *Instance) Run(ctx context.Context) error {
	i.mu.Lock()
	if i.running {
		i.mu.Unlock()
		return errors.New("vrrp: instance already running")
	}
	i.running = true
	i.mu.Unlock()
	defer func() {
		i.mu.Lock()
		i.running = false
		i.mu.Unlock()
	}()

	sys, err := i.open(i.cfg)
	if err != nil {
		return fmt.Errorf("vrrp instance %q: %w", i.cfg.Name, err)
	}
	p := i.params
	p.LocalIP = sys.conn.LocalAddr()

	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	if names := i.trackedNames(KindInterface); len(names) > 0 {
		initial, err := i.links.Watch(watchCtx, names, func(name string, up bool) {
			i.log.Info("vrrp tracked interface changed", "interface", name, "up", up)
			i.SetTracked(KindInterface, name, up)
		})
		if err != nil {
			_ = sys.conn.Close()
			_ = sys.arp.Close()
			_ = sys.vips.Close()
			return fmt.Errorf("vrrp instance %q: track_interface: %w", i.cfg.Name, err)
		}
		for name, up := range initial {
			i.SetTracked(KindInterface, name, up)
		}
	}

	rx := make(chan rxAdvert, 16)
	rxErr := make(chan error, 1)
	readerDone := make(chan struct{})
	stopReader := make(chan struct{})
	go func() {
		defer close(readerDone)
		rxErr <- i.readLoop(sys.conn, rx, stopReader)
	}()

	effects := newEffectQueue()
	effectsDone := make(chan struct{})
	go func() {
		defer close(effectsDone)
		for {
			e, ok := effects.pop()
			if !ok {
				return
			}
			i.runEffect(sys, e)
		}
	}()

	loopErr := i.loop(ctx, p, sys.conn, rx, rxErr, effects)

	effects.close()
	<-effectsDone
	close(stopReader)
	closeErr := sys.conn.Close()
	<-readerDone
	if err := sys.arp.Close(); err != nil && closeErr == nil {
		closeErr = err
	}
	if err := sys.vips.Close(); err != nil && closeErr == nil {
		closeErr = err
	}
	if loopErr != nil {
		return fmt.Errorf("vrrp instance %q: %w", i.cfg.Name, loopErr)
	}
	if closeErr != nil {
		return fmt.Errorf("vrrp instance %q: close: %w", i.cfg.Name, closeErr)
	}
	return nil
}

// timers are the FSM's three timers, stopped until an action arms them.
type timers struct {
	masterDown, advert, garp *time.Timer
	garpRefresh              bool // SetGARPTimer.Refresh of the last arm
}

func newTimers() *timers {
	t := &timers{
		masterDown: time.NewTimer(time.Hour),
		advert:     time.NewTimer(time.Hour),
		garp:       time.NewTimer(time.Hour),
	}
	t.stop()
	return t
}

// stop cancels all timers. Since Go 1.23 a stopped timer's channel holds no
// stale value, so no draining is needed.
func (t *timers) stop() {
	t.masterDown.Stop()
	t.advert.Stop()
	t.garp.Stop()
}

func (i *Instance) loop(ctx context.Context, p Params, conn Conn, rx <-chan rxAdvert, rxErr <-chan error, effects *effectQueue) error {
	t := newTimers()
	defer t.stop()
	var m Machine
	step := func(ev Event) {
		next, actions := m.Step(p, ev, time.Now())
		for _, a := range actions {
			i.apply(a, conn, t, effects)
		}
		state := m.State
		m = next
		if next.State != state {
			i.transition(state, next.State, p.LocalIP)
			state = next.State
		}
		if tc, ok := ev.(TrackChanged); ok {
			i.mu.Lock()
			i.effPrio = tc.Priority
			i.mu.Unlock()
		}
		if ra, ok := ev.(AdvertReceived); ok && state == StateBackup && ra.Priority > 0 {
			i.mu.Lock()
			i.masterIP = ra.Src
			for _, a := range actions {
				if t, ok := a.(SetMasterDownTimer); ok {
					// A master we accept: we hear it until this instant.
					i.hearsUntil = t.At
				}
			}
			i.mu.Unlock()
		}
	}
	lastPrio, lastFault, lastOwn := uint8(0), false, false
	track := func(first bool) {
		prio, fault, own := i.verdict()
		if first || own != lastOwn {
			if i.onFault != nil {
				i.onFault(own)
			}
		}
		if first || prio != lastPrio || fault != lastFault {
			if !first {
				i.log.Info("vrrp tracking changed", "priority", prio, "fault", fault)
			}
			step(TrackChanged{Priority: prio, Fault: fault})
		}
		lastPrio, lastFault, lastOwn = prio, fault, own
	}
	i.ctl.mu.Lock()
	i.ctl.dirty, i.ctl.sync = false, nil
	i.ctl.mu.Unlock()
	track(true)
	step(Startup{})
	for {
		select {
		case <-i.ctl.wake:
			i.ctl.mu.Lock()
			dirty, orders := i.ctl.dirty, i.ctl.sync
			i.ctl.dirty, i.ctl.sync = false, nil
			i.ctl.mu.Unlock()
			if dirty {
				track(false)
			}
			for _, s := range orders {
				step(SyncState{To: s})
			}
		case <-ctx.Done():
			step(Shutdown{})
			return nil
		case err := <-rxErr:
			step(Shutdown{})
			return fmt.Errorf("receive: %w", err)
		case a := <-rx:
			step(AdvertReceived{Priority: a.prio, Src: a.src, AdvertInt: a.interval})
		case <-t.masterDown.C:
			if m.State == StateBackup && i.syncGuard != nil && !i.syncGuard() {
				// keepalived's vrrp_sync_can_goto_master: a sync group
				// member still hears its master, so the group stays
				// backup; look again after another Master_Down_Interval.
				d := p.masterDown(m.MasterAdvertInt)
				if m.Prio != 0 {
					q := p
					q.Priority = m.Prio
					d = q.masterDown(m.MasterAdvertInt)
				}
				t.masterDown.Reset(d)
				continue
			}
			step(MasterDownTimerFired{})
		case <-t.advert.C:
			step(AdvertTimerFired{})
		case <-t.garp.C:
			step(GARPTimerFired{Refresh: t.garpRefresh})
		}
	}
}

func (i *Instance) apply(a Action, conn Conn, t *timers, effects *effectQueue) {
	switch a := a.(type) {
	case SendAdvert:
		i.send(conn, a.Priority)
	case AddVIPs:
		effects.push(effAddVIPs)
	case RemoveVIPs:
		effects.push(effRemoveVIPs)
	case SendGARP:
		if a.Refresh {
			effects.push(effGARPRefresh)
		} else {
			effects.push(effGARP)
		}
	case SetMasterDownTimer:
		t.masterDown.Reset(a.D)
	case SetAdvertTimer:
		t.advert.Reset(a.D)
	case SetGARPTimer:
		t.garpRefresh = a.Refresh
		t.garp.Reset(a.D)
	case StopTimers:
		t.stop()
	}
}

func (i *Instance) send(conn Conn, prio uint8) {
	adv := i.advert
	adv.Priority = prio
	b, err := adv.MarshalBinary()
	if err == nil {
		err = conn.WriteAdvert(b)
	}
	if err != nil {
		if i.allowLog("send") {
			i.log.Warn("vrrp send advert failed", "err", err)
		}
		return
	}
	i.mu.Lock()
	i.tx++
	i.mu.Unlock()
}

func (i *Instance) transition(from, to State, local netip.Addr) {
	now := time.Now()
	i.mu.Lock()
	i.state = to
	i.transitions++
	i.lastTrans = now
	switch to {
	case StateMaster:
		i.masterIP = local
	default:
		i.masterIP = netip.Addr{}
	}
	prio := i.effPrio
	notifier := i.notifier
	i.mu.Unlock()
	i.log.Info("vrrp state change", "state", to.String(), "from", from.String(), "vip", strings.Join(i.vipStrings(), ","))
	name := to.String()
	if to == StateInit {
		name = "STOP"
	}
	notifier.Transition(i.cfg.Notify, "INSTANCE", i.cfg.Name, name, prio, func(r NotifyRun) {
		i.mu.Lock()
		i.lastNotify = &r
		i.mu.Unlock()
	})
	if i.onState != nil {
		i.onState(from, to)
	}
}

// trackedNames lists the names of the tracked objects of a kind.
func (i *Instance) trackedNames(kind string) []string {
	i.mu.Lock()
	defer i.mu.Unlock()
	var names []string
	for _, t := range i.tracked {
		if t.Kind == kind {
			names = append(names, t.Name)
		}
	}
	return names
}

func (i *Instance) runEffect(sys *system, e effect) {
	switch e {
	case effAddVIPs:
		for _, a := range i.cfg.InstallAddrs() {
			if err := sys.vips.AddVIP(a); err != nil {
				i.log.Error("vrrp add VIP failed", "vip", a.Prefix.String(), "err", err)
			}
		}
	case effRemoveVIPs:
		for _, a := range i.cfg.InstallAddrs() {
			if err := sys.vips.RemoveVIP(a); err != nil {
				i.log.Error("vrrp remove VIP failed", "vip", a.Prefix.String(), "err", err)
			}
		}
	case effGARP, effGARPRefresh:
		n := 1
		if e == effGARP {
			n = i.cfg.GARPMasterRepeat
			if n == 0 {
				n = garpRepeat
			}
		}
		for range n {
			// Every installed address, excluded ones too, on its own
			// interface, as keepalived announces them.
			for _, a := range i.cfg.InstallAddrs() {
				if err := sys.arp.GARP(a.Dev, a.Prefix.Addr()); err != nil {
					if i.allowLog("garp") {
						i.log.Warn("vrrp gratuitous ARP failed", "vip", a.Prefix.Addr().String(), "err", err)
					}
				}
			}
		}
	}
}

// readLoop reads packets until the conn fails, checks each one and hands
// accepted adverts to the FSM loop. Drops are counted by reason.
func (i *Instance) readLoop(conn Conn, rx chan<- rxAdvert, stop <-chan struct{}) error {
	buf := make([]byte, 1500)
	for {
		n, ttl, src, dst, err := conn.ReadAdvert(buf)
		if err != nil {
			return err
		}
		res := CheckAdvert(ttl, src, dst, buf[:n], i.cfg)
		if res.Reason != ReasonNone {
			i.drop(res.Reason, src)
			continue
		}
		i.mu.Lock()
		i.rx++
		i.mu.Unlock()
		if res.AddrMismatch && i.allowLog("addrs") {
			// Logged, not dropped: see CheckResult.AddrMismatch.
			i.log.Warn("vrrp advert lists other addresses than ours", "src", src.String(), "addrs", fmt.Sprint(res.Advert.Addrs))
		}
		select {
		case rx <- rxAdvert{prio: res.Advert.Priority, src: src, interval: advertInterval(res.Advert)}:
		case <-stop:
			return nil
		}
	}
}

func (i *Instance) drop(r Reason, src netip.Addr) {
	if r == ReasonVRID {
		// Another virtual router on the same LAN: not ours, not an error.
		return
	}
	name := r.String()
	i.mu.Lock()
	i.drops[name]++
	i.mu.Unlock()
	if !i.allowLog("drop_" + name) {
		return
	}
	switch r {
	case ReasonAuthType, ReasonAuthPass, ReasonAdvertInt, ReasonVersion, ReasonUnicastPeer, ReasonMode:
		// A peer configured differently: both sides will be master.
		i.log.Warn("vrrp advert dropped", "reason", name, "src", src.String())
	default:
		i.log.Debug("vrrp advert dropped", "reason", name, "src", src.String())
	}
}

// allowLog reports whether a line for key may be logged now (at most one
// per dropLogEvery).
func (i *Instance) allowLog(key string) bool {
	now := time.Now()
	i.mu.Lock()
	defer i.mu.Unlock()
	if last, ok := i.lastLog[key]; ok && now.Sub(last) < dropLogEvery {
		return false
	}
	i.lastLog[key] = now
	return true
}

// advertInterval is the interval a v3 advert carries (0 for v2: v2 drops a
// different interval instead of adopting it).
func advertInterval(a Advert) time.Duration {
	if a.Version != Version3 {
		return 0
	}
	return time.Duration(a.MaxAdvertInt) * centisecond
}
