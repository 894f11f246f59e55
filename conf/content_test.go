package conf

import (
	"cmp"
	"reflect"
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// contentSchemas are the schemas bodyContent is compared under: lvsd's
// three that use it, and one with a required attribute and labelled
// blocks, which theirs lack.
var contentSchemas = []*hcl.BodySchema{
	vsSchema, rsSchema, checkSchemas["http_get"],
	{
		Attributes: []hcl.AttributeSchema{{Name: "a", Required: true}, {Name: "b"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "one", LabelNames: []string{"name"}}, {Type: "two", LabelNames: []string{"x", "y"}}, {Type: "none"}},
	},
}

// sameContent checks bodyContent against hclsyntax's Content for every
// body of src (the file's and each block's, nested) under every schema:
// the same content and the same diagnostics.
func sameContent(t testing.TB, src []byte) {
	t.Helper()
	f, diags := hclsyntax.ParseConfig(src, "f.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return
	}
	var walk func(b *hclsyntax.Body)
	walk = func(b *hclsyntax.Body) {
		for _, s := range contentSchemas {
			got, gotDiags := bodyContent(b, s)
			want, wantDiags := b.Content(s)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("content differs for %q:\ngot  %#v\nwant %#v", src, got, want)
			}
			// hclsyntax reports unsupported arguments in map order.
			if !reflect.DeepEqual(sortedDiags(gotDiags), sortedDiags(wantDiags)) {
				t.Fatalf("diagnostics differ for %q:\ngot  %v\nwant %v", src, gotDiags, wantDiags)
			}
		}
		for _, blk := range b.Blocks {
			walk(blk.Body)
		}
	}
	walk(f.Body.(*hclsyntax.Body))
}

func sortedDiags(d hcl.Diagnostics) hcl.Diagnostics {
	d = slices.Clone(d)
	slices.SortFunc(d, func(a, b *hcl.Diagnostic) int {
		if c := cmp.Compare(a.Subject.Start.Byte, b.Subject.Start.Byte); c != 0 {
			return c
		}
		return cmp.Compare(a.Summary+a.Detail, b.Summary+b.Detail)
	})
	return d
}

func TestBodyContentLikeHCL(t *testing.T) {
	for _, s := range []string{
		"",
		"a = 1\n",
		"a = 1\nb = \"x\"\none \"n\" {\n  c = 2\n}\ntwo \"p\" \"q\" {}\nnone {}\n",
		"b = 1\n",                     // required a missing
		"a = 1\nc = 2\n",              // unsupported argument, with a suggestion
		"a = 1\none {}\n",             // a label missing
		"a = 1\none \"x\" \"y\" {}\n", // an extra label
		"a = 1\nnone \"x\" {}\n",      // a label where none is taken
		"a = 1\nthree {}\n",           // an unsupported block
		"a = 1\nb {}\n",               // a block named like an argument
		"a = 1\none = 3\n",            // an argument named like a block
		"address = \"192.0.2.1:80\"\nweight = 3\ntcp_check {\n  connect_timeout = \"2s\"\n}\nhttp_get {\n  path = \"/\"\n}\n",
		"address = \"192.0.2.1:80\"\nlb_algo = \"rr\"\nreal_server \"r\" {\n  address = \"198.51.100.1:80\"\n}\n",
		"virtual_server \"v\" {\n  address = \"192.0.2.1:80\"\n  real_server \"r\" {\n    address = \"198.51.100.1:80\"\n    weigth = 2\n  }\n}\n",
	} {
		sameContent(t, []byte(s))
	}
}

func FuzzBodyContent(f *testing.F) {
	f.Add("a = 1\nb = \"x\"\none \"n\" {\n  c = 2\n}\ntwo \"p\" \"q\" {}\nnone {}\n")
	f.Add("address = \"192.0.2.1:80\"\nweight = 3\ntcp_check {\n  connect_timeout = \"2s\"\n}\n")
	f.Add("virtual_server \"v\" {\n  real_server \"r\" {\n    weigth = 2\n  }\n}\n")
	f.Fuzz(func(t *testing.T, src string) {
		sameContent(t, []byte(src))
	})
}
