package healthcheck

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// dnsTypeCodes are the query types of dns_check (RFC 1035 section 3.2.2,
// RFC 3596 for AAAA): keepalived's list.
var dnsTypeCodes = map[string]uint16{"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}

// dnsRcodes names the response codes of RFC 1035 section 4.1.1 and RFC 2136.
var dnsRcodes = []string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"}

func rcodeName(rc int) string {
	if rc < len(dnsRcodes) {
		return dnsRcodes[rc]
	}
	return fmt.Sprintf("RCODE%d", rc)
}

// DNSChecker is keepalived's DNS_CHECK (check_dns.c): one query (QTYPE
// Type, QNAME Name, class IN, recursion desired) over UDP; the first
// response carrying the query's ID is the verdict: up when its RCODE is
// NOERROR (an empty answer section included, as keepalived), down
// otherwise. Datagrams that are not a response to this query are skipped;
// an ICMP error or no response within the timeout is down.
type DNSChecker struct {
	Target  netip.AddrPort
	Timeout time.Duration
	Type    string // dnsTypeCodes key
	Name    string
	// Dialer, when set, makes the socket (bindto, bind_port).
	Dialer ContextDialer
}

var _ Checker = (*DNSChecker)(nil)

// NewDNSChecker is the Checker of a dns_check block.
func NewDNSChecker(c conf.Check) *DNSChecker {
	d := &DNSChecker{Target: c.Target, Timeout: connectTimeout(c), Type: "SOA", Name: "."}
	if sd := sourceDialer(c, "udp"); sd != nil {
		d.Dialer = sd
	}
	if c.DNS != nil {
		d.Type, d.Name = c.DNS.Type, c.DNS.Name
	}
	return d
}

// Check sends one query and reads until its response or the timeout.
func (c *DNSChecker) Check(ctx context.Context) error {
	name := fmt.Sprintf("dns_check %s %s %s", c.Target, c.Type, c.Name)
	qtype, ok := dnsTypeCodes[c.Type]
	if !ok {
		return fmt.Errorf("%s: unknown type", name)
	}
	id := uint16(rand.N(1 << 16))
	query, err := appendDNSQuery(nil, id, c.Name, qtype)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	var d ContextDialer = &net.Dialer{}
	if c.Dialer != nil {
		d = c.Dialer
	}
	conn, err := d.DialContext(ctx, "udp", c.Target.String())
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if _, err := conn.Write(query); err != nil {
		return fmt.Errorf("%s: send: %w", name, udpErr(err))
	}
	buf := make([]byte, 4096)
	skipped := 0
	for {
		n, err := conn.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
					return fmt.Errorf("%s: %w", name, ctx.Err())
				}
				if skipped > 0 {
					return fmt.Errorf("%s: no response within %v (%d unrelated datagrams skipped)", name, c.Timeout, skipped)
				}
				return fmt.Errorf("%s: no response within %v", name, c.Timeout)
			}
			return fmt.Errorf("%s: %w", name, udpErr(err))
		}
		msg, err := parseDNSMessage(buf[:n])
		if err != nil || msg.ID != id || !msg.Response {
			// keepalived skips what is not a response to its query.
			skipped++
			continue
		}
		if msg.hasQuestion && (msg.QType != qtype || !strings.EqualFold(msg.QName, canonName(c.Name))) {
			skipped++
			continue
		}
		if msg.Rcode != 0 {
			return fmt.Errorf("%s: response code %s", name, rcodeName(msg.Rcode))
		}
		return nil
	}
}

// canonName is name as readDNSName returns it: no trailing dot, "." for
// the root.
func canonName(name string) string {
	if t := strings.TrimSuffix(name, "."); t != "" {
		return t
	}
	return "."
}

