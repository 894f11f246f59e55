package conf

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// maxSnippetLines bounds the source shown for a multi-line subject (a whole
// block, say): the first lines are enough to find it.
const maxSnippetLines = 3

// WriteDiagnostics writes each diagnostic as one line
//
//	FILE:LINE,COL: error: Summary: Detail
//
// (severity "error" or "warning"; a diagnostic without a source range, such
// as an unreadable file, starts at the severity), followed, when sources
// holds the file, by the source line(s) it points at with the range
// underlined:
//
//	5 |   priority          = 300
//	  |                       ^^^
//
// sources maps filename (as in the ranges) to the file's bytes, as returned
// by [LoadWithSources]; it may be nil. The first line's format is what
// editors and CI annotate; it is stable.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, sources map[string][]byte) error {
	bw := bufio.NewWriter(w)
	for _, diag := range diags {
		writeDiagnostic(bw, diag, sources)
	}
	return bw.Flush()
}

func writeDiagnostic(w *bufio.Writer, diag *hcl.Diagnostic, sources map[string][]byte) {
	sev := "error"
	if diag.Severity == hcl.DiagWarning {
		sev = "warning"
	}
	if s := diag.Subject; s != nil {
		fmt.Fprintf(w, "%s:%d,%d: ", s.Filename, s.Start.Line, s.Start.Column)
	}
	fmt.Fprintf(w, "%s: %s", sev, oneLine(diag.Summary))
	if diag.Detail != "" {
		fmt.Fprintf(w, ": %s", oneLine(diag.Detail))
	}
	w.WriteByte('\n')
	if diag.Subject != nil {
		writeSnippet(w, *diag.Subject, sources[diag.Subject.Filename])
	}
}

// oneLine keeps each diagnostic's header on a single line (hcl's own
// details may contain newlines).
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// writeSnippet prints the source lines covered by rng, each followed by an
// underline of the covered part. It prints nothing if src does not match the
// range (stale or missing source).
func writeSnippet(w *bufio.Writer, rng hcl.Range, src []byte) {
	if src == nil || rng.Start.Byte < 0 || rng.End.Byte < rng.Start.Byte || rng.End.Byte > len(src) || rng.Start.Line < 1 {
		return
	}
	// Walk back to the start of the first line.
	lineStart := bytes.LastIndexByte(src[:rng.Start.Byte], '\n') + 1
	width := len(fmt.Sprint(rng.End.Line))
	line := rng.Start.Line
	for n := 0; n < maxSnippetLines && lineStart <= len(src); n++ {
		lineEnd := len(src)
		if i := bytes.IndexByte(src[lineStart:], '\n'); i >= 0 {
			lineEnd = lineStart + i
		}
		text := strings.TrimSuffix(string(src[lineStart:lineEnd]), "\r")
		from := max(rng.Start.Byte, lineStart) - lineStart
		to := min(rng.End.Byte, lineStart+len(text)) - lineStart
		from = min(from, len(text))
		to = max(to, from)

		fmt.Fprintf(w, "  %*d | %s\n", width, line, text)
		fmt.Fprintf(w, "  %*s | %s%s\n", width, "", pad(text[:from]), strings.Repeat("^", max(1, utf8.RuneCountInString(text[from:to]))))

		if lineEnd >= rng.End.Byte || lineEnd >= len(src) {
			return
		}
		lineStart = lineEnd + 1
		line++
	}
}

// pad returns blanks as wide as prefix, keeping tabs so the caret lines up
// in a terminal.
func pad(prefix string) string {
	var b strings.Builder
	for _, r := range prefix {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}
