//go:build integration

package integration

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/integration/lab"
)

const vip6 = "2001:db8::30"

// TestDirectorIPv6Failover: two `lvsd director` processes with an IPv6
// virtual_ipaddress (VRRPv3 implied, 100 ms adverts). The master holds the
// VIP, a client resolves it to the master's MAC; when the master's cable is
// cut the backup takes the VIP and its unsolicited neighbour advertisement
// moves the client's neighbour entry without the client asking.
func TestDirectorIPv6Failover(t *testing.T) {
	l, err := lab.New("vw6", t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	d1 := addHost(t, l, "d1", "198.51.100.20/24")
	d2 := addHost(t, l, "d2", "198.51.100.21/24")
	c := addHost(t, l, "c", "198.51.100.2/24")
	for k, h := range []*lab.Host{d1, d2, c} {
		if _, err := h.Run("ip", "addr", "add", "2001:db8::"+strconv.Itoa(k+1)+"/64", "dev", "eth0", "nodad"); err != nil {
			t.Fatal(err)
		}
	}
	conf := func(state string, prio int) string {
		return `vrrp_instance "V6" {
  state             = "` + state + `"
  interface         = "eth0"
  virtual_router_id = 52
  priority          = ` + strconv.Itoa(prio) + `
  advert_int        = "100ms"
  virtual_ipaddress = ["` + vip6 + `/64"]
}
`
	}
	// The link-local source must have finished DAD before adverts can
	// leave; wait for it on both directors.
	for _, h := range []*lab.Host{d1, d2} {
		if _, ok := lab.WaitFor(10*time.Second, func() bool {
			out, _ := h.Run("ip", "-6", "addr", "show", "dev", "eth0", "scope", "link")
			return strings.Contains(out, "fe80::") && !strings.Contains(out, "tentative")
		}); !ok {
			t.Fatalf("%s: link-local address still tentative", h.Name)
		}
	}
	startDirector(t, l, d1, conf("MASTER", 101))
	if _, ok := lab.WaitFor(5*time.Second, func() bool { return d1.HasAddr(vip6) }); !ok {
		t.Fatal("d1 never took the IPv6 VIP")
	}
	startDirector(t, l, d2, conf("BACKUP", 100))
	// d2 settles as a backup hearing d1 (a fixed sleep was a guess at its
	// start-up time), and then must not hold the VIP.
	waitBackup(t, l, d2)
	if d2.HasAddr(vip6) {
		t.Fatal("d2 took the VIP while d1 is master")
	}
	// c resolves the VIP (a TCP connect to a closed port) to d1's MAC.
	_, _ = c.Run("curl", "-s", "--connect-timeout", "1", "http://["+vip6+"]:9/")
	neigh := func() string {
		out, _ := c.Run("ip", "-6", "neigh", "show", vip6, "dev", "eth0")
		f := strings.Fields(out)
		for k := range f {
			if f[k] == "lladdr" && k+1 < len(f) {
				return f[k+1]
			}
		}
		return ""
	}
	if got := neigh(); got != macOf(t, d1) {
		t.Fatalf("c resolves the VIP to %q, want d1's %s", got, macOf(t, d1))
	}
	start := time.Now()
	if err := d1.LinkDown(); err != nil {
		t.Fatal(err)
	}
	if _, ok := lab.WaitFor(5*time.Second, func() bool { return d2.HasAddr(vip6) }); !ok {
		t.Fatal("d2 never took the IPv6 VIP")
	}
	t.Logf("d2 holds the IPv6 VIP %v after the cut (bound 361 ms after the last advert)", time.Since(start).Round(time.Millisecond))
	if _, ok := lab.WaitFor(3*time.Second, func() bool { return neigh() == macOf(t, d2) }); !ok {
		t.Fatalf("c's neighbour entry for the VIP is %q, want d2's %s (no unsolicited NA?)", neigh(), macOf(t, d2))
	}
}
