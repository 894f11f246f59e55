package conf

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

const trackScript = `vrrp_script "chk" {
  script   = "/usr/bin/pgrep -x 'ha proxy'"
  interval = "2s"
  rise     = 2
  fall     = 3
  weight   = -20
  user     = "nobody"
}
`

func TestTrackingLoaded(t *testing.T) {
	cfg := mustParse(t, trackScript+vrrp("v", `  track_interface "eth1" {
    weight = 10
  }
  track_interface "eth2" {}
  track_script "chk" {}
  notify_master  = "/usr/local/bin/m --x"
  notify         = "/usr/local/bin/n"
  notify_timeout = "5s"
  notify_user    = "nobody"
  dont_track_primary = true`)+vrrp("w", `  interface = "eth1"
  virtual_router_id = 52
  priority = 100
  virtual_ipaddress = ["198.51.100.31"]
  track_script "chk" {
    weight = 0
  }`)+`vrrp_sync_group "g" {
  group = ["v", "w"]
  notify_fault = "/usr/local/bin/gf"
  sync_group_tracking_weight = true
}
`)
	v, w := cfg.VRRP[0], cfg.VRRP[1]
	if want := []TrackInterface{{"eth1", 10}, {"eth2", 0}}; !reflect.DeepEqual(v.TrackInterfaces, want) {
		t.Errorf("TrackInterfaces = %+v", v.TrackInterfaces)
	}
	s := v.TrackScripts[0]
	if s.Weight != -20 || s.Script.Timeout != 2*time.Second || s.Script.Rise != 2 || s.Script.Fall != 3 || s.Script.User != "nobody" ||
		!reflect.DeepEqual(s.Script.Argv, []string{"/usr/bin/pgrep", "-x", "ha proxy"}) {
		t.Errorf("track_script = %+v", s)
	}
	checkEq(t, "w weight override", w.TrackScripts[0].Weight, 0)
	checkEq(t, "DontTrackPrimary", v.DontTrackPrimary, true)
	if !reflect.DeepEqual(v.Notify, Notify{Master: []string{"/usr/local/bin/m", "--x"}, Generic: []string{"/usr/local/bin/n"}, Timeout: 5 * time.Second, User: "nobody"}) {
		t.Errorf("Notify = %+v", v.Notify)
	}
	checkEq(t, "default notify timeout", w.Notify.Timeout, defaultNotifyTimeout)
	if g := cfg.SyncGroups[0]; !reflect.DeepEqual(g.Members, []string{"v", "w"}) || !reflect.DeepEqual(g.Notify.Fault, []string{"/usr/local/bin/gf"}) {
		t.Errorf("sync group = %+v", g)
	}
	// Moving the blocks around changes nothing an instance compares.
	cfg2 := mustParse(t, "\n\n"+trackScript+vrrp("v", `  track_interface "eth1" {
    weight = 10
  }
  track_interface "eth2" {}
  track_script "chk" {}
  notify_master  = "/usr/local/bin/m --x"
  notify         = "/usr/local/bin/n"
  notify_timeout = "5s"
  notify_user    = "nobody"
  dont_track_primary = true`))
	if !cfg2.VRRP[0].Equal(v) {
		t.Errorf("Equal is false for the same instance at another place")
	}
}

func TestTrackingOwnerWeights(t *testing.T) {
	cfg := mustParse(t, trackScript+vrrp("v", `  priority = 255
  interface = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["198.51.100.30"]
  track_interface "eth1" {
    weight = -10
  }
  track_script "chk" {}`))
	vi := cfg.VRRP[0]
	if vi.TrackInterfaces[0].Weight != 0 || vi.TrackScripts[0].Weight != 0 {
		t.Errorf("owner weights not zeroed: %+v %+v", vi.TrackInterfaces, vi.TrackScripts)
	}
	found := false
	for _, d := range cfg.Warnings {
		found = found || strings.Contains(d.Summary, "priority 255")
	}
	if !found {
		t.Errorf("no warning: %v", cfg.Warnings)
	}
}

const trackGroupObjects = `vrrp_track_file "f" {
  file = "/run/lvsd-f"
}
vrrp_track_process "p" {
  process = "sleep"
  weight  = 3
}
`

