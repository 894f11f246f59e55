package keepalived

import (
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/lvsd/lvsd/conf"
	"github.com/zclconf/go-cty/cty"
)

// keepalivedHex reads a hex string the way keepalived's read_hex_str does
// (utils.c): spaces and tabs separate bytes, a lone digit before a space is
// a byte of its own ("a b" is 0a 0b, not ab), and with wildcard an x or X
// is a nibble that matches anything (masked reports one). Anything else, or
// no byte at all, is not valid; keepalived then reports a configuration
// error and keeps no bytes.
func keepalivedHex(s string, wildcard bool) (b []byte, masked, ok bool) {
	nibble := func(r byte) (byte, bool, bool) {
		switch {
		case r >= '0' && r <= '9':
			return r - '0', false, true
		case r >= 'a' && r <= 'f':
			return r - 'a' + 10, false, true
		case r >= 'A' && r <= 'F':
			return r - 'A' + 10, false, true
		case wildcard && (r == 'x' || r == 'X'):
			return 0, true, true
		}
		return 0, false, false
	}
	for i := 0; ; {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) {
			break
		}
		v, m, good := nibble(s[i])
		i++
		if !good {
			return nil, false, false
		}
		masked = masked || m
		// keepalived pairs the next character unless it is a space (a
		// tab after a lone digit is not a separator there).
		if i < len(s) && s[i] != ' ' {
			lo, m2, good := nibble(s[i])
			i++
			if !good {
				return nil, false, false
			}
			masked = masked || m2
			v = v<<4 | lo
		}
		b = append(b, v)
	}
	return b, masked, len(b) > 0
}

// udpState is what UDP_CHECK's options add up to, checked once the block
// is read (keepalived's udp_check_end_handler).
type udpState struct {
	// hasData: some require_reply carries reply bytes; keepalived's
	// check_udp_reply (and so min/max_reply_length) only runs then.
	hasData          bool
	minLen, maxLen   int
	minNode, maxNode *Node
	reply            []byte
	replyNode        *Node
}

func newUDPState(n *Node) *udpState {
	u := &udpState{maxLen: 255} // keepalived's default max_reply_length (UINT8_MAX)
	for _, ch := range n.Children {
		if ch.Keyword == "require_reply" && !ch.Block && len(ch.Args) > 0 {
			if _, _, ok := keepalivedHex(strings.Join(ch.Args, " "), true); ok {
				u.hasData = true
			}
		}
	}
	return u
}

func (u *udpState) handles(n *Node) bool {
	switch n.Keyword {
	case "payload", "require_reply", "min_reply_length", "max_reply_length":
		return true
	}
	return false
}

