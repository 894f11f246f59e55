package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// boundDialer dials from a fixed source: keepalived's bindto and bind_port
// (socket_bind_connect in its layer4.c binds before connecting, as
// net.Dialer does with LocalAddr).
type boundDialer struct {
	d   net.Dialer
	src netip.AddrPort // what the check asked for; the port may be 0
}

// sourceDialer is the dialer of a probe of c over network ("tcp" or "udp")
// when c has bindto or bind_port, nil when it has neither: the checkers
// then keep their own path (tcp_check's is cheaper than net.Dialer's).
func sourceDialer(c conf.Check, network string) *boundDialer {
	if !c.BindTo.IsValid() && c.BindPort == 0 {
		return nil
	}
	addr := c.BindTo
	if !addr.IsValid() {
		// bind_port alone: any address of the target's family.
		addr = netip.IPv6Unspecified()
		if c.Target.Addr().Unmap().Is4() {
			addr = netip.IPv4Unspecified()
		}
	}
	src := netip.AddrPortFrom(addr, c.BindPort)
	b := &boundDialer{src: src}
	if network == "udp" {
		b.d.LocalAddr = net.UDPAddrFromAddrPort(src)
	} else {
		b.d.LocalAddr = net.TCPAddrFromAddrPort(src)
	}
	if c.BindPort != 0 {
		tcp := network != "udp"
		b.d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				// Every probe binds the same port: reuse it at once.
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
				if serr == nil && tcp {
					// Closing with a reset leaves no TIME_WAIT on the
					// (source, target) pair, which would refuse the
					// next probe's connect for a minute.
					serr = syscall.SetsockoptLinger(int(fd), syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 0})
				}
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	return b
}

// DialContext dials address from the bound source. A source the host does
// not have is named in the error, which `lvsd status` shows.
func (b *boundDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	conn, err := b.d.DialContext(ctx, network, address)
	// With a fixed bind_port the previous attempt's socket, on the same
	// (source, target) pair, may still be closing in another goroutine
	// (net/http's transport and the poller release it asynchronously):
	// connect then says EADDRNOTAVAIL for a few microseconds. Wait for it
	// rather than fail a retry that comes at once (delay_before_retry 0).
	for i := 0; err != nil && b.src.Port() != 0 && i < 20 && isConnectErr(err, syscall.EADDRNOTAVAIL); i++ {
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond):
			conn, err = b.d.DialContext(ctx, network, address)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err == nil {
		return conn, nil
	}
	var se *os.SyscallError
	if errors.As(err, &se) && se.Syscall == "bind" {
		what := "bindto " + b.src.Addr().String()
		if b.src.Port() != 0 {
			what = "bindto " + b.src.String()
		}
		switch {
		case errors.Is(err, syscall.EADDRNOTAVAIL):
			return nil, fmt.Errorf("%w (%s: not an address of this host)", err, what)
		case errors.Is(err, syscall.EADDRINUSE):
			return nil, fmt.Errorf("%w (%s: the port is taken by another socket)", err, what)
		}
		return nil, fmt.Errorf("%w (%s)", err, what)
	}
	return nil, err
}

// isConnectErr says whether err is errno from connect(2).
func isConnectErr(err error, errno syscall.Errno) bool {
	var se *os.SyscallError
	return errors.As(err, &se) && se.Syscall == "connect" && errors.Is(se.Err, errno)
}
