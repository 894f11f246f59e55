package conf

import (
	"bytes"
	"os"
	"path/filepath"
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
	for _, p := range []string{"", "vrrp_instance", "vrrp_instance.authentication", "virtual_server", rsPath, rsPath + ".mysql_check.replication", "agent"} {
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
