package rules

import (
	"errors"
	"strings"
)

// errUnterminated reports a rule line whose double quote is never closed.
var errUnterminated = errors.New("unterminated quote")

// splitRule splits one line of `iptables -S` output into its arguments.
//
// iptables prints an argument in double quotes when it contains white space
// or quoting characters, escaping `"` and `\` inside with a backslash (the
// save_string helper of xtables). Comments are the only arguments lvsd
// needs this for ("lvsd: 198.51.100.30" contains a space), but any line of
// the chain is parsed, since rules of other owners share it.
func splitRule(line string) ([]string, error) {
	var (
		words  []string
		cur    strings.Builder
		inWord bool // cur holds a word, possibly empty ("")
		quoted bool
	)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == '"':
			quoted = !quoted
			inWord = true
		case !quoted && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		return nil, errUnterminated
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// joinRule is the inverse of splitRule: it renders arguments the way
// iptables -S prints them. The fake Table in the tests uses it, and the
// fuzz test uses it for its round-trip property.
func joinRule(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		if w != "" && !strings.ContainsAny(w, " \t\n\r\"\\") {
			b.WriteString(w)
			continue
		}
		b.WriteByte('"')
		for j := 0; j < len(w); j++ {
			if w[j] == '"' || w[j] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(w[j])
		}
		b.WriteByte('"')
	}
	return b.String()
}
