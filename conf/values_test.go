package conf

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// exprValue's shortcut for a quoted string without interpolation gives
// what HCL's own evaluation of the template gives, escapes and Unicode
// normalisation included; templates with interpolation take HCL's path.
func TestExprValueLiteralShortcut(t *testing.T) {
	for _, src := range []string{
		`""`, `"198.51.100.10:3306"`, `"tab\tquote\"nl\n"`, `"e\u0301"`, `"café"`, `"$${x}"`, `"%%{y}"`,
		`"a${"b"}c"`, `"${1 + 2}"`, `"x${true}"`,
	} {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", src, diags)
		}
		want, diags := expr.Value(nil)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", src, diags)
		}
		d := &decoder{}
		got, ok := d.exprValue("a", expr)
		if !ok || !got.RawEquals(want) {
			t.Errorf("%s: exprValue = %#v (ok %v), HCL's value %#v", src, got, ok, want)
		}
	}
}
