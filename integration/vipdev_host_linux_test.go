//go:build integration

package integration

import (
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

// vipAddrs lists the addresses of h among those of want, as "dev
// address label" (the label only for IPv4, as ip(8) prints it).
func vipAddrs(t *testing.T, h *lab.Host, want []string) []string {
	t.Helper()
	out, err := h.Run("ip", "-o", "addr", "show")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(strings.SplitN(line, `\`, 2)[0])
		if len(f) < 4 || !slices.Contains(want, f[3]) {
			continue
		}
		s := f[1] + " " + f[3]
		if f[2] == "inet" {
			s += " " + f[len(f)-1]
		}
		got = append(got, s)
	}
	slices.Sort(got)
	return got
}

// TestVIPDevLabelExcludedLikeKeepalived: virtual_ipaddress entries with
// "dev IF label L" and virtual_ipaddress_excluded (an IPv6 address beside
// a VRRPv2 instance, an IPv4 one on another interface). lvsd (150) as
// master installs each on its interface with its label, announces each
// there (gratuitous ARP on eth1, a neighbour advertisement for the IPv6
// one) and advertises the two VIPs, not the excluded addresses; keepalived 2.2.7 (100) with the same
// keepalived.conf lines installs exactly the same addresses once lvsd
// stops, and lvsd's stop removed them all.
func TestVIPDevLabelExcludedLikeKeepalived(t *testing.T) {
	needKeepalived(t)
	l := newLab(t, "vdev")
	a := addHost(t, l, "lvs1", "198.51.100.20/24")
	b := addHost(t, l, "lvs2", "198.51.100.21/24")
	for _, h := range []*lab.Host{a, b} {
		// A second interface: a veth pair inside the namespace (this
		// kernel has no dummy driver).
		if _, err := h.Run("ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"); err != nil {
			t.Fatal(err)
		}
		for _, dev := range []string{"eth1", "eth1p"} {
			if _, err := h.Run("ip", "link", "set", dev, "up"); err != nil {
				t.Fatal(err)
			}
		}
	}
	addrs := []string{"198.51.100.30/24", "203.0.113.1/24", "2001:db8::30/64", "192.0.2.9/32"}
	watch1, err := a.Start("tcpdump-eth1", "tcpdump", "-l", "-n", "-i", "eth1", "arp")
	if err != nil {
		t.Fatal(err)
	}
	watch0, err := a.Start("tcpdump-eth0", "tcpdump", "-l", "-n", "-v", "-i", "eth0", "vrrp or (icmp6 and ip6[40] == 136)")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []*lab.Proc{watch0, watch1} {
		if _, ok := lab.WaitFor(5*time.Second, func() bool { return strings.Contains(w.Output(), "listening on") }); !ok {
			t.Fatalf("tcpdump did not start: %s", w.Output())
		}
	}
	p := startDirector(t, l, a, `vrrp_instance "VI_1" {
  state             = "BACKUP"
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 150
  advert_int        = "1s"
  virtual_ipaddress = ["198.51.100.30/24", "203.0.113.1/24 dev eth1 label eth1:gw"]
  virtual_ipaddress_excluded = ["2001:db8::30/64", "192.0.2.9/32 dev eth1"]
}
`)
	startKeepalived(t, l, b, `global_defs {
  router_id lvs2
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    198.51.100.30/24
    203.0.113.1/24 dev eth1 label eth1:gw
  }
  virtual_ipaddress_excluded {
    2001:db8::30/64
    192.0.2.9/32 dev eth1
  }
}
`)
	want := []string{"eth0 198.51.100.30/24 eth0", "eth0 2001:db8::30/64", "eth1 192.0.2.9/32 eth1", "eth1 203.0.113.1/24 eth1:gw"}
	var got []string
	if _, ok := lab.WaitFor(masterDown(150)+5*time.Second, func() bool {
		got = vipAddrs(t, a, addrs)
		return slices.Equal(got, want)
	}); !ok {
		t.Fatalf("lvsd master's addresses %q, want %q\n%s", got, want, p.Output())
	}
	announced := func(w *lab.Proc, re string) bool { return regexp.MustCompile(re).MatchString(w.Output()) }
	if _, ok := lab.WaitFor(5*time.Second, func() bool {
		return announced(watch1, `Request who-has 203\.0\.113\.1 (\(\S+\) )?tell 203\.0\.113\.1`) &&
			announced(watch1, `Request who-has 192\.0\.2\.9 (\(\S+\) )?tell 192\.0\.2\.9`) &&
			announced(watch0, `neighbor advertisement, (length \d+, )?tgt is 2001:db8::30`)
	}); !ok {
		t.Errorf("not every address announced on its interface:\neth1:\n%s\neth0:\n%s", watch1.Output(), watch0.Output())
	}
	// tcpdump -v prints each advert's address list: the VIPs, whatever
	// their interface, and none of the excluded addresses.
	const vips = "addrs(2): 198.51.100.30,203.0.113.1"
	if _, ok := lab.WaitFor(5*time.Second, func() bool { return strings.Contains(watch0.Output(), vips) }); !ok {
		t.Errorf("no advert from lvsd with %q:\n%s", vips, watch0.Output())
	}
	for _, line := range strings.Split(watch0.Output(), "\n") {
		if strings.Contains(line, "prio 150") && !strings.HasSuffix(strings.TrimSpace(line), vips) {
			t.Errorf("lvsd's advert does not carry exactly the VIPs: %s", line)
			break
		}
	}
	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := vipAddrs(t, a, addrs); len(got) != 0 {
		t.Errorf("lvsd left addresses after its stop: %q", got)
	}
	var kgot []string
	if _, ok := lab.WaitFor(10*time.Second, func() bool {
		kgot = vipAddrs(t, b, addrs)
		return len(kgot) == len(want)
	}); !ok || !slices.Equal(kgot, want) {
		t.Errorf("keepalived's addresses %q, lvsd's were %q", kgot, want)
	}
	t.Logf("both installed %q", want)
}
