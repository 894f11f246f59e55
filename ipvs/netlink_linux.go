package ipvs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync/atomic"
	"syscall"

	mipvs "github.com/moby/ipvs"
	"github.com/vishvananda/netlink/nl"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// The batched write path. moby/ipvs sends one generic netlink request per
// call and waits for its ack: two system calls and, under the kernel's
// genl mutex, one trip through the IPVS control path per entry. netlink
// takes many messages per sendmsg: netlink_rcv_skb walks them all in the
// sender's context, acks each failing one (an nlmsgerr carrying the
// request's sequence number, which maps the error back to its op) and each
// one flagged NLM_F_ACK, and goes on with the next. So only the last
// message of a batch asks for an ack: when it arrives, every message before
// it has been processed and the error acks among them, if any, were queued
// before it. A batch costs one sendmsg and one recvmsg plus one per
// failure, instead of two system calls and a wakeup per entry. The attributes are encoded as moby/ipvs encodes them (same
// types, same byte order, same nesting), so both paths program the same
// table; batch_linux_test.go compares the two encodings.

// IPVS generic netlink commands and attributes (linux/ip_vs.h).
const (
	ipvsCmdNewService = 1
	ipvsCmdSetService = 2
	ipvsCmdDelService = 3
	ipvsCmdNewDest    = 5
	ipvsCmdSetDest    = 6
	ipvsCmdDelDest    = 7

	ipvsCmdAttrService = 1
	ipvsCmdAttrDest    = 2

	ipvsSvcAttrAF        = 1
	ipvsSvcAttrProtocol  = 2
	ipvsSvcAttrAddr      = 3
	ipvsSvcAttrPort      = 4
	ipvsSvcAttrFWMark    = 5
	ipvsSvcAttrSchedName = 6
	ipvsSvcAttrFlags     = 7
	ipvsSvcAttrTimeout   = 8
	ipvsSvcAttrNetmask   = 9
	ipvsSvcAttrPEName    = 11

	ipvsDestAttrAddr       = 1
	ipvsDestAttrPort       = 2
	ipvsDestAttrFwdMethod  = 3
	ipvsDestAttrWeight     = 4
	ipvsDestAttrUThreshold = 5
	ipvsDestAttrLThreshold = 6

	// ipvsGenlVersion is IPVS_GENL_VERSION.
	ipvsGenlVersion = 1
)

// Batch sizing. Each message is ~100 bytes, so a batch is one sendmsg of
// ~25 KiB; its acks (one skb each) must all fit in the receive buffer,
// which batchConn raises to batchRcvBuf, or the kernel drops acks
// (ENOBUFS) and the outcome of some ops is unknown.
const (
	batchMaxMsgs  = 256
	batchMaxBytes = 64 << 10
	batchRcvBuf   = 8 << 20
)

// batchConn is a generic netlink socket of its own (moby/ipvs keeps its
// socket private) in the table's network namespace.
type batchConn struct {
	sock   *nl.NetlinkSocket
	family uint16
	pid    uint32
	seq    uint32
	buf    []byte // encode buffer, reused
	rbuf   []byte // receive buffer, reused
	// Counters for the benchmark and tests: sendmsg and recvmsg calls,
	// messages sent.
	sends, recvs, msgs atomic.Uint64
}

func newBatchConn(nsPath string, family uint16) (*batchConn, error) {
	ns := vnetns.None()
	if nsPath != "" {
		var err error
		if ns, err = vnetns.GetFromPath(nsPath); err != nil {
			return nil, err
		}
		defer ns.Close()
	}
	sock, err := nl.GetNetlinkSocketAt(ns, vnetns.None(), unix.NETLINK_GENERIC)
	if err != nil {
		return nil, err
	}
	fd := sock.GetFd()
	// RCVBUFFORCE passes the rmem_max cap with CAP_NET_ADMIN, which a
	// director has; without it fall back to what the sysctl allows.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, batchRcvBuf); err != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, batchRcvBuf)
	}
	// Extended acks would echo nothing we use; a capped ack (no copy of
	// the request) keeps the receive buffer small.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	tv := unix.Timeval{Sec: 30}
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	pid, err := sock.GetPid()
	if err != nil {
		sock.Close()
		return nil, err
	}
	return &batchConn{sock: sock, family: family, pid: pid, rbuf: make([]byte, 1<<20)}, nil
}

