package vrrp

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lvsd/lvsd/conf"
)

func TestEffective(t *testing.T) {
	up := func(w int) Tracked { return Tracked{Kind: KindScript, Name: "s", Weight: w, Up: true} }
	down := func(w int) Tracked { return Tracked{Kind: KindScript, Name: "s", Weight: w} }
	for _, tc := range []struct {
		name      string
		base      uint8
		objs      []Tracked
		prio      uint8
		wantFault bool
	}{
		{"nothing tracked", 100, nil, 100, false},
		{"weight 0 up", 100, []Tracked{up(0)}, 100, false},
		{"weight 0 down is FAULT", 100, []Tracked{down(0)}, 100, true},
		{"positive added when up", 100, []Tracked{up(20)}, 120, false},
		{"positive not added when down", 100, []Tracked{down(20)}, 100, false},
		{"negative subtracted when down", 100, []Tracked{down(-30)}, 70, false},
		{"negative ignored when up", 100, []Tracked{up(-30)}, 100, false},
		{"sum of several", 100, []Tracked{up(10), down(-5), up(-50), down(7)}, 105, false},
		{"clamped below 255", 250, []Tracked{up(20)}, 254, false},
		{"clamped above 0", 10, []Tracked{down(-50)}, 1, false},
		{"owner keeps 255", 255, []Tracked{down(-50), up(10)}, 255, false},
		{"owner still faults", 255, []Tracked{down(0)}, 255, true},
		{"fault with weights", 100, []Tracked{down(0), up(10)}, 110, true},
	} {
		p, f := Effective(tc.base, tc.objs)
		if p != tc.prio || f != tc.wantFault {
			t.Errorf("%s: got %d fault=%v, want %d fault=%v", tc.name, p, f, tc.prio, tc.wantFault)
		}
	}
}

