// Package synth writes synthetic but fully valid ESE file sets: a database
// (header and shadow, data pages with valid XOR+ECC checksums, zero pages as
// sparse holes), a chain of v8 transaction logs with valid segment checksums
// and chain links, and a checkpoint file, all sharing one log signature.
// The output is a pure function of the Options (including the seed), so
// tests can compare generated sets byte for byte, and large databases are
// streamed to disk through one reused buffer.
//
// The files are made by this package from the layouts in package format; no
// bytes are copied from real ESE files. They are meant for tests and
// benchmarks of code that reads ESE sets at rest (page and log verification,
// backup streaming, incremental and dedup runs); the page payloads and log
// records are pseudo-random, not B-trees or replayable log records.
//
// The small set bundled with the repository is regenerated with:
//
//go:generate go run ./cmd/esesynth -preset small -dir ../../testdata/synth-small
package synth
