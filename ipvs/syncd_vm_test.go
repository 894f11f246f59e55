//go:build vm

package ipvs

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSyncDaemonKernel starts and stops IPVS sync daemons on the real
// kernel and reads them back both through SyncDaemons and through
// `ipvsadm -L --daemon`, which must print what ipvsadm --start-daemon
// with the same settings would have.
func TestSyncDaemonKernel(t *testing.T) {
	ns, path := netnsNamed(t, fmt.Sprintf("mm-syncd-%d", os.Getpid()))
	if out, err := exec.Command("ip", "-n", ns, "link", "add", "sd0", "type", "dummy").CombinedOutput(); err != nil {
		t.Fatalf("ip link add: %v: %s", err, out)
	}
	if out, err := exec.Command("ip", "-n", ns, "link", "set", "sd0", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set: %v: %s", err, out)
	}
	k, err := NewKernelAt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if ds, err := k.SyncDaemons(); err != nil || len(ds) != 0 {
		t.Fatalf("SyncDaemons before any = %v, %v", ds, err)
	}
	master := SyncDaemon{State: SyncMaster, Interface: "sd0", SyncID: 7, MaxLen: 1400, Group: netip.MustParseAddr("239.1.2.3"), Port: 8850, TTL: 2}
	if err := k.StartSyncDaemon(master); err != nil {
		t.Fatal(err)
	}
	if err := k.StartSyncDaemon(master); !errors.Is(err, unix.EEXIST) {
		t.Errorf("second master: %v, want EEXIST", err)
	}
	backup := SyncDaemon{State: SyncBackup, Interface: "sd0"}
	if err := k.StartSyncDaemon(backup); err != nil {
		t.Fatal(err)
	}
	ds, err := k.SyncDaemons()
	if err != nil || len(ds) != 2 {
		t.Fatalf("SyncDaemons = %v, %v", ds, err)
	}
	if ds[0] != master {
		t.Errorf("master read back as %v, want %v", ds[0], master)
	}
	// The backup reads back with the kernel's defaults filled in.
	if b := ds[1]; b.State != SyncBackup || b.Interface != "sd0" || b.SyncID != 0 || b.Port != 8848 || b.TTL != 1 || b.Group != netip.MustParseAddr("224.0.0.81") {
		t.Errorf("backup read back as %v", b)
	}
	out := ipvsadm(t, ns, "-L", "--daemon")
	for _, want := range []string{
		"master sync daemon (mcast=sd0, syncid=7, maxlen=1400, group=239.1.2.3, port=8850, ttl=2)",
		"backup sync daemon (mcast=sd0, syncid=0,",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ipvsadm -L --daemon lacks %q:\n%s", want, out)
		}
	}
	if err := k.StopSyncDaemon(SyncMaster); err != nil {
		t.Fatal(err)
	}
	if err := k.StopSyncDaemon(SyncMaster); err != nil {
		t.Errorf("stopping a stopped daemon: %v", err)
	}
	if ds, _ := k.SyncDaemons(); len(ds) != 1 || ds[0].State != SyncBackup {
		t.Errorf("after stopping the master: %v", ds)
	}
	// ipvsadm's view of a daemon it started matches lvsd's reading.
	if err := k.StopSyncDaemon(SyncBackup); err != nil {
		t.Fatal(err)
	}
	ipvsadm(t, ns, "--start-daemon", "backup", "--mcast-interface", "sd0", "--syncid", "9", "--sync-maxlen", "1300", "--mcast-group", "239.9.9.9", "--mcast-port", "9000", "--mcast-ttl", "4")
	ds, err = k.SyncDaemons()
	if want := (SyncDaemon{State: SyncBackup, Interface: "sd0", SyncID: 9, MaxLen: 1300, Group: netip.MustParseAddr("239.9.9.9"), Port: 9000, TTL: 4}); err != nil || len(ds) != 1 || ds[0] != want {
		t.Errorf("daemon started by ipvsadm read as %v, %v; want %v", ds, err, want)
	}
	if err := k.StopSyncDaemon(SyncBackup); err != nil {
		t.Fatal(err)
	}
}
