package conf

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"sync/atomic"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Load reads and parses the file at path. cfg is nil exactly when
// diags.HasErrors(); diags may hold warnings in either case (they are also in
// cfg.Warnings). Use [LoadWithSources] to also get the file bytes needed by
// [WriteDiagnostics].
func Load(path string) (*Config, hcl.Diagnostics) {
	cfg, _, diags := LoadWithSources(path)
	return cfg, diags
}

// LoadWithSources is [Load] that also returns the bytes it read, keyed by
// filename as used in the diagnostics' ranges, so that the caller can pass
// them to [WriteDiagnostics] for source snippets. sources is empty (never
// nil) when the file could not be read.
func LoadWithSources(path string) (cfg *Config, sources map[string][]byte, diags hcl.Diagnostics) {
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
	cfg, diags = Parse(src, path)
	return cfg, sources, diags
}

// Parse parses src as an lvsd HCL file; filename is used in ranges and in
// Config.File. cfg is nil exactly when diags.HasErrors(). Diagnostics are
// sorted by position.
func Parse(src []byte, filename string) (*Config, hcl.Diagnostics) {
	// A file with virtual_server_group blocks is parsed whole: its virtual
	// servers need the groups first (scanGroups).
	if len(src) >= 2*chunkSize && utf8.Valid(src) && !mayHaveGroups(src) {
		if cuts, blocks, ok := cutTopLevel(src, chunkSize); ok && len(cuts) > 0 {
			if cfg, diags, _, ok := parseInPieces(src, filename, segmentsAt(src, 0, hcl.InitialPos, cuts), blocks, false); ok {
				return finishParse(cfg, diags)
			}
		}
	}
	return parseWhole(src, filename)
}

// parseWhole parses src in one piece with hclsyntax, which gives the
// reference diagnostics.
func parseWhole(src []byte, filename string) (*Config, hcl.Diagnostics) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		// The partial body hclsyntax recovers would produce follow-on errors
		// that only confuse; syntax errors are reported on their own.
		sortDiags(diags)
		return nil, diags
	}
	d := &decoder{}
	if mayHaveGroups(src) {
		d.scanGroups(file.Body)
	}
	cfg := d.root(file.Body, filename)
	return finishParse(cfg, append(diags, d.diags...))
}

// finishParse sorts the diagnostics and hands out the config only without
// errors, its warnings attached.
func finishParse(cfg *Config, diags hcl.Diagnostics) (*Config, hcl.Diagnostics) {
	sortDiags(diags)
	if diags.HasErrors() {
		return nil, diags
	}
	for _, diag := range diags {
		if diag.Severity == hcl.DiagWarning {
			cfg.Warnings = append(cfg.Warnings, diag)
		}
	}
	return cfg, diags
}

// sortDiags orders diagnostics by source position (those without a subject
// first) so that output is stable: hcl reports unsupported arguments in map
// order.
func sortDiags(diags hcl.Diagnostics) {
	slices.SortStableFunc(diags, func(a, b *hcl.Diagnostic) int {
		switch {
		case a.Subject == nil && b.Subject == nil:
			return 0
		case a.Subject == nil:
			return -1
		case b.Subject == nil:
			return 1
		}
		if c := cmp.Compare(a.Subject.Filename, b.Subject.Filename); c != 0 {
			return c
		}
		return cmp.Compare(a.Subject.Start.Byte, b.Subject.Start.Byte)
	})
}

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "vrrp_instance", LabelNames: []string{"name"}},
		{Type: "vrrp_script", LabelNames: []string{"name"}},
		{Type: "vrrp_sync_group", LabelNames: []string{"name"}},
		{Type: "vrrp_track_file", LabelNames: []string{"name"}},
		{Type: "vrrp_track_process", LabelNames: []string{"name"}},
		{Type: "virtual_server", LabelNames: []string{"name"}},
		{Type: "virtual_server_group", LabelNames: []string{"name"}},
		{Type: "agent"},
		{Type: "lvs_timeouts"},
		{Type: "lvs_sync_daemon"},
		{Type: "http"},
	},
}

