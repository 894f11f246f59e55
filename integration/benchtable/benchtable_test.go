package benchtable

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/conf/keepalived"
	"github.com/lvsd/lvsd/ipvs"
)

// fromHCL is the table lvsd would program from an HCL file.
func fromHCL(t *testing.T, src []byte) []ipvs.Service {
	t.Helper()
	cfg, diags := conf.Parse(src, "bench.hcl")
	if diags.HasErrors() {
		t.Fatalf("HCL: %v", diags)
	}
	return ipvs.Desired(cfg.VirtualServers, ipvs.AllUp)
}

// fromIPVSAdm reads the subset of `ipvsadm -R` syntax the generator writes.
func fromIPVSAdm(t *testing.T, src string) []ipvs.Service {
	t.Helper()
	var out []ipvs.Service
	for n, line := range strings.Split(strings.TrimSuffix(src, "\n"), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 5 && f[0] == "-A" && f[1] == "-t" && f[3] == "-s":
			out = append(out, ipvs.Service{Key: ipvs.Key{Protocol: ipvs.TCP, Addr: netip.MustParseAddrPort(f[2])}, Sched: f[4]})
		case len(f) == 8 && f[0] == "-a" && f[1] == "-t" && f[3] == "-r" && f[5] == "-m" && f[6] == "-w":
			last := &out[len(out)-1]
			if last.Addr.String() != f[2] {
				t.Fatalf("line %d: destination of %s after service %s", n+1, f[2], last.Addr)
			}
			var w int
			fmt.Sscan(f[7], &w)
			last.Dests = append(last.Dests, ipvs.Dest{Addr: netip.MustParseAddrPort(f[4]), Weight: w, Method: ipvs.NAT})
		default:
			t.Fatalf("line %d: unexpected %q", n+1, line)
		}
	}
	return out
}

func sorted(svcs []ipvs.Service) []ipvs.Service {
	slices.SortFunc(svcs, func(a, b ipvs.Service) int {
		if c := a.Addr.Compare(b.Addr); c != 0 {
			return c
		}
		return strings.Compare(a.Protocol, b.Protocol)
	})
	for _, s := range svcs {
		slices.SortFunc(s.Dests, func(a, b ipvs.Dest) int { return a.Addr.Compare(b.Addr) })
	}
	return svcs
}

// TestFormatsAgree checks the promise of the package: the ipvsadm script,
// the keepalived.conf (read by lvsd convert's parser) and the HCL describe
// the same table, with every service and destination distinct.
func TestFormatsAgree(t *testing.T) {
	for _, tc := range []struct {
		tab Table
		w   Weights
	}{
		{Table{Services: 1, Dests: 1}, nil},
		{Table{Services: 600, Dests: 3}, Weights{{599, 2}: 7}}, // VIPs wrap around twice
		{Table{Services: 20, Dests: 10}, nil},
	} {
		t.Run(fmt.Sprintf("%dx%d", tc.tab.Services, tc.tab.Dests), func(t *testing.T) {
			if err := tc.tab.Validate(); err != nil {
				t.Fatal(err)
			}
			var hcl, ka, adm bytes.Buffer
			if err := tc.tab.WriteHCL(&hcl, tc.w); err != nil {
				t.Fatal(err)
			}
			if err := tc.tab.WriteKeepalived(&ka, tc.w); err != nil {
				t.Fatal(err)
			}
			if err := tc.tab.WriteIPVSAdm(&adm, tc.w); err != nil {
				t.Fatal(err)
			}
			want := sorted(fromHCL(t, hcl.Bytes()))
			if len(want) != tc.tab.Services {
				t.Fatalf("HCL has %d services, want %d", len(want), tc.tab.Services)
			}
			entries := 0
			for _, s := range want {
				entries += 1 + len(s.Dests)
				if s.Sched != "wrr" || len(s.Dests) != tc.tab.Dests {
					t.Fatalf("service %s: sched %s, %d dests", s.Key, s.Sched, len(s.Dests))
				}
			}
			if entries != tc.tab.Entries() {
				t.Fatalf("%d entries, Entries() says %d", entries, tc.tab.Entries())
			}
			for k, w := range tc.w {
				vs, rs := tc.tab.Service(k[0]), tc.tab.Dest(k[0], k[1])
				i := slices.IndexFunc(want, func(s ipvs.Service) bool { return s.Addr == vs })
				j := slices.IndexFunc(want[i].Dests, func(d ipvs.Dest) bool { return d.Addr == rs })
				if got := want[i].Dests[j].Weight; got != w {
					t.Fatalf("%s -> %s weight %d, want %d", vs, rs, got, w)
				}
			}

			if got := sorted(fromIPVSAdm(t, adm.String())); !slices.EqualFunc(got, want, equal) {
				t.Errorf("ipvsadm script differs from HCL")
			}

			nodes, err := keepalived.Parse(ka.Bytes(), "keepalived.conf", keepalived.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res := keepalived.Convert(nodes)
			if n := res.Unsupported(); n != 0 {
				t.Fatalf("keepalived.conf: %d unsupported findings: %v", n, res.Findings)
			}
			if got := sorted(fromHCL(t, res.HCL)); !slices.EqualFunc(got, want, equal) {
				t.Errorf("keepalived.conf (converted) differs from HCL")
			}
		})
	}
}

func equal(a, b ipvs.Service) bool {
	return a.Key == b.Key && a.Sched == b.Sched && a.Persistence == b.Persistence && slices.Equal(a.Dests, b.Dests)
}

func TestValidate(t *testing.T) {
	for _, tab := range []Table{{0, 10}, {1, -1}, {1, 251}, {(65535-basePort+1)*vips + 1, 1}} {
		if tab.Validate() == nil {
			t.Errorf("%+v: no error", tab)
		}
	}
	if err := (Table{Services: 50000, Dests: 10}).Validate(); err != nil {
		t.Error(err)
	}
}
