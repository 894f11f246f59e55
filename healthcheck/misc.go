package healthcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// miscEnv is the whole environment of a misc_check program: lvsd's own
// environment is not passed on.
var miscEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"}

// maxMiscOutput bounds how much of a program's stdout and stderr is kept.
const maxMiscOutput = 4096

// MiscChecker is misc_check: it runs a program without a shell, in its own
// process group, and its exit code is the verdict: 0 up, anything else
// (or being killed) down. When Timeout expires, or the attempt is
// aborted, the whole process group is killed; it is killed as well after
// the program exits, so nothing it started outlives the attempt. At most one
// instance runs per checker: a Check that finds one still running waits for
// it (or for its own ctx).
type MiscChecker struct {
	Argv []string
	// Timeout bounds one run (misc_timeout); <= 0 leaves only the caller's
	// deadline.
	Timeout time.Duration
	// User, when set, is the account (name or uid) the program runs as,
	// with its primary and supplementary groups.
	User string
	// Label names the program in errors (default "misc_check"); VRRP's
	// vrrp_script and notify scripts run through this same runner.
	Label string
	// Dynamic is misc_dynamic: exit codes 2-255 are up with weight
	// code - 2 (see CheckWeight).
	Dynamic bool

	once sync.Once
	sem  chan struct{} // holds the run in progress
}

var _ Checker = (*MiscChecker)(nil)

// NewMiscChecker is the Checker of a misc_check block.
func NewMiscChecker(c conf.Check) *MiscChecker {
	m := &MiscChecker{}
	if c.Misc != nil {
		m.Argv, m.Timeout, m.User, m.Dynamic = c.Misc.Argv, c.Misc.Timeout, c.Misc.User, c.Misc.Dynamic
	}
	return m
}

// miscGrace is how much longer than misc_timeout the Manager lets an attempt
// run, so that the checker's own timeout (and its message) comes first.
const miscGrace = time.Second

// Check runs the program once.
func (m *MiscChecker) Check(ctx context.Context) error {
	_, err := m.CheckWeight(ctx)
	return err
}

// CheckWeight runs the program once. With Dynamic (keepalived's
// misc_dynamic, check_misc.c) an exit code 2-255 is a success with weight
// code - 2; otherwise, and for exit 0, weight is -1: the configured one.
func (m *MiscChecker) CheckWeight(ctx context.Context) (weight int, err error) {
	if len(m.Argv) == 0 {
		return -1, errors.New("misc_check: no program")
	}
	label := m.Label
	if label == "" {
		label = "misc_check"
	}
	name := label + " " + m.Argv[0]
	m.once.Do(func() { m.sem = make(chan struct{}, 1) })
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return -1, fmt.Errorf("%s: previous run still in progress: %w", name, ctx.Err())
	}
	defer func() { <-m.sem }()

	code, err := runProgram(ctx, name, m.Argv, m.Timeout, m.User)
	switch {
	case code == 0:
		return -1, nil
	case m.Dynamic && code >= 2 && code <= 255:
		return code - 2, nil
	}
	return -1, err
}

// runProgram runs argv once without a shell, in its own process group,
// bounded by timeout (<= 0: only ctx) and killed with its whole group when
// that expires, ctx is done, or the program exits. It returns the exit code
// when the program exited by itself (err describes a non-zero one), else -1
// and why. name prefixes the errors. misc_check and the notify scripts share
// it.
func runProgram(ctx context.Context, name string, argv []string, timeout time.Duration, userName string) (int, error) {
	parent := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = miscEnv
	cmd.Dir = "/"
	attr := &syscall.SysProcAttr{Setpgid: true}
	if userName != "" {
		cred, err := credential(userName)
		if err != nil {
			return -1, fmt.Errorf("%s: user %s: %w", name, userName, err)
		}
		attr.Credential = cred
	}
	cmd.SysProcAttr = attr
	// A child left behind with the output pipes open must not hold Wait
	// once the program has exited (it is killed with the group anyway).
	cmd.WaitDelay = 200 * time.Millisecond
	var stdout, stderr capped
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := startCmd(cmd); err != nil {
		return -1, fmt.Errorf("%s: %w", name, err)
	}
	pgid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var err error
	select {
	case err = <-done:
		// The program exited; a child it left behind in its group must
		// not survive it (nor keep the output pipes open).
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	case <-ctx.Done():
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
		if err := parent.Err(); err != nil {
			// The caller's deadline or an abort, not the timeout.
			return -1, fmt.Errorf("%s: %w, process group killed%s", name, err, output(&stderr, &stdout))
		}
		return -1, fmt.Errorf("%s: timed out after %v, process group killed%s", name, timeout, output(&stderr, &stdout))
	}
	if err == nil || (errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil && cmd.ProcessState.Success()) {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -1, fmt.Errorf("%s: killed by signal %v%s", name, ws.Signal(), output(&stderr, &stdout))
		}
		return ee.ExitCode(), fmt.Errorf("%s: exit status %d%s", name, ee.ExitCode(), output(&stderr, &stdout))
	}
	if cmd.ProcessState != nil && cmd.ProcessState.Exited() {
		// ErrWaitDelay after a non-zero exit.
		code := cmd.ProcessState.ExitCode()
		return code, fmt.Errorf("%s: exit status %d%s", name, code, output(&stderr, &stdout))
	}
	return -1, fmt.Errorf("%s: %w", name, err)
}

// credential resolves a user name or numeric uid.
func credential(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		if _, nerr := strconv.ParseUint(name, 10, 32); nerr != nil {
			return nil, err
		}
		if u, err = user.LookupId(name); err != nil {
			return nil, err
		}
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil {
				cred.Groups = append(cred.Groups, uint32(g))
			}
		}
	}
	return cred, nil
}

// output is ": " and the first non-empty line of stderr, else of stdout,
// or "" when both are empty.
func output(stderr, stdout *capped) string {
	for _, b := range []*capped{stderr, stdout} {
		for line := range strings.SplitSeq(b.buf.String(), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				return ": " + line
			}
		}
	}
	return ""
}

// capped keeps the first maxMiscOutput bytes written to it and discards the
// rest (without failing the writer: the program must not get EPIPE).
type capped struct{ buf bytes.Buffer }

func (c *capped) Write(p []byte) (int, error) {
	if room := maxMiscOutput - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
