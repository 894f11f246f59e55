package rules

import (
	"net/netip"
	"slices"
	"testing"
)

// FuzzSplitRule checks the `iptables -S` line parser: it never panics, and
// whatever it accepts survives a render/parse round trip.
func FuzzSplitRule(f *testing.F) {
	for _, s := range []string{
		`-P PREROUTING ACCEPT`,
		`-A PREROUTING -d 198.51.100.30/32 -m comment --comment "lvsd: 198.51.100.30" -j REDIRECT`,
		`-A PREROUTING -d 2001:db8::30/128 -m comment --comment "lvsd: 2001:db8::30" -j REDIRECT`,
		`-A PREROUTING -m comment --comment "a \"quoted\" \\ one" -j ACCEPT`,
		`-A PREROUTING -m comment --comment "" -j ACCEPT`,
		`"unterminated`,
		`trailing\`,
		"tabs\tand\r\nnewlines",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words, err := splitRule(line)
		if err != nil {
			return
		}
		again, err := splitRule(joinRule(words))
		if err != nil {
			t.Fatalf("re-split of %q: %v", joinRule(words), err)
		}
		if !slices.Equal(words, again) && !(len(words) == 0 && len(again) == 0) {
			t.Fatalf("round trip %q -> %q -> %q", line, words, again)
		}
		// plan must cope with any listing, and never touch a non-lvsd line.
		_, ops := plan([]netip.Addr{vip4}, []string{line})
		for _, o := range ops {
			if _, mine := ownerOf(o.args); !mine {
				t.Fatalf("plan touches foreign rule %q", o.args)
			}
		}
	})
}
