package conf

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"
)

// warnVS is a virtual server whose decoding warns, so that reused pieces
// are seen to carry their warnings (moved with them).
const warnVS = `virtual_server "warned" {
  address                 = "192.0.2.200:443"
  persistence_granularity = 24
  real_server "w" {
    address = "198.51.100.9:443"
  }
}
`

// cacheCase parses base through a Cache, then edited, and checks that the
// second parse equals a fresh whole-file parse of edited: the config
// (every source range included) and the diagnostics. It returns how many
// pieces the second parse reused.
func cacheCase(t testing.TB, base, edited []byte, size int) int {
	t.Helper()
	saved := chunkSize
	defer func() { chunkSize = saved }()
	chunkSize = len(edited) + 1<<20
	want, wd := Parse(edited, "c.hcl")
	chunkSize = size
	var c Cache
	first, d := c.Parse(base, "c.hcl")
	if d.HasErrors() {
		t.Fatalf("base: %s", renderDiags(d))
	}
	reused := 0
	if m, ok := c.match(edited, "c.hcl"); ok {
		for _, s := range c.segments(edited, m) {
			if s.reuse != nil {
				reused++
			}
		}
	}
	got, gd := c.Parse(edited, "c.hcl")
	checkRevs(t, first, got)
	if !sameParse(got, want) {
		t.Errorf("cached parse differs from a fresh one")
		if got != nil && want != nil {
			for i := range min(len(got.VirtualServers), len(want.VirtualServers)) {
				if g, w := got.VirtualServers[i], want.VirtualServers[i]; !reflect.DeepEqual(unplaced(g), unplaced(w)) || g.DeclRange != w.DeclRange {
					t.Errorf("first difference at virtual server %d:\n got %+v\nwant %+v", i, got.VirtualServers[i], want.VirtualServers[i])
					break
				}
			}
		}
	}
	if w, g := renderDiags(wd), renderDiags(gd); w != g {
		t.Errorf("diagnostics differ\nfresh:\n%s\ncached:\n%s", w, g)
	}
	// A file with errors leaves the cache on the last good one.
	if wd.HasErrors() && (!c.kept || c.size != len(base)) {
		t.Errorf("a bad file replaced the kept one")
	}
	return reused
}

func TestCacheSameAsFreshParse(t *testing.T) {
	base := bigDirector(60, warnVS)
	s := string(base)
	at := func(sub string) int {
		i := strings.Index(s, sub)
		if i < 0 {
			t.Fatalf("%q not in the base file", sub)
		}
		return i
	}
	replace := func(old, new string) []byte { return []byte(strings.Replace(s, old, new, 1)) }
	insertAt := func(i int, text string) []byte { return []byte(s[:i] + text + s[i:]) }
	lastVS := strings.LastIndex(s, "virtual_server")
	for _, tc := range []struct {
		name      string
		edited    []byte
		minReused int
	}{
		{"unchanged", base, 10},
		{"one weight, same length", replace(`"203.0.113.31:1000"
  lvs_sched = "rr"
  /* a } block
 comment */
  real_server "rs(0]" {
    address = "198.51.100.1:80"
    weight  = 1`, `"203.0.113.31:1000"
  lvs_sched = "rr"
  /* a } block
 comment */
  real_server "rs(0]" {
    address = "198.51.100.1:80"
    weight  = 5`), 10},
		{"one weight, longer", replace("weight  = 2\n  }\n  real_server \"rs(2]\" {\n    address = \"198.51.100.3:80\"\n    weight  = 3\n  }\n}\nvirtual_server \"vs{20}\"",
			"weight  = 2000\n  }\n  real_server \"rs(2]\" {\n    address = \"198.51.100.3:80\"\n    weight  = 3\n  }\n}\nvirtual_server \"vs{20}\""), 10},
		{"lines added early", insertAt(at(`virtual_server "vs{3}"`), "# one\n# two\n\n"), 10},
		{"service removed", []byte(s[:at(`virtual_server "vs{10}"`)] + s[at(`virtual_server "vs{11}"`):]), 10},
		{"service added at the end", append(bytes.Clone(base), []byte("virtual_server \"new\" {\n  address = \"192.0.2.77:80\"\n}\n")...), 10},
		{"service added first", insertAt(at(`virtual_server "vs{0}"`), "virtual_server \"new\" {\n  address = \"192.0.2.77:80\"\n}\n"), 10},
		{"last service edited", []byte(s[:lastVS] + strings.Replace(s[lastVS:], "weight  = 3", "weight  = 33", 1)), 10},
		{"vrrp edited", replace("priority          = 100", "priority          = 101"), 10},
		{"duplicate name", replace(`"vs{40}"`, `"vs{4}"`), 10},
		{"duplicate address", replace(`"203.0.113.41:1000"`, `"203.0.113.2:1000"`), 10},
		// The edited one comes first, the one it duplicates is reused.
		{"duplicate name of a later one", replace(`"vs{4}"`, `"vs{40}"`), 10},
		{"duplicate address of a later one", replace(`"203.0.113.2:1000"`, `"203.0.113.41:1000"`), 10},
		{"bad value", replace(`"198.51.100.2:80"`, `"198.51.100.2:99999"`), 10},
		{"syntax error", replace(`lvs_sched = "rr"`, `lvs_sched = `), 0},
		{"unclosed comment", insertAt(at(`virtual_server "vs{30}"`), "/* open\n"), 0},
		{"everything gone", []byte("virtual_server \"only\" {\n  address = \"192.0.2.77:80\"\n}\n"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := cacheCase(t, base, tc.edited, 512)
			t.Logf("reused %d pieces", n)
			if n < tc.minReused {
				t.Errorf("reused %d pieces, want at least %d", n, tc.minReused)
			}
		})
	}
}

