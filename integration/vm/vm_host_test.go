//go:build vm_host

// These tests boot real VMs (about 5-10 s each under TCG). Run them with
//
//	go test -tags vm_host -v ./integration/vm/
package vm

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func requireVM(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("no qemu-system-x86_64")
	}
	if _, _, err := FindKernel(); err != nil {
		t.Skip(err)
	}
	if _, err := os.Stat(busyboxBin); err != nil {
		t.Skip("no static busybox")
	}
}

func runSh(t *testing.T, script string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	start := time.Now()
	code, err := Run(context.Background(), Options{
		Program: "/bin/sh",
		Args:    []string{"-c", script},
		Stdout:  &o,
		Stderr:  &e,
		Timeout: 5 * time.Minute,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("boot to exit: %s", time.Since(start).Round(time.Millisecond))
	return code, o.String(), e.String()
}

func TestRunIPVS(t *testing.T) {
	requireVM(t)
	code, out, errOut := runSh(t, "modprobe ip_vs && ipvsadm -A -t 198.51.100.30:3306 -s rr && "+
		"ipvsadm -a -t 198.51.100.30:3306 -r 198.51.100.10:3306 -g && ipvsadm -Ln")
	if code != 0 || !strings.Contains(out, "Route") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	t.Logf("stdout:\n%s", out)
}

func TestRunExitCodeAndStreams(t *testing.T) {
	requireVM(t)
	code, out, errOut := runSh(t, "echo to-stdout; echo to-stderr >&2; exit 3")
	if code != 3 {
		t.Errorf("exit code %d, want 3", code)
	}
	if out != "to-stdout\n" || errOut != "to-stderr\n" {
		t.Errorf("stdout %q, stderr %q", out, errOut)
	}
}

// TestGuestEnvironment checks what the VM promises tests: hostname, lo
// up, writable tmpfs dirs, netns, iptables nat, a second IPVS scheduler
// autoloaded through the host's /sbin/modprobe (switch_root, not chroot).
func TestGuestEnvironment(t *testing.T) {
	requireVM(t)
	code, out, errOut := runSh(t, `set -e
test "$(hostname)" = lvsd-vm
ip -o link show lo | grep -q 'UP'
for d in /tmp /var/tmp /run /root; do touch $d/probe; done
ip netns add vmcheck
ip -n vmcheck link set lo up
ip netns del vmcheck
iptables -t nat -A PREROUTING -d 198.51.100.30/32 -p tcp --dport 3306 -j REDIRECT
iptables -t nat -S PREROUTING | grep -q REDIRECT
ipvsadm -A -t 198.51.100.30:3306 -s wlc
ipvsadm -Ln | grep -q wlc
echo ok`)
	if code != 0 || out != "ok\n" {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// TestGoTestExec runs a test package through go test -exec lvsd-vm, the
// way the project's VM tier does: the test binary lives under
// /tmp/go-build*, hidden in the guest unless the runner shares it.
func TestGoTestExec(t *testing.T) {
	requireVM(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go")
	}
	runner := filepath.Join(t.TempDir(), "lvsd-vm")
	if out, err := exec.Command(goBin, "build", "-o", runner, "../cmd/lvsd-vm").CombinedOutput(); err != nil {
		t.Fatalf("build lvsd-vm: %v\n%s", err, out)
	}
	start := time.Now()
	cmd := exec.Command(goBin, "test", "-count=1", "-v", "-exec", runner, "./testdata/guestcheck")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestInsideVM") ||
		!strings.Contains(string(out), "stdout from the guest") {
		t.Fatalf("go test -exec: %v\n%s", err, out)
	}
	t.Logf("go test -exec: %s\n%s", time.Since(start).Round(time.Millisecond), out)
}
