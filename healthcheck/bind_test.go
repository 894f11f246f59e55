package healthcheck

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// peers records the source of every connection or datagram a test server
// receives.
type peers struct {
	mu  sync.Mutex
	got []netip.AddrPort
}

func (p *peers) add(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, netip.MustParseAddrPort(s))
}

func (p *peers) list() []netip.AddrPort {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]netip.AddrPort(nil), p.got...)
}

// freePort is a TCP and UDP port of 127.0.0.2 nothing uses now.
func freePort(t *testing.T) uint16 {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.2", strconv.Itoa(port))); err == nil {
			pc.Close()
			return uint16(port)
		}
	}
	t.Fatal("no free port")
	return 0
}

// TestBindToSource: every connecting checker probes from bindto and
// bind_port, twice in a row from the same port (no TIME_WAIT in the way).
func TestBindToSource(t *testing.T) {
	var p peers
	// A bare TCP server for tcp_check and mysql_check (the login fails:
	// the source is what is checked here).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.add(c.RemoteAddr().String())
			c.Close()
		}
	}()
	tcpTarget := netip.MustParseAddrPort(ln.Addr().String())
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.add(r.RemoteAddr) })
	web := httptest.NewServer(h)
	t.Cleanup(web.Close)
	tlsWeb := httptest.NewTLSServer(h)
	t.Cleanup(tlsWeb.Close)
	udp := udpServer(t, func(b []byte) [][]byte { return nil })
	dnsSrv := udpServer(t, func(b []byte) [][]byte {
		if len(b) < 12 {
			return nil
		}
		r := append([]byte(nil), b...)
		r[2] |= 0x80 // QR: a response, RCODE NOERROR
		r[3] &= 0xf0
		return [][]byte{r}
	})
	// TestBindToUDPSource checks the UDP checkers' source; here they
	// must pass twice from the same port.
	webTarget := netip.MustParseAddrPort(strings.TrimPrefix(web.URL, "http://"))
	tlsTarget := netip.MustParseAddrPort(strings.TrimPrefix(tlsWeb.URL, "https://"))

	src := netip.MustParseAddr("127.0.0.2")
	for _, tc := range []struct {
		c      conf.Check
		record bool // the TCP and HTTP servers record the peer
		fails  bool // mysql_check against a bare TCP server
	}{
		{c: conf.Check{Kind: conf.CheckTCP, Target: tcpTarget}, record: true},
		{c: conf.Check{Kind: conf.CheckMySQL, Target: tcpTarget, MySQL: &conf.MySQLCheck{User: "u"}}, record: true, fails: true},
		{c: conf.Check{Kind: conf.CheckHTTP, Target: webTarget, HTTP: &conf.HTTPCheck{Path: "/", StatusCodes: []int{200}}}, record: true},
		{c: conf.Check{Kind: conf.CheckSSL, Target: tlsTarget, HTTP: &conf.HTTPCheck{Path: "/", StatusCodes: []int{200}, InsecureSkipVerify: true}}, record: true},
		{c: conf.Check{Kind: conf.CheckUDP, Target: udp, UDP: &conf.UDPCheck{MaxReplyLen: 255}}},
		{c: conf.Check{Kind: conf.CheckDNS, Target: dnsSrv, DNS: &conf.DNSCheck{Type: "SOA", Name: "."}}},
	} {
		t.Run(tc.c.Kind, func(t *testing.T) {
			port := freePort(t)
			tc.c.ConnectTimeout = 300 * time.Millisecond
			tc.c.BindTo, tc.c.BindPort = src, port
			want := netip.AddrPortFrom(src, port)
			before := len(p.list())
			for i := range 2 {
				err := NewChecker(tc.c).Check(context.Background())
				if (err != nil) != tc.fails {
					t.Fatalf("attempt %d: %v", i+1, err)
				}
			}
			if !tc.record {
				return
			}
			// The server records from its own goroutine.
			var got []netip.AddrPort
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if got = p.list()[before:]; len(got) >= 2 {
					break
				}
			}
			if len(got) != 2 || got[0] != want || got[1] != want {
				t.Errorf("server saw %v, want %v twice", got, want)
			}
		})
	}
}

