package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

func drainVerb(on bool) string {
	if on {
		return "drain"
	}
	return "undrain"
}

// drainer is a service that can drain real servers (the director).
type drainer interface {
	setDrain(vs, rs string, on bool) (drainResult, error)
}

// serveDrain answers POST /drain?vs=VS&rs=RS and POST /undrain: 200 with
// the drainResult, 404 when no configured server matches, 400 on a bad
// request, 409 when the daemon is not a director.
func serveDrain(w http.ResponseWriter, r *http.Request, d *daemon, on bool, log *slog.Logger) {
	vs, rs := r.FormValue("vs"), r.FormValue("rs")
	fail := func(code int, err error) {
		http.Error(w, err.Error(), code)
	}
	if vs == "" || rs == "" {
		fail(http.StatusBadRequest, errors.New("vs and rs are required"))
		return
	}
	dr, ok := d.svc.(drainer)
	if !ok {
		fail(http.StatusConflict, fmt.Errorf("%s runs no virtual servers", d.mode))
		return
	}
	res, err := dr.setDrain(vs, rs, on)
	switch {
	case errors.Is(err, errNotFound):
		fail(http.StatusNotFound, err)
		return
	case err != nil:
		fail(http.StatusBadRequest, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(res); err != nil {
		log.Debug("control: write drain result", "err", err)
	}
}

// runDrain implements `lvsd drain VS RS` and `lvsd undrain VS RS`.
func runDrain(args []string, on bool, stdout, stderr io.Writer) int {
	verb := drainVerb(on)
	fs := flag.NewFlagSet(verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("control", "/run/lvsd.sock", "control `SOCKET` of the running daemon")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: lvsd %s [--control SOCKET] VS RS\n  VS: virtual_server name, ADDR:PORT or \"PROTO ADDR:PORT\"; RS: real_server name or ADDR:PORT\n", verb)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return 2
	}
	q := url.Values{"vs": {fs.Arg(0)}, "rs": {fs.Arg(1)}}
	resp, err := controlClient(*path, 10*time.Second).Post("http://lvsd/"+verb+"?"+q.Encode(), "text/plain", nil)
	if err != nil {
		fmt.Fprintf(stderr, "lvsd %s: %v (is the daemon running with --control %s?)\n", verb, err, *path)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "lvsd %s: %s\n", verb, strings.TrimSpace(string(body)))
		return 1
	}
	var res drainResult
	if err := json.Unmarshal(body, &res); err != nil {
		fmt.Fprintf(stderr, "lvsd %s: decode: %v\n", verb, err)
		return 1
	}
	switch {
	case on && res.Changed:
		fmt.Fprintf(stdout, "%s -> %s: draining (weight 0; deleted when its connections are gone or at drain_timeout)\n", res.VS, res.RS)
	case on:
		fmt.Fprintf(stdout, "%s -> %s: already drained\n", res.VS, res.RS)
	case res.Changed:
		fmt.Fprintf(stdout, "%s -> %s: undrained (back with its configured weight when up)\n", res.VS, res.RS)
	default:
		fmt.Fprintf(stdout, "%s -> %s: was not drained\n", res.VS, res.RS)
	}
	return 0
}

// printDrains is the DRAINING section of `lvsd status`.
func printDrains(w io.Writer, drains []drainStatus, now time.Time) {
	if len(drains) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DRAINING\tREAL SERVER\tWHY\tSTATE\tSINCE\tDEADLINE")
	for _, d := range drains {
		why := "removed from config"
		if d.Manual {
			why = "lvsd drain"
		}
		state := fmt.Sprintf("draining, %d active + %d inactive conns left", d.ActiveConns, d.InactConns)
		since, deadline := "-", "none"
		if !d.InKernel {
			state = "drained (deleted)"
		} else {
			since = ago(now, d.Since)
		}
		if !d.Deadline.IsZero() {
			deadline = "in " + d.Deadline.Sub(now).Round(time.Second).String()
		}
		if !d.InKernel {
			deadline = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.VS, d.RS, why, state, since, deadline)
	}
	tw.Flush()
}