// decoder accumulates diagnostics so that one pass reports every error.
type decoder struct {
	diags hcl.Diagnostics

	// Cross-block uniqueness, filled while decoding: the value is where the
	// first user was declared, for the error detail.
	vrids   map[vridKey]string
	vsAddrs map[vsKey]declared
	// vsKeyRange is the range uniqueVS was last given, for Cache.
	vsKeyRange hcl.Range

	// vsGroups are the virtual_server_group blocks (vsgroup.go), decoded
	// by scanGroups before the virtual servers; nil when the file was not
	// scanned (it has none).
	vsGroups map[string]*vsGroup
	// groupEntries are the services of the group the virtual server being
	// decoded names (nil: it names none), set by vsIdentity.
	groupEntries []VirtualServer
	// hint is how many virtual servers the file probably has (vsHint),
	// 0 if unknown; checkHint how many go through the checks across
	// blocks one by one (deferChecks).
	hint, checkHint int
	// deferChecks: the virtual servers of cached pieces are not put
	// through the checks across blocks one by one; once the others are,
	// each is only looked up among them (they have no duplicate among
	// themselves). A hit sets conflict: the caller parses the file whole
	// for the exact diagnostics. At 10k services the checks filled two
	// maps of 10k entries on every reload.
	deferChecks, conflict bool
	// names are real server names seen before (intern).
	names map[string]string
}

// revs numbers the decodings of virtual_server blocks (VirtualServer.Rev)
// across every parse of the process.
var revs atomic.Uint64

func nextRev() uint64 { return revs.Add(1) }

type vridKey struct {
	iface string
	vrid  uint8
}

// declared is the name and place of the first block that used something.
type declared struct {
	name string
	at   hcl.Range
}

// deferredConflict tells whether a virtual server of deferred (decoder.
// deferChecks) has the name or the address of one the checks saw. The few
// the checks saw go into a 1024-bit filter by a cheap hash first, so
// that the 10k deferred ones are looked up in the maps only when the
// filter says they may be there: the maps hash with AES instructions,
// which QEMU emulates, and 20k lookups were a fifth of a reload's parse
// in the VM.
func deferredConflict(deferred [][]cachedVS, names map[string]hcl.Range, addrs map[vsKey]declared) bool {
	var filter [16]uint64
	mark := func(h uint64) { filter[h>>6&15] |= 1 << (h & 63) }
	may := func(h uint64) bool { return filter[h>>6&15]&(1<<(h&63)) != 0 }
	for name := range names {
		mark(nameHash(name))
	}
	for k := range addrs {
		mark(addrHash(k))
	}
	for _, vss := range deferred {
		for i := range vss {
			vs := vss[i].vs
			if may(nameHash(vs.Name)) {
				if _, ok := names[vs.Name]; ok {
					return true
				}
			}
			if k := vsKeyOf(vs); may(addrHash(k)) {
				if _, ok := addrs[k]; ok {
					return true
				}
			}
		}
	}
	return false
}

// nameHash is FNV-1a, mixed so that its low bits spread.
func nameHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return mix64(h)
}

// addrHash hashes what a vsKey compares but the protocol (a filter may say
// yes too often, never no wrongly).
func addrHash(k vsKey) uint64 {
	b := k.addr.Addr().As16()
	h := binary.LittleEndian.Uint64(b[:8]) ^ mix64(binary.LittleEndian.Uint64(b[8:])) ^ uint64(k.addr.Port())<<32 ^ uint64(k.fwmark)
	return mix64(h)
}

// mix64 is the splitmix64 finalizer.
func mix64(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

type vsKey struct {
	addr   netip.AddrPort
	proto  string
	fwmark uint32
}

func (d *decoder) errorf(subject hcl.Range, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  subject.Ptr(),
	})
}

func (d *decoder) warnf(subject hcl.Range, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  subject.Ptr(),
	})
}

// pos formats the start of r as FILE:LINE,COL for "declared at" details.
func pos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d,%d", r.Filename, r.Start.Line, r.Start.Column)
}

func (d *decoder) root(body hcl.Body, filename string) *Config {
	return d.rootStream(filename, func(yield func(*streamPiece) bool) { yield(&streamPiece{body: body}) })
}

// streamPiece is one piece of a file for rootStream: a parsed body to
// decode, or the virtual servers a Cache kept from an earlier parse of the
// same text.
type streamPiece struct {
	body   hcl.Body
	reused []cachedVS      // when body is nil
	run    []VirtualServer // reused's virtual servers in a row, if not nil
	// cached: reused comes from a Cache, out of the last file parsed
	// without error, so its virtual servers have no duplicate among
	// themselves (decoder.deferChecks).
	cached bool
	// rec, if not nil, receives the body's decoded virtual servers; rec.ok
	// ends false when the body holds another block or had an error.
	rec *cachedPiece
}

