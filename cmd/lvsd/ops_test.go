package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/rules"
	"github.com/lvsd/lvsd/vrrp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func parse(t *testing.T, src string) *conf.Config {
	t.Helper()
	cfg, diags := conf.Parse([]byte(src), "test.hcl")
	if diags.HasErrors() {
		t.Fatalf("parse: %v", diags)
	}
	return cfg
}

const vrrpBlock = `vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = %d
  authentication {
    auth_type = "PASS"
    auth_pass = "s3cr3tpw"
  }
  virtual_ipaddress = ["198.51.100.30"]
}
`

const vsBlock = `virtual_server "mysql" {
  address    = "198.51.100.30:3306"
  lvs_sched  = "rr"
  lvs_method = "DR"
  real_server "db1" {
    address = "198.51.100.10:3306"
    weight  = %d
    tcp_check {
      connect_ip      = "127.0.0.1"
      connect_port    = %d
      connect_timeout = "%s"
    }
  }
}
`

func TestPlanReload(t *testing.T) {
	base := parse(t, fmt.Sprintf(vrrpBlock, 100)+fmt.Sprintf(vsBlock, 1, 3306, "5s"))
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{"identical", fmt.Sprintf(vrrpBlock, 100) + fmt.Sprintf(vsBlock, 1, 3306, "5s"), nil},
		{"blocks moved", "\n\n" + fmt.Sprintf(vsBlock, 1, 3306, "5s") + fmt.Sprintf(vrrpBlock, 100), nil},
		{"check only", fmt.Sprintf(vrrpBlock, 100) + fmt.Sprintf(vsBlock, 1, 3306, "2s"), []string{"checks changed"}},
		{"check target only", fmt.Sprintf(vrrpBlock, 100) + fmt.Sprintf(vsBlock, 1, 3307, "5s"), []string{"checks changed"}},
		{"weight", fmt.Sprintf(vrrpBlock, 100) + fmt.Sprintf(vsBlock, 2, 3306, "5s"), []string{"ipvs table changed"}},
		{"priority", fmt.Sprintf(vrrpBlock, 101) + fmt.Sprintf(vsBlock, 1, 3306, "5s"), []string{`vrrp_instance "VI_1" restarted`}},
		{"vrrp removed", fmt.Sprintf(vsBlock, 1, 3306, "5s"), []string{`vrrp_instance "VI_1" stopped`}},
		{"vs removed", fmt.Sprintf(vrrpBlock, 100), []string{"ipvs table changed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := planReload(base, parse(t, tc.src))
			if got := p.changes(); !slices.Equal(got, tc.want) {
				t.Errorf("changes %q, want %q (plan %+v)", got, tc.want, p)
			}
		})
	}
	// A check-only change: no VRRP instance stopped or started, no IPVS.
	p := planReload(base, parse(t, fmt.Sprintf(vrrpBlock, 100)+fmt.Sprintf(vsBlock, 1, 3306, "2s")))
	if len(p.VRRPStart) != 0 || len(p.VRRPStop) != 0 || p.IPVS || !p.Checks {
		t.Errorf("check-only plan %+v", p)
	}
}

// fakeKernel is an in-memory IPVS table that records every op applied.
type fakeKernel struct {
	mu    sync.Mutex
	table map[ipvs.Key]ipvs.Service
	ops   []string
}

func (f *fakeKernel) Dump() ([]ipvs.Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ipvs.Service
	for _, s := range f.table {
		s.Dests = slices.Clone(s.Dests)
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b ipvs.Service) int { return strings.Compare(a.Key.String(), b.Key.String()) })
	return out, nil
}

func (f *fakeKernel) Apply(o ipvs.Op) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, o.String())
	s := f.table[o.Service.Key]
	switch o.Kind {
	case ipvs.AddService, ipvs.UpdateService:
		s.Key, s.Sched, s.Persistence = o.Service.Key, o.Service.Sched, o.Service.Persistence
	case ipvs.DeleteService:
		delete(f.table, o.Service.Key)
		return nil
	case ipvs.AddDest:
		s.Dests = append(s.Dests, o.Dest)
	case ipvs.UpdateDest, ipvs.DeleteDest:
		i := slices.IndexFunc(s.Dests, func(d ipvs.Dest) bool { return d.Addr == o.Dest.Addr })
		if o.Kind == ipvs.UpdateDest {
			// The kernel keeps a destination's connections on update.
			d := o.Dest
			d.ActiveConns, d.InactConns = s.Dests[i].ActiveConns, s.Dests[i].InactConns
			s.Dests[i] = d
		} else {
			s.Dests = slices.Delete(s.Dests, i, i+1)
		}
	}
	f.table[o.Service.Key] = s
	return nil
}

