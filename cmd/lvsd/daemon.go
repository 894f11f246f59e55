package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lvsd/lvsd/conf"
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
}

// service is what a daemon mode runs: started once, reloaded with a new
// validated config, asked for its status, stopped once.
type service interface {
	Start(ctx context.Context) error
	Reload(cfg *conf.Config) error
	Status() any
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

// loadFor loads the file and checks that it suits the mode; diagnostics are
// returned as text (file:line,col with the source line) for logging.
func loadFor(m mode, file string) (*conf.Config, string, error) {
	cfg, src, diags := conf.LoadWithSources(file)
	var b strings.Builder
	if len(diags) > 0 {
		_ = conf.WriteDiagnostics(&b, diags, src)
	}
	if diags.HasErrors() || cfg == nil {
		return nil, b.String(), fmt.Errorf("%s: invalid configuration", file)
	}
	switch m {
	case modeDirector:
		if cfg.Agent != nil {
			return nil, b.String(), fmt.Errorf("%s: has an agent block: run it with `lvsd agent`", file)
		}
		if len(cfg.VRRP) == 0 && len(cfg.VirtualServers) == 0 {
			return nil, b.String(), fmt.Errorf("%s: no vrrp_instance and no virtual_server: nothing to direct", file)
		}
	case modeAgent:
		if cfg.Agent == nil {
			return nil, b.String(), fmt.Errorf("%s: no agent block: run a director file with `lvsd director`", file)
		}
	}
	return cfg, b.String(), nil
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

	cfg, diagText, err := loadFor(m, o.file)
	if diagText != "" {
		fmt.Fprint(stderr, diagText)
	}
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}

	pid, err := acquirePidFile(o.pidFile)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	defer pid.release()

	var svc service
	switch m {
	case modeDirector:
		svc = newDirector(cfg, o, log)
	case modeAgent:
		svc = newAgent(cfg, o, log)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	ctl, err := listenControl(o.control, svc, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	defer ctl.close()

	// Signals are subscribed before Start so a SIGTERM that arrives during
	// start-up still gets the graceful path.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)

	if err := svc.Start(ctx); err != nil {
		log.Error("cannot start", "err", err)
		svc.Stop()
		return 1
	}
	log.Info("started", "mode", string(m), "file", o.file, "pid", os.Getpid(), "version", version)

	for sig := range sigs {
		if sig == syscall.SIGHUP {
			reload(m, o.file, svc, log)
			continue
		}
		log.Info("stopping", "signal", sig.String())
		break
	}
	done := make(chan struct{})
	go func() { svc.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(o.stopTimeout):
		log.Error("graceful stop timed out; exiting anyway", "timeout", o.stopTimeout)
		return 1
	}
	log.Info("stopped")
	return 0
}

// reload validates the file first: an invalid file is logged with its
// diagnostics and the running configuration stays (keepalived fault #8).
func reload(m mode, file string, svc service, log *slog.Logger) {
	cfg, diagText, err := loadFor(m, file)
	if err != nil {
		log.Error("reload refused; running configuration kept", "err", err, "diagnostics", diagText)
		return
	}
	if diagText != "" {
		log.Warn("reload warnings", "diagnostics", diagText)
	}
	if err := svc.Reload(cfg); err != nil {
		log.Error("reload failed", "err", err)
		return
	}
	log.Info("reloaded", "file", file)
}
