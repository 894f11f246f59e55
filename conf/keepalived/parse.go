package keepalived

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Pos is where a token came from: the file (as named in the include that
// reached it) and the 1-based line.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Node is one keepalived statement: a keyword with its arguments and, for a
// block, its children. keepalived's grammar is line based; a block is a
// statement followed by `{` (on the same line or the next) and ends at the
// matching `}`.
type Node struct {
	Keyword string
	Args    []string
	Pos     Pos
	// Block is true when the statement opened a `{ }` block (possibly empty).
	Block    bool
	Children []*Node
	// Comments are the comment lines (without the leading # or !) just
	// above the statement, and a comment at the end of its line.
	Comments []string
}

// Error is a syntax error at a place.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// ErrorList is every syntax error of one parse, in order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// FS is what the parser needs from a file system. The default reads the
// real one; tests and the fuzzer use an in-memory map.
type FS interface {
	ReadFile(name string) ([]byte, error)
	// Glob returns the names matching pattern, like filepath.Glob.
	Glob(pattern string) ([]string, error)
}

type osFS struct{}

func (osFS) ReadFile(name string) ([]byte, error)  { return os.ReadFile(name) }
func (osFS) Glob(pattern string) ([]string, error) { return filepath.Glob(pattern) }

// MapFS is an in-memory FS keyed by slash-separated path.
type MapFS map[string]string

func (m MapFS) ReadFile(name string) ([]byte, error) {
	s, ok := m[path.Clean(name)]
	if !ok {
		return nil, fmt.Errorf("open %s: %w", name, os.ErrNotExist)
	}
	return []byte(s), nil
}

func (m MapFS) Glob(pattern string) ([]string, error) {
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, err
	}
	var out []string
	for name := range m {
		if ok, _ := path.Match(pattern, name); ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Options tune [ParseFile].
type Options struct {
	// ConfigID selects @ID lines (and drops @^ID lines); keepalived's
	// default is the host name, which the caller supplies.
	ConfigID string
	// FS defaults to the real file system.
	FS FS
}

// Limits that keep hostile input (and the fuzzer) bounded: keepalived itself
// stops at a nesting of includes far below these.
const (
	maxIncludeDepth = 16
	maxBlockDepth   = 64
	maxExpansions   = 16      // $NAME inside the value of $NAME, repeated
	maxLineLen      = 1 << 16 // after $NAME expansion
	maxFiles        = 256     // files read through include, in total
	maxVolume       = 8 << 20 // bytes of lines read, after expansion, in total
)

// ParseFile parses the keepalived configuration at name, following includes.
// The nodes are returned even when err (an [ErrorList]) is not nil, so that a
// caller can show as much as could be read.
func ParseFile(name string, opts Options) ([]*Node, error) {
	p := newParser(opts)
	src, err := p.fs.ReadFile(name)
	if err != nil {
		return nil, ErrorList{{Pos{name, 0}, err.Error()}}
	}
	return p.run(name, src)
}

// Parse parses src as the keepalived file name (used for positions and to
// resolve relative includes).
func Parse(src []byte, name string, opts Options) ([]*Node, error) {
	return newParser(opts).run(name, src)
}

func newParser(opts Options) *parser {
	p := &parser{configID: opts.ConfigID, fs: opts.FS, defs: map[string]string{}}
	if p.fs == nil {
		p.fs = osFS{}
	}
	return p
}

type tokKind int

const (
	tWord tokKind = iota
	tLBrace
	tRBrace
	tNewline
	tComment
	tEOF
)

type token struct {
	kind tokKind
	text string
	pos  Pos
}

type parser struct {
	configID string
	fs       FS
	defs     map[string]string
	errs     ErrorList
	files    int
	volume   int
	stack    []string // files being read, for include cycles

	toks []token
	i    int
}

func (p *parser) errorf(pos Pos, format string, args ...any) {
	p.errs = append(p.errs, &Error{pos, fmt.Sprintf(format, args...)})
}

func (p *parser) run(name string, src []byte) ([]*Node, error) {
	p.readFile(name, src)
	p.toks = append(p.toks, token{kind: tEOF, pos: Pos{name, 0}})
	nodes := p.body(0, nil)
	if len(p.errs) > 0 {
		return nodes, p.errs
	}
	return nodes, nil
}

// readFile turns one file's lines into tokens, recursing into includes at
// the line they appear on (keepalived splices included files in place, so an
// include may appear inside a block).
func (p *parser) readFile(name string, src []byte) {
	p.files++
	p.stack = append(p.stack, filepath.Clean(name))
	defer func() { p.stack = p.stack[:len(p.stack)-1] }()

	lines := strings.Split(string(src), "\n")
	for i := 0; i < len(lines); i++ {
		pos := Pos{name, i + 1}
		line := strings.TrimRight(lines[i], "\r")
		trimmed := strings.TrimSpace(line)

		// @ID / @^ID: the rest of the line exists only on the hosts whose
		// config id matches (or, with ^, does not).
		if strings.HasPrefix(trimmed, "@") {
			id, rest, _ := strings.Cut(trimmed[1:], " ")
			if tab := strings.IndexByte(id, '\t'); tab >= 0 {
				id, rest = id[:tab], id[tab+1:]+" "+rest
			}
			keep := id == p.configID
			if neg, ok := strings.CutPrefix(id, "^"); ok {
				keep = neg != p.configID
			}
			if !keep {
				continue
			}
			trimmed = strings.TrimSpace(rest)
		}

		// $NAME=value defines a parameter; a value ending in a backslash
		// continues on the next line.
		if name, value, ok := definition(trimmed); ok {
			for strings.HasSuffix(value, "\\") && i+1 < len(lines) {
				i++
				value = strings.TrimSuffix(value, "\\") + " " + strings.TrimSpace(strings.TrimRight(lines[i], "\r"))
			}
			p.defs[name] = strings.TrimSpace(strings.TrimSuffix(value, "\\"))
			continue
		}
		if strings.Contains(trimmed, "$") {
			trimmed = p.expand(trimmed, pos)
		}

		p.volume += len(trimmed)
		if p.volume > maxVolume {
			p.errorf(pos, "configuration larger than %d bytes (includes and parameters expanded); stopped reading", maxVolume)
			return
		}
		toks := tokenize(trimmed, pos)
		if len(toks) > 0 && toks[0].kind == tWord && toks[0].text == "include" {
			p.include(toks, pos)
			continue
		}
		p.toks = append(p.toks, toks...)
		p.toks = append(p.toks, token{kind: tNewline, pos: pos})
	}
}

// definition recognises `$NAME=value` (NAME: letters, digits, underscore).
func definition(s string) (name, value string, ok bool) {
	rest, ok := strings.CutPrefix(s, "$")
	if !ok {
		return "", "", false
	}
	name, value, ok = strings.Cut(rest, "=")
	if !ok || !validName(name) {
		return "", "", false
	}
	return name, value, true
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// expand replaces $NAME and ${NAME} by their definitions, repeatedly (a value
// may use another parameter) but boundedly. An undefined parameter is an
// error: keepalived would have used the text as is, which is never meant.
func (p *parser) expand(s string, pos Pos) string {
	reported := map[string]bool{}
	for range maxExpansions {
		var b strings.Builder
		changed := false
		for j := 0; j < len(s); j++ {
			if s[j] != '$' {
				b.WriteByte(s[j])
				continue
			}
			name, n := paramAt(s[j+1:])
			if n == 0 {
				b.WriteByte('$')
				continue
			}
			v, ok := p.defs[name]
			if !ok {
				if !reported[name] {
					reported[name] = true
					p.errorf(pos, "undefined parameter $%s", name)
				}
				b.WriteString(s[j : j+1+n])
			} else {
				b.WriteString(v)
				changed = true
			}
			j += n
		}
		s = b.String()
		if len(s) > maxLineLen {
			p.errorf(pos, "line longer than %d bytes after parameter expansion", maxLineLen)
			return s[:maxLineLen]
		}
		if !changed || !strings.Contains(s, "$") {
			return s
		}
	}
	p.errorf(pos, "parameters nested more than %d deep", maxExpansions)
	return s
}

// paramAt reads NAME or {NAME} at the start of s and returns the name and the
// number of bytes it took (0: not a parameter).
func paramAt(s string) (string, int) {
	if strings.HasPrefix(s, "{") {
		end := strings.IndexByte(s, '}')
		if end > 1 && validName(s[1:end]) {
			return s[1:end], end + 1
		}
		return "", 0
	}
	n := 0
	for n < len(s) && validName(s[:n+1]) {
		n++
	}
	return s[:n], n
}

// tokenize splits one line: words separated by blanks, `{` and `}` as their
// own tokens, "quoted strings" as one word, and a # or ! at the start of a
// word begins a comment that runs to the end of the line.
func tokenize(s string, pos Pos) []token {
	var out []token
	for j := 0; j < len(s); {
		c := s[j]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			j++
		case c == '{':
			out = append(out, token{tLBrace, "{", pos})
			j++
		case c == '}':
			out = append(out, token{tRBrace, "}", pos})
			j++
		case c == '#' || c == '!':
			out = append(out, token{tComment, strings.TrimSpace(s[j+1:]), pos})
			return out
		case c == '"':
			end := strings.IndexByte(s[j+1:], '"')
			if end < 0 {
				out = append(out, token{tWord, s[j+1:], pos})
				return out
			}
			out = append(out, token{tWord, s[j+1 : j+1+end], pos})
			j += end + 2
		default:
			k := j
			for k < len(s) && !strings.ContainsRune(" \t\r{}\"", rune(s[k])) {
				k++
			}
			out = append(out, token{tWord, s[j:k], pos})
			j = k
		}
	}
	return out
}

// include reads the files matching each argument (a glob, relative to the
// including file's directory), in name order.
func (p *parser) include(toks []token, pos Pos) {
	if p.volume > maxVolume {
		return
	}
	if len(toks) < 2 {
		p.errorf(pos, "include needs a file name or pattern")
		return
	}
	if len(p.stack) >= maxIncludeDepth {
		p.errorf(pos, "includes nested more than %d deep", maxIncludeDepth)
		return
	}
	dir := filepath.Dir(p.stack[len(p.stack)-1])
	for _, t := range toks[1:] {
		if t.kind != tWord {
			continue
		}
		pattern := t.text
		if !filepath.IsAbs(pattern) {
			pattern = filepath.Join(dir, pattern)
		}
		names, err := p.fs.Glob(pattern)
		if err != nil {
			p.errorf(pos, "include %s: %v", t.text, err)
			continue
		}
		if len(names) == 0 {
			p.errorf(pos, "include %s: no file matches", t.text)
			continue
		}
		slices.Sort(names)
		for _, n := range names {
			if slices.Contains(p.stack, filepath.Clean(n)) {
				p.errorf(pos, "include %s: %s is already being read (include cycle)", t.text, n)
				continue
			}
			if p.files >= maxFiles {
				p.errorf(pos, "more than %d files included", maxFiles)
				return
			}
			src, err := p.fs.ReadFile(n)
			if err != nil {
				p.errorf(pos, "include %s: %v", t.text, err)
				continue
			}
			p.readFile(n, src)
		}
	}
}

func (p *parser) peek() token { return p.toks[p.i] }

// body reads statements until EOF or, inside a block (open != nil), the
// matching `}`.
func (p *parser) body(depth int, open *token) []*Node {
	var nodes []*Node
	var comments []string
	for {
		t := p.peek()
		switch t.kind {
		case tEOF:
			if open != nil {
				p.errorf(open.pos, "missing } for the block opened here")
			}
			return nodes
		case tNewline:
			p.i++
		case tComment:
			comments = append(comments, t.text)
			p.i++
		case tRBrace:
			p.i++
			if open != nil {
				return nodes
			}
			p.errorf(t.pos, "unexpected }")
		case tLBrace:
			// A `{` with no statement before it: read and drop the block
			// so that its `}` does not close the enclosing one.
			p.errorf(t.pos, "unexpected {")
			p.i++
			p.block(depth, t)
		default:
			n := p.statement(depth)
			n.Comments = append(comments, n.Comments...)
			comments = nil
			nodes = append(nodes, n)
		}
	}
}

func (p *parser) block(depth int, open token) []*Node {
	if depth+1 > maxBlockDepth {
		p.errorf(open.pos, "blocks nested more than %d deep", maxBlockDepth)
		// Skip to the matching brace without building anything.
		level := 1
		for level > 0 && p.peek().kind != tEOF {
			switch p.peek().kind {
			case tLBrace:
				level++
			case tRBrace:
				level--
			}
			p.i++
		}
		return nil
	}
	return p.body(depth+1, &open)
}

func (p *parser) statement(depth int) *Node {
	first := p.peek()
	n := &Node{Keyword: first.text, Pos: first.pos}
	p.i++
	for {
		t := p.peek()
		switch t.kind {
		case tWord:
			n.Args = append(n.Args, t.text)
			p.i++
			continue
		case tComment:
			n.Comments = append(n.Comments, t.text)
			p.i++
			continue
		case tLBrace:
			p.i++
			n.Block = true
			n.Children = p.block(depth, t)
			return n
		case tNewline:
			// `{` may stand on the next line (after blank or comment lines).
			j := p.i
			var cs []string
			for p.toks[j].kind == tNewline || p.toks[j].kind == tComment {
				if p.toks[j].kind == tComment {
					cs = append(cs, p.toks[j].text)
				}
				j++
			}
			if p.toks[j].kind == tLBrace {
				n.Comments = append(n.Comments, cs...)
				open := p.toks[j]
				p.i = j + 1
				n.Block = true
				n.Children = p.block(depth, open)
			}
			return n
		default: // `}` or EOF ends the statement
			return n
		}
	}
}
