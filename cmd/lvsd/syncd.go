package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/vrrp"
)

// syncDaemon keeps the kernel's IPVS connection sync daemon in the role
// the lvs_sync_daemon's VRRP instance asks for (keepalived's
// ipvs_syncd_master/ipvs_syncd_backup): master while the instance is
// MASTER, backup otherwise, from the start. The VRRP goroutine only
// records the state and wakes the loop: a netlink call never delays an
// advert.
type syncDaemon struct {
	log  *slog.Logger
	k    ipvs.SyncDaemonKernel
	wake chan struct{}

	mu     sync.Mutex
	cfg    *conf.LVSSyncDaemon
	master bool // the followed instance is MASTER
	// running is the daemon lvsd last started; nil = none.
	running *ipvs.SyncDaemon
	err     error // of the last attempt
}

// syncRetry is how soon a failed start is tried again (the interface may
// not exist yet, or the kernel may refuse while mixed-family services
// exist).
const syncRetry = 5 * time.Second

func newSyncDaemon(log *slog.Logger, k ipvs.SyncDaemonKernel) *syncDaemon {
	return &syncDaemon{log: log, k: k, wake: make(chan struct{}, 1)}
}

func (s *syncDaemon) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// set installs the configuration (start, reload); nil = no daemon.
func (s *syncDaemon) set(cfg *conf.LVSSyncDaemon) {
	s.mu.Lock()
	if s.cfg == nil || cfg == nil || s.cfg.Instance != cfg.Instance {
		// A new instance to follow starts as backup, as keepalived does,
		// until it reports MASTER.
		s.master = false
	}
	s.cfg = cfg
	s.mu.Unlock()
	s.poke()
}

// state is the Coordinator's hook: it runs on an instance's goroutine.
func (s *syncDaemon) state(instance string, to vrrp.State) {
	s.mu.Lock()
	if s.cfg == nil || s.cfg.Instance != instance || s.master == (to == vrrp.StateMaster) {
		s.mu.Unlock()
		return
	}
	s.master = to == vrrp.StateMaster
	s.mu.Unlock()
	s.poke()
}

// wantDaemon is the daemon cfg asks for in the instance's state.
func wantDaemon(cfg *conf.LVSSyncDaemon, master bool) *ipvs.SyncDaemon {
	if cfg == nil {
		return nil
	}
	d := &ipvs.SyncDaemon{State: ipvs.SyncBackup, Interface: cfg.Interface, SyncID: cfg.SyncID,
		MaxLen: uint16(cfg.MaxLen), Group: cfg.Group, Port: uint16(cfg.Port), TTL: uint8(cfg.TTL)}
	if master {
		d.State = ipvs.SyncMaster
	}
	return d
}

// sameSyncDaemon compares two lvs_sync_daemon blocks by what they ask of
// the kernel, wherever they sit in the file.
func sameSyncDaemon(a, b *conf.LVSSyncDaemon) bool {
	wa, wb := wantDaemon(a, false), wantDaemon(b, false)
	return (wa == nil) == (wb == nil) && (wa == nil || (*wa == *wb && a.Instance == b.Instance))
}

// syncStep is one kernel call: stop the daemon of a role, or start one.
type syncStep struct {
	stop  ipvs.SyncState
	start *ipvs.SyncDaemon
}

// syncSteps are the calls that take the kernel from running (what lvsd
// started last) to want. The other role is stopped before a start, as
// keepalived does on each transition (so a daemon left by someone else
// goes too); a daemon whose settings change is stopped and started again,
// since the kernel cannot change one in place.
func syncSteps(running, want *ipvs.SyncDaemon) []syncStep {
	switch {
	case want == nil && running == nil:
		return nil
	case want == nil:
		return []syncStep{{stop: running.State}}
	case running != nil && *running == *want:
		return nil
	}
	other := ipvs.SyncMaster
	if want.State == ipvs.SyncMaster {
		other = ipvs.SyncBackup
	}
	steps := []syncStep{{stop: other}}
	if running != nil && running.State == want.State {
		steps = append(steps, syncStep{stop: want.State})
	}
	return append(steps, syncStep{start: want})
}

// run applies the wanted daemon at each wake-up until ctx ends, then
// stops the one it runs (keepalived stops it on exit too).
func (s *syncDaemon) run(ctx context.Context) error {
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			s.mu.Lock()
			s.cfg = nil
			s.mu.Unlock()
			s.apply()
			return nil
		case <-s.wake:
		case <-retry:
		}
		retry = nil
		if err := s.apply(); err != nil {
			retry = time.After(syncRetry)
		}
	}
}

func (s *syncDaemon) apply() error {
	s.mu.Lock()
	want, running := wantDaemon(s.cfg, s.master), s.running
	s.mu.Unlock()
	var err error
	for _, st := range syncSteps(running, want) {
		if st.start == nil {
			if e := s.k.StopSyncDaemon(st.stop); e != nil {
				err = e
			} else if running != nil && running.State == st.stop {
				s.log.Info("lvs sync daemon stopped", "state", st.stop.String())
				running = nil
			}
			continue
		}
		e := s.k.StartSyncDaemon(*st.start)
		if errors.Is(e, unix.EEXIST) {
			// One of this role lvsd did not start (ipvsadm, an earlier
			// run): replace it with the configured one.
			s.log.Warn("lvs sync daemon replaced", "state", st.start.State.String())
			if e = s.k.StopSyncDaemon(st.start.State); e == nil {
				e = s.k.StartSyncDaemon(*st.start)
			}
		}
		if e != nil {
			err = e
			break
		}
		running = st.start
		s.log.Info("lvs sync daemon started", "state", st.start.State.String(), "daemon", st.start.String())
	}
	if err != nil {
		s.log.Error("lvs sync daemon", "err", err)
	}
	s.mu.Lock()
	s.running, s.err = running, err
	s.mu.Unlock()
	return err
}

// syncDaemonStatus is the lvs_sync_daemon part of `lvsd status`.
type syncDaemonStatus struct {
	// Want is the role the instance's state asks for.
	Want string `json:"want"`
	// Kernel lists the daemons running in the kernel, as ipvsadm -L
	// --daemon prints them.
	Kernel []string `json:"kernel"`
	Error  string   `json:"error,omitempty"`
}

func (s *syncDaemon) status() *syncDaemonStatus {
	s.mu.Lock()
	want, err := wantDaemon(s.cfg, s.master), s.err
	s.mu.Unlock()
	if want == nil {
		return nil
	}
	st := &syncDaemonStatus{Want: want.State.String(), Kernel: []string{}}
	if err != nil {
		st.Error = err.Error()
	}
	ds, kerr := s.k.SyncDaemons()
	if kerr != nil && st.Error == "" {
		st.Error = kerr.Error()
	}
	for _, d := range ds {
		st.Kernel = append(st.Kernel, d.String())
	}
	return st
}
