// Command lvsd is the LVS control plane: `lvsd director` on load balancers
// (VRRP, IPVS, health checks) and `lvsd agent` on real servers (the nat
// REDIRECT rule that makes direct-routing traffic for the VIP local).
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage:
  lvsd director -f FILE [--control SOCKET] [--pid-file FILE] [--keep-ipvs] [--log-format text|json] [--log-level LEVEL]
  lvsd agent    -f FILE [--control SOCKET] [--pid-file FILE] [--log-format text|json] [--log-level LEVEL]
  lvsd check    -f FILE
  lvsd plan     -f FILE   (IPVS changes FILE would make here; health assumed up)
  lvsd convert  [-o FILE] [--allow-unsupported] [--config-id ID] keepalived.conf
  lvsd status   [--control SOCKET] [--json] [--history|-v]
  lvsd reload   [--control SOCKET]
  lvsd drain    [--control SOCKET] VS RS   (weight 0, deleted when its connections are gone)
  lvsd undrain  [--control SOCKET] VS RS
  lvsd version
`

func main() {
	tuneGC()
	stop := startProfile()
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a subcommand and returns the process exit code; it is a
// plain function so tests can call it.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "director":
		return runDaemon(modeDirector, args[1:], stderr)
	case "agent":
		return runDaemon(modeAgent, args[1:], stderr)
	case "check":
		return runCheck(args[1:], stdout, stderr)
	case "plan":
		return runPlan(args[1:], stdout, stderr)
	case "status":
		return runStatus(args[1:], stdout, stderr)
	case "reload":
		return runReload(args[1:], stdout, stderr)
	case "drain":
		return runDrain(args[1:], true, stdout, stderr)
	case "undrain":
		return runDrain(args[1:], false, stdout, stderr)
	case "convert":
		return runConvert(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "lvsd %s\n", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "lvsd: unknown command %q\n%s", args[0], usage)
		return 2
	}
}
