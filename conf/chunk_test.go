package conf

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// parseBoth parses src whole and in pieces of about size bytes.
func parseBoth(t testing.TB, src []byte, size int) (whole, pieces *Config, wd, pd hcl.Diagnostics) {
	t.Helper()
	saved := chunkSize
	defer func() { chunkSize = saved }()
	chunkSize = len(src) + 1<<20
	whole, wd = Parse(src, "c.hcl")
	chunkSize = size
	pieces, pd = Parse(src, "c.hcl")
	return
}

func renderDiags(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "%d %s: %s", d.Severity, d.Summary, d.Detail)
		if d.Subject != nil {
			fmt.Fprintf(&b, " @%s:%d,%d-%d,%d(%d)", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, d.Subject.End.Line, d.Subject.End.Column, d.Subject.Start.Byte)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func checkSame(t testing.TB, src []byte, size int) {
	t.Helper()
	whole, pieces, wd, pd := parseBoth(t, src, size)
	if !sameParse(whole, pieces) {
		t.Errorf("config parsed in pieces of %d differs from the whole parse", size)
	}
	if w, p := renderDiags(wd), renderDiags(pd); w != p {
		t.Errorf("diagnostics differ\nwhole:\n%s\npieces:\n%s", w, p)
	}
}

// bigDirector is a director file of n virtual servers with comments,
// strings holding brackets and a vrrp_instance, to be cut in many places.
func bigDirector(n int, extra string) []byte {
	var b strings.Builder
	b.WriteString("# a director { with [ brackets ( in a comment\n")
	b.WriteString(`vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  virtual_ipaddress = ["198.51.100.30"]
}
`)
	for i := range n {
		fmt.Fprintf(&b, "virtual_server \"vs{%d}\" { // brace in a comment }\n  address = \"203.0.113.%d:%d\"\n  lvs_sched = \"rr\"\n  /* a } block\n comment */\n", i, 1+i%250, 1000+i/250)
		for j := range 3 {
			fmt.Fprintf(&b, "  real_server \"rs(%d]\" {\n    address = \"198.51.100.%d:80\"\n    weight  = %d\n  }\n", j, 1+j, 1+j)
		}
		b.WriteString("}\n")
		if i == n/2 {
			b.WriteString(extra)
		}
	}
	return []byte(b.String())
}

func TestParseInPiecesSameAsWhole(t *testing.T) {
	for _, p := range []string{directorExample, agentExample} {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{1, 64, 200} {
			checkSame(t, src, size)
		}
	}
	for name, extra := range map[string]string{
		"valid": "",
		// A duplicate name and address across pieces: the cross-block
		// checks see every piece.
		"duplicate": "virtual_server \"vs{0}\" {\n  address = \"203.0.113.1:1000\"\n}\n",
		// Errors in the second half: pieces parse, decoding reports them.
		"bad value": "virtual_server \"x\" {\n  address = \"nope\"\n  weight = 1\n}\n",
		// A syntax error: the whole-file parse is the reference.
		"syntax": "virtual_server \"y\" {\n  address = \n}\n",
		// Templates and heredocs are not cut through.
		"template": "virtual_server \"t\" {\n  address = \"${\"203.0.113.9\"}:1\"\n}\n",
		"heredoc":  "virtual_server \"h\" {\n  address = <<EOT\n}\nEOT\n}\n",
	} {
		t.Run(name, func(t *testing.T) {
			src := bigDirector(40, extra)
			for _, size := range []int{1, 100, 1000} {
				checkSame(t, src, size)
			}
		})
	}
}

func TestCutTopLevel(t *testing.T) {
	for _, tc := range []struct {
		src    string
		cuts   []int
		blocks int
		ok     bool
	}{
		{"a {\n}\nb {\n}\n", []int{6}, 2, true},
		{"a {\n}\n", nil, 1, true}, // nothing after the only block
		{"a {\n  x = \"}\"\n}\nb {}\n", []int{16}, 2, true},
		{"a {\n  x = \"\\\"}\"\n}\nb {}\n", []int{18}, 2, true},
		{"# }\na {\n}\nb {}\n", []int{10}, 2, true},
		{"a = (\n{\n}\n)\nb {}\n", []int{12}, 1, true}, // an attribute is no block
		{"a {\n  b {\n  }\n}\nl = [1]\nc {}\n", []int{16, 24}, 2, true},
		{"a { x = \"${y}\" }\nb {}\n", nil, 0, false},
		{"a { x = \"%{if y}\" }\nb {}\n", nil, 0, false},
		{"a { x = <<E\n}\nE\n}\nb {}\n", nil, 0, false},
		{"a { x = \"\n\" }\n", nil, 0, false},
		{"a {\n}}\nb {}\n", nil, 0, false},
		{"a {\n", nil, 0, false},
		{"/* never closed", nil, 0, false},
	} {
		cuts, blocks, ok := cutTopLevel([]byte(tc.src), 1)
		if ok != tc.ok || !reflect.DeepEqual(cuts, tc.cuts) || blocks != tc.blocks {
			t.Errorf("%q: cuts %v blocks %d ok %v, want %v %d %v", tc.src, cuts, blocks, ok, tc.cuts, tc.blocks, tc.ok)
		}
	}
}

// FuzzParseInPieces: whatever the input, parsing in pieces gives the
// whole-file parse's config and diagnostics.
func FuzzParseInPieces(f *testing.F) {
	f.Add(bigDirector(3, ""), 16)
	f.Add(bigDirector(3, "virtual_server \"vs{0}\" {}\n"), 1)
	f.Add([]byte("a {\n}\nb {\n}\n"), 1)
	f.Add([]byte("agent {\n  vips = [\"198.51.100.30\"]\n}\nagent {}\n"), 2)
	f.Fuzz(func(t *testing.T, src []byte, size int) {
		if size < 1 || size > 1<<16 {
			size = 1
		}
		checkSame(t, src, size)
	})
}

// TestParseInPiecesTaken makes sure the comparisons above exercise the
// pieces: a valid file is cut and parsed in pieces, one with a syntax error
// is handed back to the whole-file parse.
func TestParseInPiecesTaken(t *testing.T) {
	src := bigDirector(40, "")
	cuts, blocks, ok := cutTopLevel(src, 100)
	if !ok || len(cuts) < 30 {
		t.Fatalf("cuts %v ok %v", cuts, ok)
	}
	cfg, _, _, ok := parseInPieces(src, "c.hcl", segmentsAt(src, 0, hcl.InitialPos, cuts), blocks, false)
	if !ok || cfg == nil || len(cfg.VirtualServers) != 40 || len(cfg.VRRP) != 1 {
		t.Fatalf("pieces: ok %v cfg %v", ok, cfg)
	}
	bad := bigDirector(40, "virtual_server \"y\" {\n  address = \n}\n")
	cuts, blocks, ok = cutTopLevel(bad, 100)
	if !ok {
		t.Fatal("not cut")
	}
	if _, _, _, ok := parseInPieces(bad, "c.hcl", segmentsAt(bad, 0, hcl.InitialPos, cuts), blocks, false); ok {
		t.Fatal("syntax error not handed back")
	}
}