func (c *batchConn) close() { c.sock.Close() }

// ApplyBatch applies ops in batches of many netlink messages per sendmsg
// (see BatchApplier). Errors name their op and wrap the kernel's errno.
func (n *Netlink) ApplyBatch(ops []Op) []error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.b == nil {
		errs := make([]error, len(ops))
		for i, o := range ops {
			errs[i] = opError(o, net.ErrClosed)
		}
		return errs
	}
	errs := n.b.apply(ops)
	for i, err := range errs {
		if err != nil && !errors.Is(err, ErrSkipped) {
			errs[i] = opError(ops[i], err)
		}
	}
	return errs
}

// NetlinkCounters are the batched path's system calls, for the benchmark.
type NetlinkCounters struct{ Sends, Recvs, Msgs uint64 }

// Counters returns how many sendmsg and recvmsg calls the batched path
// made and how many messages it sent.
func (n *Netlink) Counters() NetlinkCounters {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.b == nil {
		return NetlinkCounters{}
	}
	return NetlinkCounters{Sends: n.b.sends.Load(), Recvs: n.b.recvs.Load(), Msgs: n.b.msgs.Load()}
}

// apply sends ops in batches and returns one error per op (nil on success),
// each the kernel's errno or ErrSkipped.
func (c *batchConn) apply(ops []Op) []error {
	errs := make([]error, len(ops))
	failedAdd := map[Key]bool{}
	for start := 0; start < len(ops); {
		c.buf = c.buf[:0]
		base := c.seq + 1
		var sent []int // op index by seq - base
		i := start
		for ; i < len(ops) && len(sent) < batchMaxMsgs && len(c.buf) < batchMaxBytes; i++ {
			o := ops[i]
			if o.Kind != AddService && failedAdd[o.Service.Key] {
				errs[i] = opError(o, ErrSkipped)
				continue
			}
			n := len(c.buf)
			var err error
			if c.buf, err = appendOpMsg(c.buf, c.family, base+uint32(len(sent)), c.pid, o); err != nil {
				c.buf = c.buf[:n]
				errs[i] = err
				continue
			}
			sent = append(sent, i)
		}
		start = i
		if len(sent) == 0 {
			continue
		}
		c.seq = base + uint32(len(sent)) - 1
		for i, err := range c.exchange(base, len(sent)) {
			errs[sent[i]] = err
		}
		// A service add that failed here makes the later ops on its
		// destinations pointless; those in this batch already failed
		// with ESRCH and are reported as skipped instead.
		for _, i := range sent {
			if ops[i].Kind == AddService && errs[i] != nil {
				failedAdd[ops[i].Service.Key] = true
			}
		}
		for _, i := range sent {
			if o := ops[i]; o.Kind != AddService && failedAdd[o.Service.Key] && errs[i] != nil {
				errs[i] = opError(o, ErrSkipped)
			}
		}
	}
	return errs
}

