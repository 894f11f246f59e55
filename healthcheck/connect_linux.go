package healthcheck

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"
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
	// The sockaddr as the kernel reads it (network byte order port).
	var sa4 syscall.RawSockaddrInet4
	var sa6 syscall.RawSockaddrInet6
	family, sa, salen := syscall.AF_INET6, unsafe.Pointer(&sa6), unsafe.Sizeof(sa6)
	port := target.Port()
	if a := target.Addr().Unmap(); a.Is4() {
		sa4 = syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: a.As4()}
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa4.Port))[:], port)
		family, sa, salen = syscall.AF_INET, unsafe.Pointer(&sa4), unsafe.Sizeof(sa4)
	} else {
		sa6 = syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Addr: a.As16()}
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa6.Port))[:], port)
		if z := a.Zone(); z != "" {
			if ifi, err := net.InterfaceByName(z); err == nil {
				sa6.Scope_id = uint32(ifi.Index)
			}
		}
	}
	// Raw system calls: these never block (the socket is non-blocking),
	// and telling the scheduler about each one lets its monitor hand the
	// P to another thread whenever a call outlasts 20 µs, which under
	// load or emulation costs more than the call itself.
	r, _, e := syscall.RawSyscall(syscall.SYS_SOCKET, uintptr(family), syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_TCP)
	if e != 0 {
		return opErr(os.NewSyscallError("socket", e))
	}
	fd := int(r)
	var err error
	if _, _, e := syscall.RawSyscall(syscall.SYS_CONNECT, uintptr(fd), uintptr(sa), salen); e != 0 {
		err = e
	}
	runtime.KeepAlive(&sa4)
	runtime.KeepAlive(&sa6)
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
		var v int32
		vlen := uint32(4)
		if _, _, e := syscall.RawSyscall6(syscall.SYS_GETSOCKOPT, fd, syscall.SOL_SOCKET, syscall.SO_ERROR,
			uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&vlen)), 0); e != 0 {
			soErr = os.NewSyscallError("getsockopt", e)
			return true
		}
		switch e := syscall.Errno(v); e {
		case 0, syscall.EISCONN:
			if first {
				// Called before any wait (Write clears a readiness
				// seen earlier): no error yet may mean "in
				// progress"; only a peer address says connected.
				first = false
				var peer syscall.RawSockaddrAny
				plen := uint32(unsafe.Sizeof(peer))
				if _, _, e := syscall.RawSyscall(syscall.SYS_GETPEERNAME, fd, uintptr(unsafe.Pointer(&peer)), uintptr(unsafe.Pointer(&plen))); e == syscall.ENOTCONN {
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
