package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lvsd/lvsd/ipvs"
)

// A director whose Start fails (here: no IPVS in the kernel) is stopped
// without a panic and without running omega's quorum_down, which belongs
// to the shutdown of a running service. It panicked on the coordinator
// that the failed Start had not made yet.
func TestStopAfterFailedStart(t *testing.T) {
	script, marker := markerScript(t)
	cfg := parse(t, fmt.Sprintf(`virtual_server "db" {
  address     = "198.51.100.30:3306"
  quorum_down = "%s down"
  omega       = true
  real_server "a" {
    address = "198.51.100.10:3306"
  }
}
`, script))
	d := newDirector(cfg, &daemonOptions{resync: time.Hour}, slog.New(slog.DiscardHandler))
	noIPVS := errors.New("ipvs generic netlink family: no such file or directory")
	d.newKernel = func() (ipvs.Kernel, error) { return nil, noIPVS }
	if err := d.Start(context.Background()); !errors.Is(err, noIPVS) {
		t.Fatalf("Start: %v, want the kernel's error", err)
	}
	d.Stop()
	if b, err := os.ReadFile(marker); err == nil {
		t.Errorf("quorum_down ran after a failed start: %q", b)
	}
}

// markerScript writes a notify program that appends its first argument to
// the file marker, as a line.
func markerScript(t *testing.T) (script, marker string) {
	t.Helper()
	dir := t.TempDir()
	marker = filepath.Join(dir, "marker")
	script = filepath.Join(dir, "notify")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$1\" >> "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, marker
}
