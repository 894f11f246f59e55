package conf

import (
	"reflect"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// withoutRevs is cfg with every VirtualServer.Rev zeroed: two parses of
// the same text differ only there.
func withoutRevs(cfg *Config) *Config {
	if cfg == nil {
		return nil
	}
	c := *cfg
	c.VirtualServers = make([]VirtualServer, len(cfg.VirtualServers))
	for i, vs := range cfg.VirtualServers {
		vs.Rev = 0
		c.VirtualServers[i] = vs
	}
	return &c
}

// sameParse compares two configs as parses of the same text.
func sameParse(a, b *Config) bool { return reflect.DeepEqual(withoutRevs(a), withoutRevs(b)) }

// unplaced is vs without its source positions.
func unplaced(vs VirtualServer) VirtualServer {
	vs.DeclRange = hcl.Range{}
	rss := make([]RealServer, len(vs.RealServers))
	for i, rs := range vs.RealServers {
		rs.DeclRange = Pos{}
		rss[i] = rs
	}
	vs.RealServers = rss
	return vs
}

// checkRevs checks VirtualServer.Rev's promise between a parse and the
// next one through the same Cache: a virtual server that kept its Rev is
// the one of before, positions aside. It returns how many kept it.
func checkRevs(t testing.TB, before, after *Config) int {
	t.Helper()
	if before == nil || after == nil {
		return 0
	}
	old := map[uint64]VirtualServer{}
	for _, vs := range before.VirtualServers {
		if vs.Rev == 0 {
			t.Errorf("virtual server %q parsed with Rev 0", vs.Name)
		}
		old[vs.Rev] = vs
	}
	kept := 0
	for _, vs := range after.VirtualServers {
		o, ok := old[vs.Rev]
		if !ok {
			continue
		}
		kept++
		if !reflect.DeepEqual(unplaced(o), unplaced(vs)) {
			t.Errorf("virtual server %q kept Rev %d but changed:\nbefore %+v\n after %+v", vs.Name, vs.Rev, o, vs)
		}
	}
	return kept
}

func TestRevsNewPerParse(t *testing.T) {
	src := bigDirector(3, "")
	a, _ := Parse(src, "c.hcl")
	b, _ := Parse(src, "c.hcl")
	if n := checkRevs(t, a, b); n != 0 {
		t.Errorf("two uncached parses share %d Revs", n)
	}
	if !sameParse(a, b) {
		t.Errorf("two parses of the same text differ beyond Rev")
	}
}