// TestCacheChain reloads a file many times through one Cache, each edit on
// top of the last, as a daemon does.
func TestCacheChain(t *testing.T) {
	saved := chunkSize
	defer func() { chunkSize = saved }()
	chunkSize = 512
	var c Cache
	src := bigDirector(50, warnVS)
	var last *Config
	kept := 0
	for i := range 20 {
		switch i % 4 {
		case 0:
			src = bytes.Replace(src, []byte("weight  = 2\n"), []byte("weight  = 22\n"), 1)
		case 1:
			src = append([]byte("# header line\n"), src...)
		case 2:
			src = bytes.Replace(src, []byte("weight  = 22\n"), []byte("weight  = 2\n"), 1)
		case 3:
			src = append(bytes.Clone(src), []byte("# trailer\n")...)
		}
		got, gd := c.Parse(src, "c.hcl")
		kept += checkRevs(t, last, got)
		last = got
		chunkSize = len(src) + 1<<20
		want, wd := Parse(src, "c.hcl")
		chunkSize = 512
		if !sameParse(got, want) || renderDiags(gd) != renderDiags(wd) {
			t.Fatalf("step %d: cached parse differs from a fresh one", i)
		}
	}
	// Most virtual servers come back from the cache with their Rev.
	if kept < 19*50/2 {
		t.Errorf("%d virtual servers kept their Rev over 19 reloads of 50, want most", kept)
	}
}

