package conf

import "github.com/hashicorp/hcl/v2"

// SchemaBlock is one block of the configuration language together with the
// schema its body is decoded with: the very *hcl.BodySchema values the
// decoder uses, so that documentation generated or checked from them cannot
// drift from what Load accepts.
type SchemaBlock struct {
	// Path names the block by its nesting, types joined by dots:
	// "virtual_server.real_server.tcp_check". "" is the file's top level.
	Path string
	// Labels are the block's label names ("name" for vrrp_instance "VI_1").
	Labels []string
	// Schema is the body schema; nil when the block header is accepted but
	// no body schema is registered for its path (a bug Schemas' test
	// reports).
	Schema *hcl.BodySchema
}

// bodySchemas maps a block path to the schema the decoder reads its body
// with. It is the only list here: attributes and nested blocks come from the
// schemas themselves, and a block header whose path is missing shows up as
// a SchemaBlock with a nil Schema.
func bodySchemas() map[string]*hcl.BodySchema {
	m := map[string]*hcl.BodySchema{
		"":                                rootSchema,
		"vrrp_instance":                   vrrpSchema,
		"vrrp_instance.authentication":    authSchema,
		"vrrp_instance.track_interface":   trackWeightSchema,
		"vrrp_instance.track_script":      trackWeightSchema,
		"vrrp_script":                     scriptSchema,
		"vrrp_sync_group":                 syncGroupSchema,
		"vrrp_sync_group.track_interface": trackWeightSchema,
		"vrrp_sync_group.track_script":    trackWeightSchema,
		"vrrp_sync_group.track_file":      trackFileRefSchema,
		"vrrp_sync_group.track_process":   trackFileRefSchema,
		"vrrp_track_file":                 trackFileSchema,
		"vrrp_instance.track_file":        trackFileRefSchema,
		"vrrp_track_process":              trackProcessSchema,
		"vrrp_instance.track_process":     trackFileRefSchema,
		"virtual_server":                  vsSchema,
		"virtual_server_group":            vsGroupSchema,
		"virtual_server.real_server":      rsSchema,
		"virtual_server.real_server.mysql_check.replication": replicationSchema,
		"agent":           agentSchema,
		"lvs_timeouts":    lvsTimeoutsSchema,
		"lvs_sync_daemon": lvsSyncSchema,
		"http":            httpSchema,
		"http.user":       httpUserSchema,
	}
	// Every checker kind the decoder knows, whatever is added later.
	for block, s := range checkSchemas {
		m["virtual_server.real_server."+block] = s
	}
	return m
}

// Schemas lists every block of the language, depth first in schema order,
// starting with the top level (Path ""). It walks the block headers of the
// decoder's own schemas, so a block added to a schema is listed here.
func Schemas() []SchemaBlock {
	bodies := bodySchemas()
	var out []SchemaBlock
	var walk func(path string, labels []string)
	walk = func(path string, labels []string) {
		s := bodies[path]
		out = append(out, SchemaBlock{Path: path, Labels: labels, Schema: s})
		if s == nil {
			return
		}
		for _, h := range s.Blocks {
			child := h.Type
			if path != "" {
				child = path + "." + h.Type
			}
			walk(child, h.LabelNames)
		}
	}
	walk("", nil)
	return out
}
