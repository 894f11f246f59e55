package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/conf/keepalived"
)

// runConvert implements `lvsd convert [-o FILE] [--allow-unsupported]
// [--config-id ID] keepalived.conf`: the lvsd HCL goes to -o (default
// stdout), every finding to stderr as FILE:LINE: SEVERITY: KEYWORD: MESSAGE.
// Exit 1 when something cannot be carried over (unless --allow-unsupported,
// which writes those items as comments), when the keepalived file does not
// parse, or when the result would not pass `lvsd check`; 2 on usage errors.
func runConvert(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the lvsd configuration to `FILE` (default: standard output)")
	allow := fs.Bool("allow-unsupported", false, "write the result even if some options cannot be carried over (they become comments)")
	host, _ := os.Hostname()
	configID := fs.String("config-id", host, "`ID` selecting @ID lines (keepalived's -i; default: the host name)")
	// Flags may come before or after the file name.
	var files []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		fmt.Fprintln(stderr, "lvsd convert: exactly one keepalived.conf is required: lvsd convert [-o FILE] [--allow-unsupported] [--config-id ID] keepalived.conf")
		return 2
	}
	nodes, err := keepalived.ParseFile(files[0], keepalived.Options{ConfigID: *configID})
	if err != nil {
		var list keepalived.ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				fmt.Fprintf(stderr, "%s: error: %s\n", e.Pos, e.Msg)
			}
		} else {
			fmt.Fprintf(stderr, "lvsd convert: %v\n", err)
		}
		return 1
	}
	res := keepalived.Convert(nodes)
	for _, f := range res.Findings {
		fmt.Fprintln(stderr, f)
	}
	if n := res.Unsupported(); n > 0 && !*allow {
		fmt.Fprintf(stderr, "lvsd convert: %d option(s) cannot be carried over; nothing written (--allow-unsupported writes the rest, with these as comments)\n", n)
		return 1
	}

	name := *out
	if name == "" {
		name = "<stdout>"
	}
	// The result must be a valid lvsd file: check it before writing, with
	// the same parser `lvsd check` and the daemons use.
	if _, diags := conf.Parse(res.HCL, name); diags.HasErrors() {
		if err := conf.WriteDiagnostics(stderr, diags, map[string][]byte{name: res.HCL}); err != nil {
			fmt.Fprintf(stderr, "lvsd convert: %v\n", err)
		}
		fmt.Fprintf(stderr, "lvsd convert: the converted configuration is not valid for lvsd (above); nothing written\n")
		return 1
	}
	if *out == "" {
		if _, err := stdout.Write(res.HCL); err != nil {
			fmt.Fprintf(stderr, "lvsd convert: %v\n", err)
			return 1
		}
		return 0
	}
	if err := os.WriteFile(*out, res.HCL, 0o644); err != nil {
		fmt.Fprintf(stderr, "lvsd convert: -o: %v\n", strings.TrimPrefix(err.Error(), "open "))
		return 1
	}
	return 0
}