// rootStream decodes the top-level blocks of pieces, the pieces of one
// file in file order (see parseInPieces), as root decodes one body.
func (d *decoder) rootStream(filename string, pieces func(yield func(*streamPiece) bool)) *Config {
	cfg := &Config{File: filename}
	if d.hint > 0 {
		cfg.VirtualServers = make([]VirtualServer, 0, d.hint)
	}
	vrrpNames := map[string]hcl.Range{}
	vsNames := make(map[string]hcl.Range, d.checkHint)
	// Counts, not the blocks: holding every block would keep the whole
	// syntax tree alive while a large file is decoded piece by piece (VRRP
	// instance blocks are kept: tracking is resolved against them, and a
	// director has a handful).
	var vrrpSeen, vsSeen int
	var agentBlocks, httpBlocks []*hcl.Block
	scriptNames, groupNames, instBlocks := map[string]hcl.Range{}, map[string]hcl.Range{}, map[string]*hcl.Block{}
	fileNames, procNames := map[string]hcl.Range{}, map[string]hcl.Range{}
	var last hcl.Body
	blocks, contentErrs := 0, false
	var deferred [][]cachedVS
	for piece := range pieces {
		if piece.body == nil && piece.cached && d.deferChecks {
			for i := range piece.reused {
				d.diags = append(d.diags, piece.reused[i].diags...)
				if piece.run == nil {
					cfg.VirtualServers = append(cfg.VirtualServers, *piece.reused[i].vs)
				}
			}
			// One copy for the piece (10k appends of 360 bytes were a
			// fifth of a reload's parse under emulation).
			cfg.VirtualServers = append(cfg.VirtualServers, piece.run...)
			vsSeen += len(piece.reused)
			blocks += len(piece.reused)
			deferred = append(deferred, piece.reused)
			continue
		}
		if piece.body == nil {
			// Decoded before: only the checks across blocks run again.
			for k, c := range piece.reused {
				vsSeen++
				blocks++
				d.diags = append(d.diags, c.diags...)
				dup := d.uniqueName("virtual_server", c.vs.Name, c.label, vsNames)
				d.uniqueVS(*c.vs, c.key)
				if !dup {
					room := len(cfg.VirtualServers) < cap(cfg.VirtualServers)
					cfg.VirtualServers = append(cfg.VirtualServers, *c.vs)
					if room && !piece.cached {
						// A piece decoded ahead (decodeAhead) points at
						// the copy from now on, so its own is garbage
						// now rather than at the end of the parse (3.4
						// MB at 10k services; share points every piece
						// into cfg at the end anyway). Only when the
						// append did not move the list (sized from
						// cutTopLevel's count of blocks, it does not),
						// and not into a Cache's pieces, which stay the
						// last good file's until this parse succeeds.
						piece.reused[k].vs = &cfg.VirtualServers[len(cfg.VirtualServers)-1]
					}
				}
			}
			continue
		}
		body, rec := piece.body, piece.rec
		last = body
		content, diags := body.Content(rootSchema)
		d.diags = append(d.diags, diags...)
		blocks += len(content.Blocks)
		contentErrs = contentErrs || diags.HasErrors()
		if rec != nil {
			rec.ok = !diags.HasErrors()
		}
		for _, b := range content.Blocks {
			if rec != nil && b.Type != "virtual_server" {
				rec.ok = false
			}
			switch b.Type {
			case "vrrp_script":
				vrrpSeen++
				dup := d.uniqueLabel(b, scriptNames)
				if s, ok := d.vrrpScript(b); ok && !dup {
					cfg.VRRPScripts = append(cfg.VRRPScripts, s)
				}
			case "vrrp_track_file":
				vrrpSeen++
				dup := d.uniqueLabel(b, fileNames)
				if f, ok := d.vrrpTrackFile(b); ok && !dup {
					cfg.VRRPTrackFiles = append(cfg.VRRPTrackFiles, f)
				}
			case "vrrp_track_process":
				vrrpSeen++
				dup := d.uniqueLabel(b, procNames)
				if p, ok := d.vrrpTrackProcess(b); ok && !dup {
					cfg.VRRPTrackProcesses = append(cfg.VRRPTrackProcesses, p)
				}
			case "vrrp_sync_group":
				vrrpSeen++
				dup := d.uniqueLabel(b, groupNames)
				if g, ok := d.syncGroup(b); ok && !dup {
					cfg.SyncGroups = append(cfg.SyncGroups, g)
				}
			case "vrrp_instance":
				vrrpSeen++
				dup := d.uniqueLabel(b, vrrpNames)
				if vi, ok := d.vrrpInstance(b); ok && !dup {
					cfg.VRRP = append(cfg.VRRP, vi)
					instBlocks[vi.Name] = b
				}
			case "virtual_server_group":
				// Decoded by scanGroups, before any virtual server.
				vsSeen++
				if d.vsGroups == nil {
					// Only a file parsed in pieces gets here, and Parse
					// sends files naming groups to parseWhole.
					d.errorf(b.DefRange, "Internal error", "virtual_server_group seen in a file parsed in pieces.")
				}
			case "virtual_server":
				vsSeen++
				dup := d.uniqueLabel(b, vsNames)
				from := len(d.diags)
				vs, ok := d.virtualServer(b)
				switch {
				case ok && !dup && d.groupEntries != nil:
					// One service per entry of its group (vsgroup.go).
					for _, e := range d.groupEntries {
						m := vs
						m.Name = groupMemberName(vs.Name, e)
						m.Address, m.FWMark = e.Address, e.FWMark
						m.RealServers = slices.Clone(vs.RealServers)
						m.Rev = nextRev()
						if !d.uniqueName("virtual_server", m.Name, b.LabelRanges[0], vsNames) {
							cfg.VirtualServers = append(cfg.VirtualServers, m)
						}
					}
				case ok && !dup:
					cfg.VirtualServers = append(cfg.VirtualServers, vs)
				}
				if rec != nil && rec.ok {
					// Its warnings (it has no error) go with it; errors
					// across blocks are found again when it is reused.
					rec.ok = ok && !dup && d.groupEntries == nil
					rec.vss = append(rec.vss, cachedVS{vs: &vs, label: b.LabelRanges[0], key: d.vsKeyRange,
						diags: slices.Clone(d.diags[from:])})
				}
			case "lvs_timeouts":
				if cfg.LVSTimeouts != nil {
					d.errorf(b.DefRange, "Duplicate lvs_timeouts block", "only one lvs_timeouts block is allowed per file.")
					continue
				}
				cfg.LVSTimeouts = d.lvsTimeouts(b)
			case "lvs_sync_daemon":
				vrrpSeen++
				if cfg.LVSSyncDaemon != nil {
					d.errorf(b.DefRange, "Duplicate lvs_sync_daemon block", "only one lvs_sync_daemon block is allowed per file (the kernel runs one daemon of each role).")
					continue
				}
				if s, ok := d.lvsSyncDaemon(b); ok {
					cfg.LVSSyncDaemon = s
				}
			case "http":
				httpBlocks = append(httpBlocks, b)
				if len(httpBlocks) > 1 {
					d.errorf(b.DefRange, "Duplicate http block",
						"only one http block is allowed per file; the first is at %s.", pos(httpBlocks[0].DefRange))
				}
				if h, ok := d.http(b); ok && cfg.HTTP == nil {
					cfg.HTTP = h
				}
			case "agent":
				agentBlocks = append(agentBlocks, b)
				if len(agentBlocks) > 1 {
					d.errorf(b.DefRange, "Duplicate agent block",
						"only one agent block is allowed per file; the first is at %s.", pos(agentBlocks[0].DefRange))
				}
				if a, ok := d.agent(b); ok && cfg.Agent == nil {
					cfg.Agent = a
				}
			}
		}
	}

	if len(deferred) > 0 {
		d.conflict = deferredConflict(deferred, vsNames, d.vsAddrs)
	}
	d.resolveTracking(cfg, instBlocks, scriptNames, fileNames, procNames)
	d.resolveSyncDaemon(cfg)
	if len(agentBlocks) > 0 && (vrrpSeen > 0 || vsSeen > 0 || cfg.LVSTimeouts != nil) {
		other := "vrrp_instance"
		if vrrpSeen == 0 {
			other = "virtual_server"
			if vsSeen == 0 {
				other = "lvs_timeouts"
			}
		}
		d.errorf(agentBlocks[0].DefRange, "Agent block in a director file",
			"an agent block cannot be combined with vrrp_instance or virtual_server blocks (found %s); a file configures either a director or an agent.", other)
	}
	if blocks == 0 && !contentErrs && last != nil {
		d.errorf(last.MissingItemRange(), "Empty configuration",
			"expected vrrp_instance and virtual_server blocks (director) or one agent block (agent).")
	}
	return cfg
}

// uniqueLabel reports a second block of the same type with the same name and
// returns true if b is such a duplicate. An empty name is also an error.
func (d *decoder) uniqueLabel(b *hcl.Block, seen map[string]hcl.Range) bool {
	return d.uniqueName(b.Type, b.Labels[0], b.LabelRanges[0], seen)
}

// uniqueName is uniqueLabel for a block of type typ named name at rng.
func (d *decoder) uniqueName(typ, name string, rng hcl.Range, seen map[string]hcl.Range) bool {
	if name == "" {
		d.errorf(rng, "Empty "+typ+" name", "the %s name must not be empty.", typ)
	}
	if first, ok := seen[name]; ok {
		d.errorf(rng, "Duplicate "+typ+" name",
			"%s %q is already declared at %s.", typ, name, pos(first))
		return true
	}
	seen[name] = rng
	return false
}
