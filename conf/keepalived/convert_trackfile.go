package keepalived

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// trackFile converts a top-level vrrp_track_file (or keepalived 2.2's
// track_file) block: `file PATH`, `weight W [reverse]`, `init_file [VALUE]
// [overwrite]`.
func (c *converter) trackFile(root *hclwrite.Body, n *Node) {
	if len(n.Args) != 1 || !n.Block {
		c.unsupported(root, n, n.Keyword, "expected `"+n.Keyword+" NAME { file PATH ... }`")
		return
	}
	var file *Node
	for _, ch := range n.Children {
		if ch.Keyword == "file" && file == nil {
			file = ch
		}
	}
	if file == nil || len(file.Args) != 1 {
		c.unsupported(root, n, n.Keyword, "keepalived ignores a track file without file; left out")
		return
	}
	if !strings.HasPrefix(file.Args[0], "/") {
		c.unsupported(root, n, n.Keyword, fmt.Sprintf("keepalived would resolve %q against its working directory; lvsd needs an absolute path; left out (instances tracking it will not load)", file.Args[0]))
		return
	}
	c.comments(root, n)
	body := root.AppendNewBlock("vrrp_track_file", []string{n.Args[0]}).Body()
	for _, ch := range n.Children {
		switch ch.Keyword {
		case "file":
			if ch == file {
				c.setString(body, ch, "file", ch.Args[0])
			} else {
				c.unsupported(body, ch, "file", "keepalived keeps the first file and ignores this one")
			}
		case "weight":
			w, rev, ok := fileWeight(ch.Args)
			if !ok {
				c.invalid(body, ch, "a weight -254..254 optionally followed by reverse")
				continue
			}
			c.comments(body, ch)
			body.SetAttributeValue("weight", cty.NumberIntVal(w))
			if rev {
				body.SetAttributeValue("reverse", cty.True)
			}
		case "init_file":
			c.initFile(body, ch)
		default:
			c.unsupported(body, ch, ch.Keyword, describe(ch.Keyword))
		}
	}
}

// fileWeight parses `W [reverse|noreverse]`.
func fileWeight(args []string) (w int64, reverse, ok bool) {
	if len(args) < 1 || len(args) > 2 {
		return 0, false, false
	}
	w, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || w < -254 || w > 254 {
		return 0, false, false
	}
	if len(args) == 2 {
		switch args[1] {
		case "reverse":
			reverse = true
		case "noreverse":
		default:
			return 0, false, false
		}
	}
	return w, reverse, true
}

// initFile converts `init_file [VALUE] [overwrite]` (in either order, as
// keepalived reads it); the value defaults to 0.
func (c *converter) initFile(body *hclwrite.Body, n *Node) {
	var value int64
	overwrite := false
	for _, a := range n.Args {
		if a == "overwrite" {
			overwrite = true
			continue
		}
		v, err := strconv.ParseInt(a, 10, 64)
		if err != nil || v < -254 || v > 254 {
			c.invalid(body, n, "an initial value -254..254 and an optional overwrite")
			return
		}
		value = v
	}
	c.comments(body, n)
	body.SetAttributeValue("init_file", cty.NumberIntVal(value))
	if overwrite {
		body.SetAttributeValue("init_file_overwrite", cty.True)
	}
}

// trackFileRefs converts an instance's `track_file { NAME [weight W
// [reverse|noreverse]] }`: one block per entry.
func (c *converter) trackFileRefs(body *hclwrite.Body, n *Node) {
	c.weightedRefs(body, n, "track_file", "file")
}

// weightedRefs converts an instance's list of weighted references (kind
// track_file or track_process, each entry `NAME [weight W
// [reverse|noreverse]]`) into one block per entry; what names the tracked
// thing in messages.
func (c *converter) weightedRefs(body *hclwrite.Body, n *Node, kind, what string) {
	c.comments(body, n)
	seen := map[string]bool{}
	for _, e := range n.Children {
		if seen[e.Keyword] {
			c.unsupported(body, e, kind+" "+e.Keyword, "keepalived ignores a "+what+" listed twice; left out")
			continue
		}
		seen[e.Keyword] = true
		if len(e.Args) == 0 {
			body.AppendNewBlock(kind, []string{e.Keyword})
			continue
		}
		var w int64
		var rev, ok bool
		if e.Args[0] == "weight" {
			w, rev, ok = fileWeight(e.Args[1:])
		}
		if !ok {
			c.unsupported(body, e, kind+" "+e.Keyword, fmt.Sprintf("keepalived would apply %q; expected `weight W [reverse]`, W -254..254", strings.Join(e.Args, " ")))
			continue
		}
		b := body.AppendNewBlock(kind, []string{e.Keyword}).Body()
		b.SetAttributeValue("weight", cty.NumberIntVal(w))
		if len(e.Args) == 3 {
			// noreverse too: it overrides a reverse on the tracked object.
			b.SetAttributeValue("reverse", cty.BoolVal(rev))
		}
	}
}
