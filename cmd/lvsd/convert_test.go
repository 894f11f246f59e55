package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvsd/lvsd/conf"
)

const seedMaster = "../../conf/keepalived/testdata/seed001-master.conf"

// Without --allow-unsupported the over-long auth_pass of seed 001 blocks the
// conversion: exit 1, the place and keyword on stderr, nothing written.
func TestConvertRefusesUnsupported(t *testing.T) {
	out := filepath.Join(t.TempDir(), "lvs.hcl")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"convert", "-o", out, seedMaster}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stderr.String())
	}
	want := seedMaster + ":19: unsupported: auth_pass: keepalived would silently truncate the 10-byte password"
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
	for _, s := range []string{seedMaster + ":2: info: router_id: ignored (no effect on lvsd)", seedMaster + ":13: note: nopreempt:"} {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output written despite unsupported items (stat: %v)", err)
	}
}

// With --allow-unsupported (flags after the file too) the result is written,
// identical to the golden file, and `lvsd check` accepts it.
func TestConvertAllowUnsupported(t *testing.T) {
	out := filepath.Join(t.TempDir(), "lvs.hcl")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"convert", seedMaster, "--allow-unsupported", "-o", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte(`auth_pass = "mypasswo"`)) || !bytes.Contains(got, []byte("# lvsd convert: unsupported (")) {
		t.Errorf("truncated password or its comment missing:\n%s", got)
	}
	if _, diags := conf.Parse(got, out); diags.HasErrors() {
		t.Errorf("conf.Parse: %v", diags)
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"check", "-f", out}, &stdout, &stderr); code != 0 {
		t.Errorf("lvsd check: exit %d\n%s", code, stderr.String())
	}
	// Standard output when -o is absent.
	stdout.Reset()
	if code := run([]string{"convert", "--allow-unsupported", seedMaster}, &stdout, &stderr); code != 0 || !bytes.Equal(stdout.Bytes(), got) {
		t.Errorf("stdout conversion: exit %d, differs from -o output:\n%s", code, stdout.String())
	}
}

func TestConvertErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	if err := os.WriteFile(bad, []byte("vrrp_instance X {\n  state MASTER\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Converts, but the result misses required attributes: refused by conf.
	incomplete := filepath.Join(dir, "incomplete.conf")
	if err := os.WriteFile(incomplete, []byte("vrrp_instance X {\n  state MASTER\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"convert"}, 2, "exactly one keepalived.conf"},
		{[]string{"convert", "a", "b"}, 2, "exactly one keepalived.conf"},
		{[]string{"convert", filepath.Join(dir, "nope.conf")}, 1, "nope.conf:0: error: open"},
		{[]string{"convert", bad}, 1, "bad.conf:1: error: missing } for the block opened here"},
		{[]string{"convert", incomplete}, 1, "not valid for lvsd"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d (want %d), stderr lacks %q:\n%s", tc.args, code, tc.code, tc.want, stderr.String())
		}
	}
}
