package conf

import "github.com/hashicorp/hcl/v2"

var agentSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "vips"}},
}

// agent decodes the agent block of a real server's file.
func (d *decoder) agent(b *hcl.Block) (*Agent, bool) {
	errs := len(d.diags)
	content, diags := b.Body.Content(agentSchema)
	d.diags = append(d.diags, diags...)
	d.require(b, content.Attributes, "vips")
	a := &Agent{}
	if attr := content.Attributes["vips"]; attr != nil {
		elems, _ := d.strList(attr)
		seen := map[string]hcl.Range{}
		for _, e := range elems {
			// The REDIRECT rule matches a destination address, so a
			// prefix length would mean nothing here.
			ip, err := parseAddr(e.s)
			if err != nil {
				d.errorf(e.rng, "Invalid vips", "vips entries must be IP addresses without a prefix length; %q is not: %v.", e.s, err)
				continue
			}
			if first, ok := seen[ip.String()]; ok {
				d.errorf(e.rng, "Duplicate vips entry", "%s is already listed at %s.", ip, pos(first))
				continue
			}
			seen[ip.String()] = e.rng
			a.VIPs = append(a.VIPs, ip)
		}
	}
	return a, !d.diags[errs:].HasErrors()
}
