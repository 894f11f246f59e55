package conf

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// fastParse parses the plain subset of HCL that large director files are
// made of — blocks with quoted labels, one attribute per line whose value
// is a quoted string without escapes or templates, a whole number, true,
// false or a one-line list of those, and # or // comments, all ASCII —
// straight into the syntax tree hclsyntax.ParseConfig builds for the same
// text: same node types, values and ranges, so the decoder cannot tell the
// difference (fastparse_test.go compares the trees, and fuzzes it).
//
// Under QEMU's software emulation hclsyntax's general lexer and parser were
// most of the time lvsd needed to program 1,000 services from empty, more
// than keepalived needed for the whole job. ok is false as soon as the text
// leaves the subset (or is not valid HCL): the caller then uses hclsyntax,
// which is also what reports errors.
func fastParse(src []byte, filename string, start hcl.Pos) (body *hclsyntax.Body, ok bool) {
	p := &fastParser{src: src, file: filename, pos: start}
	defer func() {
		if recover() != nil {
			body, ok = nil, false
		}
	}()
	body = p.body(true)
	if p.failed {
		return nil, false
	}
	// The top-level ranges only matter for an empty file's diagnostic,
	// which hclsyntax produces (no blocks: not worth a fast path).
	if len(body.Blocks) == 0 {
		return nil, false
	}
	body.SrcRange = hcl.Range{Filename: filename, Start: start, End: p.pos}
	body.EndRange = hcl.Range{Filename: filename, Start: p.pos, End: p.pos}
	return body, true
}

type fastParser struct {
	src    []byte
	file   string
	pos    hcl.Pos // position of src[pos.Byte-base]
	off    int     // offset in src
	failed bool
}

func (p *fastParser) fail() { p.failed = true; panic(p) }

func (p *fastParser) peek() byte {
	if p.off >= len(p.src) {
		return 0
	}
	return p.src[p.off]
}

// advance moves over n bytes of one line (no newline among them).
func (p *fastParser) advance(n int) {
	p.off += n
	p.pos.Byte += n
	p.pos.Column += n
}

func (p *fastParser) newline() {
	p.off++
	p.pos.Byte++
	p.pos.Line++
	p.pos.Column = 1
}

func (p *fastParser) rng(from hcl.Pos) hcl.Range {
	return hcl.Range{Filename: p.file, Start: from, End: p.pos}
}

// spaces skips blanks on the current line.
func (p *fastParser) spaces() {
	for p.off < len(p.src) && (p.src[p.off] == ' ' || p.src[p.off] == '\t') {
		p.advance(1)
	}
}

// lineEnd expects the end of an item: blanks, an optional line comment,
// then a newline (consumed) or the end of the text.
func (p *fastParser) lineEnd() {
	p.spaces()
	p.comment()
	switch p.peek() {
	case '\n':
		p.newline()
	case 0:
		if p.off < len(p.src) {
			p.fail()
		}
	default:
		p.fail()
	}
}

// comment skips a # or // comment up to (not including) its newline.
func (p *fastParser) comment() {
	c := p.peek()
	if c == '#' || (c == '/' && p.off+1 < len(p.src) && p.src[p.off+1] == '/') {
		for p.off < len(p.src) && p.src[p.off] != '\n' {
			if p.src[p.off] >= 0x80 || p.src[p.off] == '\r' {
				p.fail()
			}
			p.advance(1)
		}
	}
}

// blank skips empty and comment-only lines.
func (p *fastParser) blank() {
	for {
		p.spaces()
		p.comment()
		if p.peek() != '\n' {
			return
		}
		p.newline()
	}
}

func isIdentStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdent(c byte) bool      { return isIdentStart(c) || c == '-' || (c >= '0' && c <= '9') }

func (p *fastParser) ident() (string, hcl.Range) {
	from := p.pos
	start := p.off
	if !isIdentStart(p.peek()) {
		p.fail()
	}
	for p.off < len(p.src) && isIdent(p.src[p.off]) {
		p.advance(1)
	}
	return string(p.src[start:p.off]), p.rng(from)
}

// quoted reads "text": the text, the range of the text and the range with
// the quotes. Escapes, template sequences, non-ASCII and empty strings
// (whose literal range hclsyntax places oddly) leave the subset.
func (p *fastParser) quoted() (string, hcl.Range, hcl.Range) {
	from := p.pos
	if p.peek() != '"' {
		p.fail()
	}
	p.advance(1)
	textFrom, start := p.pos, p.off
	for {
		switch c := p.peek(); {
		case c == '"':
			if p.off == start {
				p.fail()
			}
			text, textRng := string(p.src[start:p.off]), p.rng(textFrom)
			p.advance(1)
			return text, textRng, p.rng(from)
		case c == 0 || c == '\n' || c == '\r' || c == '\\' || c == '$' || c == '%' || c >= 0x80 || c < 0x20:
			p.fail()
		}
		p.advance(1)
	}
}

