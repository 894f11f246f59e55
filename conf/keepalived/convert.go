package keepalived

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/lvsd/lvsd/conf"
)

// Severity says whether a finding blocks the conversion.
type Severity int

const (
	// Info: the keyword has no effect on what lvsd does (router_id, mail).
	Info Severity = iota
	// Note: carried over, but the behaviour differs from keepalived's in a
	// way the operator should know (nopreempt with state MASTER).
	Note
	// Unsupported: lvsd cannot do what keepalived would have done; the
	// conversion is refused unless the caller allows it.
	Unsupported
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Note:
		return "note"
	default:
		return "unsupported"
	}
}

// Finding is one thing the converter could not carry over as is.
type Finding struct {
	Pos      Pos
	Severity Severity
	Keyword  string
	// Msg says what keepalived would have done (or why it does not matter).
	Msg string
}

// String is the FILE:LINE: SEVERITY: KEYWORD: MESSAGE form printed by
// `lvsd convert`.
func (f Finding) String() string {
	return fmt.Sprintf("%s: %s: %s: %s", f.Pos, f.Severity, f.Keyword, f.Msg)
}

// Result is the converted file and everything found on the way.
type Result struct {
	// HCL is the lvsd configuration, formatted. Unsupported and ignored
	// items appear in it as comments so that they stay visible.
	HCL      []byte
	Findings []Finding
}

// Unsupported counts the findings that block the conversion.
func (r *Result) Unsupported() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == Unsupported {
			n++
		}
	}
	return n
}

// Convert maps parsed keepalived statements onto lvsd HCL. It never fails:
// what it cannot map is in Result.Findings.
func Convert(nodes []*Node) *Result {
	c := &converter{file: hclwrite.NewEmptyFile(), vsLabels: map[string]bool{}, commented: map[*Node]bool{}}
	c.scanGroups(nodes)
	root := c.file.Body()
	for i, n := range nodes {
		if i > 0 {
			root.AppendNewline()
		}
		switch n.Keyword {
		case "global_defs":
			c.globalDefs(root, n)
		case "vrrp_instance":
			c.vrrpInstance(root, n)
		case "vrrp_script":
			c.vrrpScript(root, n)
		case "vrrp_track_file", "track_file":
			c.trackFile(root, n)
		case "vrrp_track_process":
			c.trackProcess(root, n)
		case "vrrp_sync_group":
			c.syncGroup(root, n)
		case "virtual_server":
			c.virtualServer(root, n)
		case "virtual_server_group":
			c.vsGroup(root, n)
		default:
			c.unsupported(root, n, n.Keyword, describe(n.Keyword))
		}
	}
	// Findings come in source order (a note is only known at the end of
	// its block); includes keep their own files' order.
	slices.SortStableFunc(c.findings, func(a, b Finding) int {
		if a.Pos.File != b.Pos.File {
			return 0
		}
		return cmp.Compare(a.Pos.Line, b.Pos.Line)
	})
	out := hclwrite.Format(c.file.Bytes())
	if out == nil {
		// Nothing to carry over (an empty global_defs, say): an empty
		// file, not "no result".
		out = []byte{}
	}
	return &Result{HCL: out, Findings: c.findings}
}

type converter struct {
	file     *hclwrite.File
	findings []Finding
	vsLabels map[string]bool
	// vsGroups are the virtual_server_groups of the file (scanGroups).
	vsGroups map[string]vsgShape
	// commented marks nodes whose comments are already written.
	commented map[*Node]bool
	// vsWarmup, rsWarmup: the warmup of the virtual / real server being
	// converted, as an lvsd duration ("" when unset); keepalived gives it
	// to each checker without its own (check_api.c), lvsd has it per
	// checker only.
	vsWarmup, rsWarmup string
	// rsAddr is the address of the real server being converted: the
	// target of its checkers unless they set connect_ip.
	rsAddr netip.Addr
}

func (c *converter) add(n *Node, sev Severity, kw, format string, args ...any) {
	c.findings = append(c.findings, Finding{Pos: n.Pos, Severity: sev, Keyword: kw, Msg: fmt.Sprintf(format, args...)})
}

// unsupported reports n and leaves it in body as a comment.
func (c *converter) unsupported(body *hclwrite.Body, n *Node, kw, msg string) {
	c.add(n, Unsupported, kw, "%s", msg)
	c.comments(body, n)
	comment(body, fmt.Sprintf("lvsd convert: unsupported (%s): %s: %s", n.Pos, source(n), msg))
}

// ignored reports n at info level and leaves it in body as a comment.
func (c *converter) ignored(body *hclwrite.Body, n *Node) {
	c.add(n, Info, n.Keyword, "ignored (no effect on lvsd)")
	c.comments(body, n)
	comment(body, fmt.Sprintf("lvsd convert: ignored (%s): %s (no effect on lvsd)", n.Pos, source(n)))
}

// source renders n back to one line of keepalived text for comments.
func source(n *Node) string {
	s := strings.Join(append([]string{n.Keyword}, n.Args...), " ")
	if n.Block {
		if len(n.Children) == 0 {
			return s + " {}"
		}
		return s + " { ... }"
	}
	return s
}

// comment appends a # comment line to body (one line per line of text).
func comment(body *hclwrite.Body, text string) {
	for _, line := range strings.Split(text, "\n") {
		body.AppendUnstructuredTokens(hclwrite.Tokens{{
			Type:  hclsyntax.TokenComment,
			Bytes: []byte(strings.TrimRight("# "+line, " ") + "\n"),
		}})
	}
}

// comments carries n's own comments over, once.
func (c *converter) comments(body *hclwrite.Body, n *Node) {
	if c.commented[n] {
		return
	}
	c.commented[n] = true
	for _, s := range n.Comments {
		comment(body, s)
	}
}

// arg returns n's single argument or reports the statement.
func (c *converter) arg(body *hclwrite.Body, n *Node) (string, bool) {
	if len(n.Args) != 1 || n.Block {
		c.unsupported(body, n, n.Keyword, fmt.Sprintf("expected exactly one value (keepalived would reject or misread %q)", source(n)))
		return "", false
	}
	return n.Args[0], true
}

func (c *converter) invalid(body *hclwrite.Body, n *Node, what string) {
	c.unsupported(body, n, n.Keyword, fmt.Sprintf("%q is not %s (keepalived would reject the value or fall back to its default)", strings.Join(n.Args, " "), what))
}

// setInt writes a whole number attribute.
func (c *converter) setInt(body *hclwrite.Body, n *Node, name string) {
	s, ok := c.arg(body, n)
	if !ok {
		return
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		c.invalid(body, n, "a whole number")
		return
	}
	c.comments(body, n)
	body.SetAttributeValue(name, cty.NumberIntVal(v))
}

