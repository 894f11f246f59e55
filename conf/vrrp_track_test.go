package conf

import (
	"reflect"
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
