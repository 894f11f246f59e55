package vrrp

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestInotifyWatcher runs the real inotify watcher on a temporary
// directory: a write, a replacement by rename and a deletion each report
// the file; the directory's removal reports the watch lost.
func TestInotifyWatcher(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "d")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := newInotifyWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Watch(sub); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(sub, "prio")
	expect := func(what string, want fileEvent) {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case ev := <-w.Events():
				if ev == want {
					return
				}
			case <-timeout:
				t.Fatalf("%s: no event %+v", what, want)
			}
		}
	}
	if err := os.WriteFile(p, []byte("3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	expect("write", fileEvent{Path: p})
	tmp := filepath.Join(sub, ".prio.tmp")
	os.WriteFile(tmp, []byte("4\n"), 0o644)
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	expect("rename", fileEvent{Path: p})
	if v, ok, err := readTrackFile(p); v != 4 || !ok || err != nil {
		t.Fatalf("read %d %v %v", v, ok, err)
	}
	os.Remove(p)
	expect("delete", fileEvent{Path: p})
	if v, ok, err := readTrackFile(p); v != 0 || !ok || err == nil {
		t.Fatalf("missing file read %d %v %v, want 0 with an error", v, ok, err)
	}
	os.RemoveAll(sub)
	expect("directory removed", fileEvent{Path: sub, Lost: true})
	if err := w.Watch(filepath.Join(dir, "none")); err == nil {
		t.Fatal("watching a missing directory succeeded")
	}
}