// setDuration writes keepalived's seconds (possibly fractional) as an lvsd
// duration string.
func (c *converter) setDuration(body *hclwrite.Body, n *Node, name string) {
	s, ok := c.arg(body, n)
	if !ok {
		return
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f > float64(math.MaxInt64/int64(time.Second)) {
		c.invalid(body, n, "a number of seconds")
		return
	}
	c.comments(body, n)
	d := time.Duration(math.Round(f * float64(time.Second)))
	body.SetAttributeValue(name, cty.StringVal(d.String()))
}

func (c *converter) setString(body *hclwrite.Body, n *Node, name, value string) {
	c.comments(body, n)
	body.SetAttributeValue(name, cty.StringVal(value))
}

// globalDefs: lvsd has no global settings; the harmless ones are info, the
// rest change keepalived's behaviour and are unsupported.
func (c *converter) globalDefs(root *hclwrite.Body, n *Node) {
	c.comments(root, n)
	for _, ch := range n.Children {
		switch ch.Keyword {
		case "router_id", "notification_email", "notification_email_from", "smtp_server",
			"smtp_connect_timeout", "smtp_helo_name", "smtp_alert", "smtp_alert_vrrp", "smtp_alert_checker":
			c.ignored(root, ch)
		case "lvs_timeouts":
			c.lvsTimeouts(root, ch)
		case "lvs_sync_daemon":
			c.lvsSyncDaemon(root, ch)
		case "vrrp_rt_priority":
			// A property of the process, not of the configuration: lvsd
			// takes it as a flag (cmd/lvsd realtime_linux.go).
			prio := "N"
			if len(ch.Args) > 0 {
				prio = ch.Args[0]
			}
			c.add(ch, Note, ch.Keyword, "start lvsd director with --realtime-priority %s (a command-line flag in lvsd, not configuration)", prio)
			c.comments(root, ch)
			comment(root, fmt.Sprintf("lvsd convert: note (%s): %s: start `lvsd director --realtime-priority %s`", ch.Pos, source(ch), prio))
		default:
			c.unsupported(root, ch, "global_defs "+ch.Keyword, describe(ch.Keyword))
		}
	}
}

func (c *converter) vrrpInstance(root *hclwrite.Body, n *Node) {
	if len(n.Args) != 1 || !n.Block {
		c.unsupported(root, n, n.Keyword, "expected `vrrp_instance NAME { ... }`")
		return
	}
	c.comments(root, n)
	body := root.AppendNewBlock("vrrp_instance", []string{n.Args[0]}).Body()
	iface, version := "", "2"
	var state, nopreempt *Node
	var vips, excluded []cty.Value
	for _, ch := range n.Children {
		switch {
		case ch.Keyword == "interface" && len(ch.Args) == 1:
			iface = ch.Args[0]
		case ch.Keyword == "version" && len(ch.Args) == 1 && (ch.Args[0] == "2" || ch.Args[0] == "3"):
			// keepalived applies the version when the block ends, so
			// it governs advert_int and authentication wherever it is.
			version = ch.Args[0]
		}
	}
	for _, ch := range n.Children {
		switch ch.Keyword {
		case "state":
			s, ok := c.arg(body, ch)
			if !ok {
				continue
			}
			s = strings.ToUpper(s)
			if s != "MASTER" && s != "BACKUP" {
				c.invalid(body, ch, "MASTER or BACKUP")
				continue
			}
			state = ch
			c.setString(body, ch, "state", s)
		case "interface":
			if s, ok := c.arg(body, ch); ok {
				c.setString(body, ch, "interface", s)
			}
		case "virtual_router_id", "priority":
			c.setInt(body, ch, ch.Keyword)
		case "nopreempt":
			if len(ch.Args) > 0 || ch.Block {
				c.invalid(body, ch, "a flag without value")
				continue
			}
			nopreempt = ch
			c.comments(body, ch)
			body.SetAttributeValue("nopreempt", cty.True)
		case "advert_int":
			c.advertInt(body, ch, version)
		case "version":
			s, ok := c.arg(body, ch)
			if !ok {
				continue
			}
			if s != "2" && s != "3" {
				c.invalid(body, ch, "VRRP version 2 or 3")
				continue
			}
			c.setInt(body, ch, "version")
		case "v3_checksum_as_v2":
			v, ok := c.flag(body, ch)
			if !ok {
				continue
			}
			if version != "3" {
				// keepalived only looks at the flag for version 3
				// adverts; lvsd refuses it elsewhere.
				c.add(ch, Info, ch.Keyword, "no effect with VRRP version %s (keepalived applies it to version 3 only); left out", version)
				c.comments(body, ch)
				comment(body, fmt.Sprintf("lvsd convert: ignored (%s): %s (no effect with VRRP version %s)", ch.Pos, source(ch), version))
				continue
			}
			c.comments(body, ch)
			body.SetAttributeValue("v3_checksum_as_v2", cty.BoolVal(v))
		case "authentication":
			if version == "3" {
				c.unsupported(body, ch, "authentication", "keepalived ignores authentication with VRRP version 3 (RFC 5798 has none) and sends unauthenticated adverts; lvsd refuses the block with version 3, so it is left out: the adverts are not protected either way")
				continue
			}
			c.authentication(body, ch)
		case "virtual_ipaddress":
			// keepalived adds the entries of every virtual_ipaddress
			// block; the attribute stays where the first one was.
			vips = append(vips, c.vips(body, ch, iface)...)
			if len(vips) > 0 {
				body.SetAttributeValue("virtual_ipaddress", cty.ListVal(vips))
			}
		case "virtual_ipaddress_excluded":
			excluded = append(excluded, c.vips(body, ch, iface)...)
			if len(excluded) > 0 {
				body.SetAttributeValue("virtual_ipaddress_excluded", cty.ListVal(excluded))
			}
		case "mcast_src_ip", "unicast_src_ip":
			if s, ok := c.arg(body, ch); ok {
				c.alias(ch, "unicast_src_ip")
				c.setString(body, ch, "unicast_src_ip", s)
			}
		case "unicast_peer":
			c.unicastPeers(body, ch)
		case "preempt_delay", "garp_master_delay", "garp_master_refresh":
			c.setDuration(body, ch, ch.Keyword)
		case "garp_master_repeat":
			c.setInt(body, ch, ch.Keyword)
		case "track_interface", "track_script", "track_file", "track_process":
			c.trackRefs(body, ch)
		case "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify":
			c.notifyScript(body, ch)
		case "dont_track_primary":
			c.comments(body, ch)
			body.SetAttributeValue("dont_track_primary", cty.True)
		default:
			c.unsupported(body, ch, ch.Keyword, describe(ch.Keyword))
		}
	}
	if nopreempt != nil && state != nil && strings.EqualFold(state.Args[0], "MASTER") {
		c.add(nopreempt, Note, "nopreempt",
			"with state MASTER keepalived ignores nopreempt and starts as master; lvsd keeps nopreempt: the node starts as backup and becomes master only if no master is heard within Master_Down")
	}
}

// advertInt maps advert_int (seconds, possibly fractional) within what the
// VRRP version carries: whole seconds 1-255 for version 2, centiseconds
// 0.01-40.95 s for version 3.
func (c *converter) advertInt(body *hclwrite.Body, n *Node, version string) {
	s, ok := c.arg(body, n)
	if !ok {
		return
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f <= 0 || f > 1e6 {
		c.invalid(body, n, "a positive number of seconds")
		return
	}
	d := time.Duration(math.Round(f * float64(time.Second)))
	switch {
	case version == "2" && (d%time.Second != 0 || d > 255*time.Second):
		c.unsupported(body, n, n.Keyword, fmt.Sprintf("VRRP version 2 carries whole seconds 1-255 (keepalived would round or cap %s); lvsd refuses it, set advert_int yourself", s))
		return
	case version == "3" && (d%(10*time.Millisecond) != 0 || d > 40950*time.Millisecond):
		c.unsupported(body, n, n.Keyword, fmt.Sprintf("VRRP version 3 carries centiseconds 0.01-40.95 s (keepalived would round or cap %s); lvsd refuses it, set advert_int yourself", s))
		return
	}
	c.comments(body, n)
	body.SetAttributeValue("advert_int", cty.StringVal(d.String()))
}

// flag reads keepalived's optional boolean argument: none means true.
func (c *converter) flag(body *hclwrite.Body, n *Node) (bool, bool) {
	if n.Block || len(n.Args) > 1 {
		c.invalid(body, n, "a flag with an optional true or false")
		return false, false
	}
	if len(n.Args) == 0 {
		return true, true
	}
	switch strings.ToLower(n.Args[0]) {
	case "true", "on", "yes":
		return true, true
	case "false", "off", "no":
		return false, true
	}
	c.invalid(body, n, "true or false")
	return false, false
}

// unicastPeers maps `unicast_peer { IP ... }`; per-peer options
// (min_ttl, max_ttl) are not carried.
func (c *converter) unicastPeers(body *hclwrite.Body, n *Node) {
	if !n.Block {
		c.invalid(body, n, "a block")
		return
	}
	var vals []cty.Value
	c.comments(body, n)
	for _, e := range n.Children {
		c.comments(body, e)
		if _, err := netip.ParseAddr(e.Keyword); err != nil {
			c.unsupported(body, e, "unicast_peer", fmt.Sprintf("%q is not an IP address (keepalived would reject the peer)", e.Keyword))
			continue
		}
		if len(e.Args) > 0 {
			c.unsupported(body, e, "unicast_peer "+e.Args[0], fmt.Sprintf("keepalived would apply %q to peer %s", strings.Join(e.Args, " "), e.Keyword))
		}
		vals = append(vals, cty.StringVal(e.Keyword))
	}
	if len(vals) > 0 {
		body.SetAttributeValue("unicast_peer", cty.ListVal(vals))
	}
}

func (c *converter) authentication(body *hclwrite.Body, n *Node) {
	if !n.Block {
		c.invalid(body, n, "a block")
		return
	}
	body.AppendNewline()
	for _, ch := range n.Children {
		if ch.Keyword == "auth_type" && len(ch.Args) == 1 && !strings.EqualFold(ch.Args[0], "PASS") {
			// Without PASS there is nothing to carry: lvsd would send
			// unauthenticated adverts, which a keepalived peer drops.
			c.unsupported(body, ch, "auth_type", fmt.Sprintf("keepalived would authenticate adverts with %s; lvsd supports PASS only (the authentication block is left out)", ch.Args[0]))
			return
		}
	}
	c.comments(body, n)
	ab := body.AppendNewBlock("authentication", nil).Body()
	for _, ch := range n.Children {
		switch ch.Keyword {
		case "auth_type":
			s, ok := c.arg(ab, ch)
			if !ok {
				continue
			}
			if !strings.EqualFold(s, "PASS") {
				c.unsupported(ab, ch, "auth_type", fmt.Sprintf("keepalived would authenticate adverts with %s; lvsd supports PASS only", s))
				continue
			}
			c.setString(ab, ch, "auth_type", "PASS")
		case "auth_pass":
			s, ok := c.arg(ab, ch)
			if !ok {
				continue
			}
			// RFC 3768 section 5.3.10: 8 octets of authentication data;
			// keepalived cuts longer passwords without a word.
			if len(s) > 8 {
				msg := fmt.Sprintf("keepalived would silently truncate the %d-byte password to its first 8 bytes (%q); lvsd refuses passwords over 8 bytes, the truncated one is written", len(s), s[:8])
				c.unsupported(ab, ch, "auth_pass", msg)
				s = s[:8]
			}
			c.setString(ab, ch, "auth_pass", s)
		default:
			c.unsupported(ab, ch, ch.Keyword, describe(ch.Keyword))
		}
	}
}

// vips maps a virtual_ipaddress or virtual_ipaddress_excluded block: each
// line is `IP[/len] [dev X] [label X] [scope X] [brd X] ...`; lvsd takes
// dev (dropped when it is the instance's interface) and label, with scope
// global (the only scope lvsd sets).
func (c *converter) vips(body *hclwrite.Body, n *Node, iface string) []cty.Value {
	if !n.Block {
		c.invalid(body, n, "a block")
		return nil
	}
	var vals []cty.Value
	c.comments(body, n)
	for _, e := range n.Children {
		c.comments(body, e)
		if _, err := netip.ParsePrefix(e.Keyword); err != nil {
			if _, err := netip.ParseAddr(e.Keyword); err != nil {
				c.unsupported(body, e, n.Keyword, fmt.Sprintf("%q is not IP or IP/len (keepalived would reject the entry)", e.Keyword))
				continue
			}
		}
		ok := true
		entry := e.Keyword
		for i := 0; i < len(e.Args); i++ {
			opt, val := e.Args[i], ""
			if i+1 < len(e.Args) {
				val = e.Args[i+1]
			}
			switch {
			case (opt == "dev" || opt == "label") && val != "":
				if opt != "dev" || val != iface {
					entry += " " + opt + " " + val
				}
				i++
			case opt == "scope" && val == "global":
				i++
			case opt == "label", opt == "dev", opt == "scope", opt == "brd", opt == "broadcast", opt == "preferred_lft":
				c.unsupported(body, e, n.Keyword+" "+opt, fmt.Sprintf("keepalived would add %s with %s %s", e.Keyword, opt, val))
				ok = false
				i++
			default:
				c.unsupported(body, e, n.Keyword+" "+opt, fmt.Sprintf("keepalived would apply option %q to %s", opt, e.Keyword))
				ok = false
			}
		}
		if ok {
			vals = append(vals, cty.StringVal(entry))
		}
	}
	return vals
}

// addrPort parses keepalived's `IP PORT` pair.
func addrPort(ip, port string) (netip.AddrPort, bool) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.AddrPort{}, false
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, uint16(p)), true
}

