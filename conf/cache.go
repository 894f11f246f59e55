package conf

import (
	"bytes"
	"os"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// Cache makes parsing a large file again after a small edit cheap, which
// is what a reload usually is: one weight changed in a 10k-service file
// (~9 MB) used to cost a full parse and decode, most of a reload's time.
//
// It keeps the last file it parsed without error and, for each of the
// pieces parseInPieces cut it into that holds only virtual_server blocks,
// the decoded virtual servers. The next parse compares the new text with
// the kept one: pieces inside the common prefix are reused as they are,
// pieces inside the common suffix are reused with their source ranges
// moved by the bytes and lines the edit added or removed, and only the
// text in between is parsed and decoded. The checks across blocks
// (duplicate names and addresses, the VRRP blocks, which are never
// reused) run on the whole file every time, so the result is the one
// Parse gives for the same text, ranges and diagnostics included
// (cache_test.go compares them, and fuzzes edits).
//
// A Cache is safe for concurrent use; the zero value is ready.
type Cache struct {
	mu       sync.Mutex
	filename string
	src      []byte
	pieces   []cachedPiece
	// last is common's answer during one Parse (the same two slices).
	last commonMemo
}

type commonMemo struct {
	src, old []byte
	p, s     int
	ok       bool
}

// cachedPiece is one piece of Cache.src.
type cachedPiece struct {
	from, to int     // offsets in the source
	start    hcl.Pos // where from is
	// ok: the piece has only virtual_server blocks, all decoded without
	// error, in vss.
	ok  bool
	vss []cachedVS
}

// cachedVS is one decoded virtual_server with what the checks across
// blocks need. Once a parse is over, vs points into the list of the
// Config it returned (share), so the Cache holds no second copy of 10k
// virtual servers; a piece moved by an edit gets copies of its own.
type cachedVS struct {
	vs    *VirtualServer
	label hcl.Range       // its name
	key   hcl.Range       // its address or fwmark value
	diags hcl.Diagnostics // its own warnings
}

// LoadCached is [LoadWithSources] through c; a nil c does not cache.
func LoadCached(path string, c *Cache) (cfg *Config, sources map[string][]byte, diags hcl.Diagnostics) {
	if c == nil {
		return LoadWithSources(path)
	}
	sources = map[string][]byte{}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, sources, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration file",
			Detail:   err.Error(),
		}}
	}
	sources[path] = src
	cfg, diags = c.Parse(src, path)
	return cfg, sources, diags
}

