package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"
)

// control is the daemon's control socket: HTTP over a unix socket, mode
// 0600, so only root reads the state. GET /status returns the state as
// JSON; POST /reload re-reads the configuration file and answers with the
// reloadResult (200 when applied, 422 when the file was refused).
type control struct {
	path string
	srv  *http.Server
}

func listenControl(path string, d *daemon, log *slog.Logger) (*control, error) {
	// A socket file left by a crashed daemon would make Listen fail with
	// EADDRINUSE. The pid-file lock already proved no live lvsd uses this
	// configuration, but a live one with another pid file might own the
	// socket: only remove it if nobody answers.
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s: another daemon is listening", path)
	}
	_ = os.Remove(path)
	old := umask(0o077)
	ln, err := net.Listen("unix", path)
	umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(d.status()); err != nil {
			log.Debug("control: write status", "err", err)
		}
	})
	mux.HandleFunc("POST /reload", func(w http.ResponseWriter, r *http.Request) {
		res := d.reload("control")
		w.Header().Set("Content-Type", "application/json")
		if !res.Applied {
			w.WriteHeader(http.StatusUnprocessableEntity)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			log.Debug("control: write reload result", "err", err)
		}
	})
	for _, on := range []bool{true, false} {
		mux.HandleFunc("POST /"+drainVerb(on), func(w http.ResponseWriter, r *http.Request) { serveDrain(w, r, d, on, log) })
	}
	c := &control{path: path, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		if err := c.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("control socket stopped", "err", err)
		}
	}()
	return c, nil
}

func (c *control) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = c.srv.Shutdown(ctx)
	_ = os.Remove(c.path)
}

func controlClient(path string, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", path)
			},
		},
	}
}

// runStatus implements `lvsd status`: the running daemon's state, as JSON
// with --json, else as a short human summary.
func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("control", "/run/lvsd.sock", "control `SOCKET` of the running daemon")
	asJSON := fs.Bool("json", false, "print the raw JSON state")
	var history bool
	fs.BoolVar(&history, "history", false, "also print each real server's health transitions (the last 16), oldest first")
	fs.BoolVar(&history, "v", false, "short for --history")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	resp, err := controlClient(*path, 5*time.Second).Get("http://lvsd/status")
	if err != nil {
		fmt.Fprintf(stderr, "lvsd status: %v (is the daemon running with --control %s?)\n", err, *path)
		return 1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "lvsd status: %s %v\n", resp.Status, err)
		return 1
	}
	if *asJSON {
		stdout.Write(body)
		return 0
	}
	var st statusDoc
	if err := json.Unmarshal(body, &st); err != nil {
		fmt.Fprintf(stderr, "lvsd status: decode: %v\n", err)
		return 1
	}
	now := time.Now()
	printStatus(stdout, &st, now)
	if history {
		printHistory(stdout, &st, now)
	}
	return 0
}