func (c *converter) virtualServer(root *hclwrite.Body, n *Node) {
	if len(n.Args) != 2 || !n.Block {
		c.unsupported(root, n, n.Keyword, "expected `virtual_server IP PORT { ... }`, `virtual_server fwmark N { ... }` or `virtual_server group NAME { ... }`")
		return
	}
	var ap netip.AddrPort
	var mark uint64
	group, isGroup := "", n.Args[0] == "group"
	var shape vsgShape
	if isGroup {
		group = n.Args[1]
		var ok bool
		if shape, ok = c.vsGroups[group]; !ok {
			c.unsupported(root, n, "virtual_server group", fmt.Sprintf("no virtual_server_group %q in the file (keepalived would skip the virtual server)", group))
			return
		}
	} else if n.Args[0] == "fwmark" {
		m, err := strconv.ParseUint(n.Args[1], 10, 32)
		if err != nil || m == 0 {
			c.unsupported(root, n, "virtual_server fwmark", fmt.Sprintf("%s is not a firewall mark 1-4294967295 (keepalived would reject the virtual server)", n.Args[1]))
			return
		}
		mark = m
	} else {
		var ok bool
		ap, ok = addrPort(n.Args[0], n.Args[1])
		if !ok {
			c.unsupported(root, n, n.Keyword, fmt.Sprintf("%s %s is not an IP address and a port 1-65535 (keepalived would reject the virtual server)", n.Args[0], n.Args[1]))
			return
		}
	}
	proto := ""
	for _, ch := range n.Children {
		if ch.Keyword == "protocol" && len(ch.Args) == 1 {
			proto = strings.ToUpper(ch.Args[0])
		}
	}
	// keepalived 2.2 programs an address virtual server without protocol
	// as UDP ("no protocol set - defaulting to UDP", vs_end_handler), not
	// TCP; lvsd's default is TCP, so the converted file says UDP.
	defaultUDP := proto == "" && mark == 0 && (!isGroup || shape.addrs)
	if defaultUDP {
		proto = "UDP"
	}
	label := ap.String()
	switch {
	case isGroup:
		label = group
	case mark != 0:
		label = "fwmark-" + strconv.FormatUint(mark, 10)
	}
	if c.vsLabels[label] {
		label += "/" + proto
	}
	c.vsLabels[label] = true

	c.comments(root, n)
	body := root.AppendNewBlock("virtual_server", []string{label}).Body()
	if isGroup {
		body.SetAttributeValue("group", cty.StringVal(group))
		if !shape.addrs && (shape.fwmark6 || fwmarkFamily(n) == "inet6") {
			body.SetAttributeValue("ip_family", cty.StringVal("inet6"))
		}
	} else if mark != 0 {
		body.SetAttributeValue("fwmark", cty.NumberUIntVal(mark))
		// keepalived takes the family from ip_family, else from the real
		// servers; lvsd needs it said when it is IPv6.
		if fam := fwmarkFamily(n); fam == "inet6" {
			body.SetAttributeValue("ip_family", cty.StringVal(fam))
		}
	} else {
		body.SetAttributeValue("address", cty.StringVal(ap.String()))
	}
	if defaultUDP {
		c.add(n, Note, "protocol", "not set: keepalived programs this virtual server as UDP (it logs \"no protocol set - defaulting to UDP\"); written as protocol = \"UDP\" so the IPVS table stays the same. Write protocol TCP in keepalived.conf, or change it here, if TCP was meant")
		comment(body, "keepalived defaults a virtual_server without protocol to UDP")
		body.SetAttributeValue("protocol", cty.StringVal("UDP"))
	}
	rsLabels := map[string]bool{}
	c.vsWarmup = inheritedWarmup(n)
	defer func() { c.vsWarmup = "" }()
	// keepalived applies a scheduler flag keyword against the scheduler
	// set so far (lbflags_handler), so the order matters; its default
	// scheduler is wlc, like lvsd's. The flags are written as one
	// lvs_flags list where the first valid one stood.
	sched := "wlc"
	flags := vsFlags(n.Children, proto, mark != 0)
	flagsWritten := false
	for _, ch := range n.Children {
		switch ch.Keyword {
		case "delay_loop":
			c.setDuration(body, ch, "delay_loop")
		case "lvs_sched", "lb_algo":
			if s, ok := c.arg(body, ch); ok {
				c.alias(ch, "lvs_sched")
				sched = strings.ToLower(s)
				c.setString(body, ch, "lvs_sched", sched)
			}
		case "ops", "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback":
			if len(ch.Args) != 0 || ch.Block {
				c.invalid(body, ch, "a flag without a value")
				continue
			}
			if why := flagProblem(ch.Keyword, sched, proto, mark != 0); why != "" {
				c.unsupported(body, ch, ch.Keyword, why)
				continue
			}
			c.comments(body, ch)
			if !flagsWritten {
				flagsWritten = true
				body.SetAttributeValue("lvs_flags", cty.TupleVal(flags))
			}
		case "ip_family":
			if s, ok := c.arg(body, ch); ok && mark == 0 {
				c.add(ch, Info, ch.Keyword, "ignored: the address says the family")
			} else if ok && s != "inet" && s != "inet6" {
				c.invalid(body, ch, "inet or inet6")
			}
		case "lvs_method", "lb_kind":
			c.alias(ch, "lvs_method")
			c.method(body, ch)
		case "protocol":
			if s, ok := c.arg(body, ch); ok {
				c.setString(body, ch, "protocol", strings.ToUpper(s))
			}
		case "persistence_timeout":
			// Written as keepalived's number of seconds, the unit IPVS and
			// ipvsadm -Ln use.
			c.setInt(body, ch, "persistence_timeout")
		case "persistence_granularity":
			// lvsd reads keepalived's forms as they are: a dotted netmask
			// (IPv4) or a prefix length (IPv6).
			if s, ok := c.arg(body, ch); ok {
				c.setString(body, ch, "persistence_granularity", s)
			}
		case "inhibit_on_failure":
			c.inhibit(body, ch)
		case "sorry_server", "sorry_server_inhibit", "sorry_server_lvs_method", "quorum", "hysteresis",
			"quorum_up", "quorum_down", "alpha", "omega":
			c.membership(body, ch)
		case "real_server":
			c.realServer(body, ch, ap, rsLabels)
		case "warmup":
			c.warmupDefault(body, ch, "virtual_server")
		default:
			c.unsupported(body, ch, ch.Keyword, describe(ch.Keyword))
		}
	}
}

