// Command lvsd-vm runs a program inside a QEMU VM booting the stock
// distribution kernel (which has IPVS), with the host's root filesystem
// shared read-only, and exits with the program's exit code. It is made to
// be a go test -exec wrapper:
//
//	go test -exec "$PWD/bin/lvsd-vm" -tags vm ./ipvs/
//	go run ./integration/cmd/lvsd-vm -- /bin/sh -c 'modprobe ip_vs && ipvsadm -Ln'
//
// Flags come before the program; everything from the program on is passed
// to it untouched.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lvsd/lvsd/integration/vm"
)

func main() {
	fs := flag.NewFlagSet("lvsd-vm", flag.ContinueOnError)
	mem := fs.Int("mem", 1536, "guest memory in MiB")
	cpus := fs.Int("cpus", 2, "guest CPUs")
	timeout := fs.Duration("timeout", 0, "limit for the whole run, boot included (0: none)")
	keep := fs.Bool("keep", false, "keep the run directory (guest script, output, exit code)")
	console := fs.Bool("console", false, "show the guest's serial console on stderr")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: lvsd-vm [flags] [--] PROGRAM [ARGS...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		os.Exit(2)
	}
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "lvsd-vm:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts := vm.Options{
		Program: fs.Arg(0),
		Args:    fs.Args()[1:],
		Dir:     dir,
		Env:     filterEnv(os.Environ()),
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Memory:  *mem,
		CPUs:    *cpus,
		Timeout: *timeout,
		Keep:    *keep,
	}
	// go test hands the same pipe as stdout and stderr; one writer keeps
	// the program's interleaving of the two intact.
	if sameFile(os.Stdout, os.Stderr) {
		opts.Stderr = opts.Stdout
	}
	opts.Share = append(envDirs(opts.Env), moduleRoot(dir)...)
	if *console {
		opts.Console = os.Stderr
	}
	start := time.Now()
	code, err := vm.Run(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lvsd-vm:", err)
		os.Exit(1)
	}
	if os.Getenv("LVSD_VM_TIMING") != "" {
		fmt.Fprintf(os.Stderr, "lvsd-vm: exit %d after %s\n", code, time.Since(start).Round(time.Millisecond))
	}
	os.Exit(code)
}

// filterEnv keeps what a test run needs and drops host-specific state
// (display, ssh agent, TMPDIR pointing into a hidden directory, ...).
// moduleRoot returns the directory holding the go.mod above dir, if any:
// tests read testdata of sibling packages (../conf/...), so in a checkout
// under /tmp the whole module must be visible, not only the package.
func moduleRoot(dir string) []string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return []string{d}
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// envDirs returns the directories of absolute paths named by LVSD_*
// variables (LVSD_BIN=/tmp/clone/bin/lvsd), so a checkout under /tmp stays
// visible in the guest.
func envDirs(env []string) []string {
	var dirs []string
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		if !strings.HasPrefix(k, "LVSD_") || !filepath.IsAbs(v) {
			continue
		}
		if fi, err := os.Stat(v); err == nil {
			if !fi.IsDir() {
				v = filepath.Dir(v)
			}
			dirs = append(dirs, v)
		}
	}
	return dirs
}

func filterEnv(env []string) []string {
	out := []string{"HOME=/root"}
	for _, e := range env {
		k, _, _ := strings.Cut(e, "=")
		switch {
		case k == "PATH", k == "TERM", k == "TZ", k == "LANG", strings.HasPrefix(k, "LC_"),
			strings.HasPrefix(k, "GO"), strings.HasPrefix(k, "LVSD_"):
			out = append(out, e)
		}
	}
	for _, e := range out {
		if strings.HasPrefix(e, "PATH=") {
			return ensureSbin(out)
		}
	}
	return out // vm.Run supplies a default PATH
}

// ensureSbin appends the sbin directories (ipvsadm, iptables, ip live
// there) when a non-root caller's PATH lacks them: the guest runs as root.
func ensureSbin(env []string) []string {
	for i, e := range env {
		if p, ok := strings.CutPrefix(e, "PATH="); ok {
			for _, d := range []string{"/usr/sbin", "/sbin"} {
				if !strings.Contains(":"+p+":", ":"+d+":") {
					p += ":" + d
				}
			}
			env[i] = "PATH=" + p
		}
	}
	return env
}

func sameFile(a, b *os.File) bool {
	sa, err1 := a.Stat()
	sb, err2 := b.Stat()
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
