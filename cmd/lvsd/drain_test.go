package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/ipvs"
)

const drainConf = `virtual_server "db" {
  address       = "198.51.100.30:3306"
  lvs_sched     = "rr"
  lvs_method    = "DR"
  drain_timeout = "10m"
  real_server "a" {
    address = "198.51.100.10:3306"
  }
  real_server "b" {
    address = "198.51.100.11:3306"
  }
}
virtual_server "web" {
  address = "198.51.100.31:80"
  real_server "w" {
    address = "198.51.100.10:80"
  }
}
`

func (f *fakeKernel) setConns(k ipvs.Key, addr string, active int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.table[k]
	for i := range s.Dests {
		if s.Dests[i].Addr.String() == addr {
			s.Dests[i].ActiveConns = active
		}
	}
	f.table[k] = s
}

// lvsd drain / undrain through the control socket against a director on a
// fake kernel: weight 0 while connections remain (shown in status), deleted
// after, kept drained across a reload, restored by undrain.
func TestDrainCommand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "lvsd.hcl")
	sock := filepath.Join(dir, "lvsd.sock")
	if err := os.WriteFile(file, []byte(drainConf), 0o600); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	fk := &fakeKernel{table: map[ipvs.Key]ipvs.Service{}}
	dir0 := newDirector(parse(t, drainConf), &daemonOptions{file: file, resync: time.Hour}, log)
	dir0.newKernel = func() (ipvs.Kernel, error) { return fk, nil }
	if err := dir0.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer dir0.Stop()
	d := &daemon{mode: modeDirector, opts: &daemonOptions{file: file}, svc: dir0, log: log, notify: notifier{log: log}}
	ctl, err := listenControl(sock, d, log)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.close()
	sync := func() {
		t.Helper()
		if err := dir0.rec.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	cli := func(wantCode int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		args = append([]string{args[0], "--control", sock}, args[1:]...)
		if code := run(args, &out, &errb); code != wantCode {
			t.Fatalf("lvsd %q: exit %d, want %d\n%s%s", args, code, wantCode, out.String(), errb.String())
		}
		return out.String() + errb.String()
	}
	sync()
	n := len(fk.opsSince(0))
	db := ipvs.Key{Protocol: "TCP", Addr: netip.MustParseAddrPort("198.51.100.30:3306")}
	fk.setConns(db, "198.51.100.10:3306", 2)

	if out := cli(1, "drain", "db", "nosuch"); !strings.Contains(out, `real server "nosuch"`) {
		t.Errorf("unknown real server: %q", out)
	}
	if out := cli(0, "drain", "TCP 198.51.100.30:3306", "198.51.100.10:3306"); !strings.Contains(out, "draining") {
		t.Errorf("drain output %q", out)
	}
	sync()
	if ops := fk.opsSince(n); !slices.Equal(ops, []string{"update dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 weight 1->0"}) {
		t.Errorf("drain ops %q", ops)
	}
	n = len(fk.opsSince(0))
	status := cli(0, "status")
	if !strings.Contains(status, "DRAINING") || !strings.Contains(status, "lvsd drain") || !strings.Contains(status, "2 active + 0 inactive conns left") {
		t.Errorf("status does not show the drain:\n%s", status)
	}

	// A reload (of another service) keeps the drain.
	if err := os.WriteFile(file, []byte(strings.Replace(drainConf, `address = "198.51.100.10:80"`, `address = "198.51.100.12:80"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cli(0, "reload")
	sync()
	if ops := fk.opsSince(n); slices.ContainsFunc(ops, func(o string) bool { return strings.Contains(o, "3306") }) {
		t.Errorf("reload touched the drained service: %q", ops)
	}
	n = len(fk.opsSince(0))

	fk.setConns(db, "198.51.100.10:3306", 0)
	sync()
	if ops := fk.opsSince(n); !slices.Equal(ops, []string{"delete dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306"}) {
		t.Errorf("ops once the connections are gone: %q", ops)
	}
	n = len(fk.opsSince(0))
	var st statusDoc
	if err := json.Unmarshal([]byte(cli(0, "status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Drains) != 1 || st.Drains[0].InKernel || !st.Drains[0].Manual {
		t.Errorf("drains after deletion %+v", st.Drains)
	}
	sync()
	if ops := fk.opsSince(n); len(ops) != 0 {
		t.Errorf("a drained server came back: %q", ops)
	}

	if out := cli(0, "undrain", "db", "a"); !strings.Contains(out, "undrained") {
		t.Errorf("undrain output %q", out)
	}
	sync()
	if ops := fk.opsSince(n); !slices.Equal(ops, []string{"add dest TCP 198.51.100.30:3306 -> 198.51.100.10:3306 route weight 1"}) {
		t.Errorf("undrain ops %q", ops)
	}
	if out := cli(0, "undrain", "db", "a"); !strings.Contains(out, "was not drained") {
		t.Errorf("second undrain output %q", out)
	}
}

// quorum_down runs at start when the quorum is not reached and a sorry
// server stands in (keepalived's "starting with quorum down"), and again at
// stop with omega; the programs really run (they write marker lines).
func TestQuorumScripts(t *testing.T) {
	script, marker := markerScript(t)
	cfgText := fmt.Sprintf(`virtual_server "db" {
  address      = "198.51.100.30:3306"
  sorry_server = "198.51.100.50:3306"
  quorum       = 5
  quorum_up    = "%[1]s up"
  quorum_down  = "%[1]s down"
  omega        = true
  real_server "a" {
    address = "198.51.100.10:3306"
  }
}
`, script)
	fk := &fakeKernel{table: map[ipvs.Key]ipvs.Service{}}
	d := newDirector(parse(t, cfgText), &daemonOptions{resync: time.Hour}, slog.New(slog.DiscardHandler))
	d.newKernel = func() (ipvs.Kernel, error) { return fk, nil }
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := d.rec.Sync(); err != nil {
		t.Fatal(err)
	}
	ops := fk.opsSince(0)
	if !slices.Contains(ops, "add dest TCP 198.51.100.30:3306 -> 198.51.100.50:3306 masq weight 1") ||
		slices.ContainsFunc(ops, func(o string) bool { return strings.Contains(o, "198.51.100.10") }) {
		t.Errorf("sorry server not standing in: %q", ops)
	}
	waitFor(t, func() bool { b, _ := os.ReadFile(marker); return string(b) == "down\n" })
	d.Stop()
	if b, _ := os.ReadFile(marker); string(b) != "down\ndown\n" {
		t.Errorf("marker after stop with omega %q, want two downs", b)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("condition not met within 10s")
}