// flagProblem says why keepalived (or lvsd) would not apply scheduler flag
// keyword kw with the scheduler set so far; "" when it applies.
func flagProblem(kw, sched, proto string, fwmark bool) string {
	if pre := kw[:3]; (pre == "sh-" || pre == "mh-") && sched != kw[:2] {
		return fmt.Sprintf("keepalived ignores %s here (it only applies to lvs_sched %s, and the scheduler at this point is %s)", kw, kw[:2], sched)
	}
	if kw == "ops" && !fwmark && proto != "UDP" {
		return "ops (one-packet scheduling) only applies to UDP services; lvsd refuses it on " + proto
	}
	return ""
}

// vsFlags are the scheduler flag keywords of a virtual_server body that
// apply, in order, without duplicates.
func vsFlags(children []*Node, proto string, fwmark bool) []cty.Value {
	sched := "wlc"
	var out []cty.Value
	seen := map[string]bool{}
	for _, ch := range children {
		switch ch.Keyword {
		case "lvs_sched", "lb_algo":
			if len(ch.Args) == 1 {
				sched = strings.ToLower(ch.Args[0])
			}
		case "ops", "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback":
			if len(ch.Args) == 0 && !ch.Block && flagProblem(ch.Keyword, sched, proto, fwmark) == "" && !seen[ch.Keyword] {
				seen[ch.Keyword] = true
				out = append(out, cty.StringVal(ch.Keyword))
			}
		}
	}
	return out
}

// fwmarkFamily is the family keepalived gives a fwmark virtual server:
// its ip_family, else its first real server's.
func fwmarkFamily(n *Node) string {
	for _, ch := range n.Children {
		if ch.Keyword == "ip_family" && len(ch.Args) == 1 {
			return ch.Args[0]
		}
	}
	for _, ch := range n.Children {
		if ch.Keyword == "real_server" && len(ch.Args) >= 1 {
			if a, err := netip.ParseAddr(ch.Args[0]); err == nil && a.Is6() {
				return "inet6"
			}
			return "inet"
		}
	}
	return "inet"
}

// method maps `lvs_method NAT|DR|TUN [type ipip|gue|gre] [port N] [csum...]`
// (virtual_server or real_server). Only ipip tunnels can be programmed by
// lvsd (moby/ipvs does not send the tunnel type), so the others are
// reported and the method left out.
func (c *converter) method(body *hclwrite.Body, n *Node) {
	if len(n.Args) == 0 || n.Block {
		c.invalid(body, n, "NAT, DR or TUN")
		return
	}
	m := strings.ToUpper(n.Args[0])
	if m != "NAT" && m != "DR" && m != "TUN" {
		c.invalid(body, n, "NAT, DR or TUN")
		return
	}
	opts := n.Args[1:]
	tunType := ""
	if len(opts) == 2 && opts[0] == "type" && opts[1] == "ipip" {
		tunType, opts = "ipip", nil
	}
	if len(opts) > 0 {
		c.unsupported(body, n, n.Keyword+" "+strings.Join(opts, " "), "keepalived would program a "+strings.Join(opts, " ")+" tunnel; lvsd only programs ipip tunnels (moby/ipvs cannot send the tunnel type)")
		return
	}
	c.setString(body, n, "lvs_method", m)
	if tunType != "" && m == "TUN" {
		body.SetAttributeValue("tun_type", cty.StringVal(tunType))
	}
}

// lvsTimeouts maps global_defs `lvs_timeouts tcp N tcpfin N udp N` (any
// order, any subset, seconds) onto a top-level lvs_timeouts block.
func (c *converter) lvsTimeouts(root *hclwrite.Body, n *Node) {
	args := n.Args
	if len(args) == 0 || len(args)%2 != 0 || n.Block {
		c.invalid(root, n, "pairs of tcp|tcpfin|udp and seconds")
		return
	}
	vals := map[string]uint64{}
	for i := 0; i < len(args); i += 2 {
		k := args[i]
		v, err := strconv.ParseUint(args[i+1], 10, 32)
		if k != "tcp" && k != "tcpfin" && k != "udp" || err != nil || v == 0 {
			c.invalid(root, n, "pairs of tcp|tcpfin|udp and a number of seconds")
			return
		}
		vals[k] = v
	}
	c.comments(root, n)
	body := root.AppendNewBlock("lvs_timeouts", nil).Body()
	for _, k := range []string{"tcp", "tcpfin", "udp"} {
		if v, ok := vals[k]; ok {
			body.SetAttributeValue(k, cty.NumberUIntVal(v))
		}
	}
}

// lvsSyncDaemon maps global_defs `lvs_sync_daemon IF INSTANCE [id N]
// [maxlen N] [port N] [ttl N] [group IP]` (also `inst NAME`, and the old
// positional `IF INSTANCE SYNC_ID`) onto a top-level lvs_sync_daemon
// block; the values are checked when the result loads.
func (c *converter) lvsSyncDaemon(root *hclwrite.Body, n *Node) {
	const want = "`IF INSTANCE [id N] [maxlen N] [port N] [ttl N] [group IP]`"
	if len(n.Args) < 2 || n.Block {
		c.invalid(root, n, want)
		return
	}
	inst := ""
	nums := map[string]uint64{}
	group := ""
	for i := 1; i < len(n.Args); i++ {
		k := n.Args[i]
		switch {
		case (k == "inst" || k == "group" || k == "id" || k == "maxlen" || k == "port" || k == "ttl") && i+1 < len(n.Args):
			v := n.Args[i+1]
			i++
			switch k {
			case "inst":
				inst = v
			case "group":
				group = v
			default:
				x, err := strconv.ParseUint(v, 10, 32)
				if err != nil {
					c.invalid(root, n, want)
					return
				}
				nums[k] = x
			}
		case i == 1 && inst == "":
			inst = k
		case i == 2:
			// keepalived's old third word: the sync id.
			x, err := strconv.ParseUint(k, 10, 32)
			if err != nil {
				c.invalid(root, n, want)
				return
			}
			nums["id"] = x
		default:
			c.invalid(root, n, want)
			return
		}
	}
	if inst == "" {
		c.invalid(root, n, want)
		return
	}
	c.comments(root, n)
	body := root.AppendNewBlock("lvs_sync_daemon", nil).Body()
	body.SetAttributeValue("interface", cty.StringVal(n.Args[0]))
	body.SetAttributeValue("vrrp_instance", cty.StringVal(inst))
	for _, k := range []string{"id", "maxlen", "port", "ttl"} {
		if v, ok := nums[k]; ok {
			name := k
			if k == "id" {
				name = "sync_id"
			}
			body.SetAttributeValue(name, cty.NumberUIntVal(v))
		}
	}
	if group != "" {
		body.SetAttributeValue("group", cty.StringVal(group))
	}
}

// membership maps keepalived's sorry server, quorum and alpha/omega
// settings; lvsd's attributes have the same names and meaning.
func (c *converter) membership(body *hclwrite.Body, n *Node) {
	switch n.Keyword {
	case "sorry_server":
		// keepalived: sorry_server IP PORT.
		if len(n.Args) != 2 || n.Block {
			c.invalid(body, n, "an IP address and a port")
			return
		}
		ap, ok := addrPort(n.Args[0], n.Args[1])
		if !ok {
			c.invalid(body, n, "an IP address and a port 1-65535")
			return
		}
		c.setString(body, n, "sorry_server", ap.String())
	case "sorry_server_inhibit", "alpha", "omega":
		if v, ok := c.flag(body, n); ok {
			c.comments(body, n)
			body.SetAttributeValue(n.Keyword, cty.BoolVal(v))
		}
	case "sorry_server_lvs_method":
		if s, ok := c.arg(body, n); ok {
			c.setString(body, n, n.Keyword, strings.ToUpper(s))
		}
	case "quorum", "hysteresis":
		c.setInt(body, n, n.Keyword)
	case "quorum_up", "quorum_down":
		// keepalived splits the (quoted) script into words and runs it
		// without a shell, as lvsd does.
		cmd := strings.Join(n.Args, " ")
		argv, err := conf.SplitCommand(cmd)
		switch {
		case n.Block || len(n.Args) == 0:
			c.invalid(body, n, "a script")
		case err != nil:
			c.unsupported(body, n, n.Keyword, fmt.Sprintf("lvsd cannot split %q into words (%v); left out", cmd, err))
		case !strings.HasPrefix(argv[0], "/"):
			c.unsupported(body, n, n.Keyword, fmt.Sprintf("keepalived would look %q up in its PATH; lvsd needs an absolute program path; left out", argv[0]))
		default:
			c.setString(body, n, n.Keyword, cmd)
		}
	}
}

