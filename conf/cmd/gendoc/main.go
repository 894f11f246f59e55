// Command gendoc writes docs/configuration.md from the configuration
// registry in package conf (make docs). Run it from the module root, or
// pass -o.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/lvsd/lvsd/conf"
)

func main() {
	out := flag.String("o", conf.ReferenceFile, "file to write")
	flag.Parse()
	doc, err := conf.Reference()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, doc, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}
