//go:build integration

// Byte-for-byte comparison of lvsd's adverts with keepalived 2.2.7's for the
// same configuration on the same host (same source address, so the same
// checksum): the VRRP message must be identical, and the IP header fields a
// peer can see (TTL / hop limit, TOS / traffic class, DF, destination) the
// same, or differ only as documented below. tshark must decode lvsd's
// adverts as VRRP with a good checksum.
// Run: go test -tags integration -run WireCompare -v ./vrrp/

package vrrp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// wirePacket is one captured advert: the IP header fields a peer sees and
// the VRRP message.
type wirePacket struct {
	v6       bool
	ttl      int // TTL or hop limit
	tos      int // TOS or traffic class
	df       bool
	id       uint16 // IPv4 identification
	flow     uint32 // IPv6 flow label
	src, dst netip.Addr
	vrrp     []byte
	// announce is set for a gratuitous ARP (the 28-byte ARP packet, with
	// the Ethernet destination in front) or an unsolicited neighbour
	// advertisement (the ICMPv6 message); vrrp is then nil.
	announce []byte
}

func (p wirePacket) String() string {
	if p.v6 {
		return fmt.Sprintf("IPv6 %v->%v hlim=%d tclass=%#x flow=%#x vrrp=%x", p.src, p.dst, p.ttl, p.tos, p.flow, p.vrrp)
	}
	return fmt.Sprintf("IPv4 %v->%v ttl=%d tos=%#x df=%v id=%d vrrp=%x", p.src, p.dst, p.ttl, p.tos, p.df, p.id, p.vrrp)
}

// readPcap returns the VRRP packets of a pcap file written by tcpdump
// (Ethernet link type, micro- or nanosecond magic, either byte order).
func readPcap(file string) ([]wirePacket, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if len(b) < 24 {
		return nil, errors.New("pcap: short global header")
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("pcap: bad magic %x", b[:4])
	}
	if lt := bo.Uint32(b[20:24]); lt != 1 {
		return nil, fmt.Errorf("pcap: link type %d, want Ethernet", lt)
	}
	var out []wirePacket
	for off := 24; off+16 <= len(b); {
		n := int(bo.Uint32(b[off+8:]))
		if off+16+n > len(b) {
			return nil, errors.New("pcap: truncated record")
		}
		f := b[off+16 : off+16+n]
		off += 16 + n
		if len(f) < 14 {
			continue
		}
		et, ip := binary.BigEndian.Uint16(f[12:14]), f[14:]
		switch {
		case et == 0x0800 && len(ip) >= 20 && ip[9] == Protocol:
			hl := int(ip[0]&0x0f) * 4
			tl := int(binary.BigEndian.Uint16(ip[2:4]))
			if hl < 20 || tl > len(ip) || tl < hl {
				continue
			}
			out = append(out, wirePacket{
				ttl: int(ip[8]), tos: int(ip[1]), df: ip[6]&0x40 != 0, id: binary.BigEndian.Uint16(ip[4:6]),
				src: netip.AddrFrom4([4]byte(ip[12:16])), dst: netip.AddrFrom4([4]byte(ip[16:20])),
				vrrp: append([]byte(nil), ip[hl:tl]...),
			})
		case et == 0x0806 && len(ip) >= 28 && bytes.Equal(ip[14:18], ip[24:28]): // gratuitous: sender = target
			out = append(out, wirePacket{announce: append(append([]byte(nil), f[0:6]...), ip[:28]...)})
		case et == 0x86dd && len(ip) >= 45 && ip[6] == 58 && ip[40] == 136 && ip[44]&0x40 == 0: // unsolicited NA
			pl := int(binary.BigEndian.Uint16(ip[4:6]))
			if 40+pl > len(ip) {
				continue
			}
			vtf := binary.BigEndian.Uint32(ip[0:4])
			out = append(out, wirePacket{
				v6: true, ttl: int(ip[7]), tos: int(vtf >> 20 & 0xff),
				src: netip.AddrFrom16([16]byte(ip[8:24])), dst: netip.AddrFrom16([16]byte(ip[24:40])),
				announce: append([]byte(nil), ip[40:40+pl]...),
			})
		case et == 0x86dd && len(ip) >= 40 && ip[6] == Protocol:
			pl := int(binary.BigEndian.Uint16(ip[4:6]))
			if 40+pl > len(ip) {
				continue
			}
			vtf := binary.BigEndian.Uint32(ip[0:4])
			out = append(out, wirePacket{
				v6: true, ttl: int(ip[7]), tos: int(vtf >> 20 & 0xff), flow: vtf & 0xfffff,
				src: netip.AddrFrom16([16]byte(ip[8:24])), dst: netip.AddrFrom16([16]byte(ip[24:40])),
				vrrp: append([]byte(nil), ip[40:40+pl]...),
			})
		}
	}
	return out, nil
}

