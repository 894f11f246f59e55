package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// schedNormal is SCHED_OTHER (SCHED_NORMAL), the kernel's policy 0.
const schedNormal = 0

// enableRealtime moves every thread of the process to SCHED_RR at prio
// (keepalived's vrrp_rt_priority; keepalived fault 3: adverts missed under
// CPU starvation cause false failovers, #1955 #2066 #2271). The whole
// process, not one thread: Go wakes a goroutine blocked on the VRRP socket
// through its netpoller and scheduler, on whichever threads are running, so
// every thread must win against the load. Threads Go creates later inherit
// the policy from the thread that clones them (no SCHED_RESET_ON_FORK).
//
// Child processes must not inherit it (a misc_check script spinning at
// SCHED_RR would starve the machine), so the returned starter forks them
// from one locked thread kept at SCHED_OTHER: a child inherits the policy of
// the thread that forks it. The kernel's RT throttling
// (kernel.sched_rt_runtime_us, 95% by default) still leaves the other
// processes some CPU if lvsd itself ever spins.
func enableRealtime(prio int) (func(*exec.Cmd) error, error) {
	if err := setAllThreads(prio); err != nil {
		return nil, err
	}
	return startSpawner()
}

// setAllThreads sets SCHED_RR at prio on every thread in /proc/self/task.
// A thread cloned during a pass by a thread not yet moved would be missed,
// so passes repeat until one finds nothing to change.
func setAllThreads(prio int) error {
	for pass := 0; pass < 10; pass++ {
		tids, err := threadIDs()
		if err != nil {
			return err
		}
		changed := 0
		for _, tid := range tids {
			a, err := unix.SchedGetAttr(tid, 0)
			if errors.Is(err, unix.ESRCH) {
				continue // the thread exited
			}
			if err != nil {
				return fmt.Errorf("sched_getattr thread %d: %w", tid, err)
			}
			if a.Policy == unix.SCHED_RR && a.Priority == uint32(prio) {
				continue
			}
			if err := setThread(tid, unix.SCHED_RR, prio); err != nil {
				if errors.Is(err, unix.ESRCH) {
					continue
				}
				return err
			}
			changed++
		}
		if changed == 0 {
			return nil
		}
	}
	return errors.New("threads kept appearing while switching to SCHED_RR")
}

func setThread(tid int, policy uint32, prio int) error {
	a := &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: policy, Priority: uint32(prio)}
	if err := unix.SchedSetAttr(tid, a, 0); err != nil {
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("sched_setattr thread %d: %w (needs CAP_SYS_NICE, or an RLIMIT_RTPRIO of at least %d)", tid, err, prio)
		}
		return fmt.Errorf("sched_setattr thread %d: %w", tid, err)
	}
	return nil
}

func threadIDs() ([]int, error) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	tids := make([]int, 0, len(ents))
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

// startSpawner starts the goroutine that forks every child process, locked
// to its own thread at SCHED_OTHER. The thread is never unlocked, so Go
// never runs another goroutine on it; threads Go needs while it is locked
// come from the runtime's template thread, not from it.
func startSpawner() (func(*exec.Cmd) error, error) {
	reqs := make(chan spawnReq)
	ready := make(chan error)
	go func() {
		runtime.LockOSThread()
		if err := setThread(unix.Gettid(), schedNormal, 0); err != nil {
			ready <- err
			return
		}
		close(ready)
		for r := range reqs {
			r.done <- r.cmd.Start()
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return func(cmd *exec.Cmd) error {
		done := make(chan error, 1)
		reqs <- spawnReq{cmd: cmd, done: done}
		return <-done
	}, nil
}
