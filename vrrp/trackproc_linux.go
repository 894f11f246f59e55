package vrrp

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// maxCmdline bounds what is read of a command line: enough for any
// configured process and its arguments.
const maxCmdline = 4096

// listProcs reads /proc: every process's task name and state from
// /proc/PID/stat, and with cmdline its command line, and returns those
// whose task name or first word is in names (the others are not turned
// into strings: most of a scan's garbage). A process that exits during
// the scan is skipped.
func listProcs(names map[string]bool, cmdline bool) ([]procInfo, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	ents, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	var out []procInfo
	// Two buffers: comm, in the first, is still needed after the command
	// line is read into the second.
	statBuf, cmdBuf := make([]byte, 512), make([]byte, maxCmdline)
	for _, n := range ents {
		if n == "" || n[0] < '1' || n[0] > '9' {
			continue
		}
		if _, err := strconv.Atoi(n); err != nil {
			continue
		}
		pi, ok := readProc("/proc/"+n, names, cmdline, statBuf, cmdBuf)
		if ok {
			out = append(out, pi)
		}
	}
	return out, nil
}

// readFileInto reads the start of a /proc file with bare system calls:
// os.Open would also try to register each file with the runtime poller,
// which /proc refuses, a third more system calls per file in a scan.
func readFileInto(path string, buf []byte) ([]byte, bool) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	n, err := unix.Read(fd, buf)
	if err != nil || n < 0 {
		return nil, false
	}
	return buf[:n], true
}

func readProc(dir string, names map[string]bool, cmdline bool, statBuf, cmdBuf []byte) (procInfo, bool) {
	var pi procInfo
	b, ok := readFileInto(dir+"/stat", statBuf)
	if !ok {
		return pi, false
	}
	comm, zombie, ok := parseStat(b)
	if !ok || zombie {
		return pi, false // zombies never count (keepalived)
	}
	want := names[string(comm)] // no allocation for a map lookup
	if cmdline {
		b, ok := readFileInto(dir+"/cmdline", cmdBuf)
		if !ok {
			return pi, false
		}
		argv0, _, _ := bytes.Cut(b, []byte{0})
		if names[string(argv0)] {
			want = true
			pi.Argv = splitCmdline(b)
		}
	}
	if want {
		pi.Comm = string(comm)
	}
	return pi, want
}
