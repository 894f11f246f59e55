package main

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// fileBuffer is what reloads read the file into: each overwrites the bytes
// of the last. A fresh buffer per reload (9 MB at 10k services) came from
// pages the daemon had handed back to the kernel after the last burst
// (trimMemory), and faulting them in again made a one-weight reload at
// rest a fifth slower under emulation (op logged at ~90 ms, ~70 ms with
// this buffer). The buffer is mapped outside Go's heap: as heap it would
// count as live data, and GOGC would give the heap half its size again
// of headroom, raising the peak the buffer was not to raise. It costs the
// file's size of resident memory between reloads.
//
// Nothing a parse returns or a conf.Cache keeps points into it (conf's
// TestParseKeepsNoSourceBytes), and a reload takes the file's hash before
// it returns, so the next read may overwrite it, and a new mapping may
// replace it.
type fileBuffer struct{ mem []byte } // the mapping; nil: none yet

// read returns path's bytes in fb's mapping, replaced by a larger one if
// the file outgrew it or a smaller one if it is far larger than the file;
// a nil fb is os.ReadFile. The bytes are good until the next read.
func (fb *fileBuffer) read(path string) ([]byte, error) {
	if fb == nil {
		return os.ReadFile(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := 0
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = int(fi.Size())
	}
	// One byte more than the size, so that the read that finds the end
	// needs no growth.
	if need := mapSize(size + 1); len(fb.mem) < need || len(fb.mem) > 2*need {
		if err := fb.remap(need, 0); err != nil {
			return nil, err
		}
	}
	n := 0
	for {
		if n == len(fb.mem) {
			// The file grew since Stat.
			if err := fb.remap(mapSize(2*n), n); err != nil {
				return nil, err
			}
		}
		k, err := f.Read(fb.mem[n:])
		n += k
		if err == io.EOF {
			return fb.mem[:n:n], nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// remap replaces the mapping by one of size bytes holding its first keep
// bytes.
func (fb *fileBuffer) remap(size, keep int) error {
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return os.NewSyscallError("mmap", err)
	}
	copy(mem, fb.mem[:keep])
	if fb.mem != nil {
		_ = unix.Munmap(fb.mem)
	}
	fb.mem = mem
	return nil
}

// mapSize rounds n up to whole 64 KB.
func mapSize(n int) int { return (max(n, 1) + 64<<10 - 1) &^ (64<<10 - 1) }