func (f *fakeKernel) Stats() ([]ipvs.ServiceStats, error) {
	svcs, _ := f.Dump()
	var out []ipvs.ServiceStats
	for _, s := range svcs {
		st := ipvs.ServiceStats{Key: s.Key, Counters: ipvs.Counters{Conns: 7, InPkts: 70, InBytes: 7000}}
		for _, d := range s.Dests {
			st.Dests = append(st.Dests, ipvs.DestStats{Addr: d.Addr, Weight: d.Weight, ActiveConns: 1, Counters: ipvs.Counters{Conns: 7}})
		}
		out = append(out, st)
	}
	return out, nil
}

func (f *fakeKernel) opsSince(n int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ops[n:])
}

// TestDirectorReloadChecksOnly runs a director on a fake IPVS table: a
// reload that changes only a check must not hand the reconciler a new
// table, and the next sync must change nothing in the kernel; a weight
// change must.
func TestDirectorReloadChecksOnly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	fk := &fakeKernel{table: map[ipvs.Key]ipvs.Service{}}
	d := newDirector(parse(t, fmt.Sprintf(vsBlock, 1, port, "5s")), &daemonOptions{resync: time.Hour}, slog.New(slog.DiscardHandler))
	d.newKernel = func() (ipvs.Kernel, error) { return fk, nil }
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	if err := d.rec.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := fk.opsSince(0); len(got) != 2 {
		t.Fatalf("first sync ops %q, want add service + add dest", got)
	}
	n := len(fk.opsSince(0))

	changes, err := d.Reload(parse(t, fmt.Sprintf(vsBlock, 1, port, "2s")))
	if err != nil || !slices.Equal(changes, []string{"checks changed"}) {
		t.Fatalf("check-only reload: %q %v", changes, err)
	}
	d.desiredMu.Lock()
	published := d.published
	d.desiredMu.Unlock()
	if published != 1 {
		t.Errorf("check-only reload published a desired table (%d publications)", published)
	}
	if err := d.rec.Sync(); err != nil {
		t.Fatal(err)
	}
	if ops := fk.opsSince(n); len(ops) != 0 {
		t.Errorf("check-only reload changed IPVS: %q", ops)
	}

	changes, err = d.Reload(parse(t, fmt.Sprintf(vsBlock, 3, port, "2s")))
	if err != nil || !slices.Equal(changes, []string{"ipvs table changed"}) {
		t.Fatalf("weight reload: %q %v", changes, err)
	}
	if err := d.rec.Sync(); err != nil {
		t.Fatal(err)
	}
	if ops := fk.opsSince(n); len(ops) != 1 || !strings.Contains(ops[0], "weight 1->3") {
		t.Errorf("weight reload ops %q", ops)
	}

	st := d.Status()
	if len(st.VirtualServers) != 1 || len(st.VirtualServers[0].RealServers) != 1 {
		t.Fatalf("status %+v", st)
	}
	vs := st.VirtualServers[0]
	rs := vs.RealServers[0]
	if !vs.InKernel || vs.Stats == nil || vs.Stats.Conns != 7 || rs.KernelWeight == nil || *rs.KernelWeight != 3 || rs.Weight != 3 || rs.ActiveConns != 1 {
		t.Errorf("status virtual server %+v, real server %+v", vs, rs)
	}
	if rs.Check != "up" && rs.Check != "down" {
		t.Errorf("real server with a tcp_check has check %q", rs.Check)
	}
	if st.IPVSSync == nil || st.IPVSSync.Managed != 1 || st.IPVSSync.Synced.IsZero() {
		t.Errorf("ipvs sync %+v", st.IPVSSync)
	}
}