// A sync group's track_* blocks reach every member (keepalived 2.x's
// sync group tracking), with their weights; the members' own weights are
// set to 0 unless sync_group_tracking_weight is set.
func TestSyncGroupTracking(t *testing.T) {
	members := vrrp("v", `  track_interface "eth1" {
    weight = 10
  }
  track_script "chk" {}`) + vrrp("w", `  interface = "eth1"
  virtual_router_id = 52
  priority = 100
  virtual_ipaddress = ["198.51.100.31"]`)
	group := func(extra string) string {
		return `vrrp_sync_group "g" {
  group = ["v", "w"]
  track_interface "eth3" {}
  track_script "chk" {
    weight = -5
  }
  track_file "f" {}
  track_process "p" {}
` + extra + "}\n"
	}
	for _, tc := range []struct {
		name        string
		extra       string
		vIf, vChk   int // v's own eth1 and its chk (the group's chk is not added twice)
		wantWarning string
	}{
		{"weights zeroed", "", 0, 0, "Tracking weight in a sync group"},
		{"tracking weight", "  sync_group_tracking_weight = true\n", 10, -20, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustParse(t, trackScript+trackGroupObjects+members+group(tc.extra))
			v, w := cfg.VRRP[0], cfg.VRRP[1]
			if want := []TrackInterface{{"eth1", tc.vIf}, {"eth3", 0}}; !reflect.DeepEqual(v.TrackInterfaces, want) {
				t.Errorf("v TrackInterfaces = %+v, want %+v", v.TrackInterfaces, want)
			}
			if len(v.TrackScripts) != 1 || v.TrackScripts[0].Weight != tc.vChk {
				t.Errorf("v TrackScripts = %+v, want its own chk with weight %d", v.TrackScripts, tc.vChk)
			}
			if want := []TrackInterface{{"eth3", 0}}; !reflect.DeepEqual(w.TrackInterfaces, want) {
				t.Errorf("w TrackInterfaces = %+v", w.TrackInterfaces)
			}
			if len(w.TrackScripts) != 1 || w.TrackScripts[0].Weight != -5 || w.TrackScripts[0].Script.Interval != 2*time.Second {
				t.Errorf("w TrackScripts = %+v, want the group's chk, resolved, weight -5", w.TrackScripts)
			}
			for _, vi := range []VRRPInstance{v, w} {
				if len(vi.TrackFiles) != 1 || vi.TrackFiles[0].File.Path != "/run/lvsd-f" || vi.TrackFiles[0].Weight != 1 {
					t.Errorf("%s TrackFiles = %+v, want f with the file's weight 1", vi.Name, vi.TrackFiles)
				}
				if len(vi.TrackProcesses) != 1 || vi.TrackProcesses[0].Process.Name != "p" || vi.TrackProcesses[0].Weight != 3 {
					t.Errorf("%s TrackProcesses = %+v, want p with weight 3", vi.Name, vi.TrackProcesses)
				}
			}
			g := cfg.SyncGroups[0]
			if len(g.TrackInterfaces) != 1 || len(g.TrackScripts) != 1 || len(g.TrackFiles) != 1 || len(g.TrackProcesses) != 1 || g.track != nil {
				t.Errorf("group tracking = %+v", g)
			}
			var warnings []string
			for _, d := range cfg.Warnings {
				warnings = append(warnings, d.Summary)
			}
			if !slices.Contains(warnings, "Tracked twice") {
				t.Errorf("no warning for chk tracked by v and its group: %v", warnings)
			}
			if got := slices.Contains(warnings, "Tracking weight in a sync group"); got != (tc.wantWarning != "") {
				t.Errorf("weight warning = %v, warnings %v", got, warnings)
			}
		})
	}
}

func TestTrackingErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
		line            int
	}{
		{"unknown script", vrrp("v", `  track_script "nope" {}`), `names no vrrp_script block`, 2},
		{"relative script", `vrrp_script "s" {
  script = "pgrep x"
}`, "absolute program path", 2},
		{"script missing", `vrrp_script "s" {
  interval = "1s"
}`, "needs script", 1},
		{"weight out of range", trackScript + vrrp("v", "  track_script \"chk\" {\n    weight = 254\n  }"), "", 11},
		{"duplicate track_interface", vrrp("v", "  track_interface \"eth1\" {}\n  track_interface \"eth1\" {}"), "already listed", 3},
		{"bad interface", vrrp("v", `  track_interface "a/b" {}`), "not a valid interface name", 2},
		{"notify shell", vrrp("v", `  notify = "echo hi"`), "absolute program path", 2},
		{"unknown member", vrrp("v", "") + "vrrp_sync_group \"g\" {\n  group = [\"v\", \"x\"]\n}", `lists "x"`, 9},
		{"group unknown script", vrrp("v", "") + "vrrp_sync_group \"g\" {\n  group = [\"v\"]\n  track_script \"nope\" {}\n}", `names no vrrp_script block`, 10},
		{"group unknown file", vrrp("v", "") + "vrrp_sync_group \"g\" {\n  group = [\"v\"]\n  track_file \"nope\" {}\n}", `names no vrrp_track_file block`, 10},
		{"group bad tracking weight", vrrp("v", "") + "vrrp_sync_group \"g\" {\n  group = [\"v\"]\n  sync_group_tracking_weight = 2\n}", "", 10},
		{"group duplicate interface", vrrp("v", "") + "vrrp_sync_group \"g\" {\n  group = [\"v\"]\n  track_interface \"e\" {}\n  track_interface \"e\" {}\n}", "already listed", 11},
		{"two groups", vrrp("v", "") + "vrrp_sync_group \"g\" {\n  group = [\"v\"]\n}\nvrrp_sync_group \"h\" {\n  group = [\"v\"]\n}", "already a member", 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := Parse([]byte(tc.src), "test.hcl")
			if !diags.HasErrors() {
				t.Fatalf("no errors")
			}
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Subject != nil && d.Subject.Start.Line == tc.line && strings.Contains(d.Summary+": "+d.Detail, tc.want) {
					return
				}
			}
			t.Errorf("no error containing %q at line %d; got:\n%s", tc.want, tc.line, render(diags))
		})
	}
}