// inhibit maps keepalived's inhibit_on_failure flag (virtual_server: the
// default of its real servers; real_server: its own), same meaning in lvsd.
func (c *converter) inhibit(body *hclwrite.Body, n *Node) {
	if v, ok := c.flag(body, n); ok {
		c.comments(body, n)
		body.SetAttributeValue("inhibit_on_failure", cty.BoolVal(v))
	}
}

// alias notes a deprecated keepalived spelling written under its modern name.
func (c *converter) alias(n *Node, modern string) {
	if n.Keyword != modern {
		c.add(n, Info, n.Keyword, "deprecated keepalived alias, written as %s", modern)
	}
}

func (c *converter) realServer(vsBody *hclwrite.Body, n *Node, vs netip.AddrPort, labels map[string]bool) {
	args := n.Args
	if len(args) == 1 { // keepalived: the port defaults to the virtual server's
		args = append(args, strconv.Itoa(int(vs.Port())))
	}
	var ap netip.AddrPort
	ok := len(args) == 2 && n.Block
	if ok && !vs.IsValid() && args[1] == "0" {
		// A fwmark service's real server without a port: IPVS keeps the
		// client's port; lvsd writes the bare address.
		var a netip.Addr
		a, err := netip.ParseAddr(args[0])
		ap, ok = netip.AddrPortFrom(a, 0), err == nil
	} else if ok {
		ap, ok = addrPort(args[0], args[1])
	}
	if !ok {
		c.unsupported(vsBody, n, n.Keyword, "expected `real_server IP [PORT] { ... }` (keepalived would reject the real server)")
		return
	}
	label := ap.String()
	if ap.Port() == 0 {
		label = ap.Addr().String()
	}
	for i := 2; labels[label]; i++ {
		label = fmt.Sprintf("%s#%d", ap, i)
	}
	labels[label] = true
	vsBody.AppendNewline()
	c.comments(vsBody, n)
	body := vsBody.AppendNewBlock("real_server", []string{label}).Body()
	if ap.Port() == 0 {
		body.SetAttributeValue("address", cty.StringVal(ap.Addr().String()))
	} else {
		body.SetAttributeValue("address", cty.StringVal(ap.String()))
	}
	c.rsWarmup = inheritedWarmup(n)
	c.rsAddr = ap.Addr()
	defer func() { c.rsWarmup, c.rsAddr = "", netip.Addr{} }()
	// lvsd takes several checkers per real server, at most one of each
	// kind.
	seen := map[string]bool{}
	for _, ch := range n.Children {
		switch ch.Keyword {
		case "weight":
			c.setInt(body, ch, "weight")
		case "uthreshold", "lthreshold":
			c.setInt(body, ch, ch.Keyword)
		case "lvs_method":
			c.method(body, ch)
		case "inhibit_on_failure":
			c.inhibit(body, ch)
		case "warmup":
			c.warmupDefault(body, ch, "real_server")
		case "notify_up", "notify_down":
			// keepalived keeps the first and ignores later ones
			// (check_parser.c: "script already specified").
			if seen[ch.Keyword] {
				c.comments(body, ch)
				comment(body, fmt.Sprintf("lvsd convert: ignored (%s): %s (keepalived keeps the first %s)", ch.Pos, source(ch), ch.Keyword))
				c.add(ch, Info, ch.Keyword, "keepalived keeps the first %s and ignores this one", ch.Keyword)
				continue
			}
			seen[ch.Keyword] = true
			c.rsNotify(body, ch)
		case "TCP_CHECK", "HTTP_GET", "SSL_GET", "UDP_CHECK", "DNS_CHECK":
			block := checkBlocks[ch.Keyword]
			if seen[block] {
				c.unsupported(body, ch, ch.Keyword, fmt.Sprintf("keepalived would run this second %s as well; lvsd runs at most one %s per real server", ch.Keyword, block))
				continue
			}
			if !ch.Block {
				c.invalid(body, ch, "a block")
				continue
			}
			if (ch.Keyword == "HTTP_GET" || ch.Keyword == "SSL_GET") && !hasURL(ch) {
				c.unsupported(body, ch, ch.Keyword, fmt.Sprintf("keepalived ignores a %s without a url that has a path (it logs a configuration error and runs no such checker); left out", ch.Keyword))
				continue
			}
			seen[block] = true
			c.check(body, ch, block)
		case "MISC_CHECK":
			if seen["misc_check"] {
				c.unsupported(body, ch, ch.Keyword, "keepalived would run this second MISC_CHECK as well; lvsd runs at most one misc_check per real server")
				continue
			}
			if !ch.Block {
				c.invalid(body, ch, "a block")
				continue
			}
			seen["misc_check"] = true
			c.miscCheck(body, ch)
		default:
			c.unsupported(body, ch, ch.Keyword, describe(ch.Keyword))
		}
	}
}

// miscCheck maps MISC_CHECK onto misc_check. A MISC_CHECK whose program
// lvsd cannot run as keepalived would is left out.
func (c *converter) miscCheck(rsBody *hclwrite.Body, n *Node) {
	var path *Node // keepalived keeps the last misc_path
	for _, ch := range n.Children {
		if ch.Keyword == "misc_path" {
			path = ch
		}
	}
	if path == nil || len(path.Args) == 0 || path.Block {
		c.unsupported(rsBody, n, n.Keyword, "keepalived ignores a MISC_CHECK without misc_path (it logs a configuration error and runs no such checker); left out")
		return
	}
	// keepalived splits the (quoted) string into words like lvsd does, and
	// runs it without a shell.
	cmd := strings.Join(path.Args, " ")
	argv, err := conf.SplitCommand(cmd)
	switch {
	case err != nil:
		c.unsupported(rsBody, n, n.Keyword, fmt.Sprintf("lvsd cannot split misc_path %q into words (%v); left out", cmd, err))
		return
	case !strings.HasPrefix(argv[0], "/"):
		c.unsupported(rsBody, n, n.Keyword, fmt.Sprintf("keepalived would look %q up in its PATH; lvsd's misc_path needs an absolute program path; left out", argv[0]))
		return
	}
	c.comments(rsBody, n)
	body := rsBody.AppendNewBlock("misc_check", nil).Body()
	c.inheritWarmup(body, n)
	for _, ch := range n.Children {
		switch ch.Keyword {
		case "misc_timeout", "delay_before_retry", "delay_loop":
			c.setDuration(body, ch, ch.Keyword)
		case "retry", "nb_get_retry":
			c.alias(ch, "retry")
			c.setInt(body, ch, "retry")
		case "misc_path":
			if ch == path {
				c.setString(body, ch, "misc_path", cmd)
				continue
			}
			c.comments(body, ch)
			comment(body, fmt.Sprintf("lvsd convert: ignored (%s): %s (a later misc_path replaces it)", ch.Pos, source(ch)))
			c.add(ch, Info, ch.Keyword, "keepalived keeps the last misc_path")
		case "misc_dynamic":
			// Same exit code mapping in lvsd (check_misc.c: 0 up, 1
			// down, 2-255 up with weight code - 2).
			if v, ok := c.flag(body, ch); ok {
				c.comments(body, ch)
				body.SetAttributeValue("misc_dynamic", cty.BoolVal(v))
			}
		case "warmup":
			c.setDuration(body, ch, "warmup")
		case "user":
			switch {
			case len(ch.Args) == 1 && !ch.Block:
				c.setString(body, ch, "user", ch.Args[0])
			case len(ch.Args) == 2 && !ch.Block:
				c.setString(body, ch, "user", ch.Args[0])
				c.unsupported(body, ch, "user "+ch.Args[0]+" "+ch.Args[1], fmt.Sprintf("keepalived would run the script with group %s; lvsd uses the user's own groups", ch.Args[1]))
			default:
				c.invalid(body, ch, "a user name and an optional group")
			}
		default:
			c.unsupported(body, ch, ch.Keyword, describe(ch.Keyword))
		}
	}
}

