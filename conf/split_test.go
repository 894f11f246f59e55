package conf

import (
	"slices"
	"testing"
)

func TestSplitCommand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{in: "/usr/local/bin/check_db --host 198.51.100.10", want: []string{"/usr/local/bin/check_db", "--host", "198.51.100.10"}},
		{in: "  /bin/x\t a  ", want: []string{"/bin/x", "a"}},
		{in: `/bin/x 'a b' "c d" e\ f`, want: []string{"/bin/x", "a b", "c d", "e f"}},
		{in: `/bin/x "say \"hi\" \\ \n"`, want: []string{"/bin/x", `say "hi" \ \n`}},
		{in: `/bin/x '' ""`, want: []string{"/bin/x", "", ""}},
		{in: `/bin/x a'b'"c"d`, want: []string{"/bin/x", "abcd"}},
		{in: `/bin/x '$HOME' ; rm`, want: []string{"/bin/x", "$HOME", ";", "rm"}},
		{in: "", err: true},
		{in: "   ", err: true},
		{in: `/bin/x 'a`, err: true},
		{in: `/bin/x "a`, err: true},
		{in: `/bin/x "a\"`, err: true},
		{in: `/bin/x a\`, err: true},
	} {
		got, err := SplitCommand(tc.in)
		if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q, err %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func FuzzSplitCommand(f *testing.F) {
	for _, s := range []string{"/bin/x a b", `/bin/x 'a b' "c\"d" e\ f`, `'`, `"\\`, "a\x00b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		argv, err := SplitCommand(s)
		if err != nil {
			return
		}
		if len(argv) == 0 {
			t.Fatalf("SplitCommand(%q) = empty argv without error", s)
		}
		// Quoting the words and splitting again gives them back.
		q := QuoteCommand(argv)
		again, err := SplitCommand(q)
		if err != nil || !slices.Equal(again, argv) {
			t.Fatalf("SplitCommand(%q) = %q; QuoteCommand = %q; split again = %q, %v", s, argv, q, again, err)
		}
	})
}
