package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFileBuffer: reads return the file's bytes whatever its size did
// since the last read, into the same memory while it fits.
func TestFileBuffer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.hcl")
	var fb fileBuffer
	var last []byte
	for i, size := range []int{100 << 10, 100<<10 - 7, 100 << 10, 300 << 10, 10, 0, 64} {
		want := bytes.Repeat([]byte{byte('a' + i)}, size)
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := fb.read(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("read %d: %d bytes, want %d", i, len(got), len(want))
		}
		// The second and third reads fit the first's buffer.
		if (i == 1 || i == 2) && &got[0] != &last[0] {
			t.Errorf("read %d: a new buffer for a file that fits the last one", i)
		}
		// A mapping far larger than the file is let go.
		if i == 4 && len(fb.mem) > 64<<10 {
			t.Errorf("read %d: kept a %d-byte mapping for %d bytes", i, len(fb.mem), size)
		}
		if len(got) > 0 {
			last = got
		}
	}
	if _, err := fb.read(filepath.Join(t.TempDir(), "none")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
	// A source whose size Stat does not tell (a FIFO) grows the mapping
	// as it reads.
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("0123456789"), 30<<10)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		_, _ = w.Write(want)
		w.Close()
	}()
	if got, err := fb.read(fifo); err != nil || !bytes.Equal(got, want) {
		t.Errorf("fifo: %d bytes (%v), want %d", len(got), err, len(want))
	}
	var nilBuf *fileBuffer
	if got, err := nilBuf.read(path); err != nil || len(got) != 64 {
		t.Errorf("nil buffer: %d bytes, %v", len(got), err)
	}
}
