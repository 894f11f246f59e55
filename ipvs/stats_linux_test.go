//go:build vm

package ipvs

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// inNetns runs f on an OS thread moved into the namespace at path; sockets
// f creates belong to that namespace. The thread is discarded afterwards.
func inNetns(t *testing.T, path string, f func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", path, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// TestStats sends real connections from a client namespace through an
// IPVS service whose destination is local to the director namespace, and
// reads the counters back, compared with what ipvsadm --stats shows.
func TestStats(t *testing.T) {
	ns, path := netns(t)
	client := "op-stats-client"
	clientPath := "/var/run/netns/" + client
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	ip("netns", "add", client)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", client).Run() })
	ip("-n", ns, "link", "add", "op-dir", "type", "veth", "peer", "name", "op-cli", "netns", client)
	ip("-n", ns, "addr", "add", "198.51.100.1/24", "dev", "op-dir")
	ip("-n", ns, "addr", "add", "198.51.100.40/32", "dev", "lo")
	ip("-n", ns, "link", "set", "op-dir", "up")
	ip("-n", client, "addr", "add", "198.51.100.2/24", "dev", "op-cli")
	ip("-n", client, "link", "set", "op-cli", "up")
	ip("-n", client, "link", "set", "lo", "up")
	ipvsadm(t, ns, "-A", "-t", "198.51.100.40:80", "-s", "rr")
	// The destination is an address of this namespace: IPVS delivers
	// locally (ipvsadm shows "Local"), to the listener on port 80.
	ipvsadm(t, ns, "-a", "-t", "198.51.100.40:80", "-r", "198.51.100.1:80", "-m", "-w", "3")

	var ln net.Listener
	if err := inNetns(t, path, func() (err error) {
		ln, err = net.Listen("tcp", "0.0.0.0:80")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("hello\n"))
			c.Close()
		}
	}()
	const conns = 5
	for i := range conns {
		if err := inNetns(t, clientPath, func() error {
			c, err := net.DialTimeout("tcp", "198.51.100.40:80", 5*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			b, err := io.ReadAll(c)
			if string(b) != "hello\n" {
				return fmt.Errorf("read %q: %v", b, err)
			}
			return nil
		}); err != nil {
			t.Fatalf("connection %d through the VIP: %v", i, err)
		}
	}

	k, err := NewKernelAt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	// The kernel folds its per-CPU counters into what it reports every
	// 2 s (the rate estimator's timer): poll.
	var stats []ServiceStats
	deadline := time.Now().Add(10 * time.Second)
	for {
		if stats, err = k.Stats(); err != nil {
			t.Fatal(err)
		}
		if len(stats) == 1 && stats[0].Conns >= conns || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("stats %+v", stats)
	out := ipvsadm(t, ns, "-Ln", "--stats")
	t.Logf("ipvsadm -Ln --stats:\n%s", out)
	if len(stats) != 1 || len(stats[0].Dests) != 1 {
		t.Fatalf("stats %+v", stats)
	}
	s, d := stats[0], stats[0].Dests[0]
	if s.Key != (Key{Protocol: TCP, Addr: netip.MustParseAddrPort("198.51.100.40:80")}) || d.Addr != netip.MustParseAddrPort("198.51.100.1:80") || d.Weight != 3 {
		t.Errorf("keys: service %v dest %v weight %d", s.Key, d.Addr, d.Weight)
	}
	if s.Conns != conns || d.Conns != conns || s.InPkts < conns || s.InBytes == 0 {
		t.Errorf("counters: service %+v dest %+v, want %d connections", s.Counters, d.Counters, conns)
	}
	// ipvsadm prints: TCP 198.51.100.40:80 <conns> <inpkts> <outpkts> <inbytes> <outbytes>
	// (small numbers are printed exactly).
	want := fmt.Sprintf("TCP 198.51.100.40:80 %d %d %d %d %d", s.Conns, s.InPkts, s.OutPkts, s.InBytes, s.OutBytes)
	if !loose(want).MatchString(out) {
		t.Errorf("ipvsadm --stats lacks %q", want)
	}
	if !strings.Contains(out, "198.51.100.1:80") {
		t.Errorf("ipvsadm --stats lacks the destination")
	}
}