func TestScriptState(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rise, fall int
		initFail   bool
		runs       []bool
		want       []bool // OK after each run
	}{
		{"fall 1", 1, 1, false, []bool{true, false, true}, []bool{true, false, true}},
		{"fall 3 needs three in a row", 1, 3, false,
			[]bool{false, false, true, false, false, false}, []bool{true, true, true, true, true, false}},
		{"rise 2 needs two in a row", 2, 1, false,
			[]bool{false, true, false, true, true}, []bool{false, false, false, false, true}},
		{"init_fail starts failed", 2, 1, true, []bool{true, true}, []bool{false, true}},
	} {
		s := NewScriptState(tc.rise, tc.fall, tc.initFail)
		var got []bool
		for _, r := range tc.runs {
			s.Observe(r)
			got = append(got, s.OK)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestStepTracking is the state machine table of tracking and sync groups
// (keepalived's FAULT state, effective priority, sync group orders).
func TestStepTracking(t *testing.T) {
	p := params(100)
	down := func(prio uint8) SetMasterDownTimer {
		d := params(prio).MasterDownInterval()
		return SetMasterDownTimer{d, t0.Add(d)}
	}
	becomeMaster := func(prio uint8) []Action {
		return []Action{
			StopTimers{}, SendAdvert{prio}, AddVIPs{}, SendGARP{},
			SetAdvertTimer{time.Second, t0.Add(time.Second)},
			SetGARPTimer{D: 5 * time.Second, At: t0.Add(5 * time.Second)},
		}
	}
	for _, tc := range []struct {
		name  string
		p     Params
		m     Machine
		ev    Event
		want  Machine
		wantA []Action
	}{
		{"init records tracking", p, Machine{}, TrackChanged{Priority: 80, Fault: true},
			Machine{Prio: 80, Faulty: true}, nil},
		{"startup in fault", p, Machine{Faulty: true}, Startup{},
			Machine{State: StateFault, Faulty: true}, []Action{StopTimers{}, RemoveVIPs{}}},
		{"master fault: priority 0 and VIPs removed", p, Machine{State: StateMaster}, TrackChanged{Priority: 100, Fault: true},
			Machine{State: StateFault, Prio: 100, Faulty: true}, []Action{StopTimers{}, SendAdvert{0}, RemoveVIPs{}}},
		{"backup fault", p, Machine{State: StateBackup}, TrackChanged{Priority: 100, Fault: true},
			Machine{State: StateFault, Prio: 100, Faulty: true}, []Action{StopTimers{}}},
		{"fault ignores adverts", p, Machine{State: StateFault, Faulty: true}, AdvertReceived{Priority: 50, Src: ipHigh},
			Machine{State: StateFault, Faulty: true}, nil},
		{"fault ignores sync master", p, Machine{State: StateFault, Faulty: true}, SyncState{To: StateMaster},
			Machine{State: StateFault, Faulty: true}, nil},
		{"fault recovers to backup, skew of the effective priority", p, Machine{State: StateFault, Faulty: true}, TrackChanged{Priority: 60},
			Machine{State: StateBackup, Prio: 60}, []Action{down(60)}},
		{"owner recovers to master", params(255), Machine{State: StateFault, Faulty: true}, TrackChanged{Priority: 255},
			Machine{State: StateMaster, Prio: 255}, becomeMaster(255)},
		{"fault shutdown", p, Machine{State: StateFault, Faulty: true}, Shutdown{},
			Machine{State: StateInit, Faulty: true}, []Action{StopTimers{}}},
		{"master advertises effective priority", p, Machine{State: StateMaster, Prio: 130}, AdvertTimerFired{},
			Machine{State: StateMaster, Prio: 130}, []Action{SendAdvert{130}, SetAdvertTimer{time.Second, t0.Add(time.Second)}}},
		{"priority change alone: no action", p, Machine{State: StateMaster}, TrackChanged{Priority: 70},
			Machine{State: StateMaster, Prio: 70}, nil},
		{"lowered master yields to a higher advert", p, Machine{State: StateMaster, Prio: 70}, AdvertReceived{Priority: 90, Src: ipHigh},
			Machine{State: StateBackup, Prio: 70}, []Action{StopTimers{}, SendAdvert{70}, RemoveVIPs{}, down(70)}},
		{"raised backup preempts a lower master", p, Machine{State: StateBackup, Prio: 150}, AdvertReceived{Priority: 120, Src: ipHigh},
			Machine{State: StateBackup, Prio: 150}, nil},
		{"lowered backup accepts a master it would preempt", p, Machine{State: StateBackup, Prio: 70}, AdvertReceived{Priority: 90, Src: ipHigh},
			Machine{State: StateBackup, Prio: 70}, []Action{down(70)}},
		{"backup master down uses effective priority", p, Machine{State: StateBackup, Prio: 42}, MasterDownTimerFired{},
			Machine{State: StateMaster, Prio: 42}, becomeMaster(42)},
		{"sync: backup follows to master", p, Machine{State: StateBackup}, SyncState{To: StateMaster},
			Machine{State: StateMaster}, becomeMaster(100)},
		{"sync: master follows to backup", p, Machine{State: StateMaster}, SyncState{To: StateBackup},
			Machine{State: StateBackup}, []Action{StopTimers{}, SendAdvert{0}, RemoveVIPs{}, down(100)}},
		{"sync: backup stays backup", p, Machine{State: StateBackup}, SyncState{To: StateBackup},
			Machine{State: StateBackup}, nil},
		{"sync: master stays master", p, Machine{State: StateMaster}, SyncState{To: StateMaster},
			Machine{State: StateMaster}, nil},
	} {
		got, a := tc.m.Step(tc.p, tc.ev, t0)
		if !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(a, tc.wantA) {
			t.Errorf("%s:\n got  %+v %#v\n want %+v %#v", tc.name, got, a, tc.want, tc.wantA)
		}
	}
}

// TestInstanceTrackInterface: the tracked link going down puts a master in
// FAULT (priority-0 advert, VIP removed, silence); back up, it listens as a
// backup and takes over after Master_Down. A weighted interface changes the
// advertised priority instead.
func TestInstanceTrackInterface(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.State = conf.StateMaster
		cfg.TrackInterfaces = []conf.TrackInterface{{Name: "uplink", Weight: -30}}
		inst, f, cancel, done := startFake(t, cfg)
		if st := inst.Status(); st.State != "MASTER" || st.EffectivePriority != 100 || len(st.Tracked) != 2 {
			t.Fatalf("status %+v", st)
		}
		f.links.set("uplink", false)
		synctest.Wait()
		time.Sleep(time.Second)
		synctest.Wait()
		sent, _, _ := f.snapshot()
		if last := sent[len(sent)-1]; last.Priority != 70 || inst.Status().EffectivePriority != 70 || inst.Status().State != "MASTER" {
			t.Fatalf("weighted down: last advert %d, status %+v", last.Priority, inst.Status())
		}
		// The primary interface (weight 0) down: FAULT.
		f.links.set("veth0", false)
		synctest.Wait()
		sent, _, on := f.snapshot()
		if st := inst.Status(); st.State != "FAULT" || on || sent[len(sent)-1].Priority != 0 {
			t.Fatalf("fault: %+v vip %v last %+v", st, on, sent[len(sent)-1])
		}
		n := len(sent)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if sent, _, _ = f.snapshot(); len(sent) != n {
			t.Fatalf("adverts in FAULT: %d", len(sent)-n)
		}
		f.links.set("veth0", true)
		synctest.Wait()
		if st := inst.Status(); st.State != "BACKUP" {
			t.Fatalf("recovered: %+v", st)
		}
		time.Sleep(params(70).MasterDownInterval())
		synctest.Wait()
		if st := inst.Status(); st.State != "MASTER" || st.EffectivePriority != 70 {
			t.Fatalf("after master down: %+v", st)
		}
		cancel()
		<-done
	})
}