// value parses a string, whole number, true, false or a one-line list.
func (p *fastParser) value(inList bool) hclsyntax.Expression {
	from := p.pos
	switch c := p.peek(); {
	case c == '"':
		text, textRng, rng := p.quoted()
		return &hclsyntax.TemplateExpr{
			Parts:    []hclsyntax.Expression{&hclsyntax.LiteralValueExpr{Val: cty.StringVal(text), SrcRange: textRng}},
			SrcRange: rng,
		}
	case c >= '0' && c <= '9':
		start := p.off
		for p.off < len(p.src) && p.src[p.off] >= '0' && p.src[p.off] <= '9' {
			p.advance(1)
		}
		if n := p.peek(); isIdent(n) || n == '.' {
			p.fail()
		}
		v, err := cty.ParseNumberVal(string(p.src[start:p.off]))
		if err != nil {
			p.fail()
		}
		return &hclsyntax.LiteralValueExpr{Val: v, SrcRange: p.rng(from)}
	case isIdentStart(c):
		word, rng := p.ident()
		switch word {
		case "true":
			return &hclsyntax.LiteralValueExpr{Val: cty.True, SrcRange: rng}
		case "false":
			return &hclsyntax.LiteralValueExpr{Val: cty.False, SrcRange: rng}
		}
	case c == '[' && !inList:
		p.advance(1)
		open := p.rng(from)
		var exprs []hclsyntax.Expression
		for {
			p.spaces()
			if p.peek() == ']' {
				break
			}
			exprs = append(exprs, p.value(true))
			p.spaces()
			if p.peek() == ',' {
				p.advance(1)
				continue
			}
			if p.peek() != ']' {
				p.fail()
			}
		}
		if len(exprs) == 0 {
			p.fail() // [] leaves the subset
		}
		p.advance(1)
		return &hclsyntax.TupleConsExpr{Exprs: exprs, SrcRange: p.rng(from), OpenRange: open}
	}
	p.fail()
	return nil
}

// body parses items up to the closing brace (consumed) or, at top level,
// the end of the text.
func (p *fastParser) body(top bool) *hclsyntax.Body {
	b := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}, Blocks: hclsyntax.Blocks{}}
	for {
		p.blank()
		c := p.peek()
		if c == 0 {
			if !top || p.off < len(p.src) {
				p.fail()
			}
			return b
		}
		if c == '}' {
			if top {
				p.fail()
			}
			return b
		}
		name, nameRng := p.ident()
		p.spaces()
		switch p.peek() {
		case '=':
			eq := p.pos
			p.advance(1)
			eqRng := p.rng(eq)
			p.spaces()
			expr := p.value(false)
			if _, dup := b.Attributes[name]; dup {
				p.fail() // hclsyntax reports it
			}
			b.Attributes[name] = &hclsyntax.Attribute{
				Name: name, Expr: expr,
				SrcRange:    hcl.RangeBetween(nameRng, expr.Range()),
				NameRange:   nameRng,
				EqualsRange: eqRng,
			}
			p.lineEnd()
		case '"', '{':
			blk := &hclsyntax.Block{Type: name, TypeRange: nameRng}
			for p.peek() == '"' {
				label, _, rng := p.quoted()
				blk.Labels = append(blk.Labels, label)
				blk.LabelRanges = append(blk.LabelRanges, rng)
				p.spaces()
			}
			if p.peek() != '{' {
				p.fail()
			}
			ob := p.pos
			p.advance(1)
			blk.OpenBraceRange = p.rng(ob)
			// Only the multi-line form: the brace ends its line.
			p.lineEnd()
			blk.Body = p.body(false)
			cb := p.pos
			p.advance(1) // the closing brace
			blk.CloseBraceRange = p.rng(cb)
			blk.Body.SrcRange = hcl.RangeBetween(blk.OpenBraceRange, blk.CloseBraceRange)
			blk.Body.EndRange = hcl.Range{Filename: p.file, Start: blk.CloseBraceRange.End, End: blk.CloseBraceRange.End}
			b.Blocks = append(b.Blocks, blk)
			p.lineEnd()
		default:
			p.fail()
		}
	}
}
