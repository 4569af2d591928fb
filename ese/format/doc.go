// Package format reads, verifies and writes the on-disk structures of ESE:
// database header pages and their shadow copies, data-page checksums (legacy
// XOR and the XOR+ECC format at every page size), transaction log headers,
// segments and generation chains, checkpoint files, and the byte layout of a
// database streamed by an external backup (header snapshots and trailer).
//
// Every parser takes untrusted bytes and returns an error rather than
// panicking; offsets follow ../shared/docs/ese-format.md.
package format
