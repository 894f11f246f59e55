package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestCheckExamples(t *testing.T) {
	for _, f := range []string{"../../examples/seed-001-director.hcl", "../../examples/seed-001-agent.hcl"} {
		var out, errb bytes.Buffer
		if code := run([]string{"check", "-f", f}, &out, &errb); code != 0 {
			t.Errorf("check %s: exit %d\n%s", f, code, errb.String())
		}
		if !strings.Contains(out.String(), "ok") {
			t.Errorf("check %s: stdout %q", f, out.String())
		}
	}
}

func TestCheckNopreemptMasterWarns(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"check", "-f", "../../examples/seed-001-director.hcl"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errb.String(), "seed-001-director.hcl:6,3: warning:") || !strings.Contains(errb.String(), "nopreempt") {
		t.Errorf("no nopreempt warning with its place:\n%s", errb.String())
	}
}

func TestCheckErrorsNameThePlace(t *testing.T) {
	f := filepath.Join(t.TempDir(), "bad.hcl")
	src := "vrrp_instance \"VI_1\" {\n  interface = \"eth0\"\n  virtual_router_id = 300\n  priority = 100\n  virtual_ipaddress = [\"198.51.100.30\"]\n  colour = \"red\"\n}\n"
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"check", "-f", f}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{f + ":3,", f + ":6,", "virtual_router_id = 300", `"colour"`} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"check"}, 2, "-f FILE is required"},
		{[]string{"director"}, 2, "flag -f"},
		{[]string{"director", "-f", "x", "--log-format", "xml"}, 2, "--log-format"},
		{[]string{"agent", "-f", "x", "--log-level", "loud"}, 2, "--log-level"},
		{[]string{"director", "-f", "x", "--realtime-priority", "100"}, 2, "flag --realtime-priority: 100 is outside 1-99"},
		{[]string{"director", "-f", "x", "--realtime-priority", "-1"}, 2, "flag --realtime-priority"},
		{[]string{"agent", "-f", "x", "--realtime-priority", "5"}, 2, "realtime-priority"},
		{[]string{"director", "-f", "../../examples/seed-001-agent.hcl", "--pid-file", "/nonexistent/p", "--control", "/nonexistent/s"}, 1, "lvsd agent"},
		{[]string{"agent", "-f", "../../examples/seed-001-director.hcl", "--pid-file", "/nonexistent/p", "--control", "/nonexistent/s"}, 1, "no agent block"},
	} {
		var out, errb bytes.Buffer
		code := run(tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("run %q: exit %d (want %d), stderr:\n%s\nwant it to contain %q", tc.args, code, tc.code, errb.String(), tc.want)
		}
	}
}

func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "lvsd ") {
		t.Errorf("version: %d %q", code, out.String())
	}
}

func TestPidFileRefusesSecondHolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lvsd.pid")
	first, err := acquirePidFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("pid file holds %q", b)
	}
	if _, err := acquirePidFile(p); err == nil || !strings.Contains(err.Error(), "another lvsd") {
		t.Fatalf("second acquire: %v", err)
	}
	first.release()
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("pid file not removed: %v", err)
	}
	// A file left by a crashed daemon (no lock) is taken over.
	if err := os.WriteFile(p, []byte("999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := acquirePidFile(p)
	if err != nil {
		t.Fatalf("stale pid file not taken over: %v", err)
	}
	again.release()
}