// TestNoSecretsInStatusOrLogs builds a director from a file with secrets,
// reloads it with a file whose error is on the secret's line (diagnostics
// quote source lines), and greps status JSON, its human form and the logs.
func TestNoSecretsInStatusOrLogs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "lvsd.hcl")
	good := fmt.Sprintf(vrrpBlock, 100) + `virtual_server "mysql" {
  address    = "198.51.100.30:3306"
  lvs_method = "DR"
  real_server "db1" {
    address = "198.51.100.10:3306"
    mysql_check {
      user     = "lvsd_check"
      password = "mysqlpw9x"
    }
  }
}
`
	if err := os.WriteFile(file, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l, _, _, err := loadFor(modeDirector, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := &daemonOptions{file: file}
	dr := newDirector(l.cfg, o, log)
	for _, vi := range l.cfg.VRRP {
		inst, err := vrrp.New(vi, log) // not run: no sockets
		if err != nil {
			t.Fatal(err)
		}
		dr.inst[vi.Name] = &runningInstance{cfg: vi, inst: inst}
	}
	dr.checks.Set(l.cfg.VirtualServers)
	d := &daemon{mode: modeDirector, opts: o, svc: dr, log: log, notify: notifier{log: log},
		config: configStatus{File: file, SHA256: l.sha256(), Loaded: time.Now()}}

	// auth_pass longer than 8 bytes is an error pointing at its own line.
	bad := strings.Replace(good, `"s3cr3tpw"`, `"s3cr3tpwTOOLONG"`, 1)
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	r := d.reload("control")
	if r.Applied || !strings.Contains(r.Diagnostics, file+":") || !strings.Contains(r.Diagnostics, "auth_pass") {
		t.Fatalf("bad reload: applied=%v diagnostics:\n%s", r.Applied, r.Diagnostics)
	}
	st := d.status()
	js, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var human bytes.Buffer
	printStatus(&human, &st, time.Now())
	if len(st.VRRP) != 1 || st.LastReload == nil || len(st.VirtualServers) != 1 || st.VirtualServers[0].RealServers[0].Check != "up" {
		t.Fatalf("status lacks vrrp or last reload: %s", js)
	}
	for name, out := range map[string]string{"status JSON": string(js), "status text": human.String(), "logs": logs.String()} {
		for _, secret := range []string{"s3cr3tpw", "TOOLONG", "mysqlpw9x"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s contains the secret %q:\n%s", name, secret, out)
			}
		}
	}
}

func TestRedactSecrets(t *testing.T) {
	for in, want := range map[string]string{
		`    auth_pass = "mypasswd"`:          `    auth_pass = "REDACTED"`,
		`  7 |     password="x\"y" # comment`: `  7 |     password="REDACTED" # comment`,
		`PASSWORD = bare`:                     `PASSWORD = "REDACTED"`,
		`auth_type = "PASS"`:                  `auth_type = "PASS"`,
		`  password = "unterminated`:          `  password = "REDACTED"`,
	} {
		if got := redactSecrets(in); got != want {
			t.Errorf("redactSecrets(%q) = %q, want %q", in, got, want)
		}
	}
}

// testService is a service for control-socket tests: it records reloads.
type testService struct {
	mu      sync.Mutex
	reloads []*conf.Config
}

func (s *testService) Start(context.Context) error { return nil }
func (s *testService) Stop()                       {}
func (s *testService) Status() statusDoc           { return statusDoc{Mode: "director", Version: "test"} }
func (s *testService) Reload(cfg *conf.Config) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reloads = append(s.reloads, cfg)
	return []string{"ipvs table changed"}, nil
}

