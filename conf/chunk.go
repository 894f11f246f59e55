package conf

import (
	"bytes"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Large files (a director with 10,000 virtual servers is ~9 MB of HCL) are
// parsed in pieces: the file is cut between top-level blocks, the pieces
// are parsed in parallel, and their blocks are decoded in file order, each
// piece's syntax tree dropped once decoded. A whole-file parse of such a
// file holds every token and node at once (~750 MB peak for 10k x 10 real
// servers) and uses one CPU; in pieces the peak is a few pieces' worth and
// every CPU lexes. Each piece is parsed with its true start position, so
// ranges and diagnostics are those of the whole file. If any piece has a
// syntax error, or the cutter meets something it does not follow, the
// file is parsed whole, which gives the reference diagnostics.

// chunkSize is the size a piece grows to before it is cut at the next
// top-level boundary; files under it are parsed whole. A variable for
// tests. 16 KB (about 18 virtual servers of 10 real servers): a reload
// parses again the pieces an edit touches, and at 64 KB that piece was a
// fifth of a one-weight reload at 10k services under emulation; a first
// parse of 9 MB takes the same time with 16 KB pieces as with 64 KB, and
// 5% more with 8 KB.
var chunkSize = 16 << 10

// cutTopLevel returns the offsets at which src can be cut between
// top-level items, about every size bytes: just after the newline that
// follows a closing bracket bringing the nesting depth back to 0 (at depth
// 0 a newline ends an HCL item). ok is false when the scan meets what it
// does not track — a template sequence or a newline inside a quoted
// string, a heredoc, unbalanced brackets — and the file must be parsed
// whole. blocks counts the top-level blocks (braces closed at depth 0): at
// most a few more than the virtual servers, it sizes the list of them and
// the maps of the checks across blocks, which grew by copies (at 10k
// services the old and the new list both live, 7 MB at the peak of the
// first parse, where one list is 3.6 MB).
func cutTopLevel(src []byte, size int) (cuts []int, blocks int, ok bool) {
	depth, last := 0, 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"':
			for i++; ; i++ {
				if i >= len(src) || src[i] == '\n' {
					return nil, 0, false
				}
				if src[i] == '\\' {
					i++
					continue
				}
				if (src[i] == '$' || src[i] == '%') && i+1 < len(src) && src[i+1] == '{' {
					return nil, 0, false
				}
				if src[i] == '"' {
					break
				}
			}
		case '#':
			i = lineEnd(src, i)
		case '/':
			switch {
			case i+1 < len(src) && src[i+1] == '/':
				i = lineEnd(src, i)
			case i+1 < len(src) && src[i+1] == '*':
				end := bytes.Index(src[i+2:], []byte("*/"))
				if end < 0 {
					return nil, 0, false
				}
				i += 2 + end + 1
			}
		case '<':
			if i+1 < len(src) && src[i+1] == '<' {
				return nil, 0, false // heredoc
			}
		case '{', '[', '(':
			depth++
		case '}', ']', ')':
			depth--
			if depth < 0 {
				return nil, 0, false
			}
			if depth == 0 && c == '}' {
				blocks++
			}
			if depth == 0 && i+1 < len(src) && src[i+1] == '\n' && i+2-last >= size && i+2 < len(src) {
				last = i + 2
				cuts = append(cuts, last)
			}
		}
	}
	if depth != 0 {
		return nil, 0, false
	}
	return cuts, blocks, true
}

// lineEnd returns the index of the newline ending the line at i (or the
// last index).
func lineEnd(src []byte, i int) int {
	if n := bytes.IndexByte(src[i:], '\n'); n >= 0 {
		return i + n
	}
	return len(src) - 1
}

// decodeAhead decodes a piece made only of virtual_server blocks in the
// parsing worker, so that the decoding, most of a large file's time, runs
// on every CPU instead of in the one goroutine that walks the pieces in
// order; that one then only runs the checks across blocks, as for a piece
// a Cache kept (cachedVS). ok is false for any other piece, or any error:
// the in-order decoder then decodes it, which reports errors with the
// state across blocks they may need.
func decodeAhead(body hcl.Body, sg segment) (*cachedPiece, bool) {
	content, diags := body.Content(rootSchema)
	if len(diags) > 0 || len(content.Blocks) == 0 {
		return nil, false
	}
	cp := &cachedPiece{from: sg.from, to: sg.to, start: sg.start, ok: true, vss: make([]cachedVS, 0, len(content.Blocks))}
	d := &decoder{}
	for _, b := range content.Blocks {
		if b.Type != "virtual_server" {
			return nil, false
		}
		from := len(d.diags)
		vs, ok := d.virtualServer(b)
		if !ok {
			return nil, false
		}
		cp.vss = append(cp.vss, cachedVS{vs: &vs, label: b.LabelRanges[0], key: d.vsKeyRange, diags: slices.Clone(d.diags[from:])})
	}
	return cp, true
}

// segment is one piece of a file for parseInPieces: src[from:to], which
// starts at start; reuse, when not nil, holds its virtual servers decoded
// by an earlier parse (Cache), already moved to start.
type segment struct {
	from, to int
	start    hcl.Pos
	reuse    *cachedPiece
}

