package conf

import (
	"errors"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// SplitCommand splits a command line into argv the way a POSIX shell splits
// words, without any expansion: blanks separate words; 'single quotes' keep
// everything literally; "double quotes" keep everything but \" and \\; a
// backslash outside quotes escapes the next character. misc_check runs its
// misc_path this way, without a shell.
func SplitCommand(s string) ([]string, error) {
	var (
		argv  []string
		cur   strings.Builder
		inArg bool
	)
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			if inArg {
				argv = append(argv, cur.String())
				cur.Reset()
				inArg = false
			}
		case ch == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			cur.WriteByte(s[i])
			inArg = true
		case ch == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inArg = true
		case ch == '"':
			inArg = true
			closed := false
			for i++; i < len(s); i++ {
				c := s[i]
				if c == '"' {
					closed = true
					break
				}
				if c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
					c = s[i]
				}
				cur.WriteByte(c)
			}
			if !closed {
				return nil, errors.New("unterminated double quote")
			}
		default:
			cur.WriteByte(ch)
			inArg = true
		}
	}
	if inArg {
		argv = append(argv, cur.String())
	}
	if len(argv) == 0 {
		return nil, errors.New("empty command")
	}
	return argv, nil
}

// QuoteCommand is the inverse of SplitCommand: it quotes each word so that
// SplitCommand gives argv back.
func QuoteCommand(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && !strings.ContainsAny(a, " \t\n\r\\'\"") {
			b.WriteString(a)
			continue
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(a, "'", `'\''`))
		b.WriteByte('\'')
	}
	return b.String()
}

// command decodes a program attribute (misc_path, vrrp_script's script,
// notify scripts, quorum_up/quorum_down): split like a shell would, without
// expansion, and run without one, so the program must be an absolute path.
// argv is nil when the attribute is invalid (the error is recorded).
func (d *decoder) command(a *hcl.Attribute) (line string, argv []string) {
	s, ok := d.str(a)
	if !ok {
		return "", nil
	}
	argv, err := SplitCommand(s)
	switch {
	case err != nil:
		d.errorf(a.Expr.Range(), "Invalid "+a.Name, "%s is split into words like a shell would (quotes and backslashes, no expansion) and run without a shell; %q cannot be split: %v.", a.Name, s, err)
	case strings.ContainsRune(s, 0):
		d.errorf(a.Expr.Range(), "Invalid "+a.Name, "%s must not contain a NUL character.", a.Name)
	case len(argv) == 0:
		d.errorf(a.Expr.Range(), "Invalid "+a.Name, "%s must name a program.", a.Name)
	case !strings.HasPrefix(argv[0], "/"):
		d.errorf(a.Expr.Range(), "Invalid "+a.Name, "%s must start with an absolute program path such as \"/usr/local/bin/check\"; got %q (no shell runs it).", a.Name, argv[0])
	default:
		return s, argv
	}
	return s, nil
}
