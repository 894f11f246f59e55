//go:build vm

// These tests program a real IPVS table and need root and a kernel with
// ip_vs (the build host has neither): run them in the QEMU VM,
//
//	go test -exec "$PWD/bin/lvsd-vm" -tags vm ./ipvs/
//
// They work in a network namespace of their own, so even on a real
// director they never touch its table.

package ipvs

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// netns creates a network namespace for the test and removes it after.
func netns(t *testing.T) (name, path string) {
	t.Helper()
	return netnsNamed(t, fmt.Sprintf("lvsd-ipvs-%d", os.Getpid()))
}

// netnsNamed is netns with a name of the caller's choosing.
func netnsNamed(t *testing.T, name string) (string, string) {
	t.Helper()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	// A namespace without any address has no local routing table, and
	// IPVS refuses IPv4 destinations whose address type it cannot look up
	// there (EINVAL from ip_vs_new_dest). Bringing lo up creates it.
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del: %v: %s", err, out)
		}
	})
	return name, "/var/run/netns/" + name
}

func ipvsadm(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "ipvsadm"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ipvsadm %v: %v: %s", args, err, out)
	}
	return string(out)
}

// loose turns a line of ipvsadm -Ln output into a regexp that ignores how
// much whitespace separates the columns.
func loose(line string) *regexp.Regexp {
	fields := strings.Fields(line)
	for i, f := range fields {
		fields[i] = regexp.QuoteMeta(f)
	}
	return regexp.MustCompile(`(?m)^\s*` + strings.Join(fields, `\s+`) + `(\s|$)`)
}

func TestKernel(t *testing.T) {
	ns, path := netns(t)
	k, err := NewKernelAt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()

	// Entries lvsd does not own: a plain service and a fwmark service.
	ipvsadm(t, ns, "-A", "-t", "203.0.113.5:80", "-s", "wlc")
	ipvsadm(t, ns, "-A", "-f", "7", "-s", "rr")
	foreign := svc(other, "wlc")
	// The fwmark service is dumped (lvsd manages fwmark services too) and
	// sorts first: its key has no protocol.
	fw := svc(FWMarkKey(7, false), "rr")

	got, err := k.Dump()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []Service{fw, foreign}) {
		t.Fatalf("initial dump %+v", got)
	}

	want := svc(vip1, "rr", dr("198.51.100.10:3306", 1), dr("198.51.100.11:3306", 1))
	for _, o := range Diff([]Service{want}, got, nil) {
		if err := k.Apply(o); err != nil {
			t.Fatal(err)
		}
	}
	got, err = k.Dump()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []Service{fw, want, foreign}) {
		t.Fatalf("dump after programming:\n got %+v\nwant %+v", got, []Service{fw, want, foreign})
	}

	out := ipvsadm(t, ns, "-Ln")
	t.Logf("ipvsadm -Ln:\n%s", out)
	for _, line := range []string{
		"TCP  198.51.100.30:3306 rr",
		"-> 198.51.100.10:3306           Route   1",
		"-> 198.51.100.11:3306           Route   1",
	} {
		if !loose(line).MatchString(out) {
			t.Errorf("ipvsadm -Ln lacks %q", line)
		}
	}

	// Errors keep the errno.
	err = k.Apply(Op{Kind: AddService, Service: svc(vip1, "rr")})
	if !errors.Is(err, unix.EEXIST) {
		t.Errorf("adding an existing service: %v, want EEXIST", err)
	}
	err = k.Apply(Op{Kind: DeleteDest, Service: svc(vip1, "rr"), Dest: dr("198.51.100.99:3306", 1)})
	if !errors.Is(err, unix.ENOENT) {
		t.Errorf("deleting a missing dest: %v, want ENOENT", err)
	}

	// The Reconciler adopts, updates in place, repairs and cleans up.
	rec := &logRecorder{}
	r := NewReconciler(k, slog.New(rec))
	r.SetDesired([]Service{want})
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if l := rec.take(); len(l) != 0 {
		t.Errorf("adoption logged %v", l)
	}
	changed := svc(vip1, "wlc", dr("198.51.100.10:3306", 0), nat("198.51.100.12:3306", 2))
	r.SetDesired([]Service{changed})
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	t.Logf("ops:\n%s", strings.Join(rec.take(), "\n"))
	if got, _ := k.Dump(); !reflect.DeepEqual(got, []Service{fw, changed, foreign}) {
		t.Errorf("dump after change %+v", got)
	}
	out = ipvsadm(t, ns, "-Ln")
	for _, line := range []string{
		"TCP  198.51.100.30:3306 wlc",
		"-> 198.51.100.10:3306 Route 0",
		"-> 198.51.100.12:3306 Masq 2",
	} {
		if !loose(line).MatchString(out) {
			t.Errorf("ipvsadm -Ln lacks %q:\n%s", line, out)
		}
	}

	ipvsadm(t, ns, "-d", "-t", "198.51.100.30:3306", "-r", "198.51.100.12:3306")
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if !rec.has(slog.LevelWarn, "repaired") {
		t.Errorf("no repaired warning: %v", rec.take())
	}
	if got, _ := k.Dump(); !reflect.DeepEqual(got, []Service{fw, changed, foreign}) {
		t.Errorf("dump after repair %+v", got)
	}

	if err := r.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if got, _ := k.Dump(); !reflect.DeepEqual(got, []Service{fw, foreign}) {
		t.Errorf("dump after cleanup %+v", got)
	}
	if out := ipvsadm(t, ns, "-Ln"); !loose("FWM 7 rr").MatchString(out) {
		t.Errorf("fwmark service gone:\n%s", out)
	}
	ipvsadm(t, ns, "-C")
}