// exchange sends the encoded messages in c.buf (seqs base..base+n-1) in one
// sendmsg, the last one flagged NLM_F_ACK, and reads until that ack: every
// error ack before it is the failure of the op its sequence number names.
func (c *batchConn) exchange(base uint32, n int) []error {
	errs := make([]error, n)
	fail := func(err error) []error {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return errs
	}
	fd := c.sock.GetFd()
	if fd < 0 {
		return fail(net.ErrClosed)
	}
	setAck(c.buf, n-1)
	c.sends.Add(1)
	c.msgs.Add(uint64(n))
	if err := unix.Sendto(fd, c.buf, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fail(os.NewSyscallError("sendto", err))
	}
	for {
		m, _, err := unix.Recvfrom(fd, c.rbuf, 0)
		c.recvs.Add(1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			// ENOBUFS: acks were dropped, so the outcome of the ops
			// without an error ack is not known; the next dump tells.
			return fail(fmt.Errorf("outcome unknown: %w", os.NewSyscallError("recvfrom", err)))
		}
		msgs, err := syscall.ParseNetlinkMessage(c.rbuf[:m])
		if err != nil {
			return fail(err)
		}
		for _, msg := range msgs {
			i := int(msg.Header.Seq - base)
			if msg.Header.Type != unix.NLMSG_ERROR || i < 0 || i >= n || len(msg.Data) < 4 {
				continue // not an ack of this batch (a late one of an earlier, failed exchange)
			}
			if code := int32(binary.NativeEndian.Uint32(msg.Data[:4])); code < 0 {
				errs[i] = unix.Errno(-code)
			}
			if i == n-1 {
				return errs
			}
		}
	}
}

// setAck sets NLM_F_ACK on the i-th message of the encoded batch b.
func setAck(b []byte, i int) {
	off := 0
	for ; i > 0; i-- {
		off += int(binary.NativeEndian.Uint32(b[off:]))
	}
	flags := binary.NativeEndian.Uint16(b[off+6:])
	binary.NativeEndian.PutUint16(b[off+6:], flags|unix.NLM_F_ACK)
}

// appendOpMsg appends one complete netlink message (nlmsghdr, genlmsghdr,
// attributes) for o.
func appendOpMsg(b []byte, family uint16, seq, pid uint32, o Op) ([]byte, error) {
	ms, err := toMobyService(o.Service)
	if err != nil {
		return b, err
	}
	var md *mipvs.Destination
	if o.Kind.isDest() {
		if md, err = toMobyDest(o.Dest); err != nil {
			return b, err
		}
	}
	var cmd uint8
	switch o.Kind {
	case AddService:
		cmd = ipvsCmdNewService
	case UpdateService:
		cmd = ipvsCmdSetService
	case DeleteService:
		cmd = ipvsCmdDelService
	case AddDest:
		cmd = ipvsCmdNewDest
	case UpdateDest:
		cmd = ipvsCmdSetDest
	case DeleteDest:
		cmd = ipvsCmdDelDest
	default:
		return b, fmt.Errorf("unknown op kind %d: %w", int(o.Kind), unix.EINVAL)
	}
	return appendMsg(b, family, seq, pid, cmd, ms, md, false), nil
}

// appendMsg encodes one IPVS request the way moby/ipvs's doCmd does: genl
// version 1, the service nested in IPVS_CMD_ATTR_SERVICE and the
// destination, if any, in IPVS_CMD_ATTR_DEST. moby always sets NLM_F_ACK;
// here ack says whether to (see exchange).
func appendMsg(b []byte, family uint16, seq, pid uint32, cmd uint8, s *mipvs.Service, d *mipvs.Destination, ack bool) []byte {
	start := len(b)
	flags := uint16(unix.NLM_F_REQUEST)
	if ack {
		flags |= unix.NLM_F_ACK
	}
	b = binary.NativeEndian.AppendUint32(b, 0) // nlmsg_len, set below
	b = binary.NativeEndian.AppendUint16(b, family)
	b = binary.NativeEndian.AppendUint16(b, flags)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, pid)
	b = append(b, cmd, ipvsGenlVersion, 0, 0)
	b = appendService(b, s)
	if d != nil {
		b = appendDest(b, d)
	}
	binary.NativeEndian.PutUint32(b[start:], uint32(len(b)-start))
	return b
}

