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
// /proc/PID/stat, and with cmdline its command line. A process that exits
// during the scan is skipped.
func listProcs(cmdline bool) ([]procInfo, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	out := make([]procInfo, 0, len(names))
	buf := make([]byte, maxCmdline)
	for _, n := range names {
		if n == "" || n[0] < '1' || n[0] > '9' {
			continue
		}
		if _, err := strconv.Atoi(n); err != nil {
			continue
		}
		pi, ok := readProc("/proc/"+n, cmdline, buf)
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

func readProc(dir string, cmdline bool, buf []byte) (procInfo, bool) {
	var pi procInfo
	b, ok := readFileInto(dir+"/stat", buf)
	if !ok {
		return pi, false
	}
	// "PID (COMM) S ...": comm may hold spaces and parentheses, so it
	// ends at the last ')'.
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open || end+2 >= len(b) {
		return pi, false
	}
	pi.Comm = string(b[open+1 : end])
	pi.Zombie = b[end+2] == 'Z'
	if cmdline && !pi.Zombie {
		b, ok := readFileInto(dir+"/cmdline", buf)
		if !ok {
			return pi, false
		}
		pi.Argv = splitCmdline(b)
	}
	return pi, true
}

// splitCmdline splits /proc/PID/cmdline (NUL-terminated words).
func splitCmdline(b []byte) []string {
	b = bytes.TrimSuffix(b, []byte{0})
	if len(b) == 0 {
		return nil
	}
	parts := bytes.Split(b, []byte{0})
	argv := make([]string, len(parts))
	for k, p := range parts {
		argv[k] = string(p)
	}
	return argv
}
