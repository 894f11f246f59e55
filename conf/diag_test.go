package conf

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestWriteDiagnostics(t *testing.T) {
	src := []byte("vrrp_instance \"v\" {\n" +
		"  interface         = \"eth0\"\n" +
		"  virtual_router_id = 51\n" +
		"  priority          = 300\n" +
		"  virtual_ipaddress = [\"198.51.100.30\"]\n" +
		"}\n")
	cfg, diags := Parse(src, "dir/lvsd.hcl")
	if cfg != nil {
		t.Fatal("want errors")
	}
	var b strings.Builder
	if err := WriteDiagnostics(&b, diags, map[string][]byte{"dir/lvsd.hcl": src}); err != nil {
		t.Fatal(err)
	}
	want := "dir/lvsd.hcl:4,23: error: Invalid priority: priority must be between 1 and 255; got 300.\n" +
		"  4 |   priority          = 300\n" +
		"    |                       ^^^\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestWriteDiagnosticsForms(t *testing.T) {
	src := []byte("a\n\tbé = 1\nc = 2\nd = 3\ne = 4\n")
	rng := func(sl, sc, sb, el, ec, eb int) *hcl.Range {
		return &hcl.Range{
			Filename: "f.hcl",
			Start:    hcl.Pos{Line: sl, Column: sc, Byte: sb},
			End:      hcl.Pos{Line: el, Column: ec, Byte: eb},
		}
	}
	for _, tc := range []struct {
		name    string
		diag    *hcl.Diagnostic
		sources map[string][]byte
		want    string
	}{
		{
			name: "no subject",
			diag: &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read configuration file", Detail: "open x: no such file"},
			want: "error: Cannot read configuration file: open x: no such file\n",
		},
		{
			name: "warning without detail, no source",
			diag: &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Careful", Subject: rng(3, 1, 11, 3, 2, 12)},
			want: "f.hcl:3,1: warning: Careful\n",
		},
		{
			name:    "tab and multibyte underline",
			diag:    &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "S", Detail: "two\nlines", Subject: rng(2, 2, 3, 2, 4, 6)},
			sources: map[string][]byte{"f.hcl": src},
			want:    "f.hcl:2,2: error: S: two lines\n  2 | \tbé = 1\n    | \t^^\n",
		},
		{
			name:    "multi-line subject is capped",
			diag:    &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "S", Subject: rng(2, 1, 2, 5, 2, 28)},
			sources: map[string][]byte{"f.hcl": src},
			want: "f.hcl:2,1: error: S\n" +
				"  2 | \tbé = 1\n    | ^^^^^^^\n" +
				"  3 | c = 2\n    | ^^^^^\n" +
				"  4 | d = 3\n    | ^^^^^\n",
		},
		{
			name:    "empty range gets one caret",
			diag:    &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "S", Subject: rng(3, 5, 15, 3, 5, 15)},
			sources: map[string][]byte{"f.hcl": src},
			want:    "f.hcl:3,5: error: S\n  3 | c = 2\n    |     ^\n",
		},
		{
			name:    "stale source is skipped",
			diag:    &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "S", Subject: rng(30, 1, 300, 30, 2, 301)},
			sources: map[string][]byte{"f.hcl": src},
			want:    "f.hcl:30,1: error: S\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := WriteDiagnostics(&b, hcl.Diagnostics{tc.diag}, tc.sources); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got:\n%q\nwant:\n%q", b.String(), tc.want)
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteDiagnosticsError(t *testing.T) {
	diags := hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "S"}}
	if err := WriteDiagnostics(failWriter{}, diags, nil); err == nil {
		t.Error("write error not returned")
	}
}