// checkBlocks maps keepalived's checkers to lvsd's checker blocks.
var checkBlocks = map[string]string{"TCP_CHECK": "tcp_check", "HTTP_GET": "http_get", "SSL_GET": "ssl_get",
	"UDP_CHECK": "udp_check", "DNS_CHECK": "dns_check"}

// hasURL reports whether an HTTP_GET / SSL_GET has a url keepalived keeps
// (one with a path).
func hasURL(n *Node) bool {
	for _, ch := range n.Children {
		if ch.Keyword == "url" && urlPath(ch) != nil {
			return true
		}
	}
	return false
}

// urlPath returns the path statement of a url block (keepalived keeps the
// last one), or nil.
func urlPath(u *Node) *Node {
	var p *Node
	if !u.Block {
		return nil
	}
	for _, ch := range u.Children {
		if ch.Keyword == "path" && len(ch.Args) >= 1 {
			p = ch
		}
	}
	return p
}

// bindto carries a checker's source address. keepalived ignores, with a
// configuration error, a bindto that is no address or whose family is not
// the target's (check_api.c co_srcip_handler); lvsd refuses both, so the
// converter leaves it out as keepalived runs the check.
func (c *converter) bindTo(body *hclwrite.Body, checker, n *Node) {
	s, ok := c.arg(body, n)
	if !ok {
		return
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		c.unsupported(body, n, n.Keyword, fmt.Sprintf("%q is not an IP address (keepalived ignores it and connects from the kernel's choice of address)", s))
		return
	}
	target := c.rsAddr
	for _, ch := range checker.Children {
		if ch.Keyword == "connect_ip" && len(ch.Args) == 1 {
			if t, err := netip.ParseAddr(ch.Args[0]); err == nil {
				target = t
			}
		}
	}
	if target.IsValid() && a.Is4() != target.Is4() {
		c.unsupported(body, n, n.Keyword, fmt.Sprintf("%s is not of the family of the target %s (keepalived ignores it and connects from the kernel's choice of address)", a, target))
		return
	}
	c.setString(body, n, "bindto", a.String())
}

// check maps TCP_CHECK, HTTP_GET, SSL_GET, UDP_CHECK or DNS_CHECK onto the
// lvsd block.
func (c *converter) check(rsBody *hclwrite.Body, n *Node, block string) {
	c.comments(rsBody, n)
	body := rsBody.AppendNewBlock(block, nil).Body()
	c.inheritWarmup(body, n)
	httpLike := block != "tcp_check"
	if block == "ssl_get" {
		// keepalived's SSL_GET never verifies the certificate.
		body.SetAttributeValue("insecure_skip_verify", cty.True)
		c.add(n, Note, n.Keyword,
			"keepalived does not verify the real server's certificate; lvsd's ssl_get does by default, so insecure_skip_verify = true is written to keep keepalived's behaviour (lvsd check warns about it): remove it, with ca_file or server_name as needed, to verify")
	}
	var udp *udpState
	if block == "udp_check" {
		udp = newUDPState(n)
	}
	// The first url with a path is the one lvsd checks.
	var first *Node
	urlVHost := false
	for _, ch := range n.Children {
		if ch.Keyword == "url" && urlPath(ch) != nil {
			first = ch
			for _, u := range ch.Children {
				urlVHost = urlVHost || u.Keyword == "virtualhost"
			}
			break
		}
	}
	for _, ch := range n.Children {
		switch {
		case ch.Keyword == "connect_timeout", ch.Keyword == "delay_before_retry", ch.Keyword == "delay_loop",
			ch.Keyword == "warmup": // keepalived: every checker's common keywords (check_api.c)
			c.setDuration(body, ch, ch.Keyword)
		case ch.Keyword == "retry", ch.Keyword == "nb_get_retry":
			c.alias(ch, "retry")
			c.setInt(body, ch, "retry")
		case ch.Keyword == "connect_port":
			c.setInt(body, ch, "connect_port")
		case ch.Keyword == "connect_ip":
			if s, ok := c.arg(body, ch); ok {
				c.setString(body, ch, "connect_ip", s)
			}
		case ch.Keyword == "bindto":
			c.bindTo(body, n, ch)
		case ch.Keyword == "bind_port":
			c.setInt(body, ch, "bind_port")
		case httpLike && ch.Keyword == "url" && ch == first:
			c.url(body, ch)
		case httpLike && ch.Keyword == "url":
			c.extraURL(body, ch, n.Keyword)
		case httpLike && ch.Keyword == "virtualhost":
			s, ok := c.arg(body, ch)
			if !ok {
				continue
			}
			if urlVHost {
				c.add(ch, Info, ch.Keyword, "keepalived uses it only for urls without their own virtualhost; the url lvsd checks has one")
				c.comments(body, ch)
				comment(body, fmt.Sprintf("lvsd convert: ignored (%s): %s (the url lvsd checks has its own virtualhost)", ch.Pos, source(ch)))
				continue
			}
			c.virtualHost(body, ch, s)
		case block == "ssl_get" && ch.Keyword == "enable_sni":
			v, ok := c.flag(body, ch)
			if !ok {
				continue
			}
			if !v {
				c.unsupported(body, ch, ch.Keyword, "keepalived would send no TLS server name; lvsd's ssl_get sends server_name (default the virtualhost) when it is a host name")
				continue
			}
			c.add(ch, Info, ch.Keyword, "lvsd's ssl_get always sends the server name (server_name, default the virtualhost)")
		case block == "udp_check" && udp.handles(ch):
			c.udpOption(body, ch, udp)
		case block == "dns_check" && ch.Keyword == "type":
			c.dnsType(body, ch)
		case block == "dns_check" && ch.Keyword == "name":
			c.dnsName(body, ch)
		default:
			c.unsupported(body, ch, ch.Keyword, describe(ch.Keyword))
		}
	}
	if udp != nil {
		c.udpFinish(body, n, udp)
	}
}

func (c *converter) virtualHost(body *hclwrite.Body, n *Node, s string) {
	if s == "" || strings.ContainsAny(s, " /\t\r\n") {
		c.invalid(body, n, "a host name")
		return
	}
	c.setString(body, n, "virtualhost", s)
}

// url maps the url lvsd checks: path, status_code (repeatable, ranges
// allowed), digest, virtualhost and regex.
func (c *converter) url(body *hclwrite.Body, n *Node) {
	c.comments(body, n)
	var codes []cty.Value
	var codeNode *Node
	seen := map[int]bool{}
	for _, ch := range n.Children {
		switch ch.Keyword {
		case "path":
			if ch != urlPath(n) {
				c.add(ch, Info, ch.Keyword, "overridden by the path below (keepalived keeps the last one)")
				continue
			}
			p, ok := c.arg(body, ch)
			if !ok {
				continue
			}
			if !validPath(p) {
				c.unsupported(body, ch, ch.Keyword, fmt.Sprintf("keepalived would request %q as is; lvsd needs a request path starting with / (lvsd would check / instead)", p))
				continue
			}
			c.setString(body, ch, "path", p)
		case "status_code":
			if len(ch.Args) == 0 || ch.Block {
				c.invalid(body, ch, "status codes or ranges such as 200-299")
				continue
			}
			good := true
			var add []int
			for _, a := range ch.Args {
				lo, hi, ok := codeRange(a)
				if !ok {
					good = false
					break
				}
				for v := lo; v <= hi; v++ {
					add = append(add, v)
				}
			}
			if !good {
				c.invalid(body, ch, "status codes 100-599 or ranges such as 200-299")
				continue
			}
			c.comments(body, ch)
			for _, v := range add {
				if !seen[v] {
					seen[v] = true
					codes = append(codes, cty.NumberIntVal(int64(v)))
				}
			}
			if codeNode == nil {
				codeNode = ch
			}
			body.SetAttributeValue("status_code", cty.ListVal(codes))
		case "digest":
			s, ok := c.arg(body, ch)
			if !ok {
				continue
			}
			s = strings.ToLower(s)
			if !isMD5(s) {
				c.invalid(body, ch, "an MD5 digest of 32 hex digits")
				continue
			}
			c.setString(body, ch, "digest", s)
		case "virtualhost":
			if s, ok := c.arg(body, ch); ok {
				c.virtualHost(body, ch, s)
			}
		case "regex":
			s, ok := c.arg(body, ch)
			if !ok {
				continue
			}
			if _, err := regexp.Compile(s); err != nil {
				c.unsupported(body, ch, ch.Keyword, fmt.Sprintf("keepalived would match the body against the PCRE %q; it is not valid RE2, which lvsd's body_regex uses (%v)", s, err))
				continue
			}
			c.setString(body, ch, "body_regex", s)
		default:
			c.unsupported(body, ch, ch.Keyword, describe(ch.Keyword))
		}
	}
	if codeNode == nil {
		// keepalived accepts any 2xx when the url sets no status_code
		// (with or without digest); lvsd's default is 200 only.
		comment(body, "lvsd convert: keepalived's default status_code: any 2xx")
		body.SetAttributeRaw("status_code", intRows(200, 299, 10))
	}
}