func TestCommonPrefixSuffix(t *testing.T) {
	for _, tc := range []struct {
		a, b           string
		prefix, suffix int
	}{
		{"", "", 0, 0},
		{"abc", "abc", 3, 3},
		{"abc", "abd", 2, 0},
		{"xbc", "abc", 0, 2},
		{"abc", "abcd", 3, 0},
		{"bcd", "abcd", 0, 3},
		{strings.Repeat("a", 1000) + "x" + strings.Repeat("b", 500), strings.Repeat("a", 1000) + "yy" + strings.Repeat("b", 500), 1000, 500},
	} {
		if got := commonPrefix([]byte(tc.a), []byte(tc.b)); got != tc.prefix {
			t.Errorf("commonPrefix(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.prefix)
		}
		if got := commonSuffix([]byte(tc.a), []byte(tc.b)); got != tc.suffix {
			t.Errorf("commonSuffix(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.suffix)
		}
	}
}

// FuzzCacheEdit edits a large file (delete n bytes at off, insert text)
// and checks that the cached parse of the result is the fresh parse.
func FuzzCacheEdit(f *testing.F) {
	base := bigDirector(30, warnVS)
	f.Add(uint(len(base)/2), uint(0), "# x\n")
	f.Add(uint(100), uint(5), "")
	f.Add(uint(len(base)-3), uint(1), "}}")
	f.Add(uint(2000), uint(0), "virtual_server \"n\" {\n  address = \"192.0.2.7:80\"\n}\n")
	f.Add(uint(3000), uint(1), "\"")
	f.Fuzz(func(t *testing.T, off, n uint, text string) {
		o := int(off % uint(len(base)+1))
		e := min(len(base), o+int(n%64))
		edited := append(append(append([]byte{}, base[:o]...), text...), base[e:]...)
		cacheCase(t, base, edited, 512)
	})
}

// FuzzCacheEdited: the window Cache.edited scans says what the whole file
// would, for a kept file without a group keyword and in valid UTF-8 (the
// only kind a Cache keeps).
func FuzzCacheEdited(f *testing.F) {
	f.Add([]byte("# virtual_server_grou\nx = 1\n"), []byte("# virtual_server_group\nx = 1\n"))
	f.Add([]byte("name = \"caf\xc3\xa9\"\n"), []byte("name = \"caf\xc3\x28\"\n"))
	f.Add([]byte("a \xe2\x82\xac b"), []byte("a \xe2\x82 b"))
	f.Add([]byte("virtual_server_gro"), []byte("xvirtual_server_group"))
	f.Fuzz(func(t *testing.T, old, src []byte) {
		if mayHaveGroups(old) || !utf8.Valid(old) {
			t.Skip()
		}
		// As match leaves it: the text between unchanged pieces covers
		// at least the bytes that differ.
		n := min(len(old), len(src))
		p := commonPrefix(old[:n], src[:n])
		s := commonSuffix(old[p:], src[p:])
		w := window(src, p, len(src)-s)
		if g, want := mayHaveGroups(w), mayHaveGroups(src); g != want {
			t.Errorf("keyword in window %q: %v, in the file: %v", w, g, want)
		}
		if g, want := utf8.Valid(w), utf8.Valid(src); g != want {
			t.Errorf("window %q valid: %v, the file: %v", w, g, want)
		}
	})
}

// commonPrefix is the length of the longest common prefix of a and b.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	// bytes.Equal on halves: memcmp-speed, where a byte loop is not.
	lo, hi := 0, n
	for lo < hi {
		if hi-lo <= 64 {
			for lo < hi && a[lo] == b[lo] {
				lo++
			}
			return lo
		}
		mid := lo + (hi-lo)/2
		if bytes.Equal(a[lo:mid], b[lo:mid]) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// commonSuffix is the length of the longest common suffix of a and b.
func commonSuffix(a, b []byte) int {
	n := min(len(a), len(b))
	lo, hi := 0, n // the suffix length is in [lo, hi]
	for lo < hi {
		if hi-lo <= 64 {
			for lo < hi && a[len(a)-1-lo] == b[len(b)-1-lo] {
				lo++
			}
			return lo
		}
		mid := lo + (hi-lo)/2
		if bytes.Equal(a[len(a)-mid:len(a)-lo], b[len(b)-mid:len(b)-lo]) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// featureVS has checkers of several kinds, notify programs, a sorry server
// and a warning: what a reload's parse could keep a slice of the source of.
const featureVS = `virtual_server "features" {
  address      = "192.0.2.40:3306"
  lvs_sched    = "wrr"
  sorry_server = "192.0.2.49:3306"
  real_server "db1" {
    address     = "192.0.2.41:3306"
    weight      = 2
    notify_up   = "/usr/local/bin/up db1"
    notify_down = "/usr/local/bin/down 'db 1'"
    tcp_check {
      connect_timeout = "3s"
    }
    http_get {
      path   = "/health"
      status_code = [200, 204]
    }
    misc_check {
      misc_path = "/usr/local/bin/check --name=db1"
    }
  }
}
`

// TestParseKeepsNoSourceBytes: a reload reads the file into the buffer the
// last reload read into (cmd/lvsd's fileBuffer), so nothing a parse
// returns or a Cache keeps may point into the bytes it parsed. Each
// parse's source is overwritten once parsed, and the result must still
// be the fresh parse of an untouched copy; the cached reparse of an edit
// (reusing pieces of the overwritten text) too.
func TestParseKeepsNoSourceBytes(t *testing.T) {
	saved := chunkSize
	defer func() { chunkSize = saved }()
	fresh := func(src []byte) *Config {
		chunkSize = len(src) + 1<<20
		cfg, d := Parse(slices.Clone(src), "c.hcl")
		if d.HasErrors() {
			t.Fatalf("%s", renderDiags(d))
		}
		return cfg
	}
	scribble := func(b []byte) {
		for i := range b {
			b[i] = 'x'
		}
	}
	base := bigDirector(60, warnVS+featureVS)
	edited := bytes.Replace(base, []byte("weight      = 2"), []byte("weight      = 5"), 1)
	if bytes.Equal(base, edited) {
		t.Fatal("no edit")
	}
	wantBase, wantEdited := fresh(base), fresh(edited)

	chunkSize = 512
	var c Cache
	buf := slices.Clone(base)
	got, d := c.Parse(buf, "c.hcl")
	if d.HasErrors() {
		t.Fatalf("%s", renderDiags(d))
	}
	scribble(buf)
	if !sameParse(got, wantBase) {
		t.Errorf("a parse changed with its source overwritten after it")
	}
	buf = append(buf[:0], edited...)
	got2, d := c.Parse(buf, "c.hcl")
	if d.HasErrors() {
		t.Fatalf("%s", renderDiags(d))
	}
	scribble(buf)
	if !sameParse(got2, wantEdited) {
		t.Errorf("a cached reparse changed with its source overwritten after it")
	}
	if !sameParse(got, wantBase) {
		t.Errorf("the first parse changed when the buffer was reused")
	}
	// A file under the Cache's size is parsed whole (Parse).
	small := []byte(featureVS)
	want := fresh(small)
	chunkSize = saved
	got3, d := c.Parse(small, "c.hcl")
	if d.HasErrors() {
		t.Fatalf("%s", renderDiags(d))
	}
	scribble(small)
	if !sameParse(got3, want) {
		t.Errorf("a whole-file parse changed with its source overwritten after it")
	}
}

// TestRealServerNamesShared: real servers named alike in different virtual
// servers of a piece share one string (decoder.intern).
func TestRealServerNamesShared(t *testing.T) {
	var b strings.Builder
	for i := range 3 {
		fmt.Fprintf(&b, "virtual_server \"vs%d\" {\n  address = \"192.0.2.%d:80\"\n", i, i+1)
		b.WriteString("  real_server \"db1\" {\n    address = \"198.51.100.1:80\"\n  }\n}\n")
	}
	cfg, diags := Parse([]byte(b.String()), "names.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	first := cfg.VirtualServers[0].RealServers[0].Name
	for _, vs := range cfg.VirtualServers {
		if rs := vs.RealServers[0]; rs.Name != "db1" || unsafe.StringData(rs.Name) != unsafe.StringData(first) {
			t.Errorf("%s: real server %q does not share the first one's name", vs.Name, rs.Name)
		}
	}
}

// TestInternBounded: past internMax names the decoder keeps no more, and
// still returns each name.
func TestInternBounded(t *testing.T) {
	d := &decoder{}
	for i := range internMax + 10 {
		if got, want := d.intern(fmt.Sprint("rs", i)), fmt.Sprint("rs", i); got != want {
			t.Fatalf("intern(%q) = %q", want, got)
		}
	}
	if len(d.names) != internMax {
		t.Errorf("kept %d names, want %d", len(d.names), internMax)
	}
	a, b := d.intern(fmt.Sprint("rs", 1)), d.intern(fmt.Sprint("rs", 1))
	if unsafe.StringData(a) != unsafe.StringData(b) {
		t.Error("a kept name is not shared")
	}
}
