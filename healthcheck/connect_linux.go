package healthcheck

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// probeConnect completes one TCP handshake with target and closes the
// socket, as keepalived's TCP_CHECK does, with fewer system calls than
// net.Dialer: no TCP_NODELAY or keepalive options, no getsockname or
// getpeername, and no goroutine watching ctx (its deadline becomes the
// poller's). At 10,000 checks a second this is most of the checker's CPU.
// Errors are *net.OpError like the dialer's, so errors.Is(err,
// syscall.ECONNREFUSED) and the "dial tcp ADDR: connect: ..." text hold.
func probeConnect(ctx context.Context, target netip.AddrPort) error {
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(target), Err: err}
	}
	if err := ctx.Err(); err != nil {
		return opErr(err)
	}
	family, sa := syscall.AF_INET6, syscall.Sockaddr(nil)
	if a := target.Addr().Unmap(); a.Is4() {
		family, sa = syscall.AF_INET, &syscall.SockaddrInet4{Port: int(target.Port()), Addr: a.As4()}
	} else {
		sa6 := &syscall.SockaddrInet6{Port: int(target.Port()), Addr: a.As16()}
		if z := a.Zone(); z != "" {
			if ifi, err := net.InterfaceByName(z); err == nil {
				sa6.ZoneId = uint32(ifi.Index)
			}
		}
		sa = sa6
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_TCP)
	if err != nil {
		return opErr(os.NewSyscallError("socket", err))
	}
	err = syscall.Connect(fd, sa)
	switch {
	case err == nil:
		// Connected at once (possible on loopback).
		syscall.Close(fd)
		return nil
	case !errors.Is(err, syscall.EINPROGRESS):
		syscall.Close(fd)
		return opErr(os.NewSyscallError("connect", err))
	}
	// The runtime poller waits for the handshake: os.NewFile registers a
	// non-blocking descriptor with it.
	f := os.NewFile(uintptr(fd), "tcp_check")
	defer f.Close()
	// ctx's end, deadline or abort, ends the wait: one timer (ctx's) per
	// check rather than a second one on the descriptor.
	stop := context.AfterFunc(ctx, func() { _ = f.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	rc, err := f.SyscallConn()
	if err != nil {
		return opErr(err)
	}
	var soErr error
	first := true
	werr := rc.Write(func(fd uintptr) bool {
		v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
		if err != nil {
			soErr = os.NewSyscallError("getsockopt", err)
			return true
		}
		switch e := syscall.Errno(v); e {
		case 0, syscall.EISCONN:
			if first {
				// Called before any wait (Write clears a readiness
				// seen earlier): no error yet may mean "in
				// progress"; only a peer address says connected.
				first = false
				if _, err := syscall.Getpeername(int(fd)); errors.Is(err, syscall.ENOTCONN) {
					return false
				}
			}
			return true
		case syscall.EINPROGRESS, syscall.EALREADY, syscall.EINTR:
			return false
		default:
			soErr = os.NewSyscallError("connect", e)
			return true
		}
	})
	if werr != nil {
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return opErr(ctx.Err())
		}
		if errors.Is(werr, os.ErrDeadlineExceeded) || ctx.Err() != nil {
			// As net.Dialer: "i/o timeout", and errors.Is(err,
			// context.DeadlineExceeded) holds for the caller.
			return opErr(errDialTimeout{})
		}
		return opErr(werr)
	}
	if soErr != nil {
		return opErr(soErr)
	}
	return nil
}

// errDialTimeout is a connect that ran out of time: "i/o timeout", a
// net.Error with Timeout, and context.DeadlineExceeded for errors.Is.
type errDialTimeout struct{}

func (errDialTimeout) Error() string   { return "i/o timeout" }
func (errDialTimeout) Timeout() bool   { return true }
func (errDialTimeout) Temporary() bool { return true }
func (errDialTimeout) Is(err error) bool {
	return err == context.DeadlineExceeded || err == os.ErrDeadlineExceeded
}
