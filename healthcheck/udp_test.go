package healthcheck

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// udpServer answers each datagram with reply(datagram); nil = silence.
func udpServer(t *testing.T, reply func([]byte) [][]byte) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			for _, r := range reply(append([]byte(nil), buf[:n]...)) {
				_, _ = pc.WriteTo(r, from)
			}
		}
	}()
	return netip.MustParseAddrPort(pc.LocalAddr().String())
}

// closedUDPPort is a port nothing listens on: the kernel answers ICMP port
// unreachable.
func closedUDPPort(t *testing.T) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort(pc.LocalAddr().String())
	pc.Close()
	return addr
}

func udpCheck(target netip.AddrPort, timeout time.Duration, spec conf.UDPCheck) *UDPChecker {
	return NewUDPChecker(conf.Check{Kind: conf.CheckUDP, Target: target, ConnectTimeout: timeout, UDP: &spec})
}

func TestUDPChecker(t *testing.T) {
	got := make(chan []byte, 10)
	echo := udpServer(t, func(b []byte) [][]byte { got <- b; return [][]byte{append([]byte("ok:"), b...)} })
	silent := udpServer(t, func(b []byte) [][]byte { got <- b; return nil })
	closed := closedUDPPort(t)
	const short = 300 * time.Millisecond
	for _, tc := range []struct {
		name   string
		target netip.AddrPort
		spec   conf.UDPCheck
		want   string // "" = up
	}{
		{"silence is up without require_reply", silent, conf.UDPCheck{Payload: []byte("ping"), MaxReplyLen: 255}, ""},
		{"a reply is up without require_reply", echo, conf.UDPCheck{Payload: []byte("ping"), MaxReplyLen: 255}, ""},
		{"port unreachable", closed, conf.UDPCheck{Payload: []byte("ping"), MaxReplyLen: 255}, "port unreachable (ICMP)"},
		{"port unreachable with require_reply", closed, conf.UDPCheck{RequireReply: true, MaxReplyLen: 255}, "port unreachable (ICMP)"},
		{"no reply", silent, conf.UDPCheck{RequireReply: true, MaxReplyLen: 255}, "no reply within 300ms"},
		{"any reply", echo, conf.UDPCheck{Payload: []byte{1}, RequireReply: true, MaxReplyLen: 255}, ""},
		{"reply prefix", echo, conf.UDPCheck{Payload: []byte("x"), RequireReply: true, Reply: []byte("ok:x"), MaxReplyLen: 255}, ""},
		{"reply prefix mismatch", echo, conf.UDPCheck{Payload: []byte("x"), RequireReply: true, Reply: []byte("ok:y"), MaxReplyLen: 255}, `reply "ok:x" does not start with 6f6b3a79`},
		{"reply regex", echo, conf.UDPCheck{Payload: []byte("state=up"), RequireReply: true, ReplyRegex: `state=(up|donor)$`, MaxReplyLen: 255}, ""},
		{"reply regex mismatch", echo, conf.UDPCheck{Payload: []byte("state=down"), RequireReply: true, ReplyRegex: `state=(up|donor)$`, MaxReplyLen: 255}, `does not match "state=(up|donor)$"`},
		{"reply too short", echo, conf.UDPCheck{Payload: []byte("x"), RequireReply: true, MinReplyLen: 10, MaxReplyLen: 255}, "reply of 4 bytes, under min_reply_length 10"},
		{"reply too long", echo, conf.UDPCheck{Payload: []byte("xyz"), RequireReply: true, MaxReplyLen: 5}, "reply over max_reply_length 5 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := udpCheck(tc.target, short, tc.spec).Check(context.Background())
			if took := time.Since(start); took > short+2*time.Second {
				t.Errorf("took %v, timeout %v", took, short)
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Check = %v, want up", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Check = %v, want %q", err, tc.want)
			}
			if tc.target != closed {
				select {
				case b := <-got:
					if !bytes.Equal(b, tc.spec.Payload) {
						t.Errorf("server got %q, want the payload %q", b, tc.spec.Payload)
					}
				case <-time.After(2 * time.Second):
					t.Error("server got nothing")
				}
			}
		})
	}
}

func TestUDPCheckerRefusedIsFast(t *testing.T) {
	// The ICMP error ends the check: it does not wait for the timeout.
	start := time.Now()
	err := udpCheck(closedUDPPort(t), 5*time.Second, conf.UDPCheck{MaxReplyLen: 255}).Check(context.Background())
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Check = %v, want ECONNREFUSED", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("refusal took %v", took)
	}
}

// A hostile UDP server (garbage, floods of replies, silence) never holds a
// check past its timeout or past the caller's cancellation.
func TestUDPCheckerHostile(t *testing.T) {
	flood := udpServer(t, func([]byte) [][]byte {
		out := make([][]byte, 50)
		for i := range out {
			out[i] = bytes.Repeat([]byte{0xff}, 1000)
		}
		return out
	})
	silent := udpServer(t, func([]byte) [][]byte { return nil })
	const timeout = 300 * time.Millisecond
	err := udpCheck(flood, timeout, conf.UDPCheck{RequireReply: true, Reply: []byte("OK"), MaxReplyLen: 255}).Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "reply over max_reply_length 255 bytes") {
		t.Errorf("garbage flood: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err = udpCheck(silent, time.Hour, conf.UDPCheck{RequireReply: true, MaxReplyLen: 255}).Check(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("cancel took %v", took)
	}
	// The caller's deadline alone (no connect_timeout) bounds it too.
	ctx, cancel2 := context.WithTimeout(context.Background(), timeout)
	defer cancel2()
	start = time.Now()
	if err := udpCheck(silent, 0, conf.UDPCheck{RequireReply: true, MaxReplyLen: 255}).Check(ctx); err == nil {
		t.Error("silent server with require_reply passed")
	}
	if took := time.Since(start); took > timeout+2*time.Second {
		t.Errorf("deadline took %v", took)
	}
}