// appendService is moby/ipvs's fillService: family, then either the fwmark
// or protocol, address and port (network order), scheduler, optional
// persistence engine, flags with a full mask, timeout and netmask.
func appendService(b []byte, s *mipvs.Service) []byte {
	nest := len(b)
	b = appendAttrHdr(b, ipvsCmdAttrService)
	b = appendU16Attr(b, ipvsSvcAttrAF, s.AddressFamily)
	if s.FWMark != 0 {
		b = appendU32Attr(b, ipvsSvcAttrFWMark, s.FWMark)
	} else {
		b = appendU16Attr(b, ipvsSvcAttrProtocol, s.Protocol)
		b = appendAttr(b, ipvsSvcAttrAddr, rawIP(s.Address))
		b = appendAttr(b, ipvsSvcAttrPort, binary.BigEndian.AppendUint16(nil, s.Port))
	}
	b = appendAttr(b, ipvsSvcAttrSchedName, append([]byte(s.SchedName), 0))
	if s.PEName != "" {
		b = appendAttr(b, ipvsSvcAttrPEName, append([]byte(s.PEName), 0))
	}
	var flags [8]byte // struct ip_vs_flags { __u32 flags; __u32 mask; }
	binary.NativeEndian.PutUint32(flags[:4], s.Flags)
	binary.NativeEndian.PutUint32(flags[4:], 0xffffffff)
	b = appendAttr(b, ipvsSvcAttrFlags, flags[:])
	b = appendU32Attr(b, ipvsSvcAttrTimeout, s.Timeout)
	// Netmask as moby sends it: a native-endian u32. toMobyService has
	// already arranged the bytes so the kernel reads a __be32 IPv4 mask.
	b = appendU32Attr(b, ipvsSvcAttrNetmask, s.Netmask)
	return endNest(b, nest)
}

// appendDest is moby/ipvs's fillDestination: address, port (network
// order), forwarding method, weight and thresholds as u32.
func appendDest(b []byte, d *mipvs.Destination) []byte {
	nest := len(b)
	b = appendAttrHdr(b, ipvsCmdAttrDest)
	b = appendAttr(b, ipvsDestAttrAddr, rawIP(d.Address))
	b = appendAttr(b, ipvsDestAttrPort, binary.BigEndian.AppendUint16(nil, d.Port))
	b = appendU32Attr(b, ipvsDestAttrFwdMethod, d.ConnectionFlags&mipvs.ConnectionFlagFwdMask)
	b = appendU32Attr(b, ipvsDestAttrWeight, uint32(d.Weight))
	b = appendU32Attr(b, ipvsDestAttrUThreshold, d.UpperThreshold)
	b = appendU32Attr(b, ipvsDestAttrLThreshold, d.LowerThreshold)
	return endNest(b, nest)
}

// rawIP is an IPv4 address as 4 bytes, anything else as 16.
func rawIP(ip net.IP) []byte {
	if v4 := ip.To4(); v4 != nil {
		return v4
	}
	return ip.To16()
}

// Attributes: struct nlattr { u16 len; u16 type; } then the value, padded
// to 4 bytes (NLA_ALIGN). As in moby/ipvs, nests carry no NLA_F_NESTED;
// IPVS parses them with nla_parse_nested_deprecated, which accepts both.
func appendAttrHdr(b []byte, typ uint16) []byte {
	b = binary.NativeEndian.AppendUint16(b, 0)
	return binary.NativeEndian.AppendUint16(b, typ)
}

