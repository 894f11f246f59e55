package healthcheck

import (
	"os/exec"
	"sync/atomic"
)

// starter starts every child process lvsd runs (misc_check, notify
// scripts, vrrp_script, quorum_up/down: all go through runProgram).
var starter atomic.Pointer[func(*exec.Cmd) error]

// SetStarter replaces how child processes are started; nil restores
// (*exec.Cmd).Start. A director at realtime priority installs one that
// forks from a thread kept at normal priority, so scripts never inherit
// SCHED_RR (cmd/lvsd realtime_linux.go). Call it before checks start.
func SetStarter(f func(*exec.Cmd) error) {
	if f == nil {
		starter.Store(nil)
		return
	}
	starter.Store(&f)
}

func startCmd(cmd *exec.Cmd) error {
	if f := starter.Load(); f != nil {
		return (*f)(cmd)
	}
	return cmd.Start()
}