// intRows renders the list [lo, ..., hi] with perLine numbers a line.
func intRows(lo, hi, perLine int) hclwrite.Tokens {
	toks := hclwrite.Tokens{{Type: hclsyntax.TokenOBrack, Bytes: []byte("[")}}
	for v := lo; v <= hi; v++ {
		if (v-lo)%perLine == 0 {
			toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenNewline, Bytes: []byte("\n")})
		}
		toks = append(toks, hclwrite.TokensForValue(cty.NumberIntVal(int64(v)))...)
		toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenComma, Bytes: []byte(",")})
	}
	return append(toks,
		&hclwrite.Token{Type: hclsyntax.TokenNewline, Bytes: []byte("\n")},
		&hclwrite.Token{Type: hclsyntax.TokenCBrack, Bytes: []byte("]")})
}

// extraURL reports a url lvsd cannot check (http_get has one path).
func (c *converter) extraURL(body *hclwrite.Body, n *Node, checker string) {
	p := urlPath(n)
	if p == nil {
		c.unsupported(body, n, "url", "keepalived ignores a url without path (it logs a configuration error)")
		return
	}
	what := "any 2xx status"
	for _, ch := range n.Children {
		if ch.Keyword == "status_code" || ch.Keyword == "digest" || ch.Keyword == "regex" {
			what = "its status_code, digest or regex"
			break
		}
	}
	c.unsupported(body, n, "url", fmt.Sprintf("keepalived's %s would also request %s and require %s; lvsd's %s checks one path (the first url is mapped)",
		checker, p.Args[0], what, checkBlocks[checker]))
}

// validPath is lvsd's request path rule.
func validPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return false
	}
	u, err := url.ParseRequestURI(p)
	return err == nil && u.Host == ""
}

// codeRange parses keepalived's status code or low-high range, each 100-599.
func codeRange(s string) (lo, hi int, ok bool) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.Atoi(a)
	if err != nil {
		return 0, 0, false
	}
	hi = lo
	if isRange {
		if hi, err = strconv.Atoi(b); err != nil {
			return 0, 0, false
		}
	}
	return lo, hi, lo >= 100 && hi <= 599 && lo <= hi
}

