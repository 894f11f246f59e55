package conf

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestDocRegistryMatchesSchemas fails when a block or attribute accepted by
// the decoder's schemas has no entry in conf/docref.go, or an entry names
// one they do not accept.
func TestDocRegistryMatchesSchemas(t *testing.T) {
	for _, p := range RegistryProblems() {
		t.Error(p)
	}
}

// TestRegistryProblemsDetects makes sure the comparison can fail (it
// mutates package schemas, so it must never run in parallel): an
// attribute added to a schema without an entry, a stale entry, a block
// without a body schema and an undocumented block are each reported.
func TestRegistryProblemsDetects(t *testing.T) {
	cases := []struct {
		name   string
		mutate func() (undo func())
		want   string
	}{
		{"undocumented attribute", func() func() {
			old := agentSchema.Attributes
			agentSchema.Attributes = append(append([]hcl.AttributeSchema(nil), old...), hcl.AttributeSchema{Name: "frobnicate"})
			return func() { agentSchema.Attributes = old }
		}, "attribute agent.frobnicate: accepted by the schema but has no AttrDoc"},
		{"stale attribute entry", func() func() {
			old := docAttrs
			docAttrs = append(append([]AttrDoc(nil), old...), AttrDoc{Block: "agent", Name: "gone", Type: tString, Desc: "x"})
			return func() { docAttrs = old }
		}, "attribute agent.gone: documented in docAttrs but the schema does not accept it"},
		{"block without body schema", func() func() {
			old := agentSchema.Blocks
			agentSchema.Blocks = []hcl.BlockHeaderSchema{{Type: "extra"}}
			return func() { agentSchema.Blocks = old }
		}, "block agent.extra: accepted by its parent's schema but has no body schema"},
		{"undocumented block", func() func() {
			old := agentSchema.Blocks
			agentSchema.Blocks = []hcl.BlockHeaderSchema{{Type: "extra"}}
			return func() { agentSchema.Blocks = old }
		}, "block agent.extra: accepted by the schema but has no BlockDoc"},
		{"group attribute missing in one checker", func() func() {
			s := checkSchemas["misc_check"]
			old := s.Attributes
			s.Attributes = append(append([]hcl.AttributeSchema(nil), old...), hcl.AttributeSchema{Name: "connect_port"})
			return func() { s.Attributes = old }
		}, "attribute virtual_server.real_server.misc_check.connect_port: accepted by the schema but has no AttrDoc"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			undo := c.mutate()
			probs := RegistryProblems()
			undo()
			if !strings.Contains(strings.Join(probs, "\n"), c.want) {
				t.Errorf("problems %q lack %q", probs, c.want)
			}
			if _, err := Reference(); err != nil {
				t.Fatalf("registry not restored: %v", err)
			}
		})
	}
}

// TestSchemasCoverEveryChecker: Schemas lists every checker kind the
// decoder knows and every fixed block.
func TestSchemasCoverEveryChecker(t *testing.T) {
	paths := map[string]bool{}
	for _, sb := range Schemas() {
		paths[sb.Path] = true
	}
	for _, k := range checkKinds {
		if !paths[rsPath+"."+k.block] {
			t.Errorf("Schemas lacks checker %s", k.block)
		}
	}
	for _, p := range []string{"", "vrrp_instance", "vrrp_instance.authentication", "vrrp_instance.track_interface", "vrrp_instance.track_script", "vrrp_script", "vrrp_sync_group", "virtual_server", rsPath, rsPath + ".mysql_check.replication", "agent", "lvs_timeouts", "http", "http.user"} {
		if !paths[p] {
			t.Errorf("Schemas lacks %q", p)
		}
	}
}

