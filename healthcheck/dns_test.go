package healthcheck

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// dnsReply turns a query into a response by hand (RFC 1035 section 4.1.1):
// QR set, the given RCODE, the question echoed, no records.
func dnsReply(q []byte, rcode byte) []byte {
	r := append([]byte(nil), q...)
	r[2] |= 0x80 // QR
	r[3] = r[3]&0xf0 | rcode
	return r
}

func dnsCheck(target netip.AddrPort, timeout time.Duration, typ, name string) *DNSChecker {
	return NewDNSChecker(conf.Check{Kind: conf.CheckDNS, Target: target, ConnectTimeout: timeout, DNS: &conf.DNSCheck{Type: typ, Name: name}})
}

func TestDNSQueryWire(t *testing.T) {
	// The exact bytes of "example.com. IN AAAA", RD, ID 0x1234.
	b, err := appendDNSQuery(nil, 0x1234, "Example.com.", 28)
	if err != nil {
		t.Fatal(err)
	}
	want := "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07Example\x03com\x00\x00\x1c\x00\x01"
	if string(b) != want {
		t.Errorf("query %q\nwant  %q", b, want)
	}
	root, _ := appendDNSQuery(nil, 1, ".", 6)
	if string(root[12:]) != "\x00\x00\x06\x00\x01" {
		t.Errorf("root query %q", root[12:])
	}
	if _, err := appendDNSQuery(nil, 1, "a..b", 1); err == nil {
		t.Error("a..b accepted")
	}
}

func TestParseDNSMessage(t *testing.T) {
	q, _ := appendDNSQuery(nil, 7, "ns1.example.com", 1)
	for _, tc := range []struct {
		name string
		in   []byte
		want dnsMessage
		err  string
	}{
		{"query", q, dnsMessage{ID: 7, QD: 1, QName: "ns1.example.com", QType: 1, QClass: 1, hasQuestion: true}, ""},
		{"response", dnsReply(q, 3), dnsMessage{ID: 7, Response: true, Rcode: 3, QD: 1, QName: "ns1.example.com", QType: 1, QClass: 1, hasQuestion: true}, ""},
		{"header only", q[:12], dnsMessage{ID: 7, QD: 1}, "too short"},
		{"short", q[:5], dnsMessage{}, "too short"},
		{"no question", []byte{0, 1, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0}, dnsMessage{ID: 1, Response: true}, ""},
		{"truncated label", q[:20], dnsMessage{}, "too short"},
		{"pointer loop", []byte{0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1}, dnsMessage{}, "does not point backwards"},
		{"bad label type", []byte{0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 1, 0, 1}, dnsMessage{}, "label type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseDNSMessage(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || m != tc.want {
				t.Fatalf("got %+v, %v\nwant %+v", m, err, tc.want)
			}
		})
	}
}

// FuzzParseDNSMessage: the parser never panics nor reads past the message,
// names stay within 255 bytes, and a query it builds parses back.
func FuzzParseDNSMessage(f *testing.F) {
	q, _ := appendDNSQuery(nil, 0xbeef, "a.example.org", 28)
	f.Add(q)
	f.Add(dnsReply(q, 2))
	f.Add([]byte{0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1})
	f.Add([]byte{0, 9, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'c', 'o', 'm', 0, 1, 'x', 0xc0, 12, 0, 2, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseDNSMessage(b)
		if err != nil {
			return
		}
		if len(m.QName) > 255 {
			t.Fatalf("name of %d bytes", len(m.QName))
		}
		if m.ID != binary.BigEndian.Uint16(b) {
			t.Fatalf("ID %d", m.ID)
		}
		// Any valid name round-trips through a query.
		if m.hasQuestion && conf.ValidDNSName(m.QName) == nil {
			q, err := appendDNSQuery(nil, m.ID, m.QName, m.QType)
			if err != nil {
				t.Fatal(err)
			}
			back, err := parseDNSMessage(q)
			if err != nil || !strings.EqualFold(back.QName, m.QName) || back.QType != m.QType || back.ID != m.ID {
				t.Fatalf("round trip of %q: %+v, %v", m.QName, back, err)
			}
		}
	})
}

