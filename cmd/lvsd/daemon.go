package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/healthcheck"
)

type mode string

const (
	modeDirector mode = "director"
	modeAgent    mode = "agent"
)

// daemonOptions are the flags shared by `lvsd director` and `lvsd agent`.
type daemonOptions struct {
	file          string
	control       string
	pidFile       string
	logFormat     string
	logLevel      string
	keepIPVS      bool
	resync        time.Duration
	rulesInterval time.Duration
	stopTimeout   time.Duration
	// rtPriority > 0 runs the director at SCHED_RR (realtime_linux.go).
	rtPriority int
}

// service is what a daemon mode runs: started once, reloaded with a new
// validated config, asked for its status, stopped once.
type service interface {
	Start(ctx context.Context) error
	// Reload switches to a validated config and says what it changed.
	Reload(cfg *conf.Config) (changes []string, err error)
	Status() statusDoc
	// Stop releases what the daemon holds (VIPs, IPVS entries, rules) and
	// waits for its goroutines.
	Stop()
}

func parseDaemonFlags(m mode, args []string, stderr io.Writer) (*daemonOptions, error) {
	o := &daemonOptions{}
	fs := flag.NewFlagSet(string(m), flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.file, "f", "", "configuration `FILE`")
	fs.StringVar(&o.control, "control", "/run/lvsd.sock", "control `SOCKET` path (unix, mode 0600)")
	fs.StringVar(&o.pidFile, "pid-file", "/run/lvsd.pid", "pid `FILE`")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.DurationVar(&o.stopTimeout, "stop-timeout", 10*time.Second, "longest graceful stop before exiting anyway")
	if m == modeDirector {
		fs.BoolVar(&o.keepIPVS, "keep-ipvs", false, "leave IPVS entries in the kernel on stop (the next start adopts them)")
		fs.DurationVar(&o.resync, "resync-interval", 5*time.Second, "how often IPVS is re-read from the kernel and repaired")
		fs.IntVar(&o.rtPriority, "realtime-priority", 0, "run at SCHED_RR with this `PRIORITY` (1-99; 0 = normal scheduling), so adverts are sent on time on a loaded host; child scripts stay at normal priority")
	} else {
		fs.DurationVar(&o.rulesInterval, "resync-interval", time.Second, "how often the REDIRECT rules are checked and repaired")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.file == "" {
		return nil, errors.New("flag -f: a configuration file is required")
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return nil, fmt.Errorf("flag --log-format: %q is not text or json", o.logFormat)
	}
	if _, err := parseLevel(o.logLevel); err != nil {
		return nil, fmt.Errorf("flag --log-level: %w", err)
	}
	if o.rtPriority < 0 || o.rtPriority > 99 {
		return nil, fmt.Errorf("flag --realtime-priority: %d is outside 1-99 (0 = off)", o.rtPriority)
	}
	if o.resync < 0 || o.rulesInterval < 0 {
		return nil, errors.New("flag --resync-interval: must be positive")
	}
	return o, nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
	}
	return l, nil
}