func appendAttr(b []byte, typ uint16, v []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(4+len(v)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func appendU16Attr(b []byte, typ, v uint16) []byte {
	return appendAttr(b, typ, binary.NativeEndian.AppendUint16(nil, v))
}

func appendU32Attr(b []byte, typ uint16, v uint32) []byte {
	return appendAttr(b, typ, binary.NativeEndian.AppendUint32(nil, v))
}

func endNest(b []byte, start int) []byte {
	binary.NativeEndian.PutUint16(b[start:], uint16(len(b)-start))
	return b
}

// The dump path. moby/ipvs reads a dump into a [][]byte of copied
// messages, parses each into a slice of attributes and a *Service or
// *Destination with its statistics: at 10k services x 10 one Dump allocated
// about 300 MB, which made a reload's dump lvsd's peak of memory and a good
// part of its CPU. dump decodes each reply in place from one reused
// receive buffer into moby/ipvs's own types (stack values, the address
// pointing into the buffer) and converts them with the same
// fromMobyService/fromMobyDest the moby path uses, so both read the same
// table (dump_vm_test.go compares them); what it allocates is the result.

const (
	ipvsCmdGetService = 4
	ipvsCmdGetDest    = 8

	ipvsDestAttrActiveConns = 7
	ipvsDestAttrInactConns  = 8
	ipvsDestAttrAddrFamily  = 11
)

// dump reads every service, then the destinations of each, one dump
// request at a time (a netlink socket runs one dump at a time).
func (c *batchConn) dump() ([]Service, error) {
	var out []Service
	err := c.dumpEach(ipvsCmdGetService, Key{}, func(nest []byte) error {
		var ms mipvs.Service
		decodeService(nest, &ms)
		if svc, ok := fromMobyService(&ms); ok {
			out = append(out, svc)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	var scratch []Dest
	kept := out[:0]
	for _, svc := range out {
		scratch = scratch[:0]
		var derr error
		err := c.dumpEach(ipvsCmdGetDest, svc.Key, func(nest []byte) error {
			var md mipvs.Destination
			decodeDest(nest, &md, svc.Addr.Addr().Is4())
			d, err := fromMobyDest(&md)
			if err != nil {
				derr = err
				return err
			}
			scratch = append(scratch, d)
			return nil
		})
		if errors.Is(err, unix.ESRCH) && derr == nil {
			continue // deleted between the two dumps
		}
		if err != nil {
			return nil, fmt.Errorf("list dests of %s: %w", svc.Key, err)
		}
		// Exactly the room needed: the table is kept until the next sync.
		svc.Dests = slices.Clone(scratch)
		if len(svc.Dests) == 0 {
			svc.Dests = nil
		}
		kept = append(kept, svc)
	}
	out = slices.Clip(kept)
	sortTable(out)
	return out, nil
}

// dumpEach sends one dump request (cmd; for IPVS_CMD_GET_DEST the service
// key identifies the service) and calls fn with the payload of the nested
// service or destination attribute of each reply, until NLMSG_DONE. The
// payload points into the receive buffer: fn must copy what it keeps.
func (c *batchConn) dumpEach(cmd uint8, key Key, fn func(nest []byte) error) error {
	return c.request(cmd, true, func(b []byte) []byte {
		nest := len(b)
		b = appendAttrHdr(b, ipvsCmdAttrService)
		if cmd == ipvsCmdGetDest {
			b = appendServiceKey(b, key)
		}
		return endNest(b, nest)
	}, func(attrs []byte) (err error) {
		eachAttr(attrs, func(typ uint16, v []byte) {
			if err == nil && (typ == ipvsCmdAttrService || typ == ipvsCmdAttrDest) {
				err = fn(v)
			}
		})
		return err
	})
}

// request sends one IPVS request, cmd with the attributes attrs appends,
// and waits for its answer: with dump, fn is called with the attributes
// (after the genl header) of each reply until NLMSG_DONE; without, the
// request asks for an ack and fn is not called. fn's first error is
// returned, after the answer has been read to its end.
func (c *batchConn) request(cmd uint8, dump bool, attrs func([]byte) []byte, fn func(attrs []byte) error) error {
	fd := c.sock.GetFd()
	if fd < 0 {
		return net.ErrClosed
	}
	c.seq++
	seq := c.seq
	flags := uint16(unix.NLM_F_REQUEST | unix.NLM_F_ACK)
	if dump {
		flags = unix.NLM_F_REQUEST | unix.NLM_F_DUMP
	}
	b := c.buf[:0]
	b = binary.NativeEndian.AppendUint32(b, 0)
	b = binary.NativeEndian.AppendUint16(b, c.family)
	b = binary.NativeEndian.AppendUint16(b, flags)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, c.pid)
	b = append(b, cmd, ipvsGenlVersion, 0, 0)
	if attrs != nil {
		b = attrs(b)
	}
	binary.NativeEndian.PutUint32(b, uint32(len(b)))
	c.buf = b
	if err := unix.Sendto(fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return os.NewSyscallError("sendto", err)
	}
	var ferr error // fn's first error; the dump is still read to its end
	for {
		m, _, err := unix.Recvfrom(fd, c.rbuf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("recvfrom", err)
		}
		for p := c.rbuf[:m]; len(p) >= unix.NLMSG_HDRLEN; {
			l := int(binary.NativeEndian.Uint32(p))
			if l < unix.NLMSG_HDRLEN || l > len(p) {
				return fmt.Errorf("netlink message of %d bytes in %d: %w", l, len(p), unix.EBADMSG)
			}
			typ := binary.NativeEndian.Uint16(p[4:])
			msg := p[unix.NLMSG_HDRLEN:l]
			mseq := binary.NativeEndian.Uint32(p[8:])
			if al := (l + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1); al < len(p) {
				p = p[al:]
			} else {
				p = nil
			}
			if mseq != seq {
				continue // a late ack of an earlier, failed batch
			}
			switch typ {
			case unix.NLMSG_DONE:
				return ferr
			case unix.NLMSG_ERROR:
				if len(msg) >= 4 {
					if code := int32(binary.NativeEndian.Uint32(msg)); code < 0 {
						return unix.Errno(-code)
					}
				}
				return ferr
			}
			if len(msg) < 4 || ferr != nil || fn == nil {
				continue
			}
			ferr = fn(msg[4:])
		}
	}
}

// appendServiceKey appends what identifies a service to the kernel
// (ip_vs_genl_parse_service without full_entry): its family and either
// its fwmark or its protocol, address and port.
func appendServiceKey(b []byte, k Key) []byte {
	a := k.Addr.Addr().Unmap()
	af, _ := family(a)
	b = appendU16Attr(b, ipvsSvcAttrAF, af)
	if k.FWMark != 0 {
		return appendU32Attr(b, ipvsSvcAttrFWMark, k.FWMark)
	}
	b = appendU16Attr(b, ipvsSvcAttrProtocol, protoNumbers[k.Protocol])
	b = appendAttr(b, ipvsSvcAttrAddr, a.AsSlice())
	return appendAttr(b, ipvsSvcAttrPort, binary.BigEndian.AppendUint16(nil, k.Addr.Port()))
}

// eachAttr calls fn with the type and value of each attribute in b
// (struct nlattr, NLA_ALIGN padding; the nested and byte-order flags
// masked off the type). A truncated attribute ends the walk.
func eachAttr(b []byte, fn func(typ uint16, v []byte)) {
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b))
		if l < 4 || l > len(b) {
			return
		}
		fn(binary.NativeEndian.Uint16(b[2:])&nlaTypeMask, b[4:l])
		al := (l + 3) &^ 3
		if al >= len(b) {
			return
		}
		b = b[al:]
	}
}

// nlaTypeMask strips NLA_F_NESTED and NLA_F_NET_BYTEORDER.
const nlaTypeMask = 0x3fff

// decodeService fills ms from the attributes of a dumped service, as
// moby/ipvs's assembleService does (statistics left out: Dump has no use
// for them). ms.Address points into b.
func decodeService(b []byte, ms *mipvs.Service) {
	var addr []byte
	eachAttr(b, func(typ uint16, v []byte) {
		switch {
		case typ == ipvsSvcAttrAF && len(v) >= 2:
			ms.AddressFamily = binary.NativeEndian.Uint16(v)
		case typ == ipvsSvcAttrProtocol && len(v) >= 2:
			ms.Protocol = binary.NativeEndian.Uint16(v)
		case typ == ipvsSvcAttrAddr:
			addr = v
		case typ == ipvsSvcAttrPort && len(v) >= 2:
			ms.Port = binary.BigEndian.Uint16(v)
		case typ == ipvsSvcAttrFWMark && len(v) >= 4:
			ms.FWMark = binary.NativeEndian.Uint32(v)
		case typ == ipvsSvcAttrSchedName:
			ms.SchedName = schedName(v)
		case typ == ipvsSvcAttrFlags && len(v) >= 4:
			ms.Flags = binary.NativeEndian.Uint32(v)
		case typ == ipvsSvcAttrTimeout && len(v) >= 4:
			ms.Timeout = binary.NativeEndian.Uint32(v)
		case typ == ipvsSvcAttrNetmask && len(v) >= 4:
			ms.Netmask = binary.NativeEndian.Uint32(v)
		}
	})
	ms.Address = familyIP(addr, ms.AddressFamily)
}

// decodeDest fills md from the attributes of a dumped destination, as
// moby/ipvs's assembleDestination does. A kernel older than 3.18 sends no
// destination family: the service's (v4) is assumed then. md.Address
// points into b.
func decodeDest(b []byte, md *mipvs.Destination, v4 bool) {
	var addr []byte
	eachAttr(b, func(typ uint16, v []byte) {
		switch {
		case typ == ipvsDestAttrAddrFamily && len(v) >= 2:
			md.AddressFamily = binary.NativeEndian.Uint16(v)
		case typ == ipvsDestAttrAddr:
			addr = v
		case typ == ipvsDestAttrPort && len(v) >= 2:
			md.Port = binary.BigEndian.Uint16(v)
		case typ == ipvsDestAttrFwdMethod && len(v) >= 4:
			md.ConnectionFlags = binary.NativeEndian.Uint32(v)
		case typ == ipvsDestAttrWeight && len(v) >= 4:
			md.Weight = int(int32(binary.NativeEndian.Uint32(v)))
		case typ == ipvsDestAttrUThreshold && len(v) >= 4:
			md.UpperThreshold = binary.NativeEndian.Uint32(v)
		case typ == ipvsDestAttrLThreshold && len(v) >= 4:
			md.LowerThreshold = binary.NativeEndian.Uint32(v)
		case typ == ipvsDestAttrActiveConns && len(v) >= 4:
			md.ActiveConnections = int(binary.NativeEndian.Uint32(v))
		case typ == ipvsDestAttrInactConns && len(v) >= 4:
			md.InactiveConnections = int(binary.NativeEndian.Uint32(v))
		}
	})
	if md.AddressFamily == 0 {
		md.AddressFamily = unix.AF_INET6
		if v4 {
			md.AddressFamily = unix.AF_INET
		}
	}
	md.Address = familyIP(addr, md.AddressFamily)
}

// familyIP is the kernel's union nf_inet_addr read for family af: the
// first 4 bytes for IPv4, all 16 for IPv6; nil if b is too short.
func familyIP(b []byte, af uint16) net.IP {
	n := 16
	if af == unix.AF_INET {
		n = 4
	}
	if len(b) < n {
		return nil
	}
	return net.IP(b[:n])
}

// schedName reads a NUL-terminated scheduler name; the few names in use
// are shared instead of allocated once per service.
func schedName(v []byte) string {
	if i := bytes.IndexByte(v, 0); i >= 0 {
		v = v[:i]
	}
	for _, s := range knownScheds {
		if string(v) == s {
			return s
		}
	}
	return string(v)
}

var knownScheds = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"}
