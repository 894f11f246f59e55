package conf

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// sameTree checks that fastParse, when it accepts src, builds exactly the
// blocks and attributes hclsyntax builds, and that hclsyntax finds no error.
func sameTree(t testing.TB, src []byte, start hcl.Pos) (accepted bool) {
	t.Helper()
	fast, ok := fastParse(src, "f.hcl", start)
	if !ok {
		return false
	}
	f, diags := hclsyntax.ParseConfig(src, "f.hcl", start)
	if diags.HasErrors() {
		t.Fatalf("fastParse accepted what hclsyntax refuses: %v\n%q", diags, src)
	}
	ref := f.Body.(*hclsyntax.Body)
	if !reflect.DeepEqual(fast.Blocks, ref.Blocks) || !reflect.DeepEqual(fast.Attributes, ref.Attributes) {
		t.Fatalf("trees differ for %q", src)
	}
	return true
}

func TestFastParseSameTree(t *testing.T) {
	start := hcl.Pos{Line: 7, Column: 1, Byte: 1234}
	for _, s := range []string{
		"a {\n}\n",
		"virtual_server \"a\" {\n  address = \"1.2.3.4:5\" # c\n  w = 10\n  b = true\n  c = false\n  l = [\"x\", 2, true]\n  l2 = [ \"y\" , ]\n  real_server \"r\" {\n  }\n}\n",
		"// c\n\n# d\nagent {\n\tvips = [\"198.51.100.30\"]\n}",
		"x \"a\" \"b\" {\n  y {\n    z = 0\n  }\n}\n",
	} {
		if !sameTree(t, []byte(s), hcl.InitialPos) || !sameTree(t, []byte(s), start) {
			t.Errorf("not accepted: %q", s)
		}
	}
	for _, p := range []string{directorExample, agentExample} {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sameTree(t, src, hcl.InitialPos)
	}
	if sameTree(t, bigDirector(5, ""), hcl.InitialPos) {
		t.Error("bigDirector has /* */ comments, outside the subset")
	}
	plain := strings.ReplaceAll(string(bigDirector(5, "")), "  /* a } block\n comment */\n", "")
	if !sameTree(t, []byte(plain), hcl.InitialPos) {
		t.Errorf("plain director not accepted:\n%s", plain)
	}
	// Outside the subset: handed to hclsyntax.
	for _, s := range []string{
		"", "a = 1\na = 2\n", "a { b = 1 }\n", "a {\n b = \"\"\n}\n", "a {\n b = \"\\n\"\n}\n",
		"a {\n b = \"${c}\"\n}\n", "a {\n b = -1\n}\n", "a {\n b = 1.5\n}\n", "a {\n b = []\n}\n",
		"a {\n b = [\n 1]\n}\n", "a {\n b = c\n}\n", "a {\n b = \"é\"\n}\n", "a {\r\n}\r\n", "/* x */\na {\n}\n",
		"a {\n}", "a {\n", "a {\n}\n}\n", "a b {\n}\n", "a {\n b = 1 c\n}\n", "a {\n b = 1\n}x\n",
	} {
		if _, ok := fastParse([]byte(s), "f.hcl", hcl.InitialPos); ok && s != "a {\n}" {
			t.Errorf("accepted %q", s)
		}
	}
}

func FuzzFastParse(f *testing.F) {
	f.Add(bigDirector(2, ""))
	f.Add([]byte("a \"b\" {\n  c = [\"d\", 1]\n  e = true # x\n}\n"))
	f.Add([]byte("agent {\n  vips = [\"198.51.100.30\"]\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		sameTree(t, src, hcl.InitialPos)
	})
}
