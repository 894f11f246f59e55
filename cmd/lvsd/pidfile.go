package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pidFile is a pid file held with an exclusive flock for the daemon's life.
// The lock, not the file's existence, says whether a live lvsd owns it: a
// file left by a crashed daemon is simply taken over.
type pidFile struct {
	path string
	f    *os.File
}

func acquirePidFile(path string) (*pidFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pid file: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("pid file %s: another lvsd (pid %s) is running", path, strings.TrimSpace(string(b)))
		}
		return nil, fmt.Errorf("pid file %s: lock: %w", path, err)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, fmt.Errorf("pid file %s: %w", path, err)
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("pid file %s: %w", path, err)
	}
	return &pidFile{path: path, f: f}, nil
}

// release removes the file while still holding the lock, so no second
// daemon can see a file with our pid and no lock.
func (p *pidFile) release() {
	os.Remove(p.path)
	p.f.Close()
}
