package keepalived

import (
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/lvsd/lvsd/conf"
	"github.com/zclconf/go-cty/cty"
)

// trackProcess converts a top-level vrrp_track_process block.
func (c *converter) trackProcess(root *hclwrite.Body, n *Node) {
	if len(n.Args) != 1 || !n.Block {
		c.unsupported(root, n, n.Keyword, "expected `vrrp_track_process NAME { process NAME ... }`")
		return
	}
	var proc *Node
	for _, ch := range n.Children {
		if ch.Keyword == "process" && proc == nil {
			proc = ch
		}
	}
	if proc == nil || len(proc.Args) == 0 {
		c.unsupported(root, n, n.Keyword, "keepalived ignores a vrrp_track_process without process; left out")
		return
	}
	c.comments(root, n)
	body := root.AppendNewBlock("vrrp_track_process", []string{n.Args[0]}).Body()
	for _, ch := range n.Children {
		switch ch.Keyword {
		case "process":
			if ch != proc {
				c.unsupported(body, ch, "process", "keepalived keeps the first process and ignores this one")
				continue
			}
			c.setString(body, ch, "process", conf.QuoteCommand(ch.Args))
		case "param_match":
			m := conf.ParamExact
			switch {
			case len(ch.Args) == 0:
			case len(ch.Args) == 1 && (ch.Args[0] == conf.ParamInitial || ch.Args[0] == conf.ParamPartial):
				m = ch.Args[0]
			default:
				c.invalid(body, ch, "nothing (exact), initial or partial")
				continue
			}
			c.setString(body, ch, "param_match", m)
		case "full_command":
			c.comments(body, ch)
			body.SetAttributeValue("full_command", cty.True)
		case "quorum", "quorum_max":
			c.setInt(body, ch, ch.Keyword)
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
		case "delay", "fork_delay", "terminate_delay":
			c.setDuration(body, ch, ch.Keyword)
		default:
			c.unsupported(body, ch, ch.Keyword, describe(ch.Keyword))
		}
	}
}

// trackProcessRefs converts an instance's `track_process { NAME [weight W
// [reverse|noreverse]] }`.
func (c *converter) trackProcessRefs(body *hclwrite.Body, n *Node) {
	c.weightedRefs(body, n, "track_process", "process")
}
