package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestEnvDirs(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "lvsd")
	if err := os.WriteFile(bin, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	got := envDirs([]string{
		"LVSD_BIN=" + bin,              // a file: its directory
		"LVSD_DATA=" + dir,             // a directory: itself
		"LVSD_MISSING=/nonexistent/x",  // absent: ignored
		"LVSD_RELATIVE=bin/lvsd",       // relative: ignored
		"HOME=" + dir, "PATH=/usr/bin", // not LVSD_: ignored
	})
	if want := []string{dir, dir}; !slices.Equal(got, want) {
		t.Errorf("envDirs = %q, want %q", got, want)
	}
}