// Parse is [Parse] reusing what c kept of the last file it parsed under
// the same filename. The Cache keeps src (it must not be modified after)
// when it parses without error; a file with errors leaves c as it was.
// A nil c is [Parse].
func (c *Cache) Parse(src []byte, filename string) (*Config, hcl.Diagnostics) {
	if c == nil {
		return Parse(src, filename)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// common's memo lives for this call only: it holds both files.
	defer func() { c.last = commonMemo{} }()
	if len(src) < 2*chunkSize {
		c.src, c.pieces = nil, nil
		return Parse(src, filename)
	}
	edit := c.edited(src, filename)
	if mayHaveGroups(edit) {
		// Virtual servers of a group depend on another block: the file
		// is parsed whole (Parse), and nothing is kept.
		c.src, c.pieces = nil, nil
		return Parse(src, filename)
	}
	if !utf8.Valid(edit) {
		// Pieces place themselves by counting newlines, while hclsyntax's
		// scanner can take a newline into an invalid UTF-8 sequence and
		// count one line fewer (FuzzCacheEdit found "\xed$\n"): such a
		// file is parsed whole (Parse does too), so positions stay
		// hclsyntax's. The kept file stays the last good one.
		return Parse(src, filename)
	}
	segs, ok := c.plan(src, filename)
	if !ok {
		cuts, ok := cutTopLevel(src, chunkSize)
		if !ok || len(cuts) == 0 {
			c.src, c.pieces = nil, nil
			return Parse(src, filename)
		}
		segs = segmentsAt(src, 0, hcl.InitialPos, cuts)
	}
	cfg, diags, recs, ok := parseInPieces(src, filename, segs, true)
	if !ok {
		// A syntax error: the whole-file parse reports it.
		return parseWhole(src, filename)
	}
	cfg, diags = finishParse(cfg, diags)
	if cfg != nil {
		c.filename, c.src, c.pieces = filename, src, recs
		if !share(recs, cfg) {
			c.src, c.pieces = nil, nil
		}
	}
	return cfg, diags
}

// edited is the part of src that Parse must scan for what the kept file
// cannot have (a virtual_server_group keyword, invalid UTF-8: a file with
// either is never kept): src itself, or, when src is an edit of the kept
// file, the bytes that differ with enough of the unchanged text around
// them to hold a keyword or a UTF-8 sequence across the edges. Both
// scans of a 9 MB file took a tenth of a cached reload.
func (c *Cache) edited(src []byte, filename string) []byte {
	p, s, ok := c.common(src, filename)
	if !ok {
		return src
	}
	// The unchanged text on each side starts and ends at rune starts of
	// the kept file (valid UTF-8), so it is valid on its own and the
	// window decides; it is at least as long as the keyword minus one.
	from := max(0, p-len(groupKeyword))
	for from > 0 && !utf8.RuneStart(src[from]) {
		from--
	}
	to := len(src) - s + len(groupKeyword)
	if to >= len(src) {
		return src[from:]
	}
	for to < len(src) && !utf8.RuneStart(src[to]) {
		to++
	}
	return src[from:to]
}

// common is the length of the common prefix and, after it, of the common
// suffix of the kept file and src; ok is false when the kept file is not
// src's. The last answer is kept: Parse asks twice (edited, plan), and
// comparing 9 MB twice showed in a reload's profile.
func (c *Cache) common(src []byte, filename string) (p, s int, ok bool) {
	old := c.src
	if old == nil || c.filename != filename {
		return 0, 0, false
	}
	if k := c.last; k.ok && len(k.src) == len(src) && len(src) > 0 && &k.src[0] == &src[0] && len(k.old) == len(old) && &k.old[0] == &old[0] {
		return k.p, k.s, true
	}
	n := min(len(old), len(src))
	p = commonPrefix(old[:n], src[:n])
	s = commonSuffix(old[p:], src[p:])
	c.last = commonMemo{src: src, old: old, p: p, s: s, ok: len(src) > 0 && len(old) > 0}
	return p, s, true
}

// share points the virtual servers of the reusable pieces at their place
// in cfg's list (the copies made while parsing become garbage) and drops
// what the other pieces recorded. A piece's virtual servers are in cfg in
// file order, found by Rev (one per decoding); ok is false if one is not
// (nothing may then be reused). The caller must not modify cfg's virtual
// servers afterwards: the next parse reuses them.
func share(recs []cachedPiece, cfg *Config) bool {
	at := 0
	for i := range recs {
		p := &recs[i]
		if !p.ok {
			p.vss = nil
			continue
		}
		for k := range p.vss {
			rev := p.vss[k].vs.Rev
			for at < len(cfg.VirtualServers) && cfg.VirtualServers[at].Rev != rev {
				at++
			}
			if at == len(cfg.VirtualServers) {
				return false
			}
			p.vss[k].vs = &cfg.VirtualServers[at]
			at++
		}
	}
	return true
}

// plan cuts src into segments, reusing the kept pieces that src has
// unchanged; ok is false when nothing can be reused.
func (c *Cache) plan(src []byte, filename string) (segs []segment, ok bool) {
	p, s, ok := c.common(src, filename)
	if !ok {
		return nil, false
	}
	old := c.src
	delta := len(src) - len(old)

	// Pieces [0,i) lie in the common prefix, [j,len) in the common suffix.
	i := 0
	for i < len(c.pieces) && c.pieces[i].to <= p {
		i++
	}
	j := len(c.pieces)
	for j > i && c.pieces[j-1].from >= len(old)-s {
		j--
	}
	// A reused piece keeps its columns, so it must start a line in src
	// as it did in old: an edit that ends on its first line (a space
	// inserted before "virtual_server", FuzzCacheEdit) shifts them. The
	// pieces after it follow unchanged text and start lines.
	for j < len(c.pieces) && c.pieces[j].from+delta > 0 && src[c.pieces[j].from+delta-1] != '\n' {
		j++
	}
	if i == 0 && j == len(c.pieces) {
		return nil, false
	}
	// A kept piece that cannot be reused (VRRP blocks, say) is parsed
	// again where it is.
	for k := range i {
		sg := segment{from: c.pieces[k].from, to: c.pieces[k].to, start: c.pieces[k].start}
		if c.pieces[k].ok {
			sg.reuse = &c.pieces[k]
		}
		segs = append(segs, sg)
	}
	// The text in between, parsed afresh (cut like a whole file).
	from, start := 0, hcl.InitialPos
	if i > 0 {
		from, start = c.pieces[i-1].to, hcl.Pos{Line: c.pieces[i-1].start.Line + bytes.Count(old[c.pieces[i-1].from:c.pieces[i-1].to], []byte{'\n'}), Column: 1, Byte: c.pieces[i-1].to}
	}
	to := len(src)
	if j < len(c.pieces) {
		to = c.pieces[j].from + delta
	}
	var after hcl.Pos
	if from < to {
		mid := src[from:to]
		cuts, ok := cutTopLevel(mid, chunkSize)
		if !ok {
			cuts = nil
		}
		for k := range cuts {
			cuts[k] += from
		}
		// segmentsAt wants src ending at to.
		m := segmentsAt(src[:to], from, start, cuts)
		segs = append(segs, m...)
		after = hcl.Pos{Line: start.Line + bytes.Count(mid, []byte{'\n'}), Column: 1, Byte: to}
	} else {
		after = start
	}
	if j < len(c.pieces) {
		dLine := after.Line - c.pieces[j].start.Line
		for k := j; k < len(c.pieces); k++ {
			moved := c.pieces[k].moved(delta, dLine)
			sg := segment{from: moved.from, to: moved.to, start: moved.start}
			if moved.ok {
				sg.reuse = &moved
			}
			segs = append(segs, sg)
		}
	}
	return segs, true
}

// commonPrefix is the length of the longest common prefix of a and b.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	// bytes.Equal on halves: memcmp-speed, where a byte loop is not.
	lo, hi := 0, n
	for lo < hi {
		if hi-lo <= 64 {
			for lo < hi && a[lo] == b[lo] {
				lo++
			}
			return lo
		}
		mid := lo + (hi-lo)/2
		if bytes.Equal(a[lo:mid], b[lo:mid]) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// commonSuffix is the length of the longest common suffix of a and b.
func commonSuffix(a, b []byte) int {
	n := min(len(a), len(b))
	lo, hi := 0, n // the suffix length is in [lo, hi]
	for lo < hi {
		if hi-lo <= 64 {
			for lo < hi && a[len(a)-1-lo] == b[len(b)-1-lo] {
				lo++
			}
			return lo
		}
		mid := lo + (hi-lo)/2
		if bytes.Equal(a[len(a)-mid:len(a)-lo], b[len(b)-mid:len(b)-lo]) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// moved returns the piece as it is when dByte bytes and dLine lines were
// added before it: its offsets and every source range it holds moved.
// Nothing is shared with p that moving changes.
func (p *cachedPiece) moved(dByte, dLine int) cachedPiece {
	if dByte == 0 && dLine == 0 {
		return *p
	}
	q := *p
	q.from += dByte
	q.to += dByte
	q.start = movePos(q.start, dByte, dLine)
	q.vss = make([]cachedVS, len(p.vss))
	for i, c := range p.vss {
		vs := *c.vs // shared with the last Config: moved in a copy
		vs.DeclRange = moveRange(vs.DeclRange, dByte, dLine)
		vs.RealServers = slices.Clone(vs.RealServers)
		for k := range vs.RealServers {
			vs.RealServers[k].DeclRange = movePosOnly(vs.RealServers[k].DeclRange, dLine)
		}
		c.vs = &vs
		c.label = moveRange(c.label, dByte, dLine)
		c.key = moveRange(c.key, dByte, dLine)
		if len(c.diags) > 0 {
			ds := make(hcl.Diagnostics, len(c.diags))
			for k, d := range c.diags {
				nd := *d
				if nd.Subject != nil {
					nd.Subject = moveRange(*nd.Subject, dByte, dLine).Ptr()
				}
				if nd.Context != nil {
					nd.Context = moveRange(*nd.Context, dByte, dLine).Ptr()
				}
				ds[k] = &nd
			}
			c.diags = ds
		}
		q.vss[i] = c
	}
	return q
}

func movePos(p hcl.Pos, dByte, dLine int) hcl.Pos {
	p.Byte += dByte
	p.Line += dLine
	return p
}

// movePosOnly is movePos for a Pos: a piece moves by whole lines, so
// columns stay.
func movePosOnly(p Pos, dLine int) Pos {
	if p != (Pos{}) {
		p.Line = uint32(int(p.Line) + dLine)
	}
	return p
}

func moveRange(r hcl.Range, dByte, dLine int) hcl.Range {
	if r == (hcl.Range{}) {
		return r
	}
	r.Start = movePos(r.Start, dByte, dLine)
	r.End = movePos(r.End, dByte, dLine)
	return r
}
