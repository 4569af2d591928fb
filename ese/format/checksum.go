package format

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/esesnap/esesnap/ese"
)

// checksumSeed is the value ESE starts every XOR checksum from; it is also
// the database header magic.
const checksumSeed = 0x89ABCDEF

// Page layout constants used by the checksum code (see ese-format.md §3).
const (
	// MinPageSize and MaxPageSize bound the page sizes ESE supports.
	MinPageSize = 2048
	MaxPageSize = 32768

	// OffPageFlags is the offset of the 32-bit page flags in every data page.
	OffPageFlags = 36
	// OffPagePgno is where large (16/32 KiB) pages repeat their own pgno.
	OffPagePgno = 64
	// OffPageBlockChecksums is where large pages keep the checksums of
	// blocks 1..3, 8 bytes each.
	OffPageBlockChecksums = 40

	// PageFlagNewChecksum marks a page that carries XOR+ECC checksums.
	PageFlagNewChecksum = 0x2000

	// flagBit is the page-relative bit index of PageFlagNewChecksum.
	flagBit = OffPageFlags*8 + 13
)

// HeaderChecksum returns the plain XOR checksum used by database header
// pages, log headers, checkpoint copies, the flush map and the backup
// trailer: 0x89ABCDEF XOR every little-endian dword of page except dword 0.
// A trailing fragment shorter than a dword is ignored.
func HeaderChecksum(page []byte) uint32 {
	n := len(page) &^ 3
	if n < 4 {
		return checksumSeed
	}
	return checksumSeed ^ xorDwords(page[:n]) ^ le.Uint32(page)
}

// SetHeaderChecksum stores HeaderChecksum(page) in the first four bytes of
// page; pages shorter than four bytes are left alone.
func SetHeaderChecksum(page []byte) {
	if len(page) < 4 {
		return
	}
	le.PutUint32(page, HeaderChecksum(page))
}

// LegacyChecksum returns the old-format page checksum (§4.1): the same
// seeded XOR over dwords 1..end, which includes the stored pgno in dword 1.
func LegacyChecksum(page []byte) uint32 { return HeaderChecksum(page) }

// xorDwords XORs all dwords of b (len(b) a multiple of 4), 32 bytes at a time.
func xorDwords(b []byte) uint32 {
	var a0, a1, a2, a3 uint64
	for len(b) >= 32 {
		a0 ^= le.Uint64(b[0:8])
		a1 ^= le.Uint64(b[8:16])
		a2 ^= le.Uint64(b[16:24])
		a3 ^= le.Uint64(b[24:32])
		b = b[32:]
	}
	for len(b) >= 8 {
		a0 ^= le.Uint64(b[0:8])
		b = b[8:]
	}
	a := a0 ^ a1 ^ a2 ^ a3
	x := uint32(a) ^ uint32(a>>32)
	if len(b) >= 4 {
		x ^= le.Uint32(b)
	}
	return x
}

// parity32 returns 1 when v has an odd number of set bits.
func parity32(v uint32) uint32 { return uint32(bits.OnesCount32(v) & 1) }

// parity64 returns 1 when v has an odd number of set bits.
func parity64(v uint64) uint32 { return uint32(bits.OnesCount64(v) & 1) }

// XEChecksum computes the XOR+ECC checksum (§4.2) of one block of 1, 2, 4
// or 8 KiB. headerBlock is true for the block that starts a page: its first
// eight bytes (the stored checksum) are then treated as zero. The result
// holds x^pgno in the low and the ECC in the high 32 bits, as stored on disk
// (little-endian at the block's checksum slot). Other lengths return a value
// that matches nothing on disk; the function never panics or allocates.
func XEChecksum(block []byte, pgno uint32, headerBlock bool) uint64 {
	n := len(block)
	body := block[:n&^15]

	// A and B accumulate the column pairs (c0|c1<<32 and c2|c3<<32).
	// Row parity only matters through R, the XOR of the indexes of the rows
	// with odd parity. Its two low bits are linear in the data (Y0 collects
	// the rows with index bit 0 set, Y1 those with bit 1), the high bits are
	// gathered per group of four rows from the parity of the group's XOR.
	var A, B, Y0, Y1 uint64
	var rh uint32
	g := uint32(0)
	for len(body) >= 64 {
		a0 := le.Uint64(body[0:8])
		b0 := le.Uint64(body[8:16])
		a1 := le.Uint64(body[16:24])
		b1 := le.Uint64(body[24:32])
		a2 := le.Uint64(body[32:40])
		b2 := le.Uint64(body[40:48])
		a3 := le.Uint64(body[48:56])
		b3 := le.Uint64(body[56:64])
		t1 := a1 ^ b1
		t3 := a3 ^ b3
		u := a2 ^ b2 ^ t3
		da := a0 ^ a1 ^ a2 ^ a3
		db := b0 ^ b1 ^ b2 ^ b3
		A ^= da
		B ^= db
		Y0 ^= t1 ^ t3
		Y1 ^= u
		rh ^= g & -parity64(da^db)
		g++
		body = body[64:]
	}
	// Leftover rows (only for lengths that are not a multiple of 64).
	r := g << 2
	var rl uint32
	for len(body) >= 16 {
		a := le.Uint64(body[0:8])
		b := le.Uint64(body[8:16])
		A ^= a
		B ^= b
		rl ^= r & -parity64(a^b)
		r++
		body = body[16:]
	}
	if headerBlock && n >= 8 {
		// Row 0 contributes to nothing but the columns, so zeroing the
		// stored checksum is just undoing its contribution to A.
		A ^= le.Uint64(block[0:8])
	}
	return xeFinish(A, B, parity64(Y0)|parity64(Y1)<<1|rh<<2^rl, n, pgno)
}

