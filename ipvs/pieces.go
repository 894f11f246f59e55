package ipvs

import "slices"

// pieceServices is how many desired services a sync of a new table diffs
// and applies at a time. Diffed whole, a start from empty at 10k services
// x 10 held its 110,000 ops at once (28 MB, 41 MB before Op.Old became a
// pointer) and more than doubled lvsd's live heap; in pieces of 2,000
// services the ops of one piece were ~6 MB, at the top of the start's
// peak; in pieces of 500 they are 1.4 MB. Smaller pieces cost nothing
// measurable: the batched netlink path sends at most 256 ops per sendmsg
// whatever the piece.
const pieceServices = 500

// piece is a key range of the desired and the observed table, with the
// managed keys Diff needs for it.
type piece struct {
	desired, observed []Service
	managed           map[Key]bool
}

// syncPieces cuts both tables, sorted by key, into consecutive key ranges
// of at most pieceServices desired services, every observed service in
// exactly one of them: Diff of each piece is Diff of the whole, grouped by
// piece (the kernel needs a service added
// before its destinations, which a piece keeps; no order across services
// matters). It returns one piece when split is false (a resync: few ops,
// logged as one repair), when the tables are small, or when one of them
// is not sorted.
//
// A piece's managed set holds only the managed keys of its observed
// services: Diff considers every managed key, and with the whole set each
// piece sorted and looked up all of them (at 50k services, 31 s of CPU
// under emulation). A managed key that is neither desired nor observed in
// a piece gives no op there, so nothing is lost.
func syncPieces(desired, observed []Service, managed map[Key]bool, split bool) []piece {
	byKey := func(a, b Service) int { return compareKeys(a.Key, b.Key) }
	if !split || len(desired) <= pieceServices ||
		!slices.IsSortedFunc(desired, byKey) || !slices.IsSortedFunc(observed, byKey) {
		return []piece{{desired, observed, managed}}
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
		m := make(map[Key]bool, hi-lo)
		for _, s := range observed[lo:hi] {
			if managed[s.Key] {
				m[s.Key] = true
			}
		}
		out = append(out, piece{desired[i:j], observed[lo:hi], m})
		lo = hi
	}
	return out
}
