package ipvs

import "slices"

// pieceServices is how many desired services a sync of a new table diffs
// and applies at a time. Diffed whole, a start from empty at 10k services
// x 10 held its 110,000 ops at once (28 MB, 41 MB before Op.Old became a
// pointer) and more than doubled lvsd's live heap; in pieces of 2,000
// services the ops of one piece are ~6 MB.
const pieceServices = 2000

// piece is a key range of the desired and the observed table.
type piece struct{ desired, observed []Service }

// syncPieces cuts both tables, sorted by key, into consecutive key ranges
// of at most pieceServices desired services, every observed service in
// exactly one of them: Diff of each piece with the whole managed set is
// Diff of the whole, grouped by piece (the kernel needs a service added
// before its destinations, which a piece keeps; no order across services
// matters). It returns one piece when split is false (a resync: few ops,
// logged as one repair), when the tables are small, or when one of them
// is not sorted.
func syncPieces(desired, observed []Service, split bool) []piece {
	byKey := func(a, b Service) int { return compareKeys(a.Key, b.Key) }
	if !split || len(desired) <= pieceServices ||
		!slices.IsSortedFunc(desired, byKey) || !slices.IsSortedFunc(observed, byKey) {
		return []piece{{desired, observed}}
	}
	var out []piece
	lo := 0 // observed[lo:] is not in a piece yet
	for i := 0; i < len(desired); i += pieceServices {
		j := min(i+pieceServices, len(desired))
		hi := len(observed)
		if j < len(desired) {
			// Up to the next piece's first key.
			hi, _ = slices.BinarySearchFunc(observed[lo:], desired[j].Key, func(s Service, k Key) int { return compareKeys(s.Key, k) })
			hi += lo
		}
		out = append(out, piece{desired[i:j], observed[lo:hi]})
		lo = hi
	}
	return out
}