// recorder is a notify runner that records the argv of each run and checks
// that runs never overlap.
type recorder struct {
	mu      sync.Mutex
	runs    [][]string
	active  int
	overlap bool
}

func (r *recorder) run(_ context.Context, argv []string, _ time.Duration, _ string) error {
	r.mu.Lock()
	r.active++
	r.overlap = r.overlap || r.active > 1
	r.runs = append(r.runs, argv)
	r.mu.Unlock()
	time.Sleep(10 * time.Millisecond)
	r.mu.Lock()
	r.active--
	r.mu.Unlock()
	return nil
}

// TestInstanceNotify: keepalived's scripts and arguments, in order, one at
// a time, including notify_stop on shutdown.
func TestInstanceNotify(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Notify = conf.Notify{
			Master: []string{"/m"}, Backup: []string{"/b"}, Fault: []string{"/f"}, Stop: []string{"/s"},
			Generic: []string{"/n", "x"}, Timeout: time.Second,
		}
		c := NewCoordinator(nil)
		rec := &recorder{}
		c.notify.run = rec.run
		ctx, stop := context.WithCancel(context.Background())
		coordDone := make(chan struct{})
		go func() { c.Run(ctx); close(coordDone) }()
		f := newFake()
		inst, err := newInstance(cfg, nil, func(conf.VRRPInstance) (*system, error) {
			return &system{conn: f, vips: fakeARP{f}, arp: fakeARP{f}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		inst.links = f.links
		c.Apply(&conf.Config{VRRP: []conf.VRRPInstance{cfg}})
		c.Attach(inst)
		ictx, icancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- inst.Run(ictx) }()
		synctest.Wait()
		time.Sleep(params(100).MasterDownInterval())
		synctest.Wait()
		f.links.set("veth0", false)
		synctest.Wait()
		icancel()
		<-done
		stop()
		<-coordDone
		want := [][]string{
			{"/b"}, {"/n", "x", "INSTANCE", "vi1", "BACKUP", "100"},
			{"/m"}, {"/n", "x", "INSTANCE", "vi1", "MASTER", "100"},
			{"/f"}, {"/n", "x", "INSTANCE", "vi1", "FAULT", "100"},
			{"/s"}, {"/n", "x", "INSTANCE", "vi1", "STOP", "100"},
		}
		if !reflect.DeepEqual(rec.runs, want) || rec.overlap {
			t.Fatalf("runs %q overlap %v", rec.runs, rec.overlap)
		}
		if st := inst.Status(); st.LastNotify == nil || st.LastNotify.Argv[4] != "STOP" {
			t.Fatalf("last notify %+v", st.LastNotify)
		}
	})
}

