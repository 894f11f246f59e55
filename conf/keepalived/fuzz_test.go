package keepalived

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: the parser never panics and never hangs, whatever the main file
// holds, including includes of itself and of a second file (cycles and
// nesting are bounded), parameters that expand to themselves, and unbalanced
// braces; Convert of whatever was parsed does not panic either.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.conf")
	more, _ := filepath.Glob("testdata/corpus/*.conf")
	for _, s := range append(seeds, more...) {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b, []byte("include k.conf\n"))
		}
	}
	f.Add([]byte("include o.conf\n$A=$A$A\nx $A {\n"), []byte("include *.conf\n}\n}"))
	f.Add([]byte("@lb1 a {\n@^lb1 }\nb\n{\n{ } }"), []byte("$X=${X}\n$X"))
	// Tracking and notify keywords with odd shapes.
	f.Add([]byte("vrrp_script s {\nscript\nweight 1 reverse\nuser\n}\nvrrp_sync_group g {\ngroup {\n}\nnotify \"x 'y\"\n}\nvrrp_instance v {\ntrack_interface {\neth0 weight x\neth1 weight\neth2 weight 5 extra\n}\ntrack_script {\ns weight -1\n}\nnotify_master\nnotify_backup /b u g\n}\n"), []byte(""))
	f.Fuzz(func(t *testing.T, main, other []byte) {
		fs := MapFS{"k.conf": string(main), "o.conf": string(other)}
		nodes, _ := ParseFile("k.conf", Options{FS: fs, ConfigID: "lb1"})
		res := Convert(nodes)
		if res == nil || res.HCL == nil && len(nodes) > 0 {
			t.Fatalf("Convert returned no output for %d nodes", len(nodes))
		}
	})
}
