package vrrp

import "bytes"

// parseStat extracts the task name and whether the process is a zombie
// from /proc/PID/stat: "PID (COMM) S ...". comm may hold spaces and
// parentheses, so it ends at the last ')'.
func parseStat(b []byte) (comm []byte, zombie, ok bool) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open || end+2 >= len(b) || b[end+1] != ' ' {
		return nil, false, false
	}
	return b[open+1 : end], b[end+2] == 'Z', true
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
