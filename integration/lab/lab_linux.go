package lab

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netns"
)

// Lab is a set of namespaces sharing one L2 segment.
type Lab struct {
	Prefix string
	Dir    string // scratch directory for configs and logs
	Logf   func(format string, args ...any)

	mu    sync.Mutex
	hosts map[string]*Host
	procs []*Proc
	sw    string // switch namespace
}

// Host is one namespace with eth0 on the lab's bridge.
type Host struct {
	lab  *Lab
	Name string
	NS   string // namespace name
	Addr string // CIDR on eth0
	peer string // veth end in the switch namespace
}

// New creates the switch namespace with a bridge. prefix must be short
// (namespace names are prefix-host); dir receives configs and logs.
func New(prefix, dir string, logf func(string, ...any)) (*Lab, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	l := &Lab{Prefix: prefix, Dir: dir, Logf: logf, hosts: map[string]*Host{}, sw: prefix + "-sw"}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// A previous run killed half-way may have left namespaces behind.
	l.removeLeftovers()
	steps := [][]string{
		{"ip", "netns", "add", l.sw},
		{"ip", "-n", l.sw, "link", "add", "br0", "type", "bridge"},
		{"ip", "-n", l.sw, "link", "set", "br0", "up"},
		{"ip", "-n", l.sw, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if _, err := run(s...); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

func (l *Lab) removeLeftovers() {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasPrefix(f[0], l.Prefix+"-") {
			_, _ = run("ip", "netns", "del", f[0])
		}
	}
}

// AddHost creates namespace prefix-name with eth0 = cidr, linked to the bridge.
func (l *Lab) AddHost(name, cidr string) (*Host, error) {
	h := &Host{lab: l, Name: name, NS: l.Prefix + "-" + name, Addr: cidr, peer: "v-" + name}
	if len(h.peer) > 15 {
		return nil, fmt.Errorf("lab: host name %q too long", name)
	}
	steps := [][]string{
		{"ip", "netns", "add", h.NS},
		{"ip", "-n", l.sw, "link", "add", h.peer, "type", "veth", "peer", "name", "eth0", "netns", h.NS},
		{"ip", "-n", l.sw, "link", "set", h.peer, "master", "br0", "up"},
		{"ip", "-n", h.NS, "link", "set", "lo", "up"},
		{"ip", "-n", h.NS, "addr", "add", cidr, "dev", "eth0"},
		{"ip", "-n", h.NS, "link", "set", "eth0", "up"},
	}
	for _, s := range steps {
		if _, err := run(s...); err != nil {
			return nil, err
		}
	}
	l.mu.Lock()
	l.hosts[name] = h
	l.mu.Unlock()
	return h, nil
}

// IP is the host's address without the prefix length.
func (h *Host) IP() string { return strings.SplitN(h.Addr, "/", 2)[0] }

// LinkDown cuts the host's cable at the switch: its eth0 loses carrier.
func (h *Host) LinkDown() error {
	_, err := run("ip", "-n", h.lab.sw, "link", "set", h.peer, "down")
	return err
}

// LinkUp plugs the cable back.
func (h *Host) LinkUp() error {
	_, err := run("ip", "-n", h.lab.sw, "link", "set", h.peer, "up")
	return err
}

// Run runs a command inside the host's namespace and returns its combined output.
func (h *Host) Run(args ...string) (string, error) {
	return run(append([]string{"ip", "netns", "exec", h.NS}, args...)...)
}

// HasAddr reports whether ip is configured on any interface of the host.
func (h *Host) HasAddr(ip string) bool {
	out, err := run("ip", "-n", h.NS, "-o", "addr", "show")
	if err != nil {
		return false
	}
	for _, f := range strings.Fields(out) {
		if strings.SplitN(f, "/", 2)[0] == ip {
			return true
		}
	}
	return false
}

// Proc is a process started in a namespace; its output goes to a log file.
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	Log  string
	done chan struct{}
	err  error
}

// Start starts a command in the host's namespace; name labels its log file.
func (h *Host) Start(name string, args ...string) (*Proc, error) {
	logPath := filepath.Join(h.lab.Dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", h.NS}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, Cmd: cmd, Log: logPath, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); f.Close(); close(p.done) }()
	h.lab.mu.Lock()
	h.lab.procs = append(h.lab.procs, p)
	h.lab.mu.Unlock()
	return p, nil
}

// Stop sends sig and waits up to timeout for the process to exit (then kills it).
func (p *Proc) Stop(sig syscall.Signal, timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.Cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		_ = p.Cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not exit within %s after %s; killed", p.Name, timeout, sig)
	}
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Output is the process's log so far.
func (p *Proc) Output() string {
	b, _ := os.ReadFile(p.Log)
	return string(b)
}

// Do runs f with the calling thread inside the host's namespace, so sockets
// f creates belong to that namespace. The thread is returned to the original
// namespace afterwards.
func (h *Host) Do(f func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return err
	}
	defer orig.Close()
	target, err := netns.GetFromName(h.NS)
	if err != nil {
		return fmt.Errorf("netns %s: %w", h.NS, err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		return fmt.Errorf("enter netns %s: %w", h.NS, err)
	}
	ferr := f()
	if err := netns.Set(orig); err != nil {
		// A thread stuck in the wrong namespace must not be reused.
		panic(fmt.Sprintf("lab: cannot return to original netns: %v", err))
	}
	return ferr
}

// Dial connects from the host to addr and returns what the server sent
// first (up to a newline or EOF), within timeout.
func (h *Host) Dial(addr string, timeout time.Duration) (string, error) {
	var conn net.Conn
	err := h.Do(func() error {
		var err error
		conn, err = net.DialTimeout("tcp", addr, timeout)
		return err
	})
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	buf := make([]byte, 256)
	n, err := conn.Read(buf)
	if n == 0 && err != nil {
		return "", err
	}
	return strings.TrimSpace(string(buf[:n])), nil
}

// Listener is a TCP server in a namespace that greets every client with a
// fixed line (its name), standing in for a real server's service port.
type Listener struct {
	ln   net.Listener
	wg   sync.WaitGroup
	Addr string
}

// Serve listens on addr inside the host and answers greeting to each client.
func (h *Host) Serve(addr, greeting string) (*Listener, error) {
	var ln net.Listener
	err := h.Do(func() error {
		var lc net.ListenConfig
		var err error
		ln, err = lc.Listen(context.Background(), "tcp", addr)
		return err
	})
	if err != nil {
		return nil, err
	}
	l := &Listener{ln: ln, Addr: addr}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte(greeting + "\n"))
			c.Close()
		}
	}()
	return l, nil
}

// Close stops accepting; the port is closed so connects are refused.
func (l *Listener) Close() {
	l.ln.Close()
	l.wg.Wait()
}

// Close stops every process still running (SIGKILL after 5 s) and deletes
// the namespaces.
func (l *Lab) Close() {
	l.mu.Lock()
	procs := l.procs
	hosts := l.hosts
	l.mu.Unlock()
	for _, p := range procs {
		_ = p.Stop(syscall.SIGTERM, 5*time.Second)
	}
	for _, h := range hosts {
		_, _ = run("ip", "netns", "del", h.NS)
	}
	_, _ = run("ip", "netns", "del", l.sw)
}

// WriteFile writes a file into the lab directory and returns its path.
func (l *Lab) WriteFile(name, content string) (string, error) {
	p := filepath.Join(l.Dir, name)
	return p, os.WriteFile(p, []byte(content), 0o644)
}

// WaitFor polls cond every 20 ms until it is true or timeout passes; it
// returns how long it took.
func WaitFor(timeout time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > timeout {
			return time.Since(start), false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func run(args ...string) (string, error) {
	cmd := exec.Command(args[0], args[1:]...)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	if err := cmd.Run(); err != nil {
		return b.String(), fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(b.String()))
	}
	return b.String(), nil
}