func isMD5(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// descriptions say what keepalived would have done with a keyword lvsd does
// not carry.
var descriptions = map[string]string{
	// top level
	"vrrp_sync_group":          "keepalived would move the grouped instances between MASTER and BACKUP together (and run the group's notify scripts)",
	"vrrp_script":              "keepalived would run this script periodically; instances tracking it change priority or go to FAULT",
	"virtual_server_group":     "keepalived would define a set of addresses for `virtual_server group NAME`",
	"virtual_server group":     "keepalived would create one IPVS service per address of the virtual_server_group",
	"static_ipaddress":         "keepalived would add these addresses at start, whatever the VRRP state",
	"static_routes":            "keepalived would add these routes at start, whatever the VRRP state",
	"static_rules":             "keepalived would add these policy rules at start, whatever the VRRP state",
	"track_file":               "keepalived would read a weight from this file for tracking instances",
	"linkbeat_use_polling":     "keepalived would poll interface state instead of listening to netlink",
	"net_namespace":            "keepalived would run inside this network namespace",
	"include":                  "keepalived would read the named files",
	"local_address_group":      "keepalived would use these local addresses for FULLNAT",
	"garp_group":               "keepalived would send gratuitous ARP on these interfaces with this timing",
	"bfd_instance":             "keepalived would run a BFD session",
	"vrrp_garp_interval":       "keepalived would pause this long between gratuitous ARPs",
	"vrrp_gna_interval":        "keepalived would pause this long between unsolicited neighbour advertisements",
	"vrrp_strict":              "keepalived would enforce strict RFC compliance (and add iptables rules blocking the VIPs)",
	"vrrp_skip_check_adv_addr": "keepalived would not compare the address list of adverts from the same master",
	"vrrp_mcast_group4":        "keepalived would send IPv4 adverts to this multicast group instead of 224.0.0.18",
	"vrrp_mcast_group6":        "keepalived would send IPv6 adverts to this multicast group instead of ff02::12",
	"enable_script_security":   "keepalived would refuse scripts writable by non-root users",
	"script_user":              "keepalived would run scripts as this user",
	"lvs_id":                   "keepalived would use this id for the LVS sync daemon",
	"lvs_sync_daemon":          "keepalived would run the IPVS connection sync daemon on this interface",
	"max_auto_priority":        "keepalived would run with real-time scheduling priority",
	"vrrp_priority":            "keepalived would renice the VRRP process",
	"checker_priority":         "keepalived would renice the checker process",
	"dynamic_interfaces":       "keepalived would allow interfaces that do not exist yet",
	"vrrp_garp_master_delay":   "keepalived would repeat gratuitous ARPs this long after becoming master",
	"vrrp_garp_master_repeat":  "keepalived would send this many gratuitous ARPs on becoming master",
	"vrrp_version":             "keepalived would default instances to this VRRP version",
	"vrrp_iptables":            "keepalived would add iptables rules for the VIPs in this chain",
	// vrrp_instance
	"mcast_src_ip":               "deprecated alias of unicast_src_ip: keepalived would send adverts from this source address (lvsd's vrrp_instance takes it as unicast_src_ip)",
	"unicast_src_ip":             "keepalived would send adverts from this source address (lvsd's vrrp_instance takes it as unicast_src_ip)",
	"v3_checksum_as_v2":          "keepalived would compute the VRRP version 3 checksum without the IP pseudo-header (lvsd's vrrp_instance takes it with version 3)",
	"unicast_peer":               "keepalived would send adverts by unicast to these peers instead of multicast to 224.0.0.18",
	"preempt_delay":              "keepalived would wait this long after start before preempting a lower-priority master",
	"garp_master_delay":          "keepalived would send a second burst of gratuitous ARPs this long after becoming master",
	"garp_master_repeat":         "keepalived would send this many gratuitous ARPs per burst",
	"garp_master_refresh":        "keepalived would repeat gratuitous ARPs at this interval while master",
	"garp_master_refresh_repeat": "keepalived would send this many gratuitous ARPs per refresh",
	"track_interface":            "keepalived would go to FAULT (or change priority) when these interfaces go down",
	"track_script":               "keepalived would change priority or go to FAULT according to these vrrp_scripts",
	"notify_master":              "keepalived would run this script on becoming MASTER",
	"notify_backup":              "keepalived would run this script on becoming BACKUP",
	"notify_fault":               "keepalived would run this script on going to FAULT",
	"notify_stop":                "keepalived would run this script when the instance stops",
	"notify":                     "keepalived would run this script on every state change",
	"smtp_alert":                 "keepalived would send mail on state changes",
	"virtual_ipaddress_excluded": "keepalived would add these addresses with the VIPs but leave them out of adverts",
	"virtual_routes":             "keepalived would add these routes while MASTER",
	"virtual_rules":              "keepalived would add these policy rules while MASTER",
	"dont_track_primary":         "keepalived would ignore faults on the instance's interface",
	"use_vmac":                   "keepalived would send from a macvlan interface with the VRRP virtual MAC",
	"vmac_xmit_base":             "keepalived would send adverts from the base interface of the vmac",
	"native_ipv6":                "keepalived would force IPv6 for the instance",
	"accept":                     "keepalived would accept packets addressed to the VIPs while MASTER (VRRPv3 accept mode)",
	"no_accept":                  "keepalived would drop packets addressed to the VIPs (strict mode)",
	"preempt":                    "keepalived would preempt (the default)",
	"strict_mode":                "keepalived would enforce strict RFC compliance for this instance",
	"lvs_sync_daemon_interface":  "keepalived would run the IPVS connection sync daemon on this interface",
	"debug":                      "keepalived would log more for this instance",
	"auth_type":                  "keepalived would authenticate adverts",
	// virtual_server
	"persistence_engine": "keepalived would use this IPVS persistence engine",
	"ha_suspend":         "keepalived would suspend the checks while the VIP is not local",
	"virtualhost":        "keepalived would send this Host header in HTTP checks",
	"retry":              "keepalived would retry a failed check this many times",
	"connect_timeout":    "keepalived would apply this connect timeout to the checkers",
	"delay_before_retry": "keepalived would pause this long before retrying a failed check",
	"warmup":             "keepalived would delay the first check by a random time up to this",
	"smtp_alert_checker": "keepalived would send mail when real servers change state",
	// real_server
	"HTTP_GET":   "keepalived would fetch the URLs over HTTP and compare status code or digest (lvsd's real_server takes it as http_get)",
	"SSL_GET":    "keepalived would fetch the URLs over HTTPS and compare status code or digest (lvsd's real_server takes it as ssl_get)",
	"SMTP_CHECK": "keepalived would check for an SMTP greeting and HELO; lvsd's checkers are tcp_check, mysql_check, http_get, ssl_get, misc_check, udp_check and dns_check",
	"PING_CHECK": "keepalived would send ICMP echo requests; lvsd's checkers are tcp_check, mysql_check, http_get, ssl_get, misc_check, udp_check and dns_check",
	"FILE_CHECK": "keepalived would read the server's state from a file; lvsd's checkers are tcp_check, mysql_check, http_get, ssl_get, misc_check, udp_check and dns_check",
	"BFD_CHECK":  "keepalived would follow a BFD session; lvsd's checkers are tcp_check, mysql_check, http_get, ssl_get, misc_check, udp_check and dns_check",
	// checkers (TCP_CHECK, HTTP_GET, SSL_GET)
	"bind_if":          "keepalived would connect through this interface",
	"fwmark":           "keepalived would mark the check's packets",
	"log_all_failures": "keepalived would log every failed check, not only state changes",
	"http_protocol":    "keepalived would send the request with this HTTP version (default 1.0); lvsd sends HTTP/1.1 with Connection: close",
	"fast_recovery":    "keepalived would retry a failed server at once instead of after delay_loop",
	"enable_sni":       "keepalived would send the virtualhost as TLS server name",
	"url":              "keepalived would request this url as well",
	"regex_no_match":   "keepalived would require the body NOT to match the regex; lvsd's body_regex must match",
	"regex_options":    "keepalived would compile the regex with these PCRE options",
	"regex_min_offset": "keepalived would only match the regex from this offset of the body",
	"regex_max_offset": "keepalived would only match the regex up to this offset of the body",
	"regex_stack":      "keepalived would give the PCRE JIT this stack",
}

// describe returns what keepalived does with kw.
func describe(kw string) string {
	if d, ok := descriptions[kw]; ok {
		return d
	}
	return "lvsd has no equivalent; keepalived would apply it (or ignore it with a warning if it does not know it either)"
}

// vrrpScript converts a top-level vrrp_script block.
func (c *converter) vrrpScript(root *hclwrite.Body, n *Node) {
	if len(n.Args) != 1 || !n.Block {
		c.unsupported(root, n, n.Keyword, "expected `vrrp_script NAME { ... }`")
		return
	}
	var script *Node
	for _, ch := range n.Children {
		if ch.Keyword == "script" {
			script = ch
		}
	}
	if script == nil || len(script.Args) == 0 {
		c.unsupported(root, n, n.Keyword, "keepalived ignores a vrrp_script without script; left out")
		return
	}
	cmd := strings.Join(script.Args, " ")
	argv, err := conf.SplitCommand(cmd)
	switch {
	case err != nil:
		c.unsupported(root, n, n.Keyword, fmt.Sprintf("lvsd cannot split script %q into words (%v); left out", cmd, err))
		return
	case !strings.HasPrefix(argv[0], "/"):
		c.unsupported(root, n, n.Keyword, fmt.Sprintf("keepalived would look %q up in its PATH; lvsd's script needs an absolute program path; left out (instances tracking it will not load)", argv[0]))
		return
	}
	c.comments(root, n)
	body := root.AppendNewBlock("vrrp_script", []string{n.Args[0]}).Body()
	for _, ch := range n.Children {
		switch ch.Keyword {
		case "script":
			if ch == script {
				c.setString(body, ch, "script", cmd)
			}
		case "interval", "timeout":
			c.setDuration(body, ch, ch.Keyword)
		case "rise", "fall":
			c.setInt(body, ch, ch.Keyword)
		case "weight":
			if len(ch.Args) == 2 && ch.Args[1] == "reverse" {
				c.unsupported(body, ch, "weight reverse", "keepalived would apply the weight when the script fails instead of when it succeeds; lvsd has no reverse weights")
				continue
			}
			c.setInt(body, ch, "weight")
		case "user":
			if len(ch.Args) >= 1 && !ch.Block {
				c.setString(body, ch, "user", ch.Args[0])
				if len(ch.Args) > 1 {
					c.add(ch, Note, "user", "keepalived would run the script with group %s; lvsd uses the user's own groups", ch.Args[1])
				}
				continue
			}
			c.invalid(body, ch, "a user name and an optional group")
		case "init_fail":
			c.comments(body, ch)
			body.SetAttributeValue("init_fail", cty.True)
		default:
			c.unsupported(body, ch, ch.Keyword, describe(ch.Keyword))
		}
	}
}

// trackRefs converts the track_* blocks of an instance or a sync group.
func (c *converter) trackRefs(body *hclwrite.Body, n *Node) {
	switch n.Keyword {
	case "track_file":
		c.trackFileRefs(body, n)
	case "track_process":
		c.trackProcessRefs(body, n)
	default:
		c.comments(body, n)
		c.trackBlock(body, n)
	}
}

// trackBlock converts track_interface / track_script: one block per entry,
// `NAME [weight N]`.
func (c *converter) trackBlock(body *hclwrite.Body, n *Node) {
	for _, e := range n.Children {
		b := body.AppendNewBlock(n.Keyword, []string{e.Keyword}).Body()
		switch {
		case len(e.Args) == 0:
		case len(e.Args) == 2 && e.Args[0] == "weight":
			if w, err := strconv.Atoi(e.Args[1]); err == nil {
				b.SetAttributeValue("weight", cty.NumberIntVal(int64(w)))
				continue
			}
			c.unsupported(body, e, n.Keyword, fmt.Sprintf("weight %q is not a number", e.Args[1]))
		default:
			c.unsupported(body, e, n.Keyword+" "+e.Keyword, fmt.Sprintf("keepalived would apply %q; lvsd takes `weight N` only", strings.Join(e.Args, " ")))
		}
	}
}

// notifyScript converts notify_* / notify: keepalived's `SCRIPT [user
// [group]]`, the script split into words and run without a shell.
func (c *converter) notifyScript(body *hclwrite.Body, ch *Node) {
	if len(ch.Args) == 0 || ch.Block {
		c.invalid(body, ch, "a script and an optional user")
		return
	}
	argv, err := conf.SplitCommand(ch.Args[0])
	switch {
	case err != nil:
		c.unsupported(body, ch, ch.Keyword, fmt.Sprintf("lvsd cannot split %q into words (%v)", ch.Args[0], err))
		return
	case !strings.HasPrefix(argv[0], "/"):
		c.unsupported(body, ch, ch.Keyword, fmt.Sprintf("keepalived would look %q up in its PATH; lvsd needs an absolute program path", argv[0]))
		return
	}
	c.setString(body, ch, ch.Keyword, ch.Args[0])
	if len(ch.Args) > 1 {
		body.SetAttributeValue("notify_user", cty.StringVal(ch.Args[1]))
		c.add(ch, Note, ch.Keyword, "keepalived runs each notify script as its own user; lvsd has one notify_user per instance or group (%s here)", ch.Args[1])
	}
}

// syncGroup converts a vrrp_sync_group block.
func (c *converter) syncGroup(root *hclwrite.Body, n *Node) {
	if len(n.Args) != 1 || !n.Block {
		c.unsupported(root, n, n.Keyword, "expected `vrrp_sync_group NAME { group { ... } }`")
		return
	}
	c.comments(root, n)
	body := root.AppendNewBlock("vrrp_sync_group", []string{n.Args[0]}).Body()
	for _, ch := range n.Children {
		switch ch.Keyword {
		case "group":
			var members []cty.Value
			for _, e := range ch.Children {
				members = append(members, cty.StringVal(e.Keyword))
			}
			if len(members) == 0 {
				c.invalid(body, ch, "a list of vrrp_instance names")
				continue
			}
			c.comments(body, ch)
			body.SetAttributeValue("group", cty.ListVal(members))
		case "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify":
			c.notifyScript(body, ch)
		case "track_interface", "track_script", "track_file", "track_process":
			c.trackRefs(body, ch)
		case "sync_group_tracking_weight":
			c.comments(body, ch)
			body.SetAttributeValue("sync_group_tracking_weight", cty.True)
		default:
			c.unsupported(body, ch, ch.Keyword, describe(ch.Keyword))
		}
	}
}
