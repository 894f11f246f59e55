//go:build integration || vm

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvsd/lvsd/integration/lab"
)

var lvsdBin string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("integration tests need root (network namespaces); skipping")
		os.Exit(0)
	}
	lvsdBin = os.Getenv("LVSD_BIN")
	cleanup := func() {}
	if lvsdBin == "" {
		dir, err := os.MkdirTemp("", "lvsd-bin")
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		cleanup = func() { os.RemoveAll(dir) }
		lvsdBin = filepath.Join(dir, "lvsd")
		out, err := exec.Command("go", "build", "-o", lvsdBin, "../cmd/lvsd").CombinedOutput()
		if err != nil {
			fmt.Printf("build lvsd: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// logWriter sends narration to the test log, a line at a time.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.Log(line)
	}
	return len(p), nil
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func newLab(t *testing.T, prefix string) *lab.Lab {
	t.Helper()
	l, err := lab.New(prefix, t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

func addHost(t *testing.T, l *lab.Lab, name, cidr string) *lab.Host {
	t.Helper()
	h, err := l.AddHost(name, cidr)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
