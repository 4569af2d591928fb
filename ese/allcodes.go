package ese

import "slices"

// Codes returns every distinct code in the table, one per value and in
// ascending order, with aliases folded into the code they stand for. The
// slice is a fresh copy, so callers may sort or trim it; round-trip tests use
// it to cover every code the engine or esent.dll could report.
func Codes() []Code {
	return slices.Clone(allCodes)
}
