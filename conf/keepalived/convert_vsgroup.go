package keepalived

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// vsgShape is what `virtual_server group NAME` needs to know of its group:
// whether it holds addresses, and the family of its firewall marks.
type vsgShape struct {
	addrs   bool
	fwmark6 bool
}

// scanGroups records the shape of every virtual_server_group before the
// virtual servers are converted, wherever the groups are written.
func (c *converter) scanGroups(nodes []*Node) {
	c.vsGroups = map[string]vsgShape{}
	for _, n := range nodes {
		if n.Keyword != "virtual_server_group" || len(n.Args) != 1 {
			continue
		}
		var sh vsgShape
		for _, e := range n.Children {
			if e.Keyword == "fwmark" {
				sh.fwmark6 = sh.fwmark6 || (len(e.Args) == 2 && e.Args[1] == "inet6")
			} else {
				sh.addrs = true
			}
		}
		c.vsGroups[n.Args[0]] = sh
	}
}

// vsGroup converts a virtual_server_group block: entries `IP PORT`,
// `IP-LAST PORT` (a range of the last byte, or IPv6 group in hex), `IP/LEN
// PORT` and `fwmark N [inet|inet6]` become lvsd's addresses ("IP:PORT",
// "[IPv6]:PORT", "IP-LAST:PORT", "IP/LEN:PORT") and fwmarks, which lvsd
// checks when the result loads.
func (c *converter) vsGroup(root *hclwrite.Body, n *Node) {
	if len(n.Args) != 1 || !n.Block {
		c.unsupported(root, n, n.Keyword, "expected `virtual_server_group NAME { ... }`")
		return
	}
	c.comments(root, n)
	body := root.AppendNewBlock("virtual_server_group", []string{n.Args[0]}).Body()
	var addrs, marks []cty.Value
	fam := ""
	for _, e := range n.Children {
		c.comments(body, e)
		if e.Keyword == "fwmark" {
			m, err := strconv.ParseUint(strings.Join(e.Args[:min(1, len(e.Args))], ""), 10, 32)
			if len(e.Args) < 1 || len(e.Args) > 2 || err != nil || m == 0 {
				c.unsupported(body, e, "virtual_server_group fwmark", fmt.Sprintf("%q is not `fwmark N [inet|inet6]` with N in 1-4294967295", source(e)))
				continue
			}
			if len(e.Args) == 2 {
				if fam != "" && fam != e.Args[1] || (e.Args[1] != "inet" && e.Args[1] != "inet6") {
					c.unsupported(body, e, "virtual_server_group fwmark", fmt.Sprintf("family %q: lvsd gives every firewall mark of a group one family, that of its addresses", e.Args[1]))
					continue
				}
				fam = e.Args[1]
			}
			marks = append(marks, cty.NumberUIntVal(m))
			continue
		}
		if len(e.Args) != 1 || e.Block {
			c.unsupported(body, e, "virtual_server_group", fmt.Sprintf("%q is not `IP PORT`: lvsd needs the port of each address (keepalived takes an address without one as port 0)", source(e)))
			continue
		}
		host := e.Keyword
		base, _, _ := strings.Cut(strings.SplitN(host, "/", 2)[0], "-")
		a, err := netip.ParseAddr(base)
		if err != nil {
			c.unsupported(body, e, "virtual_server_group", fmt.Sprintf("%q is not an address, a range or a network (keepalived would skip the entry)", host))
			continue
		}
		if a.Is6() {
			host = "[" + host + "]"
		}
		addrs = append(addrs, cty.StringVal(host+":"+e.Args[0]))
	}
	if len(addrs) > 0 {
		body.SetAttributeValue("addresses", cty.ListVal(addrs))
	}
	if len(marks) > 0 {
		body.SetAttributeValue("fwmarks", cty.ListVal(marks))
	}
}
