package healthcheck

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Checker is one probe attempt against a real server. Check must return
// when ctx is done.
type Checker interface {
	Check(ctx context.Context) error
}

// WeightChecker is a Checker that also reports a weight on success
// (misc_check with misc_dynamic); weight < 0 means the configured one. The
// Manager calls CheckWeight instead of Check when a Checker has it.
type WeightChecker interface {
	Checker
	CheckWeight(ctx context.Context) (weight int, err error)
}

// ContextDialer is the part of *net.Dialer a TCPChecker uses; tests and
// callers that need a source address (keepalived's bindto) supply their own.
type ContextDialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// TCPChecker is keepalived's TCP_CHECK: a completed TCP handshake is a
// success; the connection is closed at once without sending data.
type TCPChecker struct {
	Target netip.AddrPort
	// Timeout bounds the connect (connect_timeout); <= 0 leaves only the
	// caller's deadline.
	Timeout time.Duration
	// Dialer defaults to a zero net.Dialer.
	Dialer ContextDialer
}

var _ Checker = (*TCPChecker)(nil)

// Check connects to Target once.
func (c *TCPChecker) Check(ctx context.Context) error {
	// The Manager's deadline is usually this very timeout: another timer
	// would only cost CPU at every check.
	if dl, ok := ctx.Deadline(); c.Timeout > 0 && (!ok || time.Until(dl) > c.Timeout) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	d := c.Dialer
	if d == nil {
		if err := probeConnect(ctx, c.Target); err != nil {
			return fmt.Errorf("tcp_check: %w", err)
		}
		return nil
	}
	conn, err := d.DialContext(ctx, "tcp", c.Target.String())
	if err != nil {
		// net.OpError already names the target; keep it (and its errno)
		// wrapped so errors.Is(err, syscall.ECONNREFUSED) works.
		return fmt.Errorf("tcp_check: %w", err)
	}
	// The handshake is the whole check. Close errors say nothing about the
	// server's health.
	_ = conn.Close()
	return nil
}
