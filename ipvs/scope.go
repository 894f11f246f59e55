package ipvs

import "slices"

// changedKeys returns, in key order, the keys whose service differs between
// two desired tables sorted by key (SetDesired's order): added, removed, or
// with any field or destination changed. It is one merge walk that
// allocates only for its answer, so that a reload changing one weight in a
// 10k-service table costs a comparison, not a kernel dump (scopedSync).
func changedKeys(prev, cur []Service) []Key {
	var out []Key
	i, j := 0, 0
	for i < len(prev) || j < len(cur) {
		var c int
		switch {
		case i == len(prev):
			c = 1
		case j == len(cur):
			c = -1
		default:
			c = compareKeys(prev[i].Key, cur[j].Key)
		}
		switch {
		case c < 0:
			out = append(out, prev[i].Key)
			i++
		case c > 0:
			out = append(out, cur[j].Key)
			j++
		default:
			if !sameService(prev[i], cur[j]) {
				out = append(out, cur[j].Key)
			}
			i++
			j++
		}
	}
	return out
}

// SameTable tells whether two desired tables are the same, service by
// service (sameService).
func SameTable(a, b []Service) bool {
	return slices.EqualFunc(a, b, sameService)
}

// sameService compares two desired services field by field (Dest is
// comparable; the slices are compared element-wise, unless they are the
// same slice: Membership.DesiredGen hands unchanged services back with
// theirs).
func sameService(a, b Service) bool {
	return a.Key == b.Key && a.Sched == b.Sched && a.Flags == b.Flags && a.Persistence == b.Persistence &&
		a.DrainTimeout == b.DrainTimeout && sameSlice(a.Dests, b.Dests) && sameSlice(a.Down, b.Down)
}

func sameSlice[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] {
		return true
	}
	return slices.Equal(a, b)
}

// pick returns the services of table (sorted by key) whose key is in keys
// (sorted), in order, sharing their destination slices with table.
func pick(table []Service, keys []Key) []Service {
	out := make([]Service, 0, len(keys))
	i := 0
	for _, k := range keys {
		for i < len(table) && compareKeys(table[i].Key, k) < 0 {
			i++
		}
		if i < len(table) && table[i].Key == k {
			out = append(out, table[i])
		}
	}
	return out
}

// mergeScoped returns table (sorted by key) with the services of keys
// (sorted) replaced by those of part (sorted by key, a subset of keys;
// a key of keys missing from part is removed from the result). table is
// not modified; unchanged services share their destination slices with it.
func mergeScoped(table []Service, keys []Key, part []Service) []Service {
	out := make([]Service, 0, len(table)+len(part))
	i, j, p := 0, 0, 0
	for i < len(table) || p < len(part) {
		// The next key to emit is the smaller of table[i] and part[p].
		var c int
		switch {
		case i == len(table):
			c = 1
		case p == len(part):
			c = -1
		default:
			c = compareKeys(table[i].Key, part[p].Key)
		}
		if c >= 0 {
			// part replaces table's entry of the same key, if any.
			out = append(out, part[p])
			p++
			if c == 0 {
				i++
			}
			continue
		}
		for j < len(keys) && compareKeys(keys[j], table[i].Key) < 0 {
			j++
		}
		if j < len(keys) && keys[j] == table[i].Key {
			i++ // in scope but gone from part: deleted
			continue
		}
		out = append(out, table[i])
		i++
	}
	return out
}