// segmentsAt cuts src[from:to] (to = the end of src's slice passed) at
// cuts (offsets in src), the first piece starting at start.
func segmentsAt(src []byte, from int, start hcl.Pos, cuts []int) []segment {
	segs := make([]segment, 0, len(cuts)+1)
	pos := start
	for _, to := range append(cuts, len(src)) {
		segs = append(segs, segment{from: from, to: to, start: pos})
		pos = hcl.Pos{Line: pos.Line + bytes.Count(src[from:to], []byte{'\n'}), Column: 1, Byte: to}
		from = to
	}
	return segs
}

// parseInPieces parses the segments of src that are not reused and
// decodes them all in file order. ok is false when a piece has a syntax
// error: the caller then parses the file whole. With record, recs[i] is
// what a Cache keeps of segment i (reused ones as given).
//
// blocks, if not 0, is how many top-level blocks the file has
// (cutTopLevel), for a file parsed without reuse.
func parseInPieces(src []byte, filename string, segs []segment, blocks int, record bool) (cfg *Config, diags hcl.Diagnostics, recs []cachedPiece, ok bool) {
	type piece struct {
		segment
		cached bool // reuse came with the segment (a Cache)
		body   hcl.Body
		diags  hcl.Diagnostics
		done   chan struct{}
	}
	pieces := make([]piece, len(segs))
	cached := false
	for i, sg := range segs {
		pieces[i] = piece{segment: sg, cached: sg.reuse != nil, done: make(chan struct{})}
		cached = cached || sg.reuse != nil
	}
	if record {
		recs = make([]cachedPiece, len(segs))
	}

	// Workers parse pieces in file order; at most 2 per worker are parsed
	// and not yet decoded, which bounds the memory held.
	workers := min(runtime.GOMAXPROCS(0), len(pieces))
	slots := make(chan struct{}, 2*workers)
	var next atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				slots <- struct{}{}
				i := int(next.Add(1) - 1)
				if i >= len(pieces) {
					<-slots
					return
				}
				p := &pieces[i]
				if !stop.Load() && p.reuse == nil {
					text := src[p.from:p.to]
					if b, ok := fastParse(text, filename, p.start); ok {
						p.body = b
					} else {
						f, d := hclsyntax.ParseConfig(text, filename, p.start)
						p.body, p.diags = f.Body, d
					}
					if len(p.diags) == 0 {
						if cp, ok := decodeAhead(p.body, p.segment); ok {
							p.reuse, p.body = cp, nil
						}
					}
				}
				close(p.done)
			}
		})
	}
	defer wg.Wait()

	var parseDiags hcl.Diagnostics
	d := &decoder{deferChecks: cached}
	d.hint, d.checkHint = vsHint(segs)
	if !cached {
		d.hint = max(d.hint, blocks)
		d.checkHint = d.hint
	}
	cfg = d.rootStream(filename, func(yield func(*streamPiece) bool) {
		for i := range pieces {
			p := &pieces[i]
			<-p.done
			// Dropped once handed over: memory stays bounded.
			body, pd, reuse := p.body, p.diags, p.reuse
			p.body, p.diags, p.reuse = nil, nil, nil
			sp := &streamPiece{body: body, cached: p.cached}
			if reuse != nil {
				sp.reused, sp.run = reuse.vss, reuse.run
				if record {
					recs[i] = *reuse
				}
			} else if record {
				recs[i] = cachedPiece{from: p.from, to: p.to, start: p.start}
				sp.rec = &recs[i]
			}
			if reuse == nil && (pd.HasErrors() || body == nil) {
				ok = false
				stop.Store(true)
				// Let the workers run out: each remaining piece frees
				// its slot here without being parsed.
				<-slots
				for j := i + 1; j < len(pieces); j++ {
					<-pieces[j].done
					<-slots
				}
				return
			}
			ok = true
			parseDiags = append(parseDiags, pd...)
			cont := yield(sp)
			<-slots
			if !cont {
				for j := i + 1; j < len(pieces); j++ {
					stop.Store(true)
					<-pieces[j].done
					<-slots
				}
				return
			}
		}
	})
	if !ok || d.conflict {
		// A syntax error, or a duplicate that deferred checks found:
		// the whole-file parse reports it.
		return nil, nil, nil, false
	}
	return cfg, append(parseDiags, d.diags...), recs, true
}

// vsHint estimates how many virtual servers segs hold: those of the reused
// pieces, and as many per byte in the others. The decoder sizes its list
// and maps with it: grown by append, a 10k-service list and the maps of
// the checks across blocks were half of what a cached reload allocated.
// fresh is the part of it in the pieces not reused.
func vsHint(segs []segment) (all, fresh int) {
	var n, reusedBytes, freshBytes int
	for _, sg := range segs {
		if sg.reuse != nil {
			n += len(sg.reuse.vss)
			reusedBytes += sg.to - sg.from
		} else {
			freshBytes += sg.to - sg.from
		}
	}
	if n == 0 || reusedBytes == 0 {
		return 0, 0
	}
	fresh = freshBytes*n/reusedBytes + 1
	return n + fresh, fresh
}