// udpOption maps one of UDP_CHECK's own keywords (check_udp.c) onto
// udp_check. keepalived writes bytes as hex split by spaces; lvsd's are
// rewritten as plain hex.
func (c *converter) udpOption(body *hclwrite.Body, n *Node, u *udpState) {
	switch n.Keyword {
	case "payload":
		b, _, ok := keepalivedHex(strings.Join(n.Args, " "), false)
		if n.Block || !ok {
			c.invalid(body, n, "bytes in hex")
			return
		}
		c.setString(body, n, "payload", hex.EncodeToString(b))
	case "require_reply":
		// keepalived: `require_reply [HEX]`, the bytes the reply must
		// start with.
		if n.Block {
			c.invalid(body, n, "a flag with optional reply bytes in hex")
			return
		}
		c.comments(body, n)
		body.SetAttributeValue("require_reply", cty.True)
		if len(n.Args) == 0 {
			return
		}
		s := strings.Join(n.Args, " ")
		b, masked, ok := keepalivedHex(s, true)
		switch {
		case !ok:
			c.unsupported(body, n, n.Keyword, fmt.Sprintf("%q is not bytes in hex (keepalived would require a reply but match no bytes); require_reply = true is written without reply", s))
		case masked:
			c.unsupported(body, n, n.Keyword, fmt.Sprintf("keepalived would match the reply against %q with x as a wildcard nibble; lvsd's reply is an exact prefix, so it is left out (any reply within the length bounds passes)", s))
		default:
			body.SetAttributeValue("reply", cty.StringVal(hex.EncodeToString(b)))
			u.reply, u.replyNode = b, n
		}
	case "min_reply_length", "max_reply_length":
		if !u.hasData {
			c.comments(body, n)
			comment(body, fmt.Sprintf("lvsd convert: ignored (%s): %s (keepalived checks the length only with reply bytes after require_reply)", n.Pos, source(n)))
			c.add(n, Info, n.Keyword, "keepalived checks the reply's length only when require_reply gives reply bytes; none here")
			return
		}
		s, ok := c.arg(body, n)
		if !ok {
			return
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 || v > 65535 {
			c.invalid(body, n, "a length 0-65535")
			return
		}
		c.comments(body, n)
		body.SetAttributeValue(n.Keyword, cty.NumberIntVal(int64(v)))
		if n.Keyword == "min_reply_length" {
			u.minLen, u.minNode = v, n
		} else {
			u.maxLen, u.maxNode = v, n
		}
	}
}

// udpFinish leaves out what lvsd refuses because no reply could pass.
func (c *converter) udpFinish(body *hclwrite.Body, n *Node, u *udpState) {
	if u.minLen > u.maxLen {
		at := u.minNode
		if at == nil {
			at = u.maxNode
		}
		body.RemoveAttribute("min_reply_length")
		c.add(at, Unsupported, "min_reply_length", "min_reply_length %d is above max_reply_length %d: keepalived would fail every reply; lvsd refuses it, so min_reply_length is left out", u.minLen, u.maxLen)
		comment(body, fmt.Sprintf("lvsd convert: unsupported (%s): min_reply_length %d above max_reply_length %d: left out", at.Pos, u.minLen, u.maxLen))
	}
	if len(u.reply) > u.maxLen {
		body.RemoveAttribute("reply")
		c.add(u.replyNode, Unsupported, "require_reply", "the %d reply bytes are more than max_reply_length %d; keepalived would compare only what arrives, lvsd refuses such a reply, so it is left out", len(u.reply), u.maxLen)
		comment(body, fmt.Sprintf("lvsd convert: unsupported (%s): reply longer than max_reply_length %d: left out", u.replyNode.Pos, u.maxLen))
	}
}

// dnsTypes are DNS_CHECK's query types (check_dns.c), the ones dns_check
// takes.
var dnsTypes = []string{"A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"}

// dnsType maps DNS_CHECK's type; keepalived falls back to SOA (with a log
// line) on a type it does not know, and so does lvsd without type.
func (c *converter) dnsType(body *hclwrite.Body, n *Node) {
	s, ok := c.arg(body, n)
	if !ok {
		return
	}
	t := strings.ToUpper(s)
	if t == "RRSIG" || t == "DNSKEY" {
		// Later keepalived releases also know these two.
		c.unsupported(body, n, n.Keyword, fmt.Sprintf("keepalived releases that know %s would query it; lvsd's dns_check takes %s, so it is left out and SOA is queried", t, strings.Join(dnsTypes, ", ")))
		return
	}
	if !slices.Contains(dnsTypes, t) {
		c.invalid(body, n, "a DNS query type ("+strings.Join(dnsTypes, ", ")+"), so SOA is queried")
		return
	}
	c.setString(body, n, "type", t)
}

// dnsName maps DNS_CHECK's name (default "." in both).
func (c *converter) dnsName(body *hclwrite.Body, n *Node) {
	s, ok := c.arg(body, n)
	if !ok {
		return
	}
	if err := conf.ValidDNSName(s); err != nil {
		c.unsupported(body, n, n.Keyword, fmt.Sprintf("keepalived would query %q; lvsd refuses it (%v), so it is left out and \".\" is queried", s, err))
		return
	}
	c.setString(body, n, "name", s)
}

// rsNotify maps a real server's notify_up / notify_down: keepalived's
// `SCRIPT [user [group]]`, the script split into words and run without a
// shell, as lvsd does.
func (c *converter) rsNotify(body *hclwrite.Body, n *Node) {
	if len(n.Args) == 0 || n.Block {
		c.invalid(body, n, "a script and an optional user and group")
		return
	}
	argv, err := conf.SplitCommand(n.Args[0])
	switch {
	case err != nil:
		c.unsupported(body, n, n.Keyword, fmt.Sprintf("lvsd cannot split %q into words (%v); left out", n.Args[0], err))
		return
	case !strings.HasPrefix(argv[0], "/"):
		c.unsupported(body, n, n.Keyword, fmt.Sprintf("keepalived would look %q up in its PATH; lvsd needs an absolute program path; left out", argv[0]))
		return
	}
	c.setString(body, n, n.Keyword, n.Args[0])
	if len(n.Args) > 1 {
		c.unsupported(body, n, n.Keyword+" "+strings.Join(n.Args[1:], " "),
			fmt.Sprintf("keepalived would run the script as %s; lvsd runs it as its own user", strings.Join(n.Args[1:], " ")))
	}
}

// seconds reads keepalived's (possibly fractional) seconds as an lvsd
// duration string, as setDuration writes it.
func seconds(n *Node) (string, bool) {
	if n.Block || len(n.Args) != 1 {
		return "", false
	}
	f, err := strconv.ParseFloat(n.Args[0], 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f > float64(math.MaxInt64/int64(time.Second)) {
		return "", false
	}
	return time.Duration(math.Round(f * float64(time.Second))).String(), true
}

// inheritedWarmup returns the last valid warmup among n's children
// (keepalived reports an invalid one and keeps the value it had), or "".
func inheritedWarmup(n *Node) string {
	w := ""
	for _, ch := range n.Children {
		if ch.Keyword == "warmup" {
			if s, ok := seconds(ch); ok {
				w = s
			}
		}
	}
	return w
}

// warmupDefault handles a virtual_server's or real_server's warmup: lvsd
// has warmup per checker, so it is written into each checker below that
// has none of its own (keepalived's order: checker, real server, virtual
// server, then delay_loop).
func (c *converter) warmupDefault(body *hclwrite.Body, n *Node, level string) {
	if _, ok := seconds(n); !ok {
		c.invalid(body, n, "a number of seconds")
		return
	}
	c.comments(body, n)
	comment(body, fmt.Sprintf("lvsd convert: carried (%s): %s (written into each checker of this %s without its own warmup)", n.Pos, source(n), level))
	c.add(n, Info, n.Keyword, "lvsd has warmup per checker; written into each checker of this %s without its own", level)
}

// inheritWarmup writes the real or virtual server's warmup into checker
// n's block when n sets no valid warmup of its own.
func (c *converter) inheritWarmup(body *hclwrite.Body, n *Node) {
	if inheritedWarmup(n) != "" {
		return
	}
	w := c.rsWarmup
	if w == "" {
		w = c.vsWarmup
	}
	if w != "" {
		body.SetAttributeValue("warmup", cty.StringVal(w))
	}
}
