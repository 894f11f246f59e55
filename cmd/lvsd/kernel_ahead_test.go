package main

import (
	"path/filepath"
	"testing"
)

func TestKernelAheadOnlyWhenLoaded(t *testing.T) {
	if a := startKernelAhead(filepath.Join(t.TempDir(), "ip_vs")); a != nil {
		t.Fatal("opened ahead although the module directory is missing")
	}
	// An existing directory stands for a loaded module: the open runs
	// (and fails here without IPVS in this kernel, or succeeds with it);
	// open hands over its result once, close after that is a no-op.
	a := startKernelAhead(t.TempDir())
	if a == nil {
		t.Fatal("not started")
	}
	k1, err1 := a.open()
	if (k1 == nil) == (err1 == nil) {
		t.Fatalf("open: kernel %v, err %v", k1, err1)
	}
	a.close()
	if c, ok := k1.(interface{ Close() error }); ok {
		_ = c.Close()
	}
	// Never taken: close releases it.
	b := startKernelAhead(t.TempDir())
	b.close()
	if !b.taken {
		t.Error("close left the handle for a later open")
	}
}