// xeFinish turns the column accumulators and the odd-row index XOR R into the
// stored 64-bit checksum.
func xeFinish(A, B uint64, R uint32, n int, pgno uint32) uint64 {
	T := A ^ B
	x := uint32(T) ^ uint32(T>>32)
	k := parity32(x) // parity of the number of odd rows = parity of all bits

	// Row part: every odd row r adds r<<7 | (^(r<<7)&0xFF80)<<16, which
	// for r < 512 is r<<7 ^ r<<23 ^ 0xFF800000.
	p := R<<7 ^ R<<23 ^ (0xFF800000 & -k)
	p |= parity64(A)<<22 | parity64(B)<<6 | parity32(uint32(T))<<21 | parity32(uint32(T>>32))<<5

	// Bit part: XOR of the indexes of the set bits of x and their complement.
	i := parity32(x&0xAAAAAAAA) | parity32(x&0xCCCCCCCC)<<1 | parity32(x&0xF0F0F0F0)<<2 |
		parity32(x&0xFF00FF00)<<3 | parity32(x&0xFFFF0000)<<4
	q := i | (i^(0x1F&-k))<<16

	mask := uint32(n)<<19 - 1
	ecc := p&0xFFE0FFE0&mask | q&0x001F001F
	return uint64(ecc)<<32 | uint64(x^pgno)
}

// PageStatus is the verdict on one data page.
type PageStatus uint8

// Page verdicts.
const (
	PageOK            PageStatus = iota // checksum (and pgno) verify
	PageUninitialized                   // all zero: never written, not an error
	PageBad                             // checksum or pgno mismatch
)

// String names the status as reports print it.
func (s PageStatus) String() string {
	switch s {
	case PageOK:
		return "ok"
	case PageUninitialized:
		return "uninitialized"
	case PageBad:
		return "bad"
	}
	return fmt.Sprintf("PageStatus(%d)", uint8(s))
}

// PageCheck is the detailed result of VerifyPage. It only reports; the page
// is never modified.
type PageCheck struct {
	Status PageStatus
	Legacy bool // the page uses the old XOR-only checksum (§4.1)
	Block  int  // index of the first failing checksum block, -1 if none
	// Bit is the page-relative index (byte*8 + bit) of the single flipped
	// bit when the error is correctable, else -1.
	Bit int
	// ActualPgno is nonzero when the data is intact but the checksum names
	// another page, i.e. the page was read from (or written to) the wrong
	// place; it holds the pgno the page belongs to.
	ActualPgno uint32
	Reason     string // short fixed description of the failure, "" when OK
}

// Fixed reasons; VerifyPage must not allocate, so they are constants.
const (
	reasonBadSize      = "unsupported page size"
	reasonLegacy       = "legacy XOR checksum mismatch"
	reasonLegacyPgno   = "legacy checksum names another page"
	reasonXE           = "XOR+ECC checksum mismatch"
	reasonXESingle     = "XOR+ECC checksum mismatch, single-bit error"
	reasonXEWrongPage  = "checksum names another page"
	reasonXEStoredBit  = "stored checksum has one flipped bit"
	reasonXEAmbiguous  = "stored checksum differs in one bit of its pgno half: flipped bit or page of another pgno"
	reasonPgnoField    = "page header pgno does not match the page position"
	reasonFlagCleared  = "checksum-format flag bit cleared on a XOR+ECC page"
	reasonFlagSetOnOld = "checksum-format flag bit set on a legacy page"
	reasonUncorrect    = "XOR+ECC checksum mismatch, not a single-bit error"
)