// capture runs tcpdump on eth0 of host until stop is called, then returns
// the adverts captured and the pcap file.
func capture(t *testing.T, host, file string) (stop func() []wirePacket) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", host, "tcpdump", "-i", "eth0", "--immediate-mode", "-U", "-w", file, "ip proto 112 or ip6 proto 112 or arp or (icmp6 and ip6[40] == 136)")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// tcpdump says "listening on" once the socket is open.
	end := time.Now().Add(5 * time.Second)
	for !strings.Contains(errb.String(), "listening on") && time.Now().Before(end) {
		time.Sleep(20 * time.Millisecond)
	}
	done := false
	t.Cleanup(func() {
		if !done {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return func() []wirePacket {
		done = true
		time.Sleep(100 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
		pk, err := readPcap(file)
		if err != nil {
			t.Fatalf("%s: %v (tcpdump: %s)", file, err, errb.String())
		}
		return pk
	}
}

// tsharkChecks decodes file with tshark and returns, per VRRP packet, the
// VRRP version and the checksum status ("1" = good).
func tsharkChecks(t *testing.T, file string) []string {
	t.Helper()
	out, err := exec.Command("tshark", "-r", file, "-Y", "vrrp", "-T", "fields",
		"-e", "vrrp.version", "-e", "vrrp.checksum.status").Output()
	if err != nil {
		t.Fatalf("tshark: %v: %s", err, out)
	}
	return strings.Fields(strings.TrimSpace(string(out)))
}

type wireCase struct {
	name string
	cfg  conf.VRRPInstance
	ka   string // keepalived's vrrp_instance body
	vip  string // the VIP, to wait for
}

func wireCases() []wireCase {
	v4 := []netip.Prefix{netip.MustParsePrefix("192.0.2.100/32"), netip.MustParsePrefix("192.0.2.101/32")}
	base := conf.VRRPInstance{
		Name: "W", State: conf.StateMaster, Interface: "eth0", VRID: 61, Priority: 120,
		AdvertInt: time.Second, Version: 2, AuthType: "PASS", AuthPass: "s3cret", VIPs: v4,
		GARPMasterRepeat: 1,
	}
	v3 := base
	v3.Version, v3.AuthType, v3.AuthPass, v3.AdvertInt = 3, "", "", 100*time.Millisecond
	v6 := v3
	v6.VIPs = []netip.Prefix{netip.MustParsePrefix("2001:db8::100/64"), netip.MustParsePrefix("2001:db8::101/64")}
	uni := base
	uni.UnicastPeers = []netip.Addr{netip.MustParseAddr("192.0.2.2")}
	v3uni := v3
	v3uni.UnicastPeers = uni.UnicastPeers
	noauth := base
	noauth.AuthType, noauth.AuthPass = "", ""
	head := "  state MASTER\n  interface eth0\n  virtual_router_id 61\n  priority 120\n  garp_master_repeat 1\n"
	auth := "  authentication {\n    auth_type PASS\n    auth_pass s3cret\n  }\n"
	vips4 := "  virtual_ipaddress {\n    192.0.2.100/32\n    192.0.2.101/32\n  }\n"
	uniKA := "  unicast_src_ip 192.0.2.1\n  unicast_peer {\n    192.0.2.2\n  }\n"
	return []wireCase{
		{"v2 PASS multicast", base, head + "  advert_int 1\n" + auth + vips4, "192.0.2.100"},
		{"v2 no auth multicast", noauth, head + "  advert_int 1\n" + vips4, "192.0.2.100"},
		{"v2 PASS unicast", uni, head + "  advert_int 1\n" + auth + vips4 + uniKA, "192.0.2.100"},
		{"v3 IPv4 multicast", v3, head + "  version 3\n  advert_int 0.1\n" + vips4, "192.0.2.100"},
		{"v3 IPv4 unicast", v3uni, head + "  version 3\n  advert_int 0.1\n" + vips4 + uniKA, "192.0.2.100"},
		{"v3 IPv6 multicast", v6, head + "  version 3\n  advert_int 0.1\n  virtual_ipaddress {\n    2001:db8::100/64\n    2001:db8::101/64\n  }\n", "2001:db8::100"},
	}
}

// TestWireCompareKeepalived runs keepalived, then lvsd, as the master of
// the same instance on the same host, captures their adverts and compares
// them.
func TestWireCompareKeepalived(t *testing.T) {
	if _, err := exec.LookPath("keepalived"); err != nil {
		t.Skip("needs keepalived")
	}
	for _, tool := range []string{"tcpdump", "tshark"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (make deps)", tool)
		}
	}
	for _, tc := range wireCases() {
		t.Run(tc.name, func(t *testing.T) {
			l := newLAN6(t, 2)
			a := l.hosts[0]
			run(t, "ip", "-n", a, "addr", "add", "192.0.2.1/24", "dev", "eth0")
			run(t, "ip", "-n", l.hosts[1], "addr", "add", "192.0.2.2/24", "dev", "eth0")
			dir := t.TempDir()
			holds := func() bool {
				return strings.Contains(run(t, "ip", "-n", a, "addr", "show", "dev", "eth0"), " "+tc.vip+"/")
			}
			wait := 6 * time.Second
			if tc.cfg.Version == 3 {
				wait = 3 * time.Second
			}
			// Enough adverts for a stable sample, then stop: the last
			// adverts at the configured priority are compared.
			sample := 3 * tc.cfg.AdvertInt
			if sample < 500*time.Millisecond {
				sample = 500 * time.Millisecond
			}

			kaPcap := filepath.Join(dir, "keepalived.pcap")
			stop := capture(t, a, kaPcap)
			ka := startKeepalivedConf(t, a, "vrrp_instance W {\n"+tc.ka+"}\n")
			waitFor(t, wait, "keepalived master", holds)
			time.Sleep(sample)
			ka.signal(syscall.SIGTERM)
			kaPk := stop()
			waitFor(t, 3*time.Second, "VIPs released", func() bool { return !holds() })

			lvPcap := filepath.Join(dir, "lvsd.pcap")
			stop = capture(t, a, lvPcap)
			lv := startLvsd(t, a, tc.cfg)
			waitFor(t, wait, "lvsd master", holds)
			time.Sleep(sample)
			lv.signal(syscall.SIGTERM)
			lvPk := stop()

			kaAdv, lvAdv := lastAt(kaPk, tc.cfg.Priority), lastAt(lvPk, tc.cfg.Priority)
			if kaAdv == nil || lvAdv == nil {
				t.Fatalf("no advert at priority %d: keepalived %d packets, lvsd %d", tc.cfg.Priority, len(kaPk), len(lvPk))
			}
			t.Logf("keepalived: %v", kaAdv)
			t.Logf("lvsd:       %v", lvAdv)
			if !bytes.Equal(kaAdv.vrrp, lvAdv.vrrp) {
				t.Errorf("VRRP messages differ:\nkeepalived %x\nlvsd       %x", kaAdv.vrrp, lvAdv.vrrp)
			}
			if kaAdv.src != lvAdv.src || kaAdv.dst != lvAdv.dst || kaAdv.ttl != lvAdv.ttl || kaAdv.tos != lvAdv.tos || kaAdv.df != lvAdv.df {
				t.Errorf("IP headers differ:\nkeepalived %v\nlvsd       %v", kaAdv, lvAdv)
			}
			if lvAdv.ttl != TTL {
				t.Errorf("lvsd TTL/hop limit %d, want 255", lvAdv.ttl)
			}
			// The priority-0 advert on shutdown: both send one.
			if lastAt(kaPk, 0) == nil || lastAt(lvPk, 0) == nil {
				t.Errorf("priority-0 advert on stop: keepalived %v, lvsd %v", lastAt(kaPk, 0) != nil, lastAt(lvPk, 0) != nil)
			}
			// IP ID: keepalived numbers its adverts 1, 2, 3, ...; so
			// does lvsd.
			if !lvAdv.v6 {
				if k, l := ids(kaPk), ids(lvPk); !slices.Equal(k, l) {
					t.Errorf("IP IDs: keepalived %v, lvsd %v", k, l)
				}
			}
			// The first gratuitous ARP / neighbour advertisement for
			// each VIP: same bytes (for NA: ICMPv6 message, checksum
			// included) and, for NA, same source, destination and hop
			// limit.
			kaAnn, lvAnn := announces(kaPk), announces(lvPk)
			if len(kaAnn) == 0 || len(kaAnn) != len(lvAnn) {
				t.Errorf("announcements: keepalived %d, lvsd %d", len(kaAnn), len(lvAnn))
			}
			for k := range min(len(kaAnn), len(lvAnn)) {
				ka, lv := kaAnn[k], lvAnn[k]
				if !bytes.Equal(ka.announce, lv.announce) || ka.src != lv.src || ka.dst != lv.dst || ka.ttl != lv.ttl || ka.tos != lv.tos {
					t.Errorf("announcement %d differs:\nkeepalived %v %x\nlvsd       %v %x", k, ka, ka.announce, lv, lv.announce)
				}
			}
			if len(lvAnn) > 0 {
				t.Logf("first announcement: %x", lvAnn[0].announce)
			}
			// tshark decodes ours as VRRP with a good checksum.
			st := tsharkChecks(t, lvPcap)
			if len(st) == 0 || len(st)%2 != 0 {
				t.Fatalf("tshark decoded no VRRP in lvsd's capture: %q", st)
			}
			for k := 0; k < len(st); k += 2 {
				if st[k] != fmt.Sprint(tc.cfg.Version) || st[k+1] != "1" {
					t.Fatalf("tshark: VRRP version %s, checksum status %s (1 = good) in lvsd's packet %d", st[k], st[k+1], k/2+1)
				}
			}
		})
	}
}

// lastAt is the last captured advert with priority prio.
func lastAt(pk []wirePacket, prio uint8) *wirePacket {
	for k := len(pk) - 1; k >= 0; k-- {
		if pk[k].announce == nil && len(pk[k].vrrp) > 2 && pk[k].vrrp[2] == prio {
			return &pk[k]
		}
	}
	return nil
}

func ids(pk []wirePacket) []uint16 {
	var out []uint16
	for _, p := range pk {
		if len(out) == 3 {
			break
		}
		if p.announce == nil {
			out = append(out, p.id)
		}
	}
	return out
}

// startKeepalivedConf runs keepalived with the given configuration text.
func startKeepalivedConf(t *testing.T, host, text string) *proc {
	dir := t.TempDir()
	file := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(file, []byte("global_defs {\n  router_id "+host+"\n}\n"+text), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, name: "keepalived@" + host, log: filepath.Join(dir, "log")}
	p.cmd = exec.Command("ip", "netns", "exec", host, "keepalived", "-n", "-l", "-D", "-f", file, "--vrrp",
		"-p", filepath.Join(dir, "keepalived.pid"), "-r", filepath.Join(dir, "vrrp.pid"))
	p.start()
	return p
}

// announces returns the first gratuitous ARP or neighbour advertisement per
// distinct message (one per VIP: a burst repeats the same bytes).
func announces(pk []wirePacket) []wirePacket {
	var out []wirePacket
	seen := map[string]bool{}
	for _, p := range pk {
		if p.announce == nil || seen[string(p.announce)] {
			continue
		}
		seen[string(p.announce)] = true
		out = append(out, p)
	}
	return out
}
