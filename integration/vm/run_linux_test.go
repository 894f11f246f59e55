package vm

import (
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

func TestExtraShares(t *testing.T) {
	tests := []struct {
		dirs []string
		want []string
	}{
		{[]string{"/usr/bin", "/work/main/ipvs"}, nil},
		{[]string{"/tmp/go-build1/b001", "/work/main/ipvs"}, []string{"/tmp/go-build1/b001"}},
		{[]string{"/tmp/x/y", "/tmp/x"}, []string{"/tmp/x"}},
		{[]string{"/tmp/x", "/tmp/x"}, []string{"/tmp/x"}},
		{[]string{"/root/src", "/tmpfoo", "/run"}, []string{"/root/src", "/run"}},
	}
	for _, tt := range tests {
		if got := extraShares(tt.dirs...); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("extraShares(%q) = %q, want %q", tt.dirs, got, tt.want)
		}
	}
}

func TestGuestEnv(t *testing.T) {
	got := guestEnv([]string{"A=1"})
	want := []string{"A=1", "PATH=" + defaultPath, "HOME=/root"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("guestEnv = %q, want %q", got, want)
	}
	in := []string{"HOME=/h", "PATH=/p"}
	if got := guestEnv(in); !reflect.DeepEqual(got, in) {
		t.Errorf("guestEnv kept defaults: %q", got)
	}
}

// TestShQuote runs the quoted words through the host's sh and checks they
// come back unchanged.
func TestShQuote(t *testing.T) {
	words := []string{"plain", "", "it's", `a "b" $c \d`, "x\ny", "'", "''"}
	var script strings.Builder
	script.WriteString("printf '%s\\0'")
	for _, w := range words {
		script.WriteString(" " + shQuote(w))
	}
	out, err := exec.Command("/bin/sh", "-c", script.String()).Output()
	if err != nil {
		t.Skipf("no /bin/sh: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if !reflect.DeepEqual(got, words) {
		t.Errorf("sh saw %q, want %q", got, words)
	}
}

func TestGuestScript(t *testing.T) {
	s := guestScript("/tmp/go-build1/b001/ipvs.test", []string{"-test.v", "it's"}, "/work/main/ipvs",
		[]string{"PATH=/bin"}, []string{"/tmp/go-build1/b001"}, true)
	for _, want := range []string{
		"mount -t 9p -o " + ninePOpts + " p0 '/tmp/go-build1/b001'",
		"cd '/work/main/ipvs' || return 125",
		`exec env -i 'PATH=/bin' '/tmp/go-build1/b001/ipvs.test' '-test.v' 'it'\''s' </dev/null`,
		"(run) >$o/stdout 2>&1",
		"echo $? >$o/exit.tmp",
		"poweroff -f",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("guest script lacks %q:\n%s", want, s)
		}
	}
	if out, err := exec.Command("/bin/sh", "-n", "-c", s).CombinedOutput(); err != nil {
		t.Errorf("sh -n: %v: %s", err, out)
	}
}

func TestQemuEscape(t *testing.T) {
	if got := qemuEscape("/tmp/a,b"); got != "/tmp/a,,b" {
		t.Errorf("qemuEscape = %q", got)
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 4}
	b.Write([]byte("abc"))
	b.Write([]byte("defg"))
	if got := b.String(); got != "defg" {
		t.Errorf("tailBuffer = %q, want defg", got)
	}
}
