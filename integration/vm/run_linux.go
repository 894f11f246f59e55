package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options describe one program run in a fresh VM.
type Options struct {
	Program string   // host path of the program; relative or bare names are resolved on the host
	Args    []string // arguments, without argv[0]
	Dir     string   // working directory in the guest; default "/"
	Env     []string // the program's whole environment; PATH and HOME get defaults

	Stdout, Stderr io.Writer // the program's output; nil discards
	// Console receives the guest's serial console (kernel and boot
	// messages) live; when nil, its tail is kept for error messages only.
	Console io.Writer

	Memory   int           // MiB, default 1536
	CPUs     int           // default 2
	Timeout  time.Duration // whole run, boot included; 0 means only ctx bounds it
	CacheDir string        // initramfs cache; default $XDG_CACHE_HOME/lvsd-vm
	Keep     bool          // keep the run's out directory (its path is written to Stderr)
	// Share lists more host directories the program needs; those under a
	// directory the guest covers with tmpfs (/tmp, /run, ...) are shared
	// read-write at the same path, like the program's own directory.
	Share []string
}

const (
	guestOut    = "/run/lvsd-vm" // where /init mounts the out share
	defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	ninePOpts   = "trans=virtio,version=9p2000.L,msize=512000"
)

// hiddenDirs are covered by tmpfs in the guest. A program or working
// directory under one of them (go test builds test binaries in
// /tmp/go-build*) is exported read-write at the same path, so the guest
// sees it and files the program writes there (go test's testlog.txt,
// coverage profiles) reach the host.
var hiddenDirs = []string{"/tmp", "/var/tmp", "/run", "/root"}

// Run boots the VM, runs opts.Program in it and returns its exit status.
// err is non-nil only when the VM itself failed (then exitCode is -1).
func Run(ctx context.Context, opts Options) (exitCode int, err error) {
	if opts.Memory == 0 {
		opts.Memory = 1536
	}
	if opts.CPUs == 0 {
		opts.CPUs = 2
	}
	if opts.Dir == "" {
		opts.Dir = "/"
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	prog, err := resolveProgram(opts.Program)
	if err != nil {
		return -1, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return -1, fmt.Errorf("vm: dir: %w", err)
	}
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return -1, fmt.Errorf("vm: %w (apt-get install qemu-system-x86)", err)
	}
	vmlinuz, _, err := FindKernel()
	if err != nil {
		return -1, err
	}
	if opts.CacheDir == "" {
		if opts.CacheDir, err = defaultCacheDir(); err != nil {
			return -1, err
		}
	}
	initrd, kver, err := BuildInitramfs(opts.CacheDir)
	if err != nil {
		return -1, err
	}
	kernel := bootKernel(vmlinuz, kver, opts.CacheDir)

	out, err := os.MkdirTemp("", "lvsd-vm-")
	if err != nil {
		return -1, fmt.Errorf("vm: out dir: %w", err)
	}
	if opts.Keep {
		fmt.Fprintf(opts.Stderr, "lvsd-vm: keeping %s\n", out)
	} else {
		defer os.RemoveAll(out)
	}
	shares := extraShares(append([]string{filepath.Dir(prog), dir}, opts.Share...)...)
	combined := opts.Stdout == opts.Stderr
	script := guestScript(prog, opts.Args, dir, guestEnv(opts.Env), shares, combined)
	if err := os.WriteFile(filepath.Join(out, "guest.sh"), []byte(script), 0o755); err != nil {
		return -1, fmt.Errorf("vm: %w", err)
	}
	for _, f := range []string{"stdout", "stderr"} {
		if err := os.WriteFile(filepath.Join(out, f), nil, 0o644); err != nil {
			return -1, fmt.Errorf("vm: %w", err)
		}
	}

	args := []string{
		"-accel", "tcg", "-smp", strconv.Itoa(opts.CPUs), "-m", strconv.Itoa(opts.Memory),
		"-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
		"-kernel", kernel, "-initrd", initrd,
		// quiet keeps kernel chatter off the console; panic=-1 with
		// -no-reboot turns a guest panic into a QEMU exit, not a hang.
		// TCG's emulated TSC follows the host clock on every vCPU, but the
		// guest finds it "unsynchronized" and falls back to the HPET, whose
		// every read traps; tsc=reliable keeps the TSC. A throw-away test VM
		// needs no speculation mitigations; off, Go test binaries ran 2-4x
		// faster inside. no_timer_check skips the boot-time check that the
		// 8254 timer ticks through the IO-APIC: on a loaded host the
		// emulated ticks arrive late, the check fails and the kernel panics
		// ("IO-APIC + timer doesn't work!"), which killed a VM test now and
		// then.
		"-append", "console=ttyS0 quiet loglevel=3 panic=-1 tsc=reliable mitigations=off no_timer_check",
		"-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
		"-virtfs", "local,path=" + qemuEscape(out) + ",mount_tag=out,security_model=none",
	}
	for i, s := range shares {
		args = append(args, "-virtfs", fmt.Sprintf("local,path=%s,mount_tag=p%d,security_model=none,multidevs=remap", qemuEscape(s), i))
	}
	cmd := exec.CommandContext(ctx, qemu, args...)
	console := &tailBuffer{max: 16 << 10}
	if opts.Console != nil {
		cmd.Stdout = io.MultiWriter(console, opts.Console)
	} else {
		cmd.Stdout = console
	}
	cmd.Stderr = cmd.Stdout
	// QEMU must not outlive us, e.g. when go test kills the -exec wrapper.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}

	done := make(chan struct{})
	var wg sync.WaitGroup
	follow := func(name string, w io.Writer) {
		wg.Add(1)
		go func() { defer wg.Done(); tail(filepath.Join(out, name), w, done) }()
	}
	follow("stdout", opts.Stdout)
	if !combined {
		follow("stderr", opts.Stderr)
	}
	start := time.Now()
	runErr := cmd.Run()
	close(done)
	wg.Wait()

	b, readErr := os.ReadFile(filepath.Join(out, "exit"))
	if readErr == nil {
		if code, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			return code, nil
		}
	}
	why := "guest reported no exit code"
	if ctx.Err() != nil {
		why = fmt.Sprintf("timed out after %s", time.Since(start).Round(time.Second))
		runErr = ctx.Err()
	}
	return -1, fmt.Errorf("vm: %s (qemu: %v); console tail:\n%s", why, runErr, console.String())
}

