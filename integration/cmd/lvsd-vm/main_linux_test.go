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

func TestModuleRoot(t *testing.T) {
	root := t.TempDir()
	pkg := filepath.Join(root, "integration", "lab")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := moduleRoot(pkg); !slices.Equal(got, []string{root}) {
		t.Errorf("moduleRoot(%s) = %q, want [%s]", pkg, got, root)
	}
	if got := moduleRoot("/"); got != nil {
		t.Errorf("moduleRoot(/) = %q, want none", got)
	}
}