func TestDNSChecker(t *testing.T) {
	const short = 300 * time.Millisecond
	noerror := udpServer(t, func(q []byte) [][]byte { return [][]byte{dnsReply(q, 0)} })
	nxdomain := udpServer(t, func(q []byte) [][]byte { return [][]byte{dnsReply(q, 3)} })
	// Unrelated datagrams first (garbage, a wrong ID, a query, another
	// question), then the answer: keepalived skips what is not a response.
	noisy := udpServer(t, func(q []byte) [][]byte {
		wrongID := dnsReply(q, 2)
		wrongID[0]++
		other := dnsReply(q, 2)
		other[len(other)-3] = 99 // QTYPE
		return [][]byte{[]byte("garbage"), wrongID, q, other, dnsReply(q, 0)}
	})
	garbage := udpServer(t, func(q []byte) [][]byte { return [][]byte{[]byte("\xff\xff\xff"), q} })
	silent := udpServer(t, func([]byte) [][]byte { return nil })
	for _, tc := range []struct {
		name   string
		target netip.AddrPort
		want   string
	}{
		{"noerror", noerror, ""},
		{"nxdomain", nxdomain, "response code NXDOMAIN"},
		{"noise then answer", noisy, ""},
		{"garbage only", garbage, "no response within 300ms (2 unrelated datagrams skipped)"},
		{"silent", silent, "no response within 300ms"},
		{"port unreachable", closedUDPPort(t), "port unreachable (ICMP)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := dnsCheck(tc.target, short, "A", "www.example.com").Check(context.Background())
			if took := time.Since(start); took > short+2*time.Second {
				t.Errorf("took %v", took)
			}
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Check = %v, want %q", err, tc.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if err := dnsCheck(silent, time.Hour, "SOA", ".").Check(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled check: %v", err)
	}
}

// TestDNSCheckerDnsmasq runs the checker against a real DNS server,
// dnsmasq, on loopback: a name it serves is up; a name it says does not
// exist, or one it refuses (no upstream to forward to), is down with the
// server's code.
func TestDNSCheckerDnsmasq(t *testing.T) {
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/dnsmasq"); err != nil {
			t.Skip("dnsmasq not installed (Debian package dnsmasq-base, in make deps)")
		}
		bin = "/usr/sbin/dnsmasq"
	}
	// The free port is picked before dnsmasq binds it, so another test may
	// take it in between ("Address already in use"): dnsmasq then exits,
	// and a new port is tried.
	var target netip.AddrPort
	for attempt := 1; ; attempt++ {
		port := closedUDPPort(t).Port()
		cmd := exec.Command(bin, "--keep-in-foreground", "--no-hosts", "--no-resolv", "--conf-file=/dev/null",
			"--listen-address=127.0.0.1", "--bind-interfaces", "--port="+strconv.Itoa(int(port)),
			"--user=root", "--pid-file=", "--log-facility=-",
			"--address=/up.example.test/192.0.2.10", "--host-record=ns1.example.test,192.0.2.53",
			"--address=/down.example.test/")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); <-exited })
		target = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
		// Wait until it answers.
		deadline := time.Now().Add(10 * time.Second)
		answered := false
		for !answered {
			select {
			case err := <-exited:
				exited <- err // for the cleanup
				if attempt == 5 {
					t.Fatalf("dnsmasq exited 5 times (%v)", err)
				}
				t.Logf("dnsmasq on port %d exited (%v); trying another port", port, err)
			default:
			}
			if len(exited) > 0 {
				break
			}
			if dnsCheck(target, 200*time.Millisecond, "A", "up.example.test").Check(context.Background()) == nil {
				answered = true
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("dnsmasq never answered")
			}
			time.Sleep(50 * time.Millisecond)
		}
		if answered {
			break
		}
	}
	for _, tc := range []struct{ typ, name, want string }{
		{"A", "up.example.test", ""},
		{"a", "UP.example.test.", ""},
		{"A", "ns1.example.test", ""},
		{"AAAA", "up.example.test", "response code REFUSED"},
		{"A", "down.example.test", "response code NXDOMAIN"},
		{"A", "elsewhere.invalid", "response code REFUSED"},
	} {
		err := dnsCheck(target, 2*time.Second, strings.ToUpper(tc.typ), tc.name).Check(context.Background())
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s %s: %v, want %q", tc.typ, tc.name, err, tc.want)
		}
	}
}