// TestReloadCommand drives `lvsd reload` against a real control socket: a
// broken file exits 1 with FILE:LINE,COL diagnostics and never reaches the
// service; a good file exits 0 and shows in status with its hash.
func TestReloadCommand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "lvsd.hcl")
	sock := filepath.Join(dir, "lvsd.sock")
	if err := os.WriteFile(file, []byte(fmt.Sprintf(vsBlock, 1, 3306, "5s")), 0o600); err != nil {
		t.Fatal(err)
	}
	svc := &testService{}
	log := slog.New(slog.DiscardHandler)
	d := &daemon{mode: modeDirector, opts: &daemonOptions{file: file}, svc: svc, log: log, notify: notifier{log: log}}
	ctl, err := listenControl(sock, d, log)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.close()

	if err := os.WriteFile(file, []byte(fmt.Sprintf(vsBlock, 1, 3306, "5s")+"colour = \"red\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"reload", "--control", sock}, &out, &errb); code != 1 {
		t.Fatalf("broken file: exit %d, want 1\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), file+":15,1:") || !strings.Contains(errb.String(), "running configuration is kept") {
		t.Errorf("broken file: stderr lacks the place:\n%s", errb.String())
	}
	if len(svc.reloads) != 0 {
		t.Fatalf("a broken file reached the service")
	}

	good := fmt.Sprintf(vsBlock, 2, 3306, "5s")
	if err := os.WriteFile(file, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"reload", "--control", sock}, &out, &errb); code != 0 {
		t.Fatalf("good file: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "ipvs table changed") || len(svc.reloads) != 1 {
		t.Errorf("good file: stdout %q, %d reloads", out.String(), len(svc.reloads))
	}
	out.Reset()
	if code := run([]string{"status", "--json", "--control", sock}, &out, &errb); code != 0 {
		t.Fatalf("status: exit %d: %s", code, errb.String())
	}
	var st statusDoc
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	sum := sha256hex([]byte(good))
	if st.Config.SHA256 != sum || st.LastReload == nil || !st.LastReload.Applied || st.LastReload.Trigger != "control" {
		t.Errorf("status config %+v last reload %+v, want sha256 %s", st.Config, st.LastReload, sum)
	}
	for _, flag := range []string{"--history", "-v"} {
		out.Reset()
		if code := run([]string{"status", flag, "--control", sock}, &out, &errb); code != 0 {
			t.Fatalf("status %s: exit %d: %s", flag, code, errb.String())
		}
		if !strings.Contains(out.String(), "\nHealth history") {
			t.Errorf("status %s lacks the history section:\n%s", flag, out.String())
		}
	}
}

// TestNotify checks the sd_notify datagrams on a real unixgram socket.
func TestNotify(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "200000")
	t.Setenv("WATCHDOG_PID", fmt.Sprint(os.Getpid()))
	n := notifier{log: slog.New(slog.DiscardHandler)}
	read := func() string {
		t.Helper()
		buf := make([]byte, 4096)
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		k, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("read notify socket: %v", err)
		}
		return string(buf[:k])
	}
	n.ready("running x")
	if got := read(); got != "READY=1\nSTATUS=running x" {
		t.Errorf("ready: %q", got)
	}
	n.reloading()
	if got := read(); !strings.HasPrefix(got, "RELOADING=1\nMONOTONIC_USEC=") {
		t.Errorf("reloading: %q", got)
	}
	n.stopping()
	if got := read(); got != "STOPPING=1" {
		t.Errorf("stopping: %q", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var alive sync.WaitGroup
	alive.Add(2)
	var once [2]sync.Once
	calls := 0
	var mu sync.Mutex
	go n.watchdog(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if calls < 2 {
			once[calls].Do(alive.Done)
		}
		calls++
	})
	for range 2 {
		if got := read(); got != "WATCHDOG=1" {
			t.Errorf("watchdog: %q", got)
		}
	}
	alive.Wait()
}

// TestWatchdogWithholdsPingWhenStuck: a stuck status lock means no ping.
func TestWatchdogWithholdsPingWhenStuck(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "100000")
	n := notifier{log: slog.New(slog.DiscardHandler)}
	stuck := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go n.watchdog(ctx, func() { <-stuck })
	_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	buf := make([]byte, 64)
	if k, err := conn.Read(buf); err == nil {
		t.Errorf("pinged while stuck: %q", buf[:k])
	}
	cancel()
	close(stuck)
}

