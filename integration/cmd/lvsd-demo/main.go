// Command lvsd-demo runs the seed-001 lab (two lvsd directors, two MySQL
// stand-ins with `lvsd agent`, a client) and narrates it. It needs root and
// a kernel with IPVS: `make demo` runs it inside the QEMU VM.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/lvsd/lvsd/integration/lab"
)

func main() {
	lvsd := flag.String("lvsd", "bin/lvsd", "path of the lvsd binary")
	flag.Parse()
	dir, err := os.MkdirTemp("", "lvsd-demo")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	s := &lab.Seed001{Lvsd: *lvsd, Dir: dir, Out: os.Stdout, Prefix: "demo"}
	rep, err := s.Run()
	if err != nil {
		fmt.Fprintf(os.Stderr, "\ndemo FAILED: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("\nSummary: failover %.2f s (VIP) / %.2f s (first connection); real server removed after %.1f s, re-added after %.1f s.\n",
		rep.FailoverVIP.Seconds(), rep.FailoverConn.Seconds(), rep.RemovalTime.Seconds(), rep.ReaddTime.Seconds())
}
