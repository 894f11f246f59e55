package vrrp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

func TestMatchProcess(t *testing.T) {
	comm := conf.VRRPTrackProcess{Argv: []string{"haproxy"}}
	full := func(m string, argv ...string) conf.VRRPTrackProcess {
		return conf.VRRPTrackProcess{Argv: argv, FullCommand: true, ParamMatch: m}
	}
	p := func(comm string, argv ...string) procInfo { return procInfo{Comm: comm, Argv: argv} }
	for _, tc := range []struct {
		name string
		cfg  conf.VRRPTrackProcess
		proc procInfo
		want bool
	}{
		{"comm", comm, p("haproxy", "/usr/sbin/haproxy", "-f", "x"), true},
		{"comm differs", comm, p("haproxy2"), false},
		{"zombie", comm, procInfo{Comm: "haproxy", Zombie: true}, false},
		{"full: argv[0] only", full("", "/usr/sbin/haproxy"), p("haproxy", "/usr/sbin/haproxy", "-f", "x"), true},
		{"full: not the comm", full("", "haproxy"), p("haproxy", "/usr/sbin/haproxy"), false},
		{"full: kernel thread", full("", "kthreadd"), p("kthreadd"), false},
		{"exact", full(conf.ParamExact, "/bin/sleep", "1000"), p("sleep", "/bin/sleep", "1000"), true},
		{"exact: more args", full(conf.ParamExact, "/bin/sleep", "1000"), p("sleep", "/bin/sleep", "1000", "x"), false},
		{"exact: no args wanted", full(conf.ParamExact, "/bin/sleep"), p("sleep", "/bin/sleep", "5"), false},
		{"exact: no args", full(conf.ParamExact, "/bin/sleep"), p("sleep", "/bin/sleep"), true},
		{"partial: leading args", full(conf.ParamPartial, "/bin/app", "-c", "a.conf"), p("app", "/bin/app", "-c", "a.conf", "-v"), true},
		{"partial: last must be whole", full(conf.ParamPartial, "/bin/app", "-c", "a"), p("app", "/bin/app", "-c", "a.conf"), false},
		{"partial: too few", full(conf.ParamPartial, "/bin/app", "-c", "a"), p("app", "/bin/app", "-c"), false},
		{"initial: last a prefix", full(conf.ParamInitial, "/bin/app", "-c", "a"), p("app", "/bin/app", "-c", "a.conf"), true},
		{"initial: earlier whole", full(conf.ParamInitial, "/bin/app", "-", "a"), p("app", "/bin/app", "-c", "a.conf"), false},
		{"initial: no args", full(conf.ParamInitial, "/bin/app"), p("app", "/bin/app", "x"), true},
	} {
		if got := matchProcess(tc.cfg, tc.proc); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestProcState(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	type step struct {
		at   float64
		n    int
		up   bool
		flip bool
	}
	for _, tc := range []struct {
		name  string
		cfg   conf.VRRPTrackProcess
		steps []step
	}{
		{"quorum 1", conf.VRRPTrackProcess{Quorum: 1, QuorumMax: 1 << 30},
			[]step{{0, 1, true, true}, {1, 3, true, false}, {2, 0, false, true}}},
		{"quorum 2..3", conf.VRRPTrackProcess{Quorum: 2, QuorumMax: 3},
			[]step{{0, 1, false, false}, {1, 2, true, true}, {2, 4, false, true}, {3, 3, true, true}}},
		{"quorum_max 0: up while none", conf.VRRPTrackProcess{Quorum: 0, QuorumMax: 0},
			[]step{{0, 0, true, true}, {1, 1, false, true}}},
		{"fork_delay", conf.VRRPTrackProcess{Quorum: 1, QuorumMax: 9, ForkDelay: 2 * time.Second},
			[]step{{0, 1, false, false}, {1, 1, false, false}, {2, 1, true, true}}},
		{"fork_delay restarts when quorum drops", conf.VRRPTrackProcess{Quorum: 1, QuorumMax: 9, ForkDelay: 2 * time.Second},
			[]step{{0, 1, false, false}, {1, 0, false, false}, {2, 1, false, false}, {3.5, 1, false, false}, {4, 1, true, true}}},
		{"terminate_delay", conf.VRRPTrackProcess{Quorum: 1, QuorumMax: 9, TerminateDelay: 1500 * time.Millisecond},
			[]step{{0, 1, true, true}, {1, 0, true, false}, {2, 1, true, false}, {3, 0, true, false}, {4.5, 0, false, true}}},
	} {
		var s procState
		for k, st := range tc.steps {
			flip := s.observe(tc.cfg, st.n, at(st.at))
			if flip != st.flip || s.up != st.up {
				t.Errorf("%s step %d (n=%d at %vs): up %v flip %v, want up %v flip %v", tc.name, k, st.n, st.at, s.up, flip, st.up, st.flip)
			}
		}
	}
}

func TestTrackedProcessContribution(t *testing.T) {
	proc := func(w int, rev, up bool) Tracked {
		return Tracked{Kind: KindProcess, Name: "p", Weight: w, Reverse: rev, Up: up}
	}
	for _, tc := range []struct {
		o     Tracked
		delta int
		fault bool
	}{
		{proc(0, false, true), 0, false},
		{proc(0, false, false), 0, true},
		{proc(0, true, true), 0, true}, // reverse: FAULT while running
		{proc(0, true, false), 0, false},
		{proc(10, false, true), 10, false},
		{proc(10, false, false), 0, false},
		{proc(10, true, true), -10, false},
		{proc(-10, false, false), -10, false},
		{proc(-10, true, false), 10, false},
		{proc(-10, true, true), 0, false},
	} {
		d, f := tc.o.contribution()
		if d != tc.delta || f != tc.fault {
			t.Errorf("%+v: got %d fault %v, want %d fault %v", tc.o, d, f, tc.delta, tc.fault)
		}
	}
}

// TestCoordinatorTrackProcess: the state comes from a scan at Apply, then
// from the periodic scans; a failing scan changes nothing.
func TestCoordinatorTrackProcess(t *testing.T) {
	running := 1
	var scanErr error
	c := NewCoordinator(nil)
	c.listProcs = func(names map[string]bool, cmdline bool) ([]procInfo, error) {
		if !names["/bin/sleep"] {
			t.Errorf("names %v", names)
		}
		if !cmdline {
			t.Error("cmdline not read for a full-command process")
		}
		var ps []procInfo
		for range running {
			ps = append(ps, procInfo{Comm: "sleep", Argv: []string{"/bin/sleep", "777"}}, procInfo{Comm: "sleep", Argv: []string{"/bin/sleep", "1"}})
		}
		return ps, scanErr
	}
	p := conf.VRRPTrackProcess{Name: "s", Process: "/bin/sleep 777", Argv: []string{"/bin/sleep", "777"}, FullCommand: true,
		ParamMatch: conf.ParamExact, Quorum: 1, QuorumMax: 1}
	cfg := testConfig()
	cfg.DontTrackPrimary = true
	cfg.TrackProcesses = []conf.TrackProcess{{Process: p, Weight: -30}}
	inst, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Apply(&conf.Config{VRRP: []conf.VRRPInstance{cfg}})
	c.Attach(inst)
	check := func(what string, prio uint8, value int64) {
		t.Helper()
		if p, _, _ := inst.verdict(); p != prio {
			t.Fatalf("%s: priority %d, want %d", what, p, prio)
		}
		var o Tracked
		for _, x := range inst.Status().Tracked {
			if x.Kind == KindProcess {
				o = x
			}
		}
		if o.Value != value || o.Path != "/bin/sleep 777" {
			t.Fatalf("%s: tracked %+v", what, o)
		}
	}
	check("start", 100, 1)
	running = 2 // above quorum_max
	c.scanOnce(time.Now())
	check("two", 70, 2)
	running = 0
	scanErr = errors.New("boom")
	c.scanOnce(time.Now())
	check("scan error", 70, 2)
	scanErr = nil
	c.scanOnce(time.Now())
	check("none", 70, 0)
	running = 1
	c.scanOnce(time.Now())
	check("one again", 100, 1)
}

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		in         string
		comm       string
		zombie, ok bool
	}{
		{"1 (systemd) S 0 1 1", "systemd", false, true},
		{"42 (a b) c) Z 1 42", "a b) c", true, true},
		{"7 () R 1", "", false, true},
		{"7 (x", "", false, false},
		{"7 (x)", "", false, false},
		{"", "", false, false},
	} {
		comm, z, ok := parseStat([]byte(tc.in))
		if string(comm) != tc.comm || z != tc.zombie || ok != tc.ok {
			t.Errorf("parseStat(%q) = %q %v %v", tc.in, comm, z, ok)
		}
	}
	if got := splitCmdline([]byte("/bin/sleep\x00a b\x00\x00")); len(got) != 3 || got[1] != "a b" || got[2] != "" {
		t.Errorf("splitCmdline: %q", got)
	}
	if splitCmdline(nil) != nil {
		t.Error("empty cmdline")
	}
}

func FuzzParseProc(f *testing.F) {
	f.Add([]byte("1 (systemd) S 0 1 1"), []byte("/sbin/init\x00splash\x00"))
	f.Add([]byte("42 (a (b)) Z"), []byte(""))
	f.Fuzz(func(t *testing.T, stat, cmdline []byte) {
		if comm, _, ok := parseStat(stat); ok && !bytes.Contains(stat, comm) {
			t.Fatalf("comm %q not in %q", comm, stat)
		}
		argv := splitCmdline(cmdline)
		joined := strings.Join(argv, "\x00")
		if want := strings.TrimSuffix(string(cmdline), "\x00"); joined != want {
			t.Fatalf("splitCmdline(%q) = %q", cmdline, argv)
		}
	})
}