func resolveProgram(p string) (string, error) {
	if p == "" {
		return "", errors.New("vm: no program")
	}
	if !strings.Contains(p, "/") {
		lp, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("vm: %w", err)
		}
		p = lp
	}
	p, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("vm: program: %w", err)
	}
	// Resolve symlinks so the share decision sees the real location.
	if r, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil {
		p = filepath.Join(r, filepath.Base(p))
	}
	return p, nil
}

// extraShares returns the directories among dirs that lie under a
// hiddenDirs entry, each once, minus those inside another chosen one.
func extraShares(dirs ...string) []string {
	var under []string
	for _, d := range dirs {
		for _, h := range hiddenDirs {
			if (d == h || strings.HasPrefix(d, h+"/")) && !slices.Contains(under, d) {
				under = append(under, d)
				break
			}
		}
	}
	var res []string
	for _, d := range under {
		if !slices.ContainsFunc(under, func(o string) bool { return strings.HasPrefix(d, o+"/") }) {
			res = append(res, d)
		}
	}
	return res
}

// guestEnv fills in PATH and HOME when the caller did not set them.
func guestEnv(env []string) []string {
	var hasPath, hasHome bool
	for _, e := range env {
		hasPath = hasPath || strings.HasPrefix(e, "PATH=")
		hasHome = hasHome || strings.HasPrefix(e, "HOME=")
	}
	out := append([]string(nil), env...)
	if !hasPath {
		out = append(out, "PATH="+defaultPath)
	}
	if !hasHome {
		out = append(out, "HOME=/root")
	}
	return out
}

// guestScript is run by the host's /bin/sh as the guest's PID 1 after
// switch_root. Whatever happens, it records an exit code and powers off.
func guestScript(prog string, args []string, dir string, env []string, shares []string, combined bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\no=%s\n", guestOut)
	b.WriteString("run() {\n")
	for i, s := range shares {
		fmt.Fprintf(&b, "\tmkdir -p %s && mount -t 9p -o %s p%d %s || return 125\n", shQuote(s), ninePOpts, i, shQuote(s))
	}
	fmt.Fprintf(&b, "\tcd %s || return 125\n\texec env -i", shQuote(dir))
	for _, e := range env {
		b.WriteString(" " + shQuote(e))
	}
	b.WriteString(" " + shQuote(prog))
	for _, a := range args {
		b.WriteString(" " + shQuote(a))
	}
	b.WriteString(" </dev/null\n}\n")
	if combined {
		b.WriteString("(run) >$o/stdout 2>&1\n")
	} else {
		b.WriteString("(run) >$o/stdout 2>$o/stderr\n")
	}
	b.WriteString(`echo $? >$o/exit.tmp && mv $o/exit.tmp $o/exit
sync
/bin/busybox poweroff -f
echo o >/proc/sysrq-trigger
sleep 60
`)
	return b.String()
}

// shQuote quotes s for POSIX sh.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// qemuEscape escapes a value inside a QEMU option list, where ',' separates
// options and ",," stands for a literal comma.
func qemuEscape(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// tail copies what the guest appends to file to w until done is closed,
// then copies the rest. Polling keeps it simple; the guest writes through
// 9p without caching, so appended bytes are visible on the host at once.
func tail(file string, w io.Writer, done <-chan struct{}) {
	f, err := os.Open(file)
	if err != nil {
		return
	}
	defer f.Close()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		io.Copy(w, f) //nolint:errcheck // a failing writer must not stop the VM
		select {
		case <-done:
			io.Copy(w, f) //nolint:errcheck
			return
		case <-t.C:
		}
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