// TestBindToUDPSource: the UDP checkers' datagrams come from bindto and
// bind_port.
func TestBindToUDPSource(t *testing.T) {
	src := make(chan string, 4)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			src <- from.String()
			if n >= 12 {
				buf[2] |= 0x80
				buf[3] &= 0xf0
			}
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()
	target := netip.MustParseAddrPort(pc.LocalAddr().String())
	for _, c := range []conf.Check{
		{Kind: conf.CheckUDP, Target: target, UDP: &conf.UDPCheck{RequireReply: true, MaxReplyLen: 255}},
		{Kind: conf.CheckDNS, Target: target, DNS: &conf.DNSCheck{Type: "A", Name: "example.com"}},
		{Kind: conf.CheckUDP, Target: target, UDP: &conf.UDPCheck{RequireReply: true, MaxReplyLen: 255}, BindTo: netip.MustParseAddr("127.0.0.2")},
	} {
		if c.BindTo != (netip.Addr{}) {
			c.BindPort = 0
		} else {
			c.BindTo, c.BindPort = netip.MustParseAddr("127.0.0.2"), freePort(t)
		}
		c.ConnectTimeout = time.Second
		if err := NewChecker(c).Check(context.Background()); err != nil {
			t.Fatalf("%s from %s:%d: %v", c.Kind, c.BindTo, c.BindPort, err)
		}
		got := netip.MustParseAddrPort(<-src)
		if got.Addr() != c.BindTo || (c.BindPort != 0 && got.Port() != c.BindPort) {
			t.Errorf("%s: server saw %v, want %s:%d", c.Kind, got, c.BindTo, c.BindPort)
		}
	}
}

// TestBindToNotLocal: a bindto the host does not have fails every kind of
// check, and the error says so.
func TestBindToNotLocal(t *testing.T) {
	target := netip.MustParseAddrPort("127.0.0.1:9") // never reached
	for _, c := range []conf.Check{
		{Kind: conf.CheckTCP},
		{Kind: conf.CheckMySQL, MySQL: &conf.MySQLCheck{User: "u"}},
		{Kind: conf.CheckHTTP, HTTP: &conf.HTTPCheck{Path: "/", StatusCodes: []int{200}}},
		{Kind: conf.CheckSSL, HTTP: &conf.HTTPCheck{Path: "/", StatusCodes: []int{200}}},
		{Kind: conf.CheckUDP, UDP: &conf.UDPCheck{MaxReplyLen: 255}},
		{Kind: conf.CheckDNS, DNS: &conf.DNSCheck{Type: "SOA", Name: "."}},
	} {
		c.Target, c.ConnectTimeout = target, time.Second
		c.BindTo = netip.MustParseAddr("192.0.2.55")
		err := NewChecker(c).Check(context.Background())
		if err == nil || !strings.Contains(err.Error(), "bind: cannot assign requested address (bindto 192.0.2.55: not an address of this host)") {
			t.Errorf("%s: err = %v", c.Kind, err)
		}
	}
}

// TestBindToProbeID: identical probes fan out only when their source is
// the same too.
func TestBindToProbeID(t *testing.T) {
	a := conf.Check{Kind: conf.CheckTCP, Target: netip.MustParseAddrPort("198.51.100.10:80"), BindTo: netip.MustParseAddr("198.51.100.2")}
	b := a
	if probeID(a) != probeID(b) {
		t.Error("same checks, different probe ids")
	}
	b.BindTo = netip.MustParseAddr("198.51.100.3")
	if probeID(a) == probeID(b) {
		t.Error("another bindto, same probe id")
	}
	b = a
	b.BindPort = 4000
	if probeID(a) == probeID(b) {
		t.Error("another bind_port, same probe id")
	}
}
