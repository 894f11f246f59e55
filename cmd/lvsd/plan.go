package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/ipvs"
)

// runPlan implements `lvsd plan -f FILE`: the IPVS ops a director running
// FILE would apply to this host's kernel table, without applying them. It
// reads the kernel, not a running daemon, so it works before the first
// start and on a host where the daemon is down; health is therefore not
// known and every real server is assumed up.
func runPlan(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "", "configuration `FILE` to plan for")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lvsd plan -f FILE\n\nPrints the IPVS changes a director running FILE would make to this host's\nkernel table (+ add, ~ update, - delete), or \"no changes\". Nothing is applied.\nHealth state is not known here: every real server is assumed up.")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *file == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "lvsd plan: -f FILE is required (and takes no other arguments)")
		return 2
	}
	cfg, src, diags := conf.LoadWithSources(*file)
	if diags.HasErrors() || cfg == nil {
		if err := conf.WriteDiagnostics(stderr, diags, src); err != nil {
			fmt.Fprintf(stderr, "lvsd plan: %v\n", err)
		}
		return 1
	}
	routeLogrus(newLogger(stderr, "text", "warn"))
	k, err := ipvs.NewKernel()
	if err != nil {
		fmt.Fprintf(stderr, "lvsd plan: %v\n", err)
		return 1
	}
	defer k.Close()
	observed, err := k.Dump()
	if err != nil {
		fmt.Fprintf(stderr, "lvsd plan: %v\n", err)
		return 1
	}
	line, err := planTimeouts(cfg, k)
	if err != nil {
		fmt.Fprintf(stderr, "lvsd plan: %v\n", err)
		return 1
	}
	ops := planOps(cfg.VirtualServers, observed)
	if line != "" {
		fmt.Fprintln(stdout, line)
	}
	if line == "" || len(ops) > 0 {
		writePlan(stdout, ops)
	}
	// A service whose scheduler the kernel lacks is in the plan but would
	// fail: say so and exit non-zero, so a scripted plan notices.
	if writeSchedProblems(stderr, cfg.VirtualServers) {
		return 1
	}
	return 0
}

// planOps is the diff a director's first sync would compute: the file's
// services with every real server up against the observed table. Only
// the file's keys are managed, as in a freshly started director, so
// services someone else added are never part of a plan.
func planOps(vss []conf.VirtualServer, observed []ipvs.Service) []ipvs.Op {
	desired := ipvs.Desired(vss, ipvs.AllUp)
	managed := make(map[ipvs.Key]bool, len(desired))
	for _, s := range desired {
		managed[s.Key] = true
	}
	return ipvs.Diff(desired, observed, managed)
}

// writePlan prints one op per line, prefixed like a diff so the kind reads
// at a glance: + add, ~ update, - delete.
func writePlan(w io.Writer, ops []ipvs.Op) {
	if len(ops) == 0 {
		fmt.Fprintln(w, "no changes")
		return
	}
	for _, o := range ops {
		fmt.Fprintf(w, "%c %s\n", planPrefix(o.Kind), o)
	}
}

func planPrefix(k ipvs.OpKind) byte {
	switch k {
	case ipvs.AddService, ipvs.AddDest:
		return '+'
	case ipvs.DeleteService, ipvs.DeleteDest:
		return '-'
	}
	return '~'
}