// ValidPageSize reports whether n is a page size ESE supports: a power of
// two from 2 KiB to 32 KiB.
func ValidPageSize(n int) bool {
	return n >= MinPageSize && n <= MaxPageSize && n&(n-1) == 0
}

// xeBlockSize returns the ECC block size used for pages of size n.
func xeBlockSize(n int) int {
	switch {
	case n <= 8192:
		return n
	case n == 16384:
		return 4096
	default:
		return 8192
	}
}

// storedOffset returns where the checksum of block k of a page is stored.
func storedOffset(k int) int {
	if k == 0 {
		return 0
	}
	return OffPageBlockChecksums + 8*(k-1)
}

// isZero reports whether b is all zero bytes (len(b) a multiple of 8).
func isZero(b []byte) bool {
	if len(b) >= 8 && le.Uint64(b) != 0 {
		return false
	}
	for len(b) >= 64 {
		if le.Uint64(b[0:8])|le.Uint64(b[8:16])|le.Uint64(b[16:24])|le.Uint64(b[24:32])|
			le.Uint64(b[32:40])|le.Uint64(b[40:48])|le.Uint64(b[48:56])|le.Uint64(b[56:64]) != 0 {
			return false
		}
		b = b[64:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// blockDiag is the analysis of one failing XE block.
type blockDiag struct {
	eccMatch   bool   // ECC halves equal: the data is intact
	actualPgno uint32 // when eccMatch: the pgno named by the stored XOR half
	bit        int    // page-relative single flipped bit, -1 if none found
	storedBit  bool   // the bit lies in the stored checksum of this block
}

// diagnose explains why stored != computed for block k of a page of which
// the block starts at byte off and has n bytes.
func diagnose(stored, computed uint64, k, off, n int, pgno uint32) blockDiag {
	d := blockDiag{bit: -1}
	dx := uint32(stored) ^ uint32(computed)
	de := uint32(stored>>32) ^ uint32(computed>>32)
	so := storedOffset(k) * 8
	switch {
	case de == 0:
		// Data intact; either the stored XOR half has a flipped bit or the
		// page belongs to another pgno (stored = x ^ actual).
		d.eccMatch = true
		d.actualPgno = dx ^ pgno
		if bits.OnesCount32(dx) == 1 {
			d.bit = so + bits.TrailingZeros32(dx)
			d.storedBit = true
		}
	case dx == 0 && bits.OnesCount32(de) == 1:
		d.bit = so + 32 + bits.TrailingZeros32(de)
		d.storedBit = true
	default:
		m := uint32(8*n - 1)
		if ((de>>16)^de)&m != m || bits.OnesCount32(dx) != 1 {
			return d
		}
		b := int(de & 0xFFFF)
		// The ECC's low five bits are the bit inside the dword, which must
		// agree with the single XOR bit; the stored checksum of a header
		// block is excluded from the sums, so it cannot be the culprit.
		if b >= 8*n || uint32(b&31) != uint32(bits.TrailingZeros32(dx)) || (k == 0 && b < 64) {
			return d
		}
		d.bit = off*8 + b
	}
	return d
}

// VerifyPage checks one data page whose logical number is pgno. The page
// size is len(page). Pages of up to 8 KiB use the legacy XOR checksum unless
// flag 0x2000 is set; 16 and 32 KiB pages always use per-block XOR+ECC
// checksums and must repeat pgno at offset 64. All-zero pages are reported
// as uninitialised. A correctable single-bit error is located (Bit), a page
// from another position is identified (ActualPgno); the page is not changed.
// VerifyPage does not allocate.
func VerifyPage(page []byte, pgno uint32) PageCheck {
	c := PageCheck{Status: PageOK, Block: -1, Bit: -1}
	n := len(page)
	if !ValidPageSize(n) {
		c.Status, c.Reason = PageBad, reasonBadSize
		return c
	}
	if isZero(page) {
		c.Status = PageUninitialized
		return c
	}
	if n <= 8192 {
		if le.Uint32(page[OffPageFlags:])&PageFlagNewChecksum == 0 {
			return verifyLegacy(page, pgno)
		}
		return verifySmallXE(page, pgno)
	}
	return verifyLargeXE(page, pgno)
}

// verifyLegacy checks an old-format page (§4.1).
func verifyLegacy(page []byte, pgno uint32) PageCheck {
	c := PageCheck{Status: PageOK, Legacy: true, Block: -1, Bit: -1}
	stored := le.Uint32(page)
	sp := le.Uint32(page[4:])
	sum := LegacyChecksum(page)
	if stored == sum {
		if sp == pgno {
			return c
		}
		c.Status, c.Block, c.ActualPgno, c.Reason = PageBad, 0, sp, reasonLegacyPgno
		return c
	}
	c.Status, c.Block, c.Reason = PageBad, 0, reasonLegacy
	// A XOR+ECC page whose format flag lost its bit looks like a broken
	// legacy page; its ECC then points exactly at the flag bit.
	st := le.Uint64(page)
	d := diagnose(st, XEChecksum(page, pgno, true), 0, 0, len(page), pgno)
	if d.bit == flagBit {
		c.Legacy, c.Bit, c.Reason = false, flagBit, reasonFlagCleared
	}
	return c
}

// verifySmallXE checks a page of up to 8 KiB with one XOR+ECC block.
func verifySmallXE(page []byte, pgno uint32) PageCheck {
	c := PageCheck{Status: PageOK, Block: -1, Bit: -1}
	stored := le.Uint64(page)
	computed := XEChecksum(page, pgno, true)
	if stored == computed {
		return c
	}
	c.Status, c.Block = PageBad, 0
	d := diagnose(stored, computed, 0, 0, len(page), pgno)
	switch {
	case d.eccMatch:
		// Without a second copy of the pgno a one-bit difference cannot be
		// told apart from a page of a neighbouring pgno: report both.
		c.ActualPgno, c.Bit, c.Reason = d.actualPgno, d.bit, reasonXEWrongPage
		if d.bit >= 0 {
			c.Reason = reasonXEAmbiguous
		}
	case d.bit >= 0:
		c.Bit, c.Reason = d.bit, reasonXESingle
		if d.storedBit {
			c.Reason = reasonXEStoredBit
		}
	default:
		c.Reason = reasonUncorrect
		// A legacy page that gained the format flag: the legacy sum is then
		// off by exactly that bit.
		if le.Uint32(page)^LegacyChecksum(page) == PageFlagNewChecksum && le.Uint32(page[4:]) == pgno {
			c.Legacy, c.Bit, c.Reason = true, flagBit, reasonFlagSetOnOld
		}
	}
	return c
}

// verifyLargeXE checks a 16 or 32 KiB page: four blocks, each with its own
// XOR+ECC checksum, plus the pgno copy at offset 64.
func verifyLargeXE(page []byte, pgno uint32) PageCheck {
	c := PageCheck{Status: PageOK, Block: -1, Bit: -1}
	n := len(page)
	bs := xeBlockSize(n)
	nb := n / bs
	if nb > 4 {
		nb = 4 // cannot happen for valid sizes; keeps the arrays in range
	}
	var stored, computed [4]uint64
	failed := 0
	first := -1
	for k := 0; k < nb; k++ {
		stored[k] = le.Uint64(page[storedOffset(k):])
		computed[k] = XEChecksum(page[k*bs:(k+1)*bs], pgno, k == 0)
		if stored[k] != computed[k] {
			failed++
			if first < 0 {
				first = k
			}
		}
	}
	pf := le.Uint32(page[OffPagePgno:])
	if failed == 0 {
		if pf != pgno {
			c.Status, c.Block, c.ActualPgno, c.Reason = PageBad, 0, pf, reasonPgnoField
		}
		return c
	}
	c.Status, c.Block = PageBad, first

	// A page from another position: every block's ECC matches and all XOR
	// halves name the same other pgno.
	if failed == nb {
		same := true
		want := uint32(stored[0]) ^ uint32(computed[0])
		for k := 0; k < nb; k++ {
			if uint32(stored[k]>>32) != uint32(computed[k]>>32) || uint32(stored[k])^uint32(computed[k]) != want {
				same = false
				break
			}
		}
		if same {
			c.ActualPgno, c.Reason = want^pgno, reasonXEWrongPage
			return c
		}
	}

	d := diagnose(stored[first], computed[first], first, first*bs, bs, pgno)
	if d.bit < 0 {
		c.Reason = reasonUncorrect
		return c
	}
	// Every other failing block must be explained by the same bit, which
	// is only possible when it lies in that block's stored checksum.
	for k := first + 1; k < nb; k++ {
		if stored[k] == computed[k] {
			continue
		}
		so := storedOffset(k) * 8
		rel := d.bit - so
		if rel < 0 || rel >= 64 || stored[k]^computed[k] != 1<<uint(rel) {
			c.Reason = reasonUncorrect
			return c
		}
	}
	c.Bit, c.Reason = d.bit, reasonXESingle
	if d.storedBit {
		c.Reason = reasonXEStoredBit
	}
	return c
}

// Err converts the check into the error ESE would raise: nil for OK and
// uninitialised pages, else an *ese.Error with JET_errReadVerifyFailure, or
// JET_errReadPgnoVerifyFailure when the page belongs to another pgno.
func (c PageCheck) Err(file string, pgno uint32) error {
	if c.Status == PageOK || c.Status == PageUninitialized {
		return nil
	}
	// A single flipped bit in the XOR half of a small page's checksum looks
	// exactly like a page of a pgno one bit away. Damage in place is far more
	// common than a misdirected write, so the ambiguous case is reported as
	// JET_errReadVerifyFailure, with both explanations in the message.
	code := ese.ErrReadVerifyFailure
	if c.ActualPgno != 0 && c.Bit < 0 {
		code = ese.ErrReadPgnoVerifyFailure
	}
	reason := c.Reason
	if reason == "" {
		reason = "checksum mismatch"
	}
	var cause error
	switch {
	case c.Bit >= 0 && c.ActualPgno != 0:
		cause = fmt.Errorf("block %d: %s: single-bit error at bit %d (byte %d, bit %d) or page of pgno %d",
			c.Block, reason, c.Bit, c.Bit/8, c.Bit%8, c.ActualPgno)
	case c.Bit >= 0:
		cause = fmt.Errorf("block %d: %s: single-bit error at bit %d (byte %d, bit %d)",
			c.Block, reason, c.Bit, c.Bit/8, c.Bit%8)
	case c.ActualPgno != 0:
		cause = fmt.Errorf("block %d: %s: page holds pgno %d", c.Block, reason, c.ActualPgno)
	case c.Block >= 0:
		cause = fmt.Errorf("block %d: %s", c.Block, reason)
	default:
		cause = errors.New(reason)
	}
	return &ese.Error{Code: code, Op: "verify page", File: file, Page: int64(pgno), Err: cause}
}

// SetPageChecksum makes page a valid new-format page for pgno: it sets the
// checksum-format flag and, for 16/32 KiB pages, the pgno copy at offset 64
// and the block 1..3 checksums, then the block 0 checksum at offset 0.
// Pages of an unsupported size are left unchanged.
func SetPageChecksum(page []byte, pgno uint32) {
	n := len(page)
	if !ValidPageSize(n) {
		return
	}
	le.PutUint32(page[OffPageFlags:], le.Uint32(page[OffPageFlags:])|PageFlagNewChecksum)
	bs := xeBlockSize(n)
	if n > 8192 {
		le.PutUint32(page[OffPagePgno:], pgno)
		for k := 1; k*bs < n && k < 4; k++ {
			le.PutUint64(page[storedOffset(k):], XEChecksum(page[k*bs:(k+1)*bs], pgno, false))
		}
	}
	le.PutUint64(page, XEChecksum(page[:bs], pgno, true))
}

// SetLegacyPageChecksum makes page a valid old-format page for pgno: it
// clears the checksum-format flag, stores pgno in dword 1 and the XOR
// checksum in dword 0. Only pages of up to 8 KiB can be legacy; others are
// left unchanged.
func SetLegacyPageChecksum(page []byte, pgno uint32) {
	n := len(page)
	if !ValidPageSize(n) || n > 8192 {
		return
	}
	le.PutUint32(page[OffPageFlags:], le.Uint32(page[OffPageFlags:])&^PageFlagNewChecksum)
	le.PutUint32(page[4:], pgno)
	le.PutUint32(page, LegacyChecksum(page))
}

// CorrectSingleBit repairs a page with one flipped bit in place, as ESE does
// when it reads such a page: it flips the located bit and keeps the change
// only if the page then verifies. It refuses pages that might belong to
// another pgno and never touches the checksum-format flag. It returns the
// page-relative bit it flipped.
func CorrectSingleBit(page []byte, pgno uint32) (bit int, ok bool) {
	c := VerifyPage(page, pgno)
	if c.Status != PageBad || c.Bit < 0 || c.ActualPgno != 0 || c.Bit == flagBit || c.Bit/8 >= len(page) {
		return -1, false
	}
	page[c.Bit/8] ^= 1 << uint(c.Bit%8)
	if VerifyPage(page, pgno).Status != PageOK {
		page[c.Bit/8] ^= 1 << uint(c.Bit%8)
		return -1, false
	}
	return c.Bit, true
}
