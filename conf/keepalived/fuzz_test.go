package keepalived

import (
	"bytes"
	"encoding/hex"
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
	f.Add([]byte("global_defs {\nlvs_sync_daemon eth1 inst VI_1 id 3 maxlen 9 port 1 ttl 2 group 239.0.0.1\nlvs_sync_daemon eth1 VI_1 7\n}\n"), []byte(""))
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

// FuzzKeepalivedHex: the UDP_CHECK hex reader never panics, reads at most
// one byte per hex digit pair, and what it reads without wildcards
// round-trips through the plain hex lvsd's udp_check is written with.
func FuzzKeepalivedHex(f *testing.F) {
	for _, s := range []string{"0a1bff", "a b", "0A\t1b", "xx 0X", "0a:1b", "", " 1 2 3 "} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, wildcard bool) {
		b, masked, ok := keepalivedHex(s, wildcard)
		if !ok {
			if b != nil {
				t.Fatalf("keepalivedHex(%q) failed but returned %x", s, b)
			}
			return
		}
		if len(b) == 0 || len(b) > (len(s)+1)/2 || masked && !wildcard {
			t.Fatalf("keepalivedHex(%q, %v) = %x masked %v", s, wildcard, b, masked)
		}
		if masked {
			return
		}
		again, _, ok := keepalivedHex(hex.EncodeToString(b), false)
		if !ok || !bytes.Equal(again, b) {
			t.Fatalf("%q read as %x, its hex %q reads as %x", s, b, hex.EncodeToString(b), again)
		}
	})
}