func newLogger(w io.Writer, format, level string) *slog.Logger {
	l, _ := parseLevel(level)
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// loaded is a validated configuration with the identity of its bytes.
type loaded struct {
	cfg    *conf.Config
	sha256 func() string
}

// loadFor loads the file and checks that it suits the mode; diagnostics are
// returned as text (FILE:LINE,COL with the source line) with secret values
// redacted, ready for logs and status. c, if not nil, keeps what the next
// load of a slightly different file can reuse (a reload). The SHA-256 of
// the bytes read ("" if unreadable) is computed when hash is first called:
// a reload applies the configuration first (hashing a 9 MB file took
// 280 ms under emulation, longer than the rest of a cached reload, and
// computed beside the parse it took that CPU from the parse); the start
// hashes beside its first sync (runDaemon).
func loadFor(m mode, file string, c *conf.Cache) (l *loaded, hash func() string, text string, err error) {
	return loadInto(m, file, c, nil)
}

// loadInto is loadFor reading the file into buf (nil: a buffer of its
// own). The bytes, and so hash, are good until buf's next read.
func loadInto(m mode, file string, c *conf.Cache, buf *fileBuffer) (l *loaded, hash func() string, text string, err error) {
	var (
		cfg   *conf.Config
		src   map[string][]byte
		diags hcl.Diagnostics
	)
	hash = func() string { return "" }
	if data, err := buf.read(file); err == nil {
		hash = sync.OnceValue(func() string { return sha256hex(data) })
		cfg, diags = c.Parse(data, file)
		src = map[string][]byte{file: data}
	} else {
		cfg, src, diags = conf.LoadCached(file, c) // the error, worded by conf
	}
	var b strings.Builder
	if len(diags) > 0 {
		_ = conf.WriteDiagnostics(&b, diags, src)
	}
	text = redactSecrets(b.String())
	if diags.HasErrors() || cfg == nil {
		return nil, hash, text, fmt.Errorf("%s: invalid configuration", file)
	}
	switch m {
	case modeDirector:
		if cfg.Agent != nil {
			return nil, hash, text, fmt.Errorf("%s: has an agent block: run it with `lvsd agent`", file)
		}
		if len(cfg.VRRP) == 0 && len(cfg.VirtualServers) == 0 {
			return nil, hash, text, fmt.Errorf("%s: no vrrp_instance and no virtual_server: nothing to direct", file)
		}
	case modeAgent:
		if cfg.Agent == nil {
			return nil, hash, text, fmt.Errorf("%s: no agent block: run a director file with `lvsd director`", file)
		}
	}
	return &loaded{cfg: cfg, sha256: hash}, hash, text, nil
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// daemon is what runDaemon shares with the control socket and the signal
// loop: the running service, the identity of its configuration and the
// last reload's outcome.
type daemon struct {
	mode   mode
	opts   *daemonOptions
	svc    service
	log    *slog.Logger
	notify notifier

	reloadMu sync.Mutex // one reload at a time, whoever asks
	// cache keeps the decoded pieces of the running file, so that a
	// reload parses only what changed.
	cache *conf.Cache
	// readBuf is what reloads read the file into (under reloadMu).
	readBuf *fileBuffer
	// procs gives a reload every P (nil: nothing to manage).
	procs *procs

	mu         sync.Mutex
	config     configStatus
	lastReload *reloadResult
	reloads    reloadCounts

	// http is the http block's endpoint (listening only when configured).
	http *httpEndpoint
}

// status is the service's status with the daemon's part filled in.
func (d *daemon) status() statusDoc {
	st := d.svc.Status()
	d.mu.Lock()
	st.Config = d.config
	if d.lastReload != nil {
		r := *d.lastReload
		st.LastReload = &r
	}
	d.mu.Unlock()
	return st
}

func (d *daemon) reloadCounts() reloadCounts {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.reloads
}

// reload re-reads the file and validates it completely before touching
// anything: an invalid file is reported (log, status, the caller) and the
// running configuration stays (keepalived fault #8).
func (d *daemon) reload(trigger string) reloadResult {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	profileReload()
	defer d.procs.burst()()
	d.notify.reloading()
	defer d.notify.ready("running " + d.opts.file)

	r := reloadResult{At: time.Now(), Trigger: trigger}
	l, hash, diagText, err := loadInto(d.mode, d.opts.file, d.cache, d.readBuf)
	parsed := time.Since(r.At)
	r.Diagnostics = diagText
	switch {
	case err != nil:
		r.Error = err.Error()
		d.log.Error("reload refused; running configuration kept", "trigger", trigger, "err", err, "diagnostics", diagText)
	default:
		if diagText != "" {
			d.log.Warn("reload warnings", "diagnostics", diagText)
		}
		// A new http listen address is bound before anything else
		// changes: if it cannot be, the reload is refused and the old
		// listener keeps serving.
		hc, err := d.http.prepare(l.cfg.HTTP)
		if err != nil {
			r.Error = err.Error()
			d.log.Error("reload refused; running configuration kept", "trigger", trigger, "err", err)
			break
		}
		changes, err := d.svc.Reload(l.cfg)
		applied := time.Since(r.At)
		r.Changes = changes
		if err != nil {
			hc.abort()
			r.Error = err.Error()
			d.log.Error("reload failed", "trigger", trigger, "err", err)
			break
		}
		if c := hc.commit(); c != "" {
			r.Changes = append(r.Changes, c)
			changes = r.Changes
		}
		r.Applied = true
		d.mu.Lock()
		d.config = configStatus{File: d.opts.file, SHA256: hash(), Loaded: r.At}
		d.mu.Unlock()
		// How long reading and parsing took, and then handing the new
		// configuration over (IPVS ops follow in the reconciler).
		d.log.Info("reloaded", "trigger", trigger, "file", d.opts.file, "sha256", hash(), "changes", strings.Join(changes, "; "),
			"parse", parsed.Round(time.Microsecond), "apply", (applied - parsed).Round(time.Microsecond))
	}
	// Waited for only now: the new configuration is applied.
	r.SHA256 = hash()
	go collectAfterBurst(d.log, "reload", false)
	d.mu.Lock()
	d.lastReload = &r
	if r.Applied {
		d.reloads.OK++
	} else {
		d.reloads.Failed++
	}
	d.mu.Unlock()
	return r
}

func runDaemon(m mode, args []string, stderr io.Writer) int {
	o, err := parseDaemonFlags(m, args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "lvsd %s: %v\n", m, err)
		}
		return 2
	}
	log := newLogger(stderr, o.logFormat, o.logLevel)
	routeLogrus(log)

	var ahead *kernelAhead
	if m == modeDirector {
		ahead = startKernelAhead("/sys/module/ip_vs")
		if ahead != nil {
			defer ahead.close()
		}
	}
	pr := newProcs()
	endStart := pr.burst()
	defer endStart()
	cache := &conf.Cache{}
	// Not into the buffer reloads reuse (fileBuffer): mapped through the
	// first sync, which has the start's largest live heap, the file made
	// that sync the peak; in the heap it is garbage once hashed, early in
	// the sync.
	l, _, diagText, err := loadFor(m, o.file, cache)
	if diagText != "" {
		fmt.Fprint(stderr, diagText)
	}
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	// The file's SHA-256 is taken beside the start, not in front of it
	// (under emulation it took as long as a third of a 10k parse).
	go l.sha256()

	pid, err := acquirePidFile(o.pidFile)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	defer pid.release()

	if o.rtPriority > 0 {
		// Before Start, so every thread and every timer runs at it from
		// the first advert on.
		start, err := enableRealtime(o.rtPriority)
		if err != nil {
			log.Error("cannot start", "err", fmt.Errorf("flag --realtime-priority: %w", err))
			return 1
		}
		healthcheck.SetStarter(start)
		log.Info("realtime scheduling", "policy", "SCHED_RR", "priority", o.rtPriority)
	}

	// The hash is filled in once started.
	d := &daemon{mode: m, opts: o, log: log, notify: notifier{log: log}, cache: cache, procs: pr, readBuf: &fileBuffer{},
		config: configStatus{File: o.file, Loaded: time.Now()}}
	switch m {
	case modeDirector:
		dir := newDirector(l.cfg, o, log)
		dir.procs = pr
		dir.afterFirstSync = func() { go collectAfterBurst(log, "start", true) }
		if ahead != nil {
			dir.newKernel = ahead.open
		}
		d.svc = dir
	case modeAgent:
		d.svc = newAgent(l.cfg, o, log)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go trimMemory(ctx, log, 2*time.Second)

	ctl, err := listenControl(o.control, d, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	defer ctl.close()

	d.http = newHTTPEndpoint(log, d.status, d.reloadCounts)
	if err := d.http.apply(l.cfg.HTTP); err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	defer d.http.close()

	// Signals are subscribed before Start so a SIGTERM that arrives during
	// start-up still gets the graceful path.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)

	if err := d.svc.Start(ctx); err != nil {
		log.Error("cannot start", "err", err)
		d.svc.Stop()
		return 1
	}
	// The first IPVS sync, which programs the table from empty, has a
	// burst of its own (Reconciler.SetBusy).
	endStart()
	sum := l.sha256()
	d.mu.Lock()
	d.config.SHA256 = sum
	d.mu.Unlock()
	log.Info("started", "mode", string(m), "file", o.file, "sha256", sum, "pid", os.Getpid(), "version", version)
	d.notify.ready("running " + o.file)
	go d.notify.watchdog(ctx, func() { _ = d.svc.Status() })

	for sig := range sigs {
		if sig == syscall.SIGHUP {
			d.reload("SIGHUP")
			continue
		}
		log.Info("stopping", "signal", sig.String())
		writeMemProfile()
		break
	}
	d.notify.stopping()
	done := make(chan struct{})
	go func() { d.svc.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(o.stopTimeout):
		log.Error("graceful stop timed out; exiting anyway", "timeout", o.stopTimeout)
		return 1
	}
	log.Info("stopped")
	return 0
}
