package conf

import (
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// keepalived's vrrp_track_file (track_file in 2.2) and an instance's
// track_file references: a file holding an integer that moves the priority
// by value x weight, or puts the instance in FAULT.

// maxFileWeight is keepalived's bound on a track_file weight
// (track_file.c: "must be between [-254..254]"); wider than a script's
// because value x weight at -254 is what means FAULT.
const maxFileWeight = 254

// VRRPTrackFile is one top-level vrrp_track_file block.
type VRRPTrackFile struct {
	Name string
	// Path is the absolute path of the watched file.
	Path string
	// Weight is the default weight of track_file references (keepalived's
	// default 1); Reverse negates the contribution (or, with weight 0,
	// makes a zero value the failure).
	Weight  int
	Reverse bool
	// InitFile: write InitValue into the file at start when it is missing
	// (keepalived's init_file VALUE), or whatever it holds with
	// InitOverwrite (init_file VALUE overwrite); a reload never
	// overwrites.
	InitFile      bool
	InitValue     int64
	InitOverwrite bool

	DeclRange hcl.Range
}

// TrackFile is one track_file block of a vrrp_instance: the file it names,
// resolved, with the weight and reverse that apply (its own, else the
// file's).
type TrackFile struct {
	File    VRRPTrackFile
	Weight  int
	Reverse bool
}

var trackFileSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "file"}, {Name: "weight"}, {Name: "reverse"}, {Name: "init_file"}, {Name: "init_file_overwrite"},
	},
}

var trackFileRefSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "weight"}, {Name: "reverse"}}}

// vrrpTrackFile decodes one vrrp_track_file block.
func (d *decoder) vrrpTrackFile(b *hcl.Block) (VRRPTrackFile, bool) {
	errs := len(d.diags)
	f := VRRPTrackFile{Name: b.Labels[0], Weight: 1, DeclRange: b.DefRange}
	content, diags := b.Body.Content(trackFileSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	if d.require(b, attrs, "file") {
		a := attrs["file"]
		if p, ok := d.str(a); ok {
			// lvsd runs from /: a relative path (keepalived resolves it
			// against its working directory) would be a trap.
			if !filepath.IsAbs(p) || strings.HasSuffix(p, "/") || filepath.Clean(p) == "/" {
				d.errorf(a.Expr.Range(), "Invalid file", "file must be the absolute path of a file such as \"/run/lvsd/prio\"; got %q.", p)
			}
			f.Path = filepath.Clean(p)
		}
	}
	if a := attrs["weight"]; a != nil {
		if n, ok := d.integer(a, -maxFileWeight, maxFileWeight); ok {
			f.Weight = int(n)
		}
	}
	if a := attrs["reverse"]; a != nil {
		if v, ok := d.boolean(a); ok {
			f.Reverse = v
		}
	}
	if a := attrs["init_file"]; a != nil {
		// keepalived accepts any int but warns outside -254..254, where the
		// value means the same as the bound; lvsd refuses it.
		if n, ok := d.integer(a, -maxFileWeight, maxFileWeight); ok {
			f.InitFile, f.InitValue = true, n
		}
	}
	if a := attrs["init_file_overwrite"]; a != nil {
		if v, ok := d.boolean(a); ok {
			f.InitOverwrite = v
			if attrs["init_file"] == nil {
				d.errorf(a.NameRange, "init_file_overwrite without init_file", "init_file_overwrite needs init_file, the value to write.")
			}
		}
	}
	return f, !d.diags[errs:].HasErrors()
}

// trackFileBlocks decodes the track_file blocks of an instance; the files
// are resolved later (resolveTrackFiles), once every vrrp_track_file is
// known.
func (d *decoder) trackFileBlocks(blocks hcl.Blocks, vi *VRRPInstance) {
	d.trackRefBlocks(blocks, "track_file", func(name string, rng hcl.Range, weight int, reverse bool, ref trackFileRef) {
		ref.at = len(vi.TrackFiles)
		vi.TrackFiles = append(vi.TrackFiles, TrackFile{File: VRRPTrackFile{Name: name, DeclRange: rng}, Weight: weight, Reverse: reverse})
		vi.trackFileRefs = append(vi.trackFileRefs, ref)
	})
}

// trackRefBlocks decodes an instance's blocks of type kind (track_file,
// track_process): a name label and an optional weight and reverse. add
// gets each name that is not a duplicate, with what was set.
func (d *decoder) trackRefBlocks(blocks hcl.Blocks, kind string, add func(name string, rng hcl.Range, weight int, reverse bool, ref trackFileRef)) {
	seen := map[string]hcl.Range{}
	for _, b := range blocks {
		if b.Type != kind {
			continue
		}
		name, rng := b.Labels[0], b.LabelRanges[0]
		if first, ok := seen[name]; ok {
			d.errorf(rng, "Duplicate "+kind, "%s %q is already listed at %s.", kind, name, pos(first))
			continue
		}
		seen[name] = rng
		content, diags := b.Body.Content(trackFileRefSchema)
		d.diags = append(d.diags, diags...)
		var ref trackFileRef
		weight, reverse := 0, false
		if a := content.Attributes["weight"]; a != nil {
			if n, ok := d.integer(a, -maxFileWeight, maxFileWeight); ok {
				weight, ref.weightSet = int(n), true
			}
		}
		if a := content.Attributes["reverse"]; a != nil {
			if v, ok := d.boolean(a); ok {
				reverse, ref.reverseSet = v, true
			}
		}
		add(name, rng, weight, reverse, ref)
	}
}

// trackFileRef records which of a track_file's attributes were set, so
// that the others take the vrrp_track_file's.
type trackFileRef struct {
	at                    int
	weightSet, reverseSet bool
}

// resolveTrackFiles binds the track_file references of vi to the
// vrrp_track_file blocks; declared lists every block name (ones with
// errors too, reported on their own).
func (d *decoder) resolveTrackFiles(files map[string]VRRPTrackFile, declared map[string]hcl.Range, vi *VRRPInstance) {
	refs := vi.trackFileRefs
	vi.trackFileRefs = nil
	for _, ref := range refs {
		tf := &vi.TrackFiles[ref.at]
		f, ok := files[tf.File.Name]
		if !ok {
			if _, bad := declared[tf.File.Name]; !bad {
				d.errorf(tf.File.DeclRange, "Unknown vrrp_track_file", "track_file %q names no vrrp_track_file block.", tf.File.Name)
			}
			continue
		}
		tf.File = f
		if !ref.weightSet {
			tf.Weight = f.Weight
		}
		if !ref.reverseSet {
			tf.Reverse = f.Reverse
		}
	}
}
