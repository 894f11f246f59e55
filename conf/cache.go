package conf

import (
	"bytes"
	"hash/maphash"
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
// It keeps, of the last file it parsed without error, the pieces
// parseInPieces cut it into (each with a 128-bit sum of its bytes) and,
// for those that hold only virtual_server blocks, the decoded virtual
// servers. The next parse finds the pieces the new text has unchanged:
// from the start, those whose bytes sum the same at their place are
// reused as they are; from the end, those that sum the same moved by the
// change of length are reused with their source ranges moved by the bytes
// and lines the edit added or removed; only the text in between is parsed
// and decoded. The checks across blocks (duplicate names and addresses,
// the VRRP blocks, which are never reused) see every block, so the result
// is the one Parse gives for the same text, ranges and diagnostics
// included (cache_test.go compares them, and fuzzes edits).
//
// A Cache is safe for concurrent use; the zero value is ready.
type Cache struct {
	mu       sync.Mutex
	filename string
	// kept: pieces describe the last file parsed without error, of size
	// bytes. The file itself is not kept (9 MB at 10k services): each
	// piece keeps a 128-bit sum of its bytes, and the next file's pieces
	// are found equal by their sums.
	kept   bool
	size   int
	pieces []cachedPiece
}

// cachedPiece is one piece of the kept file.
type cachedPiece struct {
	from, to int     // offsets in the source
	start    hcl.Pos // where from is
	// sum is pieceSum of the piece's bytes, lines how many newlines they
	// hold; summed says both are set.
	sum    [2]uint64
	lines  int
	summed bool
	// ok: the piece has only virtual_server blocks, all decoded without
	// error, in vss.
	ok  bool
	vss []cachedVS
	// run, when not nil, holds the virtual servers of vss one after the
	// other (vss[k].vs == &run[k]): a reuse appends them in one copy.
	run []VirtualServer
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
	if len(src) < 2*chunkSize {
		c.drop()
		return Parse(src, filename)
	}
	m, reuse := c.match(src, filename)
	edit := src
	if reuse {
		edit = window(src, m.from, m.to)
	}
	if mayHaveGroups(edit) {
		// Virtual servers of a group depend on another block: the file
		// is parsed whole (Parse), and nothing is kept.
		c.drop()
		return Parse(src, filename)
	}
	if !utf8.Valid(edit) {
		// Pieces place themselves by counting newlines, while hclsyntax's
		// scanner can take a newline into an invalid UTF-8 sequence and
		// count one line fewer (FuzzCacheEdit found "\xed$\n"): such a
		// file is parsed whole (Parse does too), so positions stay
		// hclsyntax's. The kept pieces stay the last good file's.
		return Parse(src, filename)
	}
	var segs []segment
	blocks := 0
	if reuse {
		segs = c.segments(src, m)
	} else {
		var cuts []int
		var ok bool
		cuts, blocks, ok = cutTopLevel(src, chunkSize)
		if !ok || len(cuts) == 0 {
			c.drop()
			return Parse(src, filename)
		}
		segs = segmentsAt(src, 0, hcl.InitialPos, cuts)
	}
	cfg, diags, recs, ok := parseInPieces(src, filename, segs, blocks, true)
	if !ok {
		// A syntax error: the whole-file parse reports it.
		return parseWhole(src, filename)
	}
	cfg, diags = finishParse(cfg, diags)
	if cfg != nil {
		summarize(recs, src)
		if share(recs, cfg) {
			c.filename, c.kept, c.size, c.pieces = filename, true, len(src), recs
		} else {
			c.drop()
		}
	}
	return cfg, diags
}

// drop forgets the kept file.
func (c *Cache) drop() { c.filename, c.kept, c.size, c.pieces = "", false, 0, nil }

// pieceSeeds key pieceSum, per process.
var pieceSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// pieceSum is a 128-bit sum of a piece's bytes (two independently seeded
// maphash sums): two different pieces have the same sum with probability
// 2^-128, which the Cache takes for equal bytes. Comparing sums instead of
// bytes lets it forget the file.
func pieceSum(b []byte) [2]uint64 {
	return [2]uint64{maphash.Bytes(pieceSeeds[0], b), maphash.Bytes(pieceSeeds[1], b)}
}

// summarize sets the sums and line counts of the pieces parsed afresh
// (reused pieces bring theirs: their bytes did not change).
func summarize(recs []cachedPiece, src []byte) {
	for i := range recs {
		p := &recs[i]
		if !p.summed {
			b := src[p.from:p.to]
			p.sum, p.lines, p.summed = pieceSum(b), bytes.Count(b, []byte{'\n'}), true
		}
	}
}

// window is the part of src that Parse must scan for what the kept file
// cannot have (a virtual_server_group keyword, invalid UTF-8: a file with
// neither is never kept) when src is the kept file with [from, to)
// replaced: those bytes with enough of the unchanged text around them to
// hold a keyword or a UTF-8 sequence across the edges. Both scans of a
// 9 MB file took a tenth of a cached reload.
func window(src []byte, from, to int) []byte {
	// The unchanged text on each side starts and ends at rune starts of
	// the kept file (valid UTF-8), so it is valid on its own and the
	// window decides; it is at least as long as the keyword minus one.
	from = max(0, from-len(groupKeyword))
	for from > 0 && !utf8.RuneStart(src[from]) {
		from--
	}
	to += len(groupKeyword)
	if to >= len(src) {
		return src[from:]
	}
	for to < len(src) && !utf8.RuneStart(src[to]) {
		to++
	}
	return src[from:to]
}

// matched says which kept pieces src has unchanged: [0,i) at their
// place, [j,len) moved by delta bytes; src[from:to) is the text between.
type matched struct {
	i, j, delta int
	from, to    int
}

// match finds the kept pieces src has unchanged, by their sums: from the
// start while they match at their place, then from the end while they
// match moved by the change of length. ok is false when none does (or
// nothing is kept). Each byte of src is summed at most once.
func (c *Cache) match(src []byte, filename string) (m matched, ok bool) {
	if !c.kept || c.filename != filename {
		return m, false
	}
	n := len(c.pieces)
	m.delta = len(src) - c.size
	for m.i < n && c.pieces[m.i].to <= len(src) && pieceSum(src[c.pieces[m.i].from:c.pieces[m.i].to]) == c.pieces[m.i].sum {
		m.i++
	}
	if m.i > 0 {
		m.from = c.pieces[m.i-1].to
	}
	m.j = n
	for m.j > m.i {
		p := &c.pieces[m.j-1]
		f, t := p.from+m.delta, p.to+m.delta
		if f < m.from || t > len(src) || pieceSum(src[f:t]) != p.sum {
			break
		}
		m.j--
	}
	// A reused piece keeps its columns, so it must start a line in src
	// as it did in the kept file: an edit that ends on its first line (a
	// space inserted before "virtual_server", FuzzCacheEdit) shifts them.
	// The pieces after it follow unchanged text and start lines.
	for m.j < n && c.pieces[m.j].from+m.delta > 0 && src[c.pieces[m.j].from+m.delta-1] != '\n' {
		m.j++
	}
	m.to = len(src)
	if m.j < n {
		m.to = c.pieces[m.j].from + m.delta
	}
	return m, m.i > 0 || m.j < n
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
		p.run = nil
		if !p.ok {
			p.vss = nil
			continue
		}
		first, together := at, true
		for k := range p.vss {
			rev := p.vss[k].vs.Rev
			for at < len(cfg.VirtualServers) && cfg.VirtualServers[at].Rev != rev {
				at++
				together = together && k == 0
			}
			if at == len(cfg.VirtualServers) {
				return false
			}
			if k == 0 {
				first = at
			}
			p.vss[k].vs = &cfg.VirtualServers[at]
			at++
		}
		if together && len(p.vss) > 0 {
			p.run = cfg.VirtualServers[first:at:at]
		}
	}
	return true
}

