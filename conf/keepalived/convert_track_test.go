package keepalived

import (
	"reflect"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// TestConvertTracking: track_interface, vrrp_script/track_script,
// vrrp_sync_group and notify* come out as lvsd blocks that load with the
// same meaning.
func TestConvertTracking(t *testing.T) {
	src := `vrrp_script chk_haproxy {
  script "/usr/bin/pgrep -x haproxy"
  interval 2
  timeout 3
  rise 2
  fall 3
  weight -20
  user nobody
}
vrrp_sync_group VG1 {
  group {
    VI_1
    VI_2
  }
  notify "/usr/local/bin/group-notify"
  track_interface {
    eth3 weight -5
  }
  track_script {
    chk_haproxy
  }
  sync_group_tracking_weight
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    192.0.2.100
  }
  track_interface {
    eth1
    eth2 weight -30
  }
  track_script {
    chk_haproxy
  }
  notify_master "/usr/local/bin/to-master --now"
  notify "/usr/local/bin/notify"
  dont_track_primary
}
vrrp_instance VI_2 {
  interface eth1
  virtual_router_id 52
  priority 100
  virtual_ipaddress {
    192.0.2.101
  }
  track_script {
    chk_haproxy weight 10
  }
  notify_backup /usr/local/bin/to-backup keepalived_script
}
`
	nodes, err := Parse([]byte(src), "k.conf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := Convert(nodes)
	if n := res.Unsupported(); n != 0 {
		t.Fatalf("unsupported findings: %v\n%s", res.Findings, res.HCL)
	}
	cfg, diags := conf.Parse(res.HCL, "k.hcl")
	if diags.HasErrors() {
		t.Fatalf("%s\n%s", diags, res.HCL)
	}
	vi1, vi2 := cfg.VRRP[0], cfg.VRRP[1]
	if want := []conf.TrackInterface{{Name: "eth1"}, {Name: "eth2", Weight: -30}, {Name: "eth3", Weight: -5}}; !reflect.DeepEqual(vi1.TrackInterfaces, want) {
		t.Errorf("track_interface %+v", vi1.TrackInterfaces)
	}
	s := vi1.TrackScripts[0]
	if s.Weight != -20 || s.Script.Interval != 2*time.Second || s.Script.Timeout != 3*time.Second || s.Script.Rise != 2 || s.Script.Fall != 3 ||
		s.Script.User != "nobody" || !reflect.DeepEqual(s.Script.Argv, []string{"/usr/bin/pgrep", "-x", "haproxy"}) {
		t.Errorf("VI_1 track_script %+v", s)
	}
	if vi2.TrackScripts[0].Weight != 10 {
		t.Errorf("VI_2 weight override %+v", vi2.TrackScripts[0])
	}
	if !vi1.DontTrackPrimary || !reflect.DeepEqual(vi1.Notify.Master, []string{"/usr/local/bin/to-master", "--now"}) ||
		!reflect.DeepEqual(vi1.Notify.Generic, []string{"/usr/local/bin/notify"}) {
		t.Errorf("VI_1 %+v", vi1)
	}
	if !reflect.DeepEqual(vi2.Notify.Backup, []string{"/usr/local/bin/to-backup"}) || vi2.Notify.User != "keepalived_script" {
		t.Errorf("VI_2 notify %+v", vi2.Notify)
	}
	// The group's tracking reaches both members; each keeps its own
	// chk_haproxy entry (sync_group_tracking_weight keeps the weights).
	if want := []conf.TrackInterface{{Name: "eth3", Weight: -5}}; !reflect.DeepEqual(vi2.TrackInterfaces, want) || len(vi2.TrackScripts) != 1 {
		t.Errorf("VI_2 tracking %+v %+v", vi2.TrackInterfaces, vi2.TrackScripts)
	}
	if len(cfg.SyncGroups) != 1 || !reflect.DeepEqual(cfg.SyncGroups[0].Members, []string{"VI_1", "VI_2"}) || !cfg.SyncGroups[0].TrackingWeight ||
		len(cfg.SyncGroups[0].TrackScripts) != 1 || cfg.SyncGroups[0].TrackScripts[0].Weight != -20 ||
		!reflect.DeepEqual(cfg.SyncGroups[0].Notify.Generic, []string{"/usr/local/bin/group-notify"}) {
		t.Errorf("sync groups %+v", cfg.SyncGroups)
	}
}

// TestConvertTrackFile: track_file / vrrp_track_file and an instance's
// track_file load with keepalived's meaning (default weight 1, the file's
// reverse unless the entry says otherwise).
func TestConvertTrackFile(t *testing.T) {
	src := `track_file prio {
  file /run/k/prio
  weight -3 reverse
  init_file 7 overwrite
}
vrrp_track_file down {
  file /run/k/down
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    192.0.2.100
  }
  track_file {
    prio
    down weight 0
  }
}
`
	nodes, err := Parse([]byte(src), "k.conf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := Convert(nodes)
	if n := res.Unsupported(); n != 0 {
		t.Fatalf("unsupported findings: %v\n%s", res.Findings, res.HCL)
	}
	cfg, diags := conf.Parse(res.HCL, "k.hcl")
	if diags.HasErrors() {
		t.Fatalf("%s\n%s", diags, res.HCL)
	}
	tf := cfg.VRRP[0].TrackFiles
	if len(tf) != 2 {
		t.Fatalf("track_file %+v", tf)
	}
	p := tf[0].File
	if tf[0].Weight != -3 || !tf[0].Reverse || p.Path != "/run/k/prio" || !p.InitFile || p.InitValue != 7 || !p.InitOverwrite {
		t.Errorf("prio %+v", tf[0])
	}
	if d := tf[1]; d.Weight != 0 || d.Reverse || d.File.Weight != 1 || d.File.InitFile {
		t.Errorf("down %+v", d)
	}
}

// TestConvertTrackProcess: vrrp_track_process and an instance's
// track_process load with keepalived's meaning.
func TestConvertTrackProcess(t *testing.T) {
	src := `vrrp_track_process web {
  process /usr/sbin/nginx -g "daemon off;"
  param_match partial
  quorum 1
  quorum_max 2
  weight 15
  delay 2
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    192.0.2.100
  }
  track_process {
    web weight -15 reverse
  }
}
`
	nodes, err := Parse([]byte(src), "k.conf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := Convert(nodes)
	if n := res.Unsupported(); n != 0 {
		t.Fatalf("unsupported findings: %v\n%s", res.Findings, res.HCL)
	}
	cfg, diags := conf.Parse(res.HCL, "k.hcl")
	if diags.HasErrors() {
		t.Fatalf("%s\n%s", diags, res.HCL)
	}
	tp := cfg.VRRP[0].TrackProcesses[0]
	p := tp.Process
	if tp.Weight != -15 || !tp.Reverse || !reflect.DeepEqual(p.Argv, []string{"/usr/sbin/nginx", "-g", "daemon off;"}) ||
		!p.FullCommand || p.ParamMatch != conf.ParamPartial || p.Quorum != 1 || p.QuorumMax != 2 || p.Weight != 15 ||
		p.ForkDelay != 2*time.Second || p.TerminateDelay != 2*time.Second {
		t.Errorf("track_process %+v", tp)
	}
}
