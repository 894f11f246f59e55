package healthcheck

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestTCPCheckerSuccess(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
		close(accepted)
	}()
	c := &TCPChecker{Target: netip.MustParseAddrPort(ln.Addr().String()), Timeout: 5 * time.Second}
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("Check = %v, want nil", err)
	}
	<-accepted
}

func TestTCPCheckerRefused(t *testing.T) {
	// Take a free port and close it: connects are refused at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	c := &TCPChecker{Target: addr, Timeout: 5 * time.Second}
	err = c.Check(context.Background())
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Check = %v, want ECONNREFUSED", err)
	}
}

func TestTCPCheckerExpiredContext(t *testing.T) {
	// A real listener, but the caller's deadline has already passed: the
	// check must fail with the deadline, not connect.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancel()
	c := &TCPChecker{Target: netip.MustParseAddrPort(ln.Addr().String()), Timeout: 5 * time.Second}
	if err := c.Check(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Check = %v, want DeadlineExceeded", err)
	}
}

// deadlineDialer records the context it was given and fails like a connect
// that timed out, without waiting.
type deadlineDialer struct {
	deadline time.Time
	ok       bool
	addr     string
}

func (d *deadlineDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	d.deadline, d.ok = ctx.Deadline()
	d.addr = address
	return nil, &net.OpError{Op: "dial", Net: network, Err: context.DeadlineExceeded}
}

func TestTCPCheckerTimeoutIsDeadline(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		parent  time.Duration // 0: no parent deadline
		want    time.Duration // expected deadline from now
	}{
		{"connect_timeout", 10 * time.Second, 0, 10 * time.Second},
		{"parent deadline shorter", 10 * time.Second, time.Second, time.Second},
		{"no timeout keeps parent", 0, 2 * time.Second, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			ctx := context.Background()
			if tc.parent > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.parent)
				defer cancel()
			}
			d := &deadlineDialer{}
			target := netip.MustParseAddrPort("127.0.0.1:3306")
			err := (&TCPChecker{Target: target, Timeout: tc.timeout, Dialer: d}).Check(ctx)
			after := time.Now()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Check = %v, want DeadlineExceeded", err)
			}
			if d.addr != "127.0.0.1:3306" {
				t.Errorf("dialed %q", d.addr)
			}
			if !d.ok {
				t.Fatal("dial context has no deadline")
			}
			// The deadline lies between before+want and after+want;
			// no assertion on elapsed time.
			if d.deadline.Before(before.Add(tc.want)) || d.deadline.After(after.Add(tc.want)) {
				t.Errorf("deadline %v not within [%v, %v]", d.deadline, before.Add(tc.want), after.Add(tc.want))
			}
		})
	}
}

// TestTCPCheckerHandshakeNeverCompletes: a listener whose accept queue is
// full drops SYNs, so the handshake never completes: the check ends at its
// timeout with "i/o timeout" (DeadlineExceeded), and at once on abort.
func TestTCPCheckerHandshakeNeverCompletes(t *testing.T) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	target := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(sa.(*syscall.SockaddrInet4).Port))
	// Fill the queue (never accepted).
	for range 3 {
		c, err := net.DialTimeout("tcp", target.String(), 200*time.Millisecond)
		if err == nil {
			defer c.Close()
		}
	}
	start := time.Now()
	err = (&TCPChecker{Target: target, Timeout: 300 * time.Millisecond}).Check(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "i/o timeout") {
		t.Fatalf("Check = %v, want i/o timeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v with a 300ms timeout", took)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	if err := (&TCPChecker{Target: target, Timeout: time.Hour}).Check(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("aborted Check = %v, want Canceled", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("abort took %v", took)
	}
}

func TestTCPCheckerIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	addr := netip.MustParseAddrPort(ln.Addr().String())
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if err := (&TCPChecker{Target: addr, Timeout: 5 * time.Second}).Check(context.Background()); err != nil {
		t.Fatalf("Check = %v", err)
	}
	ln.Close()
	if err := (&TCPChecker{Target: addr, Timeout: 5 * time.Second}).Check(context.Background()); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("closed: Check = %v, want ECONNREFUSED", err)
	}
}