// segments cuts src into segments for parseInPieces as m says: the kept
// pieces it has unchanged are reused (moved after the edit), the text
// between is cut like a whole file.
func (c *Cache) segments(src []byte, m matched) (segs []segment) {
	i, j, delta := m.i, m.j, m.delta
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
		from, start = c.pieces[i-1].to, hcl.Pos{Line: c.pieces[i-1].start.Line + c.pieces[i-1].lines, Column: 1, Byte: c.pieces[i-1].to}
	}
	to := m.to
	var after hcl.Pos
	if from < to {
		mid := src[from:to]
		cuts, _, ok := cutTopLevel(mid, chunkSize)
		if !ok {
			cuts = nil
		}
		for k := range cuts {
			cuts[k] += from
		}
		// segmentsAt wants src ending at to.
		segs = append(segs, segmentsAt(src[:to], from, start, cuts)...)
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
	return segs
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
	// Shared with the last Config: moved in copies, one after the other.
	q.run = make([]VirtualServer, len(p.vss))
	for i, c := range p.vss {
		vs := &q.run[i]
		*vs = *c.vs
		vs.DeclRange = moveRange(vs.DeclRange, dByte, dLine)
		vs.RealServers = slices.Clone(vs.RealServers)
		for k := range vs.RealServers {
			vs.RealServers[k].DeclRange = movePosOnly(vs.RealServers[k].DeclRange, dLine)
		}
		c.vs = vs
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
