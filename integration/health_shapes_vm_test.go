//go:build vm

package integration

import (
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// healthKeepalived has one virtual server per health-driven membership
// shape. The real server host answers on 198.51.100.10:80 only: a
// TCP_CHECK of 198.51.100.10:81 or 198.51.100.11:* is refused (RST), the
// same for both daemons, so those real servers are down.
const healthKeepalived = `virtual_server 198.51.100.40 100 {
    # every real server down, sorry server: the sorry server alone
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    delay_loop 1
    sorry_server 198.51.100.13 80
    real_server 198.51.100.10 81 {
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 198.51.100.11 81 {
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
virtual_server 198.51.100.40 101 {
    # every real server down and inhibited, sorry server: weight 0 each,
    # the sorry server with weight 1
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    delay_loop 1
    sorry_server 198.51.100.13 80
    real_server 198.51.100.10 81 {
        inhibit_on_failure
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 198.51.100.11 81 {
        inhibit_on_failure
        weight 3
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
virtual_server 198.51.100.40 102 {
    # one up, one down; sorry_server_inhibit: the sorry server stays at
    # weight 0 while it is not needed
    protocol TCP
    lvs_sched wrr
    lvs_method NAT
    delay_loop 1
    sorry_server 198.51.100.13 80
    sorry_server_inhibit
    real_server 198.51.100.10 80 {
        weight 2
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 198.51.100.11 80 {
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
virtual_server 198.51.100.40 103 {
    # one up, one down inhibited (weight 0 kept), one down removed
    protocol TCP
    lvs_sched wlc
    lvs_method NAT
    delay_loop 1
    real_server 198.51.100.10 80 {
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 198.51.100.10 81 {
        inhibit_on_failure
        weight 4
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 198.51.100.11 81 {
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
virtual_server 198.51.100.40 104 {
    # quorum 3 not met (2 up), sorry server: the live real server is
    # taken out, the sorry server in
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    delay_loop 1
    quorum 3
    sorry_server 198.51.100.13 80
    real_server 198.51.100.10 80 {
        weight 2
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 198.51.100.11 80 {
        weight 2
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
virtual_server 198.51.100.40 105 {
    # quorum 3 not met, no sorry server: the live real server stays
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    delay_loop 1
    quorum 3
    real_server 198.51.100.10 80 {
        weight 2
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 198.51.100.11 80 {
        weight 2
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
virtual_server 198.51.100.40 106 {
    # quorum 2 met (2 up) with a sorry server: no sorry server
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    delay_loop 1
    quorum 2
    sorry_server 198.51.100.13 80
    real_server 198.51.100.10 80 {
        weight 2
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 198.51.100.11 80 {
        weight 2
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
virtual_server 198.51.100.40 107 {
    # every real server down and inhibited, no sorry server: weight 0 each
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    delay_loop 1
    real_server 198.51.100.10 81 {
        inhibit_on_failure
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 198.51.100.11 81 {
        inhibit_on_failure
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
`

// healthWant is the settled table of healthKeepalived, per service port:
// its destinations as "ADDR:PORT WEIGHT", sorted.
var healthWant = map[string][]string{
	"100": {"198.51.100.13:80 1"},
	"101": {"198.51.100.10:81 0", "198.51.100.11:81 0", "198.51.100.13:80 1"},
	"102": {"198.51.100.10:80 2", "198.51.100.13:80 0"},
	"103": {"198.51.100.10:80 1", "198.51.100.10:81 0"},
	"104": {"198.51.100.13:80 1"},
	"105": {"198.51.100.10:80 2"},
	"106": {"198.51.100.10:80 2"},
	"107": {"198.51.100.10:81 0", "198.51.100.11:81 0"},
}

// healthWantBack is the settled table once 198.51.100.10:81 answers too:
// its real servers are back with their weight, and a sorry server no
// longer needed leaves (102 keeps its inhibited one at weight 0).
var healthWantBack = map[string][]string{
	"100": {"198.51.100.10:81 1"},
	"101": {"198.51.100.10:81 1", "198.51.100.11:81 0"},
	"102": {"198.51.100.10:80 2", "198.51.100.13:80 0"},
	"103": {"198.51.100.10:80 1", "198.51.100.10:81 4"},
	"104": {"198.51.100.13:80 1"},
	"105": {"198.51.100.10:80 2"},
	"106": {"198.51.100.10:80 2"},
	"107": {"198.51.100.10:81 1", "198.51.100.11:81 0"},
}

// healthTable reads an ipvsadm -Ln listing as service port -> sorted
// "ADDR:PORT WEIGHT" destinations, plus the whole listing canonicalised
// (services and destinations sorted: add order depends on when each check
// answered, which neither daemon controls).
func healthTable(s string) (map[string][]string, string) {
	dests := map[string][]string{}
	var blocks []string
	var cur string
	var lines []string
	flush := func() {
		if cur != "" {
			slices.Sort(lines)
			blocks = append(blocks, strings.Join(append([]string{cur}, lines...), "\n"))
		}
	}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "TCP":
			flush()
			cur, lines = strings.Join(f, " "), nil
			port := f[1][strings.LastIndex(f[1], ":")+1:]
			dests[port] = []string{}
		case len(f) >= 4 && f[0] == "->" && f[1] != "RemoteAddress:Port" && cur != "":
			lines = append(lines, strings.Join(f, " "))
			svc := strings.Fields(cur)[1]
			port := svc[strings.LastIndex(svc, ":")+1:]
			dests[port] = append(dests[port], f[1]+" "+f[3])
		}
	}
	flush()
	for _, d := range dests {
		slices.Sort(d)
	}
	slices.Sort(blocks)
	return dests, strings.Join(blocks, "\n")
}

