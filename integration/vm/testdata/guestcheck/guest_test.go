// Package guestcheck is run by TestGoTestExec through go test -exec lvsd-vm:
// it checks, from inside the VM, what tests there rely on.
package guestcheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestInsideVM(t *testing.T) {
	if h, _ := os.Hostname(); h != "lvsd-vm" {
		t.Fatalf("hostname %q: not inside the VM", h)
	}
	if err := os.WriteFile(filepath.Join(t.TempDir(), "f"), []byte("x"), 0o644); err != nil {
		t.Errorf("writable TMPDIR: %v", err)
	}
	out, err := exec.Command("/bin/sh", "-c", "modprobe ip_vs && ipvsadm -A -t 198.51.100.30:3306 -s wlc && ipvsadm -Ln").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "198.51.100.30:3306 wlc") {
		t.Errorf("ipvsadm: %v\n%s", err, out)
	}
	if out, err := exec.Command("ip", "netns", "add", "guestcheck").CombinedOutput(); err != nil {
		t.Errorf("ip netns add: %v: %s", err, out)
	} else {
		exec.Command("ip", "netns", "del", "guestcheck").Run()
	}
	t.Logf("stdout from the guest")
}
