package conf

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// bodyContent is body.Content(schema), faster for the blocks a large file has
// by the thousand (virtual_server, real_server, the checkers). hclsyntax's
// Content goes through PartialContent: two maps of the names it has seen
// and a map of the wanted block types made per call, every schema
// attribute looked up, and a remainder body, which at 10k services x 10
// was a third of the parse (emulated: 1.9 s of 5.5 s of CPU) and much of
// its garbage. Here a body whose every attribute and block the schema
// takes, with each block's labels and every required attribute present,
// has its content built at once: the same attributes and blocks, in the
// same order, as hclsyntax gives, and no diagnostics (it would give none).
// Anything else goes to hclsyntax's Content, so errors are worded as
// always (suggestions included). Bodies here come straight from the parser
// (lvsd never takes a PartialContent remainder, whose hidden names this
// would not see).
func bodyContent(body hcl.Body, schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return body.Content(schema)
	}
	for name := range sb.Attributes {
		if !schemaHasAttr(schema, name) {
			return body.Content(schema)
		}
	}
	for _, as := range schema.Attributes {
		if as.Required && sb.Attributes[as.Name] == nil {
			return body.Content(schema)
		}
	}
	for _, b := range sb.Blocks {
		if n, ok := schemaLabels(schema, b.Type); !ok || n != len(b.Labels) {
			return body.Content(schema)
		}
	}
	attrs := make(hcl.Attributes, len(sb.Attributes))
	for name, a := range sb.Attributes {
		attrs[name] = a.AsHCLAttribute()
	}
	var blocks hcl.Blocks
	if len(sb.Blocks) > 0 {
		blocks = make(hcl.Blocks, len(sb.Blocks))
		for i, b := range sb.Blocks {
			blocks[i] = b.AsHCLBlock()
		}
	}
	return &hcl.BodyContent{Attributes: attrs, Blocks: blocks, MissingItemRange: sb.MissingItemRange()}, nil
}

// schemaHasAttr says whether schema takes an attribute named name (a
// dozen names: a scan beats a map).
func schemaHasAttr(schema *hcl.BodySchema, name string) bool {
	for i := range schema.Attributes {
		if schema.Attributes[i].Name == name {
			return true
		}
	}
	return false
}

// schemaLabels is how many labels schema's block of type typ takes, and
// whether it takes such a block.
func schemaLabels(schema *hcl.BodySchema, typ string) (int, bool) {
	for i := range schema.Blocks {
		if schema.Blocks[i].Type == typ {
			return len(schema.Blocks[i].LabelNames), true
		}
	}
	return 0, false
}
