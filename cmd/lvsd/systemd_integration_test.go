//go:build integration && linux

// Host-tier tests of the systemd integration: the real binary speaking
// sd_notify to a real unixgram socket, and the unit files checked by
// systemd-analyze. Run as root:
//
//	go test -tags integration ./cmd/lvsd/

package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lvsdBinary is $LVSD_BIN, or lvsd built into a temporary directory.
func lvsdBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("LVSD_BIN"); b != "" {
		return b
	}
	b := filepath.Join(t.TempDir(), "lvsd")
	if out, err := exec.Command("go", "build", "-o", b, ".").CombinedOutput(); err != nil {
		t.Fatalf("build lvsd: %v\n%s", err, out)
	}
	return b
}

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespace, iptables)")
	}
}

// TestAgentSdNotify runs `lvsd agent` in a network namespace of its own
// under a fake systemd: NOTIFY_SOCKET is a unixgram socket this test reads.
// It expects READY=1 after start, WATCHDOG=1 at half of WATCHDOG_USEC,
// RELOADING=1 with MONOTONIC_USEC then READY=1 around each reload (a
// refused one through `lvsd reload`, an applied one through SIGHUP), and
// STOPPING=1 on SIGTERM.
func TestAgentSdNotify(t *testing.T) {
	needRoot(t)
	bin := lvsdBinary(t)
	ns := fmt.Sprintf("op-notify-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })

	dir := t.TempDir()
	file := filepath.Join(dir, "agent.hcl")
	sock := filepath.Join(dir, "agent.sock")
	if err := os.WriteFile(file, []byte("agent {\n  vips = [\"198.51.100.30\"]\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	notifyPath := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msgs := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	watchdogs := 0
	// next returns the next message that is not a watchdog ping.
	next := func(what string) string {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatalf("notify socket closed waiting for %s", what)
				}
				if m == "WATCHDOG=1" {
					watchdogs++
					continue
				}
				return m
			case <-deadline:
				t.Fatalf("no %s within 10s", what)
			}
		}
	}

	var logs strings.Builder
	cmd := exec.Command("ip", "netns", "exec", ns, bin, "agent", "-f", file, "--control", sock, "--pid-file", filepath.Join(dir, "agent.pid"))
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notifyPath, "WATCHDOG_USEC=400000")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("lvsd log:\n%s", logs.String())
		}
	})

	if m := next("READY=1"); !strings.HasPrefix(m, "READY=1\n") {
		t.Fatalf("first message %q, want READY=1", m)
	}
	t.Logf("READY=1 %v after exec", time.Since(start).Round(time.Millisecond))

	// Two watchdog periods (0.4 s) give at least three pings at 0.2 s.
	time.Sleep(900 * time.Millisecond)
	for len(msgs) > 0 {
		if m := <-msgs; m == "WATCHDOG=1" {
			watchdogs++
		} else {
			t.Fatalf("unexpected %q", m)
		}
	}
	if watchdogs < 3 {
		t.Errorf("%d WATCHDOG=1 in 0.9 s with WATCHDOG_USEC=400000, want >= 3", watchdogs)
	}

	// A refused reload through the control socket.
	if err := os.WriteFile(file, []byte("agent {\n  vips = [\"198.51.100.300\"]\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "reload", "--control", sock).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), file+":2,") {
		t.Fatalf("lvsd reload of a broken file: %v\n%s", err, out)
	}
	if m := next("RELOADING=1"); !strings.HasPrefix(m, "RELOADING=1\nMONOTONIC_USEC=") {
		t.Fatalf("got %q, want RELOADING=1 with MONOTONIC_USEC", m)
	}
	if m := next("READY=1"); !strings.HasPrefix(m, "READY=1") {
		t.Fatalf("got %q after RELOADING, want READY=1", m)
	}

	// An applied reload through SIGHUP.
	if err := os.WriteFile(file, []byte("agent {\n  vips = [\"198.51.100.31\"]\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if m := next("RELOADING=1"); !strings.HasPrefix(m, "RELOADING=1\n") {
		t.Fatalf("got %q after SIGHUP", m)
	}
	if m := next("READY=1"); !strings.HasPrefix(m, "READY=1") {
		t.Fatalf("got %q after RELOADING", m)
	}
	st, err := exec.Command(bin, "status", "--control", sock).CombinedOutput()
	if err != nil || !strings.Contains(string(st), "by SIGHUP: applied (vips [198.51.100.30] -> [198.51.100.31])") {
		t.Errorf("status after SIGHUP: %v\n%s", err, st)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if m := next("STOPPING=1"); m != "STOPPING=1" {
		t.Fatalf("got %q after SIGTERM, want STOPPING=1", m)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("lvsd agent exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("lvsd agent did not exit after SIGTERM")
	}
}

// TestUnitFilesVerify runs systemd-analyze verify on the unit files, with
// the binary path pointed at the built lvsd (verify checks executables).
func TestUnitFilesVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Fatalf("systemd-analyze not installed (apt-get install systemd; make deps): %v", err)
	}
	bin := lvsdBinary(t)
	dir := t.TempDir()
	for _, name := range []string{"lvsd-director.service", "lvsd-agent.service"} {
		src, err := os.ReadFile(filepath.Join("..", "..", "contrib", "systemd", name))
		if err != nil {
			t.Fatal(err)
		}
		unit := strings.ReplaceAll(string(src), "/usr/sbin/lvsd", bin)
		for _, want := range []string{"Type=notify", "WatchdogSec=", "CAP_NET_ADMIN CAP_NET_RAW", "ExecReload=" + bin + " reload"} {
			if !strings.Contains(unit, want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", name, err, out)
		}
	}
}