// TestReferenceUpToDate fails when docs/configuration.md is not what the
// generator writes from the registry.
func TestReferenceUpToDate(t *testing.T) {
	want, err := Reference()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", ReferenceFile))
	if err != nil {
		t.Fatalf("%v: run `make docs`", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date with conf/docref.go and the schemas: run `make docs` and commit the result", ReferenceFile)
	}
}

// TestReferenceMentionsEverything: every documented attribute appears in
// the generated file, in the table of each block that accepts it.
func TestReferenceMentionsEverything(t *testing.T) {
	doc, err := Reference()
	if err != nil {
		t.Fatal(err)
	}
	sections := strings.Split(string(doc), "\n<a id=\"")
	byAnchor := map[string]string{}
	for _, s := range sections[1:] {
		id, rest, _ := strings.Cut(s, "\"")
		byAnchor[id] = rest
	}
	for _, sb := range Schemas()[1:] {
		sec, ok := byAnchor[anchor(sb.Path)]
		if !ok {
			t.Errorf("no section for %s", sb.Path)
			continue
		}
		for _, a := range sb.Schema.Attributes {
			if !strings.Contains(sec, "| `"+a.Name+"` |") {
				t.Errorf("section %s lacks attribute %s", sb.Path, a.Name)
			}
		}
	}
}

// docSamples are valid values for the required attributes, from which
// minimalFile builds the smallest file containing a block.
var docSamples = map[string]string{
	"vrrp_instance interface":                `"eth0"`,
	"vrrp_instance virtual_router_id":        `51`,
	"vrrp_instance priority":                 `100`,
	"vrrp_instance virtual_ipaddress":        `["192.0.2.1"]`,
	"vrrp_instance.authentication auth_type": `"NONE"`,
	"virtual_server address":                 `"192.0.2.1:80"`,
	rsPath + " address":                      `"192.0.2.2:80"`,
	rsPath + ".mysql_check user":             `"monitor"`,
	rsPath + ".misc_check misc_path":         `"/bin/true"`,
	"vrrp_script script":                     `"/bin/true"`,
	"vrrp_sync_group group":                  `["x"]`,
	"lvs_sync_daemon interface":              `"eth0"`,
	"virtual_server_group addresses":         `["198.51.100.30:80"]`,
	"lvs_sync_daemon vrrp_instance":          `"x"`,
	"vrrp_track_file file":                   `"/run/lvsd/x"`,
	"vrrp_track_process process":             `"haproxy"`,
	"agent vips":                             `["192.0.2.1"]`,
	"http listen":                            `"127.0.0.1:9999"`,
	"http.user password_bcrypt":              `"` + testHashStats + `"`,
}

// docDefaultNeeds: attributes only accepted together with another; their
// documented default is checked with it set in both files.
var docDefaultNeeds = map[string]string{
	rsPath + ".udp_check min_reply_length": "require_reply = true",
	rsPath + ".udp_check max_reply_length": "require_reply = true",
	"vrrp_track_file init_file_overwrite":  "init_file = 0",
}

// docPrelude names, for a block that refers to others by name, the blocks
// minimalFile writes first so that the references (always to "x") resolve.
var docPrelude = map[string][]string{
	"vrrp_sync_group":                 {"vrrp_instance"},
	"lvs_sync_daemon":                 {"vrrp_instance"},
	"vrrp_instance.track_script":      {"vrrp_script"},
	"vrrp_instance.track_file":        {"vrrp_track_file"},
	"vrrp_instance.track_process":     {"vrrp_track_process"},
	"vrrp_sync_group.track_interface": {"vrrp_instance"},
	"vrrp_sync_group.track_script":    {"vrrp_instance", "vrrp_script"},
	"vrrp_sync_group.track_file":      {"vrrp_instance", "vrrp_track_file"},
	"vrrp_sync_group.track_process":   {"vrrp_instance", "vrrp_track_process"},
}

// minimalFile is the smallest file holding the block at path: its prelude
// (docPrelude), then it and its parents with their documented required
// attributes only, the inner block's last, then extra (which therefore
// shifts no range).
func minimalFile(t *testing.T, path string, skip, extra string) string {
	t.Helper()
	labels := map[string][]string{}
	for _, sb := range Schemas() {
		labels[sb.Path] = sb.Labels
	}
	parts := strings.Split(path, ".")
	var b strings.Builder
	for _, pre := range docPrelude[path] {
		b.WriteString(minimalFile(t, pre, "", ""))
	}
	for i := range parts {
		p := strings.Join(parts[:i+1], ".")
		b.WriteString(parts[i])
		for range labels[p] {
			b.WriteString(` "x"`)
		}
		b.WriteString(" {\n")
		for _, a := range docAttrs {
			if a.Default != required || a.Name == skip && p == path || !slices.Contains(attrPaths(a), p) {
				continue
			}
			v, ok := docSamples[p+" "+a.Name]
			if !ok {
				t.Fatalf("no sample value for the required attribute %s.%s: add one to docSamples in conf/docref_test.go", p, a.Name)
			}
			fmt.Fprintf(&b, "%s = %s\n", a.Name, v)
		}
	}
	b.WriteString(extra + "\n" + strings.Repeat("}\n", len(parts)))
	return b.String()
}

func attrPaths(a AttrDoc) []string {
	if g, ok := docGroups[a.Block]; ok {
		return g
	}
	return []string{a.Block}
}

// literalDefault extracts the HCL value of a documented default when it is
// one (`"1s"`, "`5`", "`0` (off)"), not prose ("the virtual server's").
func literalDefault(def string) (string, bool) {
	if strings.HasPrefix(def, `"`) {
		return def, true
	}
	if !strings.HasPrefix(def, "`") {
		return "", false
	}
	lit, rest, ok := strings.Cut(def[1:], "`")
	if !ok || (rest != "" && !strings.HasPrefix(rest, " (")) {
		return "", false
	}
	return lit, true
}

// TestDocRequiredAndDefaults holds the registry's claims against the
// decoder: the documented required attributes are enough for every block,
// each of them is really required, and setting an attribute to its
// documented default changes nothing in the parsed configuration.
func TestDocRequiredAndDefaults(t *testing.T) {
	parse := func(src string) (*Config, hcl.Diagnostics) {
		cfg, diags := Parse([]byte(src), "doc.hcl")
		if cfg != nil {
			cfg.Warnings = nil
		}
		return cfg, diags
	}
	checked := 0
	for _, sb := range Schemas()[1:] {
		base := minimalFile(t, sb.Path, "", "")
		want, diags := parse(base)
		if diags.HasErrors() {
			t.Errorf("%s: the documented required attributes are not enough: %s\n%s", sb.Path, diags.Error(), base)
			continue
		}
		for _, a := range docAttrs {
			if !slices.Contains(attrPaths(a), sb.Path) {
				continue
			}
			if a.Default == required {
				src := minimalFile(t, sb.Path, a.Name, "")
				if _, diags := parse(src); !diags.HasErrors() || !strings.Contains(diags.Error(), a.Name) {
					t.Errorf("%s.%s is documented as required, but a file without it gives %q", sb.Path, a.Name, diags.Error())
				}
				continue
			}
			lit, ok := literalDefault(a.Default)
			if !ok {
				continue
			}
			want := want
			need := docDefaultNeeds[sb.Path+" "+a.Name]
			if need != "" {
				var diags hcl.Diagnostics
				if want, diags = parse(minimalFile(t, sb.Path, "", need)); diags.HasErrors() {
					t.Errorf("%s.%s: %s is refused: %s", sb.Path, a.Name, need, diags.Error())
					continue
				}
			}
			src := minimalFile(t, sb.Path, "", need+"\n"+a.Name+" = "+lit)
			got, diags := parse(src)
			if diags.HasErrors() {
				t.Errorf("%s.%s: the documented default %s is refused: %s", sb.Path, a.Name, lit, diags.Error())
				continue
			}
			if !sameParse(got, want) {
				t.Errorf("%s.%s: setting the documented default %s changes the configuration:\n got %+v\nwant %+v", sb.Path, a.Name, lit, got, want)
			}
			checked++
		}
	}
	t.Logf("%d documented defaults checked against the decoder", checked)
}
