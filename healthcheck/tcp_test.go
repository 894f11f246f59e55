package healthcheck

import (
	"context"
	"errors"
	"net"
	"net/netip"
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
