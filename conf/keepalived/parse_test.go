package keepalived

import (
	"strings"
	"testing"
)

// render prints a tree compactly: keyword args {children} @line.
func render(nodes []*Node) string {
	var b strings.Builder
	for i, n := range nodes {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(strings.Join(append([]string{n.Keyword}, n.Args...), " "))
		b.WriteString("@" + itoa(n.Pos.Line))
		if n.Block {
			b.WriteString(" {" + render(n.Children) + "}")
		}
	}
	return b.String()
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, src, id, want string
	}{
		{"brace same line", "a 1 {\n b 2\n}\n", "", "a 1@1 {b 2@2}"},
		{"brace next line", "a 1\n# c\n{\n b 2\n}\n", "", "a 1@1 {b 2@4}"},
		{"one line block", "virtual_ipaddress { 198.51.100.1 dev eth0 }\nx", "", "virtual_ipaddress@1 {198.51.100.1 dev eth0@1}; x@2"},
		{"close after content", "a {\n b 1 }\nc", "", "a@1 {b 1@2}; c@3"},
		{"adjacent braces", "a{b}c", "", "a@1 {b@1}; c@1"},
		{"comments", "# x\n! y\na 1 # z\nb \"q # r\" ! s\n", "", "a 1@3; b q # r@4"},
		{"quoted", `a "x y" "" z`, "", "a x y  z@1"},
		{"params", "$A=1\n$B=$A 2\nk $B ${A}x $ 9 $9\n", "", "k 1 2 1x $ 9 $9@3"},
		{"param block", "$C=TCP_CHECK { connect_port 1 }\nr {\n$C\n}\n", "", "r@2 {TCP_CHECK@3 {connect_port 1@3}}"},
		{"continuation", "$A=1 \\\n 2\nk $A\n", "", "k 1 2@3"},
		{"cond match", "@lb1 a\n@lb2 b\n@^lb1 c\n@^lb2 d\n", "lb1", "a@1; d@4"},
		{"cond other", "@lb1 a\n@lb2 b\n@^lb1 c\n@^lb2 d\n", "lb2", "b@2; c@3"},
		{"empty block", "a {}\n", "", "a@1 {}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes, err := Parse([]byte(tc.src), "k.conf", Options{ConfigID: tc.id})
			if err != nil {
				t.Fatal(err)
			}
			if got := render(nodes); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestParseComments(t *testing.T) {
	nodes, err := Parse([]byte("# one\n! two\nvrrp_instance X { # three\n}\n"), "k.conf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(nodes[0].Comments, "|"); got != "one|two" {
		t.Errorf("comments %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		fs   MapFS
		want string
	}{
		{"missing brace", MapFS{"k.conf": "a {\n b {\n }\n"}, "k.conf:1: missing } for the block opened here"},
		{"extra brace", MapFS{"k.conf": "a\n}\n"}, "k.conf:2: unexpected }"},
		{"stray open", MapFS{"k.conf": "a\n\n\nb\n{ c }\n"}, ""},
		{"undefined", MapFS{"k.conf": "a $NOPE\n"}, "k.conf:1: undefined parameter $NOPE"},
		{"no match", MapFS{"k.conf": "include x/*.conf\n"}, "k.conf:1: include x/*.conf: no file matches"},
		{"cycle", MapFS{"k.conf": "include k.conf\n"}, "k.conf:1: include k.conf: k.conf is already being read (include cycle)"},
		{"cycle via other", MapFS{"k.conf": "include d/o.conf\n", "d/o.conf": "a\ninclude ../k.conf\n"}, "d/o.conf:2: include ../k.conf: k.conf is already being read (include cycle)"},
		{"self param", MapFS{"k.conf": "$A=$A\nx $A\n"}, "k.conf:2: parameters nested more than 16 deep"},
		{"param bomb", MapFS{"k.conf": "$A=$A$A\nx $A\n"}, "k.conf:2: line longer than 65536 bytes after parameter expansion"},
		{"undefined once", MapFS{"k.conf": "$B=$C\nx $B $C\n"}, "k.conf:2: undefined parameter $C"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("k.conf", Options{FS: tc.fs})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestInclude(t *testing.T) {
	fs := MapFS{
		"etc/k.conf":        "a\ninclude conf.d/*.conf\nz\n",
		"etc/conf.d/2.conf": "c\n",
		"etc/conf.d/1.conf": "b {\ninclude ../inner\n}\n",
		"etc/inner":         "i\n",
	}
	nodes, err := ParseFile("etc/k.conf", Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := render(nodes), "a@1; b@1 {i@1}; c@1; z@3"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if f := nodes[1].Children[0].Pos.File; f != "etc/inner" {
		t.Errorf("included node's file = %q", f)
	}
}
