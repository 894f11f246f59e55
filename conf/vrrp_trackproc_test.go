package conf

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

const trackProcBlocks = `vrrp_track_process "haproxy" {
  process         = "haproxy"
  quorum          = 2
  quorum_max      = 4
  weight          = -20
  delay           = "2s"
  terminate_delay = "500ms"
}
vrrp_track_process "sleeper" {
  process     = "/bin/sleep 'a b' 100"
  param_match = "partial"
  reverse     = true
}
vrrp_track_process "none" {
  process    = "forbidden"
  quorum_max = 0
}
`

func TestTrackProcessLoaded(t *testing.T) {
	cfg := mustParse(t, trackProcBlocks+vrrp("v", `  track_process "haproxy" {}
  track_process "sleeper" {
    weight = 5
  }
  track_process "none" {
    reverse = true
  }`))
	ps := cfg.VRRPTrackProcesses
	for k := range ps {
		ps[k].DeclRange = hcl.Range{}
	}
	deepEq(t, "haproxy", ps[0], VRRPTrackProcess{Name: "haproxy", Process: "haproxy", Argv: []string{"haproxy"},
		Quorum: 2, QuorumMax: 4, Weight: -20, ForkDelay: 2 * time.Second, TerminateDelay: 500 * time.Millisecond})
	deepEq(t, "sleeper", ps[1], VRRPTrackProcess{Name: "sleeper", Process: "/bin/sleep 'a b' 100", Argv: []string{"/bin/sleep", "a b", "100"},
		FullCommand: true, ParamMatch: ParamPartial, Quorum: 1, QuorumMax: unlimitedQuorum, Reverse: true})
	checkEq(t, "quorum_max 0", [2]int{ps[2].Quorum, ps[2].QuorumMax}, [2]int{0, 0})
	tp := cfg.VRRP[0].TrackProcesses
	checkEq(t, "refs", [3][2]any{{tp[0].Weight, tp[0].Reverse}, {tp[1].Weight, tp[1].Reverse}, {tp[2].Weight, tp[2].Reverse}},
		[3][2]any{{-20, false}, {5, true}, {0, true}})
	if tp[1].Process.Argv[1] != "a b" {
		t.Errorf("resolved %+v", tp[1])
	}
	cfg2 := mustParse(t, "\n"+trackProcBlocks+vrrp("v", `  track_process "haproxy" {}
  track_process "sleeper" {
    weight = 5
  }
  track_process "none" {
    reverse = true
  }`))
	if !cfg2.VRRP[0].Equal(cfg.VRRP[0]) {
		t.Error("Equal is false for the same instance at another place")
	}
}

func deepEq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

func TestTrackProcessErrors(t *testing.T) {
	p := func(body string) string { return "vrrp_track_process \"p\" {\n" + body + "\n}\n" }
	for _, tc := range []struct {
		name, src, want string
		line, col       int
	}{
		{"unknown process", vrrp("v", `  track_process "nope" {}`), "names no vrrp_track_process block", 2, 17},
		{"no process", p(`  quorum = 1`), "needs process", 1, 1},
		{"empty process", p(`  process = ""`), "empty command", 2, 13},
		{"comm too long", p(`  process = "a-very-long-daemon"`), "15 bytes", 2, 13},
		{"bad param_match", p("  process = \"x\"\n  param_match = \"fuzzy\""), "allowed: exact partial initial", 3, 17},
		{"full_command false with args", p("  process = \"/bin/x -y\"\n  full_command = false"), "remove full_command", 3, 18},
		{"quorum 0", p("  process = \"x\"\n  quorum = 0"), "quorum", 3, 12},
		{"quorum_max below quorum", p("  process = \"x\"\n  quorum = 3\n  quorum_max = 2"), "below quorum 3", 4, 16},
		{"weight range", p("  process = \"x\"\n  weight = 300"), "weight", 3, 12},
		{"delay too long", p("  process = \"x\"\n  delay = \"2h\""), "at most 1h", 3, 11},
		{"duplicate ref", p(`  process = "x"`) + vrrp("v", "  track_process \"p\" {}\n  track_process \"p\" {}"), "already listed", 6, 17},
		{"ref weight range", p(`  process = "x"`) + vrrp("v", "  track_process \"p\" {\n    weight = -255\n  }"), "weight", 6, 14},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := Parse([]byte(tc.src), "test.hcl")
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
