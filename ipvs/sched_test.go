package ipvs

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestSchedulerAvailable(t *testing.T) {
	const rel = "6.1.0-test"
	dep := "kernel/net/netfilter/ipvs/ip_vs.ko: kernel/net/netfilter/nf_conntrack.ko\n" +
		"kernel/net/netfilter/ipvs/ip_vs_rr.ko: kernel/net/netfilter/ipvs/ip_vs.ko\n" +
		"kernel/net/netfilter/ipvs/ip_vs_mh.ko.xz: kernel/net/netfilter/ipvs/ip_vs.ko\n"
	base := func() fstest.MapFS {
		return fstest.MapFS{
			"lib/modules/" + rel + "/modules.dep":     {Data: []byte(dep)},
			"lib/modules/" + rel + "/modules.builtin": {Data: []byte("kernel/net/netfilter/ipvs/ip_vs_wlc.ko\n")},
			"proc/sys/kernel/modprobe":                {Data: []byte("/sbin/modprobe\n")},
			"proc/sys/kernel/modules_disabled":        {Data: []byte("0\n")},
			"sys/module/ip_vs_sh":                     {Mode: 0o755 | 1<<31},
		}
	}
	for _, tc := range []struct {
		name  string
		edit  func(fstest.MapFS)
		sched string
		ok    bool
		why   string
	}{
		{"in modules.dep", nil, "rr", true, ""},
		{"compressed module", nil, "mh", true, ""},
		{"builtin", nil, "wlc", true, ""},
		{"loaded", nil, "sh", true, ""},
		{"missing", nil, "ovf", false, "no module ip_vs_ovf"},
		{"prefix is not a match", nil, "r", false, "no module ip_vs_r "},
		{"autoload off", func(m fstest.MapFS) { m["proc/sys/kernel/modprobe"] = &fstest.MapFile{Data: []byte("\n")} }, "rr", false, "kernel.modprobe is empty"},
		{"modules disabled", func(m fstest.MapFS) { m["proc/sys/kernel/modules_disabled"] = &fstest.MapFile{Data: []byte("1\n")} }, "rr", false, "modules_disabled = 1"},
		{"loaded wins over autoload off", func(m fstest.MapFS) { m["proc/sys/kernel/modprobe"] = &fstest.MapFile{Data: []byte("")} }, "sh", true, ""},
		{"unreadable modules.dep: assume yes", func(m fstest.MapFS) { delete(m, "lib/modules/"+rel+"/modules.dep") }, "ovf", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			if tc.edit != nil {
				tc.edit(m)
			}
			ok, why := SchedRoot{FS: m, Release: rel}.SchedulerAvailable(tc.sched)
			if ok != tc.ok || !strings.Contains(why+" ", tc.why) {
				t.Errorf("got %v %q, want %v %q", ok, why, tc.ok, tc.why)
			}
		})
	}
}