// appendDNSQuery appends a query message (RFC 1035 section 4.1): header
// with RD set and one question of class IN.
func appendDNSQuery(b []byte, id uint16, name string, qtype uint16) ([]byte, error) {
	if err := conf.ValidDNSName(name); err != nil {
		return nil, fmt.Errorf("name %q: %w", name, err)
	}
	b = binary.BigEndian.AppendUint16(b, id)
	b = binary.BigEndian.AppendUint16(b, 1<<8) // RD
	b = binary.BigEndian.AppendUint16(b, 1)    // QDCOUNT
	b = append(b, 0, 0, 0, 0, 0, 0)            // AN, NS, AR
	if t := strings.TrimSuffix(name, "."); t != "" {
		for l := range strings.SplitSeq(t, ".") {
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
	}
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, qtype)
	b = binary.BigEndian.AppendUint16(b, 1) // IN
	return b, nil
}

// dnsMessage is what dns_check reads of a message: the header and the
// first question.
type dnsMessage struct {
	ID             uint16
	Response       bool
	Opcode, Rcode  int
	Truncated      bool
	QD, AN, NS, AR int
	QName          string // "." for the root; lower case as sent
	QType, QClass  uint16
	hasQuestion    bool
}

// errDNSShort is a message that ends early.
var errDNSShort = errors.New("dns: message too short")

// parseDNSMessage decodes the header (RFC 1035 section 4.1.1) and, when
// QDCOUNT > 0, the first question (section 4.1.2), following compression
// pointers (section 4.1.4) backwards only, so a loop cannot happen.
func parseDNSMessage(b []byte) (dnsMessage, error) {
	var m dnsMessage
	if len(b) < 12 {
		return m, errDNSShort
	}
	m.ID = binary.BigEndian.Uint16(b)
	flags := binary.BigEndian.Uint16(b[2:])
	m.Response = flags&(1<<15) != 0
	m.Opcode = int(flags>>11) & 0xf
	m.Truncated = flags&(1<<9) != 0
	m.Rcode = int(flags & 0xf)
	m.QD = int(binary.BigEndian.Uint16(b[4:]))
	m.AN = int(binary.BigEndian.Uint16(b[6:]))
	m.NS = int(binary.BigEndian.Uint16(b[8:]))
	m.AR = int(binary.BigEndian.Uint16(b[10:]))
	if m.QD == 0 {
		return m, nil
	}
	name, off, err := readDNSName(b, 12)
	if err != nil {
		return m, err
	}
	if off+4 > len(b) {
		return m, errDNSShort
	}
	m.QName = name
	m.QType = binary.BigEndian.Uint16(b[off:])
	m.QClass = binary.BigEndian.Uint16(b[off+2:])
	m.hasQuestion = true
	return m, nil
}

// readDNSName reads the name at off and returns it (dotted, "." for the
// root) and the offset just past it in the message.
func readDNSName(b []byte, off int) (string, int, error) {
	var sb strings.Builder
	end := -1 // offset after the name where it started, once a pointer is followed
	limit := off
	for {
		if off >= len(b) {
			return "", 0, errDNSShort
		}
		l := int(b[off])
		switch {
		case l == 0:
			off++
			if end < 0 {
				end = off
			}
			if sb.Len() == 0 {
				return ".", end, nil
			}
			return sb.String(), end, nil
		case l&0xc0 == 0xc0:
			if off+1 >= len(b) {
				return "", 0, errDNSShort
			}
			ptr := int(binary.BigEndian.Uint16(b[off:]) & 0x3fff)
			// Only strictly backwards: every jump lowers the
			// offset, so the walk ends.
			if ptr >= limit {
				return "", 0, fmt.Errorf("dns: compression pointer %d does not point backwards", ptr)
			}
			if end < 0 {
				end = off + 2
			}
			off, limit = ptr, ptr
		case l&0xc0 != 0:
			return "", 0, fmt.Errorf("dns: label type %#x not supported", l&0xc0)
		default:
			if off+1+l > len(b) {
				return "", 0, errDNSShort
			}
			if sb.Len()+l+1 > 255 {
				return "", 0, errors.New("dns: name over 255 bytes")
			}
			label := b[off+1 : off+1+l]
			if bytes.IndexByte(label, '.') >= 0 {
				// Not a name dns_check sends; it could not be
				// compared with ours.
				return "", 0, errors.New("dns: label with a dot")
			}
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			sb.Write(label)
			off += 1 + l
		}
	}
}