func TestStatusGolden(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
	now := t0.Add(3*time.Hour + 25*time.Minute)
	w1, w0 := 1, 0
	st := statusDoc{
		Mode: "director", Version: "v1.0.0", Started: t0,
		Config:     configStatus{File: "/etc/lvsd/lvsd.hcl", SHA256: "3f2a9c0d5e1b7a44c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f708192", Loaded: t0.Add(3 * time.Hour)},
		LastReload: &reloadResult{At: t0.Add(3 * time.Hour), Trigger: "SIGHUP", Applied: true, Changes: []string{"checks changed"}},
		VRRP: []vrrpStatus{{Status: vrrp.Status{Name: "VI_1", VRID: 51, Interface: "eth0", State: "MASTER", Priority: 101,
			VIPs: []string{"198.51.100.30/32"}, MasterIP: "198.51.100.20", Transitions: 2, LastTransition: t0.Add(5 * time.Second),
			RxAdverts: 12, TxAdverts: 12290, Drops: map[string]uint64{"auth_pass": 3, "ttl": 1}}, EffectivePriority: 101}},
		VirtualServers: []vsStatus{{
			Name: "mysql", Protocol: "TCP", Addr: netip.MustParseAddrPort("198.51.100.30:3306"), Sched: "rr", Method: "DR", InKernel: true,
			Stats: &ipvs.Counters{Conns: 1523, CPS: 2, InBytes: 8123456, OutBytes: 0},
			RealServers: []rsStatus{
				{Name: "db1", Addr: netip.MustParseAddrPort("198.51.100.10:3306"), Weight: 1, KernelWeight: &w1, Check: "up",
					Transitions: 0, Since: t0, ActiveConns: 12, InactConns: 3, Stats: &ipvs.Counters{Conns: 1100, CPS: 2, InBytes: 6000000}},
				{Name: "db2", Addr: netip.MustParseAddrPort("198.51.100.11:3306"), Weight: 1, Check: "down",
					LastError: "dial tcp 198.51.100.11:3306: connect: connection refused", Transitions: 1, Since: now.Add(-42 * time.Second),
					History: []healthcheck.Transition{{VS: "mysql", RS: "198.51.100.11:3306", Err: "dial tcp 198.51.100.11:3306: connect: connection refused", At: now.Add(-42 * time.Second)}}},
				{Name: "db3", Addr: netip.MustParseAddrPort("198.51.100.12:3306"), Weight: 2, KernelWeight: &w0, Check: "none",
					Stats: &ipvs.Counters{Conns: 423, InBytes: 2123456}},
			},
		}},
		IPVSSync: &ipvsSync{Managed: 1, Synced: now.Add(-2 * time.Second)},
		Rules:    []rules.RuleStatus{},
	}
	var b bytes.Buffer
	printStatus(&b, &st, now)
	golden := filepath.Join("testdata", "status.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestStatusGolden -update ./cmd/lvsd/)", err)
	}
	if b.String() != string(want) {
		t.Errorf("status output differs from %s:\n--- got\n%s--- want\n%s", golden, b.String(), want)
	}
}

func TestBuildVirtualServers(t *testing.T) {
	cfg := parse(t, fmt.Sprintf(vsBlock, 1, 3306, "5s"))
	w := 7
	hist := []healthcheck.Transition{{VS: "mysql", RS: "198.51.100.10:3306", Up: false, Err: "refused", At: time.Unix(100, 0)}}
	probes := []healthcheck.ProbeStatus{{VS: "mysql", RS: "198.51.100.10:3306", Up: false, LastError: "refused", Transitions: 1, Weight: &w, History: hist}}
	// Health took db1 out: the service is in the kernel without it.
	table := []ipvs.Service{{Key: ipvs.Key{Protocol: "TCP", Addr: netip.MustParseAddrPort("198.51.100.30:3306")}, Sched: "rr"}}
	got := buildVirtualServers(cfg.VirtualServers, probes, table, nil)
	if len(got) != 1 || !got[0].InKernel || got[0].Stats != nil {
		t.Fatalf("%+v", got)
	}
	rs := got[0].RealServers[0]
	if rs.Check != "down" || rs.LastError != "refused" || rs.KernelWeight != nil || rs.Weight != 1 ||
		rs.DynamicWeight == nil || *rs.DynamicWeight != 7 || len(rs.History) != 1 || rs.History[0].Err != "refused" {
		t.Errorf("real server %+v", rs)
	}
	got = buildVirtualServers(cfg.VirtualServers, nil, nil, nil)
	if got[0].InKernel || got[0].RealServers[0].Check != "none" {
		t.Errorf("without kernel and probes: %+v", got)
	}
}
