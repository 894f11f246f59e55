package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/lvsd/lvsd/conf"
)

// runCheck implements `lvsd check -f FILE`: exit 0 when the file is valid
// (warnings are printed but do not fail), 1 with every diagnostic otherwise.
func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "", "configuration `FILE` to check")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *file == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "lvsd check: -f FILE is required (and takes no other arguments)")
		return 2
	}
	cfg, src, diags := conf.LoadWithSources(*file)
	if len(diags) > 0 {
		if err := conf.WriteDiagnostics(stderr, diags, src); err != nil {
			fmt.Fprintf(stderr, "lvsd check: %v\n", err)
		}
	}
	if diags.HasErrors() || cfg == nil {
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok (%d vrrp_instance, %d virtual_server", *file, len(cfg.VRRP), len(cfg.VirtualServers))
	if cfg.Agent != nil {
		fmt.Fprintf(stdout, ", agent with %d vips", len(cfg.Agent.VIPs))
	}
	fmt.Fprintln(stdout, ")")
	return 0
}
