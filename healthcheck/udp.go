package healthcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"regexp"
	"syscall"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// UDPChecker is keepalived's UDP_CHECK (check_udp.c): one datagram with the
// payload goes to Target on a connected socket, so the kernel reports an
// ICMP port (or host) unreachable as an error on the next read: that is a
// failure. Without RequireReply, silence until the timeout is a success
// (UDP has no handshake: only a refusal says the port is closed), and so is
// any reply. With RequireReply a reply must come within the timeout, with a
// length in [MinReplyLen, MaxReplyLen], starting with Reply and matching
// ReplyRegex when they are set.
type UDPChecker struct {
	Target  netip.AddrPort
	Timeout time.Duration // connect_timeout; <= 0 leaves only ctx's deadline
	Spec    conf.UDPCheck
	// Dialer, when set, makes the socket (bindto, bind_port).
	Dialer ContextDialer
	re     *regexp.Regexp
	reErr  error
}

var _ Checker = (*UDPChecker)(nil)

// NewUDPChecker is the Checker of a udp_check block.
func NewUDPChecker(c conf.Check) *UDPChecker {
	u := &UDPChecker{Target: c.Target, Timeout: connectTimeout(c), Spec: conf.UDPCheck{MaxReplyLen: 255}}
	if d := sourceDialer(c, "udp"); d != nil {
		u.Dialer = d
	}
	if c.UDP != nil {
		u.Spec = *c.UDP
	}
	if u.Spec.ReplyRegex != "" {
		// conf checked it; a hand-built Spec gets the error per check.
		u.re, u.reErr = regexp.Compile(u.Spec.ReplyRegex)
	}
	return u
}

// Check sends the payload once and waits for a reply, an ICMP error or the
// timeout.
func (u *UDPChecker) Check(ctx context.Context) error {
	name := "udp_check " + u.Target.String()
	if u.reErr != nil {
		return fmt.Errorf("%s: reply_regex: %w", name, u.reErr)
	}
	if u.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, u.Timeout)
		defer cancel()
	}
	var d ContextDialer = &net.Dialer{}
	if u.Dialer != nil {
		d = u.Dialer
	}
	conn, err := d.DialContext(ctx, "udp", u.Target.String())
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer conn.Close()
	// The read below must end when ctx does, whatever its cause.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if _, err := conn.Write(u.Spec.Payload); err != nil {
		return fmt.Errorf("%s: send: %w", name, udpErr(err))
	}
	buf := make([]byte, max(u.Spec.MaxReplyLen, len(u.Spec.Reply))+1)
	n, err := conn.Read(buf)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s: %w", name, ctx.Err())
			}
			if !u.Spec.RequireReply {
				// No ICMP error in time: the port is taken to be open.
				return nil
			}
			return fmt.Errorf("%s: no reply within %v", name, u.Timeout)
		}
		return fmt.Errorf("%s: %w", name, udpErr(err))
	}
	if !u.Spec.RequireReply {
		return nil
	}
	return u.matchReply(buf[:n])
}

// matchReply applies require_reply's conditions to one reply.
func (u *UDPChecker) matchReply(b []byte) error {
	name := "udp_check " + u.Target.String()
	s := u.Spec
	// The read buffer holds MaxReplyLen+1 bytes: a longer datagram is
	// cut, so only "over" is known.
	if len(b) > s.MaxReplyLen {
		return fmt.Errorf("%s: reply over max_reply_length %d bytes", name, s.MaxReplyLen)
	}
	if len(b) < s.MinReplyLen {
		return fmt.Errorf("%s: reply of %d bytes, under min_reply_length %d", name, len(b), s.MinReplyLen)
	}
	if !bytes.HasPrefix(b, s.Reply) {
		return fmt.Errorf("%s: reply %q does not start with %x", name, clip(b), s.Reply)
	}
	if u.re != nil && !u.re.Match(b) {
		return fmt.Errorf("%s: reply %q does not match %q", name, clip(b), s.ReplyRegex)
	}
	return nil
}

// udpErr names the ICMP errors a connected UDP socket reports.
func udpErr(err error) error {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("port unreachable (ICMP): %w", err)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Errorf("unreachable (ICMP): %w", err)
	}
	return err
}

// clip shortens a reply for an error message.
func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