// settled waits until h's table matches wantTable and then stays the
// same for 4 s (no late transition), and returns it canonicalised.
func settled(t *testing.T, h *lab.Host, who string, p *lab.Proc, wantTable map[string][]string) string {
	t.Helper()
	var last, canon string
	var since time.Time
	_, ok := lab.WaitFor(60*time.Second, func() bool {
		out, err := h.Run("ipvsadm", "-Ln")
		if err != nil {
			t.Fatalf("ipvsadm -Ln: %v\n%s", err, out)
		}
		last = out
		dests, c := healthTable(out)
		for port, want := range wantTable {
			if !slices.Equal(dests[port], want) {
				since = time.Time{}
				return false
			}
		}
		if c != canon || since.IsZero() {
			canon, since = c, time.Now()
			return false
		}
		return time.Since(since) >= 4*time.Second
	})
	if !ok {
		got, _ := healthTable(last)
		var diff []string
		for port, want := range wantTable {
			if !slices.Equal(got[port], want) {
				diff = append(diff, sprintf("port %s: %q, want %q", port, got[port], want))
			}
		}
		slices.Sort(diff)
		t.Fatalf("%s's table did not settle to the expected one:\n%s\nipvsadm -Ln:\n%s\n%s log:\n%s", who, strings.Join(diff, "\n"), last, who, p.Output())
	}
	return canon
}

// TestHealthShapesLikeKeepalived programs the membership shapes where
// health matters (every real server down with a sorry server, with and
// without inhibit_on_failure; some down with inhibit_on_failure kept at
// weight 0 beside others removed; sorry_server_inhibit; quorum not met
// with and without a sorry server, and met) with keepalived, then with
// lvsd from `lvsd convert` of the same keepalived.conf, in the same VM
// against the same real servers, and compares the settled tables; then
// once more after the refused port starts answering (servers back, sorry
// servers out).
func TestHealthShapesLikeKeepalived(t *testing.T) {
	l := newLab(t, "msh")
	h := addHost(t, l, "lvs", "198.51.100.20/24")
	rs := addHost(t, l, "rs", "198.51.100.10/24")
	if out, err := rs.Run("ip", "addr", "add", "198.51.100.11/24", "dev", "eth0"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := h.Run("modprobe", "ip_vs"); err != nil {
		t.Fatal(err)
	}
	ln, err := rs.Serve("198.51.100.10:80", "up")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ln.Close)
	kaConf, err := l.WriteFile("keepalived.conf", healthKeepalived)
	if err != nil {
		t.Fatal(err)
	}

	// Each daemon settles with 198.51.100.10:81 refused, then again once
	// it answers.
	phases := func(who string, p *lab.Proc) [2]string {
		t.Helper()
		var out [2]string
		out[0] = settled(t, h, who, p, healthWant)
		back, err := rs.Serve("198.51.100.10:81", "back")
		if err != nil {
			t.Fatal(err)
		}
		defer back.Close()
		out[1] = settled(t, h, who+" (198.51.100.10:81 back)", p, healthWantBack)
		return out
	}
	ka, err := h.Start("keepalived", "keepalived", "-n", "-l", "-D", "-C", "-f", kaConf,
		"-p", l.Dir+"/keepalived.pid", "-c", l.Dir+"/checkers.pid")
	if err != nil {
		t.Fatal(err)
	}
	want := phases("keepalived", ka)
	if err := ka.Stop(syscall.SIGTERM, 15*time.Second); err != nil {
		t.Fatalf("stop keepalived: %v\n%s", err, ka.Output())
	}
	if out, _ := h.Run("ipvsadm", "-Ln"); strings.Contains(out, "198.51.100.40") {
		t.Fatalf("keepalived left its entries behind:\n%s", out)
	}

	hcl := l.Dir + "/health.hcl"
	res, err := exec.Command(lvsdBin, "convert", "-o", hcl, kaConf).CombinedOutput()
	if err != nil {
		t.Fatalf("lvsd convert: %v\n%s", err, res)
	}
	p, err := h.Start("lvsd", lvsdBin, "director", "-f", hcl, "--control", l.Dir+"/lvsd.sock", "--pid-file", l.Dir+"/lvsd.pid")
	if err != nil {
		t.Fatal(err)
	}
	got := phases("lvsd", p)
	for i, phase := range []string{"real servers down", "198.51.100.10:81 back"} {
		if got[i] != want[i] {
			t.Errorf("%s: tables differ\nkeepalived:\n%s\nlvsd:\n%s", phase, want[i], got[i])
		} else {
			t.Logf("%s: identical for keepalived and lvsd:\n%s", phase, got[i])
		}
	}
	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Errorf("stop lvsd: %v\n%s", err, p.Output())
	}
}
