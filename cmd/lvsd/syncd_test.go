package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/vrrp"
)

func TestSyncSteps(t *testing.T) {
	backup := &ipvs.SyncDaemon{State: ipvs.SyncBackup, Interface: "eth0", SyncID: 51}
	master := &ipvs.SyncDaemon{State: ipvs.SyncMaster, Interface: "eth0", SyncID: 51}
	master2 := &ipvs.SyncDaemon{State: ipvs.SyncMaster, Interface: "eth0", SyncID: 52}
	stop := func(s ipvs.SyncState) syncStep { return syncStep{stop: s} }
	start := func(d *ipvs.SyncDaemon) syncStep { return syncStep{start: d} }
	for _, tc := range []struct {
		name          string
		running, want *ipvs.SyncDaemon
		steps         []syncStep
	}{
		{"nothing", nil, nil, nil},
		{"first start as backup", nil, backup, []syncStep{stop(ipvs.SyncMaster), start(backup)}},
		{"became master", backup, master, []syncStep{stop(ipvs.SyncBackup), start(master)}},
		{"back to backup", master, backup, []syncStep{stop(ipvs.SyncMaster), start(backup)}},
		{"unchanged", master, &ipvs.SyncDaemon{State: ipvs.SyncMaster, Interface: "eth0", SyncID: 51}, nil},
		{"settings changed", master, master2, []syncStep{stop(ipvs.SyncBackup), stop(ipvs.SyncMaster), start(master2)}},
		{"removed", master, nil, []syncStep{stop(ipvs.SyncMaster)}},
	} {
		if got := syncSteps(tc.running, tc.want); !reflect.DeepEqual(got, tc.steps) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.steps)
		}
	}
}

// fakeSyncKernel keeps daemons as the kernel does: one per role, EEXIST
// on a second start, ESRCH when stopping none.
type fakeSyncKernel struct {
	mu    sync.Mutex
	ds    map[ipvs.SyncState]ipvs.SyncDaemon
	calls []string
}

func (k *fakeSyncKernel) StartSyncDaemon(d ipvs.SyncDaemon) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, "start "+d.String())
	if _, ok := k.ds[d.State]; ok {
		return unix.EEXIST
	}
	k.ds[d.State] = d
	return nil
}

func (k *fakeSyncKernel) StopSyncDaemon(s ipvs.SyncState) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.ds[s]; ok {
		k.calls = append(k.calls, "stop "+s.String())
		delete(k.ds, s)
	}
	return nil
}

func (k *fakeSyncKernel) SyncDaemons() ([]ipvs.SyncDaemon, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []ipvs.SyncDaemon
	for _, s := range []ipvs.SyncState{ipvs.SyncMaster, ipvs.SyncBackup} {
		if d, ok := k.ds[s]; ok {
			out = append(out, d)
		}
	}
	return out, nil
}

func (k *fakeSyncKernel) roles() string {
	ds, _ := k.SyncDaemons()
	return fmt.Sprint(ds)
}

// The loop follows the instance: backup at start, master on MASTER, backup
// again on FAULT, restarted by a changed reload, replacing a daemon it did
// not start, and stopped at the end. Other instances' states are ignored.
func TestSyncDaemonFollowsVRRP(t *testing.T) {
	k := &fakeSyncKernel{ds: map[ipvs.SyncState]ipvs.SyncDaemon{
		// Left by ipvsadm: replaced by the configured one.
		ipvs.SyncBackup: {State: ipvs.SyncBackup, Interface: "old0"},
	}}
	s := newSyncDaemon(slog.New(slog.DiscardHandler), k)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.run(ctx)
	}()
	wait := func(what, want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for k.roles() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: kernel has %s, want %s; calls %v", what, k.roles(), want, k.calls)
			}
			time.Sleep(time.Millisecond)
		}
	}
	cfg := &conf.LVSSyncDaemon{Interface: "eth1", Instance: "VI_1", SyncID: 51, Group: netip.MustParseAddr("239.0.0.1")}
	s.set(cfg)
	b := ipvs.SyncDaemon{State: ipvs.SyncBackup, Interface: "eth1", SyncID: 51, Group: netip.MustParseAddr("239.0.0.1")}
	wait("start", fmt.Sprint([]ipvs.SyncDaemon{b}))
	m := b
	m.State = ipvs.SyncMaster
	s.state("VI_2", vrrp.StateMaster)
	s.state("VI_1", vrrp.StateMaster)
	wait("MASTER", fmt.Sprint([]ipvs.SyncDaemon{m}))
	s.state("VI_1", vrrp.StateFault)
	wait("FAULT", fmt.Sprint([]ipvs.SyncDaemon{b}))
	cfg2 := *cfg
	cfg2.SyncID, cfg2.TTL = 9, 3
	s.set(&cfg2)
	b2 := b
	b2.SyncID, b2.TTL = 9, 3
	wait("reload", fmt.Sprint([]ipvs.SyncDaemon{b2}))
	if st := s.status(); st.Want != "backup" || len(st.Kernel) != 1 || st.Kernel[0] != b2.String() || st.Error != "" {
		t.Errorf("status %+v", st)
	}
	cancel()
	<-done
	wait("stop", "[]")
	want := []string{"stop backup", "start " + b.String(), "stop backup", "start " + m.String(), "stop master", "start " + b.String(),
		"stop backup", "start " + b2.String(), "stop backup"}
	// The first start hit the leftover daemon: EEXIST, stop, start.
	want = append([]string{"start " + b.String()}, want...)
	if !reflect.DeepEqual(k.calls, want) {
		t.Errorf("calls:\n%v\nwant:\n%v", k.calls, want)
	}
}
