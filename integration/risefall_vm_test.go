//go:build vm

package integration

import (
	"fmt"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// flip is one step of a flapping real server: at At (from the start of the
// schedule) its listener opens (Up) or closes.
type flip struct {
	At time.Duration
	Up bool
}

// seen is a transition observed in a director's IPVS table.
type seen struct {
	At time.Duration
	Up bool
}

// TestRiseFallKeepalived runs lvsd and keepalived side by side, each in its
// own namespace with its own IPVS table, checking the same real server
// whose listener follows a fixed schedule of up and down, and compares when
// each takes the server out of IPVS and puts it back (polled with ipvsadm
// every 100 ms). Same settings for both: delay_loop 1 s, connect_timeout
// 1 s, retry 1, delay_before_retry 1 s. They must agree within one
// delay_loop (plus the polling period) on every transition, except around
// the 1.5 s blip, which a checker catches or misses depending on where its
// timer falls: both outcomes are logged, not asserted.
func TestRiseFallKeepalived(t *testing.T) {
	l := newLab(t, "hkr")
	h1 := addHost(t, l, "lvsd", "198.51.100.20/24")
	h2 := addHost(t, l, "ka", "198.51.100.21/24")
	rs := addHost(t, l, "rs", "198.51.100.10/24")
	if _, err := h1.Run("modprobe", "ip_vs"); err != nil {
		t.Fatal(err)
	}
	lvFile, err := l.WriteFile("lvs.hcl", `virtual_server "web" {
  address    = "198.51.100.40:80"
  lvs_method = "NAT"
  delay_loop = "1s"
  real_server "a" {
    address = "198.51.100.10:80"
    tcp_check {
      connect_timeout    = "1s"
      retry              = 1
      delay_before_retry = "1s"
    }
  }
}
`)
	if err != nil {
		t.Fatal(err)
	}
	kaFile, err := l.WriteFile("keepalived.conf", `global_defs {
  router_id lvsd_risefall
}
virtual_server 198.51.100.40 80 {
  delay_loop 1
  lb_algo wlc
  lb_kind NAT
  protocol TCP
  real_server 198.51.100.10 80 {
    weight 1
    TCP_CHECK {
      connect_timeout 1
      retry 1
      delay_before_retry 1
    }
  }
}
`)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := rs.Serve("198.51.100.10:80", "a")
	if err != nil {
		t.Fatal(err)
	}
	p, err := h1.Start("lvsd", lvsdBin, "director", "-f", lvFile, "--control", l.Dir+"/lvs.sock", "--pid-file", l.Dir+"/lvs.pid")
	if err != nil {
		t.Fatal(err)
	}
	k, err := h2.Start("keepalived", "keepalived", "--dont-fork", "-C", "-f", kaFile, "--log-console", "--log-detail",
		"-p", l.Dir+"/ka.pid", "-c", l.Dir+"/ka-c.pid", "-r", l.Dir+"/ka-r.pid")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = k.Stop(syscall.SIGTERM, 20*time.Second)
		if t.Failed() {
			t.Logf("lvsd log:\n%s\nkeepalived log:\n%s", p.Output(), k.Output())
		}
	})
	inTable := func(h *lab.Host) bool {
		out, _ := h.Run("ipvsadm", "-Ln")
		return strings.Contains(out, "198.51.100.10:80")
	}
	for _, h := range []*lab.Host{h1, h2} {
		if _, ok := lab.WaitFor(30*time.Second, func() bool { return inTable(h) }); !ok {
			t.Fatalf("%s: real server never in IPVS", h.Name)
		}
	}
	// Both have checked a few times while up.
	time.Sleep(3 * time.Second)

	schedule := []flip{{2 * time.Second, false}, {10 * time.Second, true}, {16 * time.Second, false},
		{17500 * time.Millisecond, true}, {24 * time.Second, false}, {32 * time.Second, true}}
	const end = 38 * time.Second
	blip := [2]time.Duration{16 * time.Second, 22 * time.Second}

	start := time.Now()
	obs := map[string][]seen{}
	state := map[string]bool{"lvsd": true, "keepalived": true}
	hosts := map[string]*lab.Host{"lvsd": h1, "keepalived": h2}
	next := 0
	var longest time.Duration // of one polling round: a transition is seen up to that late
	for time.Since(start) < end {
		now := time.Since(start)
		for next < len(schedule) && now >= schedule[next].At {
			if schedule[next].Up {
				if ln, err = rs.Serve("198.51.100.10:80", "a"); err != nil {
					t.Fatal(err)
				}
			} else {
				ln.Close()
			}
			next++
		}
		for name, h := range hosts {
			if up := inTable(h); up != state[name] {
				state[name] = up
				obs[name] = append(obs[name], seen{time.Since(start), up})
			}
		}
		time.Sleep(100 * time.Millisecond)
		longest = max(longest, time.Since(start)-now)
	}
	fmt.Fprintf(logWriter{t}, "schedule: %v\n", schedule)
	for _, name := range []string{"lvsd", "keepalived"} {
		t.Logf("%s transitions: %v", name, obs[name])
	}
	outside := func(s []seen) []seen {
		var out []seen
		for _, x := range s {
			if x.At < blip[0] || x.At >= blip[1] {
				out = append(out, x)
			}
		}
		return out
	}
	a, b := outside(obs["lvsd"]), outside(obs["keepalived"])
	if len(a) != len(b) || len(a) != 4 {
		t.Fatalf("outside the blip: lvsd %v, keepalived %v; want 4 transitions each", a, b)
	}
	// One delay_loop (the daemons' phases are independent) and its spread
	// and slack in lvsd (1/20 each), plus the polling: each daemon's
	// transition is seen between 0 and one polling round late (so the
	// difference is off by up to one round), and under TCG, with two
	// process starts per round, a round can be well over its 100 ms sleep.
	tolerance := time.Second + 100*time.Millisecond + longest
	t.Logf("tolerance %v (longest polling round %v)", tolerance.Round(10*time.Millisecond), longest.Round(10*time.Millisecond))
	for i := range a {
		d := a[i].At - b[i].At
		t.Logf("transition %d (up=%v): lvsd %v, keepalived %v, difference %+.2fs", i, a[i].Up, a[i].At.Round(10*time.Millisecond), b[i].At.Round(10*time.Millisecond), d.Seconds())
		if a[i].Up != b[i].Up || math.Abs(float64(d)) > float64(tolerance) {
			t.Errorf("transition %d: lvsd %+v, keepalived %+v: differ by more than one delay_loop", i, a[i], b[i])
		}
	}
}
