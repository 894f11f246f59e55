package conf

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

const trackFileBlock = `vrrp_track_file "prio" {
  file                = "/run/lvsd/../lvsd/prio"
  weight              = -5
  reverse             = true
  init_file           = 3
  init_file_overwrite = true
}
vrrp_track_file "plain" {
  file = "/run/lvsd/plain"
}
`

func TestTrackFileLoaded(t *testing.T) {
	cfg := mustParse(t, trackFileBlock+vrrp("v", `  track_file "prio" {}
  track_file "plain" {
    weight  = 0
  }`)+vrrp("w", `  virtual_router_id = 52
  track_file "prio" {
    weight  = 7
  }
  track_file "plain" {
    reverse = true
  }`))
	want := VRRPTrackFile{Name: "prio", Path: "/run/lvsd/prio", Weight: -5, Reverse: true, InitFile: true, InitValue: 3, InitOverwrite: true}
	got := cfg.VRRPTrackFiles[0]
	got.DeclRange = hcl.Range{}
	checkEq(t, "vrrp_track_file", got, want)
	plain := cfg.VRRPTrackFiles[1]
	checkEq(t, "default weight", plain.Weight, 1)
	checkEq(t, "default init", plain.InitFile, false)
	v, w := cfg.VRRP[0].TrackFiles, cfg.VRRP[1].TrackFiles
	// References take the file's weight and reverse unless they set their own.
	checkEq(t, "v prio", [2]any{v[0].Weight, v[0].Reverse}, [2]any{-5, true})
	checkEq(t, "v plain", [2]any{v[1].Weight, v[1].Reverse}, [2]any{0, false})
	checkEq(t, "w prio", [2]any{w[0].Weight, w[0].Reverse}, [2]any{7, true})
	checkEq(t, "w plain", [2]any{w[1].Weight, w[1].Reverse}, [2]any{1, true})
	checkEq(t, "v plain path", v[1].File.Path, "/run/lvsd/plain")
	// Moving blocks around changes nothing an instance compares.
	cfg2 := mustParse(t, "\n"+trackFileBlock+vrrp("v", `  track_file "prio" {}
  track_file "plain" {
    weight  = 0
  }`))
	if !cfg2.VRRP[0].Equal(cfg.VRRP[0]) {
		t.Error("Equal is false for the same instance at another place")
	}
}

func TestTrackFileOwner(t *testing.T) {
	cfg := mustParse(t, trackFileBlock+vrrp("v", `  priority = 255
  track_file "plain" {}`))
	checkEq(t, "owner weight", cfg.VRRP[0].TrackFiles[0].Weight, 0)
	found := false
	for _, d := range cfg.Warnings {
		found = found || strings.Contains(d.Summary, "priority 255")
	}
	if !found {
		t.Errorf("no warning: %v", cfg.Warnings)
	}
}

func TestTrackFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
		line, col       int
	}{
		{"unknown file", vrrp("v", `  track_file "nope" {}`), `names no vrrp_track_file block`, 2, 14},
		{"relative path", "vrrp_track_file \"f\" {\n  file = \"prio\"\n}\n", "absolute path", 2, 10},
		{"directory path", "vrrp_track_file \"f\" {\n  file = \"/run/\"\n}\n", "absolute path", 2, 10},
		{"no file", "vrrp_track_file \"f\" {\n  weight = 2\n}\n", "needs file", 1, 1},
		{"weight too low", "vrrp_track_file \"f\" {\n  file = \"/run/f\"\n  weight = -255\n}\n", "weight", 3, 12},
		{"weight too high", "vrrp_track_file \"f\" {\n  file = \"/run/f\"\n}\n" + vrrp("v", "  track_file \"f\" {\n    weight = 255\n  }"), "weight", 6, 14},
		{"reverse not bool", "vrrp_track_file \"f\" {\n  file = \"/run/f\"\n  reverse = 1\n}\n", "true or false", 3, 13},
		{"init_file range", "vrrp_track_file \"f\" {\n  file = \"/run/f\"\n  init_file = 300\n}\n", "init_file", 3, 15},
		{"overwrite without init", "vrrp_track_file \"f\" {\n  file = \"/run/f\"\n  init_file_overwrite = true\n}\n", "needs init_file", 3, 3},
		{"duplicate reference", "vrrp_track_file \"f\" {\n  file = \"/run/f\"\n}\n" + vrrp("v", "  track_file \"f\" {}\n  track_file \"f\" {}"), "already listed", 6, 14},
		{"duplicate name", "vrrp_track_file \"f\" {\n  file = \"/run/f\"\n}\nvrrp_track_file \"f\" {\n  file = \"/run/g\"\n}\n", "already declared", 4, 17},
		{"unknown attribute", "vrrp_track_file \"f\" {\n  file = \"/run/f\"\n  delay = 1\n}\n", "not expected", 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := Parse([]byte(tc.src), "test.hcl")
			if !diags.HasErrors() {
				t.Fatalf("no errors")
			}
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Subject != nil && d.Subject.Start.Line == tc.line && d.Subject.Start.Column == tc.col &&
					strings.Contains(d.Summary+": "+d.Detail, tc.want) {
					return
				}
			}
			t.Errorf("no error containing %q at %d:%d; got:\n%s", tc.want, tc.line, tc.col, render(diags))
		})
	}
}