// TestSyncGroup: one member's FAULT puts the other in FAULT until it
// recovers; a member becoming MASTER takes the other along; the group's
// notify runs with GROUP arguments.
func TestSyncGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := testConfig(), testConfig()
		b.Name, b.VRID, b.Interface = "vi2", 52, "veth1"
		a.Priority = 200 // a's Master_Down runs out first
		cfg := &conf.Config{VRRP: []conf.VRRPInstance{a, b}, SyncGroups: []conf.SyncGroup{{
			Name: "g", Members: []string{"vi1", "vi2"}, Notify: conf.Notify{Generic: []string{"/g"}, Timeout: time.Second},
		}}}
		c := NewCoordinator(nil)
		rec := &recorder{}
		c.notify.run = rec.run
		ctx, stop := context.WithCancel(context.Background())
		coordDone := make(chan struct{})
		go func() { c.Run(ctx); close(coordDone) }()
		c.Apply(cfg)
		links := &fakeLinks{}
		var insts []*Instance
		var cancels []context.CancelFunc
		var dones []chan error
		for _, vi := range cfg.VRRP {
			f := newFake()
			inst, err := newInstance(vi, nil, func(conf.VRRPInstance) (*system, error) {
				return &system{conn: f, vips: fakeARP{f}, arp: fakeARP{f}}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			inst.links = links
			c.Attach(inst)
			ictx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- inst.Run(ictx) }()
			insts, cancels, dones = append(insts, inst), append(cancels, cancel), append(dones, done)
		}
		synctest.Wait()
		states := func() string { return insts[0].Status().State + "/" + insts[1].Status().State }
		if s := states(); s != "BACKUP/BACKUP" {
			t.Fatalf("start %s", s)
		}
		time.Sleep(params(200).MasterDownInterval())
		synctest.Wait()
		if s := states(); s != "MASTER/MASTER" {
			t.Fatalf("vi1's master down: %s", s)
		}
		links.set("veth1", false) // vi2's own interface
		synctest.Wait()
		if s := states(); s != "FAULT/FAULT" {
			t.Fatalf("vi2 fault: %s", s)
		}
		if st := insts[0].Status(); st.SyncGroup != "g" || st.Tracked[len(st.Tracked)-1].Kind != KindGroup {
			t.Fatalf("vi1 status %+v", st)
		}
		links.set("veth1", true)
		synctest.Wait()
		if s := states(); s != "BACKUP/BACKUP" {
			t.Fatalf("recovered: %s", s)
		}
		for k := range insts {
			cancels[k]()
			<-dones[k]
		}
		stop()
		<-coordDone
		var groupRuns []string
		for _, r := range rec.runs {
			groupRuns = append(groupRuns, r[3])
		}
		if want := []string{"BACKUP", "MASTER", "FAULT", "BACKUP"}; !slices.Equal(groupRuns, want) {
			t.Fatalf("group notify %q, want %q", rec.runs, want)
		}
	})
}

// TestSyncGroupHoldsWhileAMemberHearsItsMaster: keepalived's
// can_goto_master. vi1 hears nobody, but vi2 accepts a priority-250 master:
// vi1's Master_Down runs out again and again and the group stays BACKUP;
// once vi2's master goes silent, both become MASTER.
func TestSyncGroupHoldsWhileAMemberHearsItsMaster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := testConfig(), testConfig()
		b.Name, b.VRID, b.Interface = "vi2", 52, "veth1"
		cfg := &conf.Config{VRRP: []conf.VRRPInstance{a, b}, SyncGroups: []conf.SyncGroup{{Name: "g", Members: []string{"vi1", "vi2"}}}}
		c := NewCoordinator(nil)
		ctx, stop := context.WithCancel(context.Background())
		coordDone := make(chan struct{})
		go func() { c.Run(ctx); close(coordDone) }()
		c.Apply(cfg)
		var insts []*Instance
		var fakes []*fake
		var cancels []context.CancelFunc
		var dones []chan error
		for _, vi := range cfg.VRRP {
			f := newFake()
			inst, err := newInstance(vi, nil, func(conf.VRRPInstance) (*system, error) {
				return &system{conn: f, vips: fakeARP{f}, arp: fakeARP{f}}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			inst.links = f.links
			c.Attach(inst)
			ictx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- inst.Run(ictx) }()
			insts, fakes, cancels, dones = append(insts, inst), append(fakes, f), append(cancels, cancel), append(dones, done)
		}
		master := advertBytes(t, func(a *Advert) { a.VRID, a.Priority = 52, 250 })
		for range 12 {
			fakes[1].in <- fakePacket{b: master, ttl: 255, src: ipHigh}
			time.Sleep(time.Second)
			synctest.Wait()
			if s := insts[0].Status().State + "/" + insts[1].Status().State; s != "BACKUP/BACKUP" {
				t.Fatalf("while vi2 hears its master: %s", s)
			}
		}
		time.Sleep(2 * params(100).MasterDownInterval())
		synctest.Wait()
		if s := insts[0].Status().State + "/" + insts[1].Status().State; s != "MASTER/MASTER" {
			t.Fatalf("after vi2's master went silent: %s", s)
		}
		for k := range insts {
			cancels[k]()
			<-dones[k]
		}
		stop()
		<-coordDone
	})
}
