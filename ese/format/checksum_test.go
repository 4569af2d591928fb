package format

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/esesnap/esesnap/internal/samples"

	"github.com/esesnap/esesnap/ese"
)

// samplesDir is shared/ese-samples beside the repository.
func samplesDir(tb testing.TB) string { return samples.Dir(tb) }

var (
	sampleMu    sync.Mutex
	sampleCache = map[string][]byte{}
)

// loadSample returns the bytes of a sample file (gunzipped for .gz), shared
// between tests: callers must copy before modifying.
func loadSample(tb testing.TB, rel string) []byte {
	tb.Helper()
	dir := samplesDir(tb)
	sampleMu.Lock()
	defer sampleMu.Unlock()
	if b, ok := sampleCache[rel]; ok {
		return b
	}
	b, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		tb.Fatalf("read sample: %v", err)
	}
	if strings.HasSuffix(rel, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			tb.Fatalf("gunzip %s: %v", rel, err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			tb.Fatalf("gunzip %s: %v", rel, err)
		}
	}
	sampleCache[rel] = b
	return b
}

// samplePage returns a copy of logical page pgno of a sample.
func samplePage(tb testing.TB, rel string, ps int, pgno uint32) []byte {
	b := loadSample(tb, rel)
	off := (int(pgno) + 1) * ps
	if off+ps > len(b) {
		tb.Fatalf("%s has no page %d", rel, pgno)
	}
	return append([]byte(nil), b[off:off+ps]...)
}

// refXE is a literal transcription of ese-format.md §4.2, row by row and
// bit by bit, used to check the optimised XEChecksum.
func refXE(block []byte, pgno uint32, header bool) uint64 {
	n := len(block)
	w := func(i int) uint32 {
		if header && i < 2 {
			return 0
		}
		return le.Uint32(block[4*i:])
	}
	odd := func(v uint32) bool { return bits.OnesCount32(v)%2 == 1 }
	var c [4]uint32
	var p uint32
	for r := 0; r < n/16; r++ {
		var rx uint32
		for k := 0; k < 4; k++ {
			v := w(4*r + k)
			c[k] ^= v
			rx ^= v
		}
		if odd(rx) {
			rr := uint32(r << 7)
			p ^= rr | ((^rr & 0xFF80) << 16)
		}
	}
	if odd(c[0] ^ c[1]) {
		p |= 1 << 22
	}
	if odd(c[2] ^ c[3]) {
		p |= 1 << 6
	}
	if odd(c[0] ^ c[2]) {
		p |= 1 << 21
	}
	if odd(c[1] ^ c[3]) {
		p |= 1 << 5
	}
	x := c[0] ^ c[1] ^ c[2] ^ c[3]
	var q uint32
	for i := uint32(0); i < 32; i++ {
		if x>>i&1 != 0 {
			q ^= i | ((^i & 0xFFFF) << 16)
		}
	}
	mask := uint32(n)<<19 - 1
	ecc := (p & 0xFFE0FFE0 & mask) | (q & 0x001F001F)
	return uint64(ecc)<<32 | uint64(x^pgno)
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestXEChecksumMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1024, 2048, 4096, 8192} {
		for trial := 0; trial < 40; trial++ {
			block := randomBytes(rng, n)
			switch trial {
			case 0:
				clear(block) // all zero
			case 1:
				for i := range block {
					block[i] = 0xFF
				}
			case 2:
				clear(block)
				block[n-1] = 0x80 // only the last bit
			}
			pgno := rng.Uint32()
			for _, hdr := range []bool{false, true} {
				got, want := XEChecksum(block, pgno, hdr), refXE(block, pgno, hdr)
				if got != want {
					t.Fatalf("n=%d trial=%d header=%v: got %016x want %016x", n, trial, hdr, got, want)
				}
			}
		}
	}
}

func TestXEChecksumOddLengthsDoNotPanic(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 100, 1000, 4100} {
		b := make([]byte, n)
		_ = XEChecksum(b, 1, true)
		_ = XEChecksum(b, 1, false)
	}
	// Lengths that are a multiple of 16 but not of 64 must still follow the
	// row-by-row definition.
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{16, 48, 80, 1040} {
		b := randomBytes(rng, n)
		if got, want := XEChecksum(b, 9, true), refXE(b, 9, true); got != want {
			t.Errorf("n=%d: got %016x want %016x", n, got, want)
		}
	}
}

func TestHeaderChecksum(t *testing.T) {
	tests := []struct {
		name string
		page []byte
		want uint32
	}{
		{"empty", nil, 0x89ABCDEF},
		{"zero page", make([]byte, 4096), 0x89ABCDEF},
		{"dword0 ignored", []byte{1, 2, 3, 4, 0, 0, 0, 0}, 0x89ABCDEF},
		{"dword1 counted", []byte{0, 0, 0, 0, 0xEF, 0xCD, 0xAB, 0x89}, 0},
		{"odd tail ignored", []byte{0, 0, 0, 0, 1, 0, 0, 0, 9, 9}, 0x89ABCDEE},
		{"last dword of 12", []byte{0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, 0x89ABCDEE},
	}
	for _, tt := range tests {
		if got := HeaderChecksum(tt.page); got != tt.want {
			t.Errorf("%s: got %#x want %#x", tt.name, got, tt.want)
		}
	}
	p := []byte{0xAA, 0xBB, 0xCC, 0xDD, 5, 6, 7, 8}
	SetHeaderChecksum(p)
	if le.Uint32(p) != HeaderChecksum(p) {
		t.Error("SetHeaderChecksum did not store the checksum")
	}
	SetHeaderChecksum([]byte{1, 2}) // must not panic
}

func TestHeaderChecksumSamples(t *testing.T) {
	for _, s := range dbSamples {
		b := loadSample(t, s.path)
		for copyNo := 0; copyNo < 2; copyNo++ {
			page := b[copyNo*s.pageSize : (copyNo+1)*s.pageSize]
			if got, want := HeaderChecksum(page), le.Uint32(page); got != want {
				t.Errorf("%s copy %d: checksum %#x, stored %#x", s.path, copyNo, got, want)
			}
		}
	}
}

func TestPageStatusString(t *testing.T) {
	for s, want := range map[PageStatus]string{PageOK: "ok", PageUninitialized: "uninitialized", PageBad: "bad", 9: "PageStatus(9)"} {
		if got := s.String(); got != want {
			t.Errorf("%d: got %q want %q", s, got, want)
		}
	}
}

func TestVerifyPageEdgeCases(t *testing.T) {
	tests := []struct {
		name   string
		page   []byte
		status PageStatus
	}{
		{"nil", nil, PageBad},
		{"not a power of two", make([]byte, 3000), PageBad},
		{"too small", make([]byte, 1024), PageBad},
		{"too large", make([]byte, 65536), PageBad},
		{"zero 2K", make([]byte, 2048), PageUninitialized},
		{"zero 32K", make([]byte, 32768), PageUninitialized},
		{"last byte set", append(make([]byte, 4095), 1), PageBad},
	}
	for _, tt := range tests {
		c := VerifyPage(tt.page, 7)
		if c.Status != tt.status {
			t.Errorf("%s: status %v want %v (%s)", tt.name, c.Status, tt.status, c.Reason)
		}
		if c.Status != PageBad && c.Err("f", 7) != nil {
			t.Errorf("%s: Err should be nil for %v", tt.name, c.Status)
		}
	}
}

func TestSetPageChecksumAllSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, ps := range []int{2048, 4096, 8192, 16384, 32768} {
		page := randomBytes(rng, ps)
		le.PutUint32(page[OffPageFlags:], le.Uint32(page[OffPageFlags:])&^PageFlagNewChecksum)
		SetPageChecksum(page, 1234)
		c := VerifyPage(page, 1234)
		if c.Status != PageOK || c.Legacy {
			t.Errorf("%d: new-format page: %+v", ps, c)
		}
		if le.Uint32(page[OffPageFlags:])&PageFlagNewChecksum == 0 {
			t.Errorf("%d: flag 0x2000 not set", ps)
		}
		if ps > 8192 && le.Uint32(page[OffPagePgno:]) != 1234 {
			t.Errorf("%d: pgno not written at 64", ps)
		}
		if c := VerifyPage(page, 1235); c.Status != PageBad {
			t.Errorf("%d: verified under the wrong pgno", ps)
		}

		legacy := randomBytes(rng, ps)
		SetLegacyPageChecksum(legacy, 99)
		c = VerifyPage(legacy, 99)
		if ps <= 8192 {
			if c.Status != PageOK || !c.Legacy {
				t.Errorf("%d: legacy page: %+v", ps, c)
			}
			c = VerifyPage(legacy, 98)
			if c.Status != PageBad || c.ActualPgno != 99 || !c.Legacy {
				t.Errorf("%d: legacy page at wrong pgno: %+v", ps, c)
			}
			legacy[100] ^= 4
			if c = VerifyPage(legacy, 99); c.Status != PageBad || c.Bit != -1 {
				t.Errorf("%d: corrupted legacy page: %+v", ps, c)
			}
		} else if c.Status == PageOK {
			t.Errorf("%d: large pages cannot be legacy", ps)
		}
	}
	// Unsupported sizes are left alone.
	odd := []byte{1, 2, 3}
	SetPageChecksum(odd, 1)
	SetLegacyPageChecksum(odd, 1)
	if !bytes.Equal(odd, []byte{1, 2, 3}) {
		t.Error("odd-sized page modified")
	}
}

// bitFlipCase names a page whose every bit is flipped in turn.
type bitFlipCase struct {
	name string
	page []byte
	pgno uint32
}

func bitFlipCases(t *testing.T) []bitFlipCase {
	rng := rand.New(rand.NewPCG(7, 8))
	var cases []bitFlipCase
	for _, ps := range []int{2048, 8192} {
		p := randomBytes(rng, ps)
		SetPageChecksum(p, 77)
		cases = append(cases, bitFlipCase{"synthetic " + itoa(ps), p, 77})
	}
	cases = append(cases,
		bitFlipCase{"srum-win10-clean 4K pgno 1", samplePage(t, "srum-win10-clean/SRUDB.dat", 4096, 1), 1},
		bitFlipCase{"srum-win11-dirty 4K pgno 4", samplePage(t, "srum-win11-dirty/SRUDB.dat", 4096, 4), 4},
		bitFlipCase{"qmgr 16K pgno 1", samplePage(t, "bits-qmgr-win11-16k/qmgr.db", 16384, 1), 1},
		bitFlipCase{"large 32K pgno 10", samplePage(t, "dissect-large-32k/large.edb.gz", 32768, 10), 10},
	)
	return cases
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestVerifyPageLocatesEveryFlippedBit(t *testing.T) {
	for _, tc := range bitFlipCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			page := tc.page
			orig := append([]byte(nil), page...)
			if c := VerifyPage(page, tc.pgno); c.Status != PageOK {
				t.Fatalf("unmodified page does not verify: %+v", c)
			}
			ps := len(page)
			bs := xeBlockSize(ps)
			for bit := 0; bit < 8*ps; bit++ {
				page[bit/8] ^= 1 << (bit % 8)
				c := VerifyPage(page, tc.pgno)
				if c.Status != PageBad {
					t.Fatalf("bit %d: flip not detected", bit)
				}
				if c.Bit != bit {
					t.Fatalf("bit %d: reported bit %d (%+v)", bit, c.Bit, c)
				}
				if want := bit / 8 / bs; c.Block != want {
					t.Fatalf("bit %d: block %d want %d", bit, c.Block, want)
				}
				// Only a small page's stored pgno half is ambiguous with a
				// page of a neighbouring pgno.
				ambiguous := ps <= 8192 && bit < 32 && tc.pgno^1<<bit != 0
				if ambiguous != (c.ActualPgno != 0) {
					t.Fatalf("bit %d: ActualPgno %d", bit, c.ActualPgno)
				}
				if ambiguous && c.ActualPgno != tc.pgno^1<<bit {
					t.Fatalf("bit %d: ActualPgno %d want %d", bit, c.ActualPgno, tc.pgno^1<<bit)
				}
				if c.Legacy {
					t.Fatalf("bit %d: reported as legacy", bit)
				}
				if bit%61 == 0 || bit == flagBit {
					err := c.Err("db.edb", tc.pgno)
					var ee *ese.Error
					if !errors.As(err, &ee) || ee.Page != int64(tc.pgno) || ee.File != "db.edb" {
						t.Fatalf("bit %d: Err = %v", bit, err)
					}
					if !ambiguous && !errors.Is(err, ese.ErrReadVerifyFailure) {
						t.Fatalf("bit %d: Err code %v", bit, ee.Code)
					}
					want := "single-bit error at bit " + itoa(bit) + " (byte " + itoa(bit/8) + ", bit " + itoa(bit%8) + ")"
					if !strings.Contains(err.Error(), want) {
						t.Fatalf("bit %d: message %q lacks %q", bit, err, want)
					}
				}
				if bit%97 == 0 || bit < 600 {
					fixed, ok := CorrectSingleBit(page, tc.pgno)
					refuse := ambiguous || bit == flagBit // ESE never flips the format flag
					if ok == refuse || (ok && fixed != bit) {
						t.Fatalf("bit %d: CorrectSingleBit = %d, %v", bit, fixed, ok)
					}
					if ok {
						page[bit/8] ^= 1 << (bit % 8) // undo the repair, re-flip below
					}
				}
				page[bit/8] ^= 1 << (bit % 8)
			}
			if !bytes.Equal(page, orig) {
				t.Fatal("page not restored")
			}
		})
	}
}

func TestVerifyPageTwoBitErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, tc := range bitFlipCases(t) {
		page := tc.page
		for i := 0; i < 500; i++ {
			a, b := rng.IntN(8*len(page)), rng.IntN(8*len(page))
			if a/8/xeBlockSize(len(page)) != b/8/xeBlockSize(len(page)) || a == b {
				continue
			}
			page[a/8] ^= 1 << (a % 8)
			page[b/8] ^= 1 << (b % 8)
			c := VerifyPage(page, tc.pgno)
			if c.Status != PageBad {
				t.Fatalf("%s: two flips %d,%d not detected", tc.name, a, b)
			}
			if c.Bit != -1 {
				// The code is SEC-DED: a double error never looks correctable.
				t.Fatalf("%s: two flips %d,%d reported as single bit %d", tc.name, a, b, c.Bit)
			}
			page[a/8] ^= 1 << (a % 8)
			page[b/8] ^= 1 << (b % 8)
		}
	}
}

func TestVerifyPageWrongPosition(t *testing.T) {
	tests := []struct {
		path     string
		ps       int
		from, at uint32
	}{
		{"srum-win10-clean/SRUDB.dat", 4096, 1, 6},
		{"dissect-basic-4k/basic.edb", 4096, 4, 11},
		{"bits-qmgr-win11-16k/qmgr.db", 16384, 1, 2},
		{"bits-qmgr-win11-16k/qmgr.db", 16384, 3, 12},
		{"dissect-large-32k/large.edb.gz", 32768, 10, 5},
	}
	for _, tt := range tests {
		page := samplePage(t, tt.path, tt.ps, tt.from)
		if c := VerifyPage(page, tt.from); c.Status != PageOK {
			t.Fatalf("%s page %d not OK: %+v", tt.path, tt.from, c)
		}
		c := VerifyPage(page, tt.at)
		if c.Status != PageBad || c.ActualPgno != tt.from || c.Bit != -1 || c.Block != 0 {
			t.Errorf("%s page %d read at %d: %+v", tt.path, tt.from, tt.at, c)
		}
		err := c.Err("x.edb", tt.at)
		if !errors.Is(err, ese.ErrReadPgnoVerifyFailure) || !strings.Contains(err.Error(), "pgno "+itoa(int(tt.from))) {
			t.Errorf("%s: Err = %v", tt.path, err)
		}
	}
}

func TestVerifyPageLargePgnoField(t *testing.T) {
	// Valid checksums computed for pgno 8 but the pgno copy at 64 says 9.
	rng := rand.New(rand.NewPCG(11, 12))
	page := randomBytes(rng, 16384)
	SetPageChecksum(page, 8)
	le.PutUint32(page[OffPagePgno:], 9)
	le.PutUint64(page[0:], XEChecksum(page[:4096], 8, true))
	c := VerifyPage(page, 8)
	if c.Status != PageBad || c.ActualPgno != 9 || c.Reason != reasonPgnoField {
		t.Errorf("pgno field mismatch: %+v", c)
	}
}

func TestVerifyPageFlagBitOnLegacyPage(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	page := randomBytes(rng, 4096)
	SetLegacyPageChecksum(page, 5)
	page[37] ^= 0x20 // gains the new-format flag
	c := VerifyPage(page, 5)
	if c.Status != PageBad || !c.Legacy || c.Bit != flagBit {
		t.Errorf("legacy page with flag set: %+v", c)
	}
	if _, ok := CorrectSingleBit(page, 5); ok {
		t.Error("CorrectSingleBit touched the format flag")
	}
}

func TestPageCheckErr(t *testing.T) {
	tests := []struct {
		name string
		c    PageCheck
		code ese.Code
		want string
	}{
		{"ok", PageCheck{Status: PageOK, Block: -1, Bit: -1}, 0, ""},
		{"uninit", PageCheck{Status: PageUninitialized, Block: -1, Bit: -1}, 0, ""},
		{"bit", PageCheck{Status: PageBad, Block: 2, Bit: 70000, Reason: reasonXESingle}, ese.ErrReadVerifyFailure,
			"block 2: " + reasonXESingle + ": single-bit error at bit 70000 (byte 8750, bit 0)"},
		{"wrong page", PageCheck{Status: PageBad, Block: 0, Bit: -1, ActualPgno: 42, Reason: reasonXEWrongPage},
			ese.ErrReadPgnoVerifyFailure, "page holds pgno 42"},
		{"uncorrectable", PageCheck{Status: PageBad, Block: 1, Bit: -1, Reason: reasonUncorrect},
			ese.ErrReadVerifyFailure, "block 1: " + reasonUncorrect},
		{"no block", PageCheck{Status: PageBad, Block: -1, Bit: -1, Reason: reasonBadSize},
			ese.ErrReadVerifyFailure, reasonBadSize},
		{"empty reason", PageCheck{Status: PageBad, Block: -1, Bit: -1}, ese.ErrReadVerifyFailure, "checksum mismatch"},
	}
	for _, tt := range tests {
		err := tt.c.Err("f.edb", 3)
		if tt.code == 0 {
			if err != nil {
				t.Errorf("%s: want nil, got %v", tt.name, err)
			}
			continue
		}
		var ee *ese.Error
		if !errors.As(err, &ee) {
			t.Fatalf("%s: not an *ese.Error: %v", tt.name, err)
		}
		if ee.Code != tt.code || ee.Op != "verify page" || ee.File != "f.edb" || ee.Page != 3 {
			t.Errorf("%s: %+v", tt.name, ee)
		}
		if !strings.Contains(ee.Err.Error(), tt.want) {
			t.Errorf("%s: cause %q lacks %q", tt.name, ee.Err, tt.want)
		}
	}
}

func TestVerifyPageDoesNotAllocate(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	good := randomBytes(rng, 32768)
	SetPageChecksum(good, 3)
	bad := append([]byte(nil), good...)
	bad[5000] ^= 1
	small := randomBytes(rng, 4096)
	SetLegacyPageChecksum(small, 3)
	small[900] ^= 2
	zero := make([]byte, 8192)
	for name, p := range map[string][]byte{"good": good, "bad": bad, "legacy bad": small, "zero": zero} {
		if n := testing.AllocsPerRun(50, func() { _ = VerifyPage(p, 3) }); n != 0 {
			t.Errorf("%s: %v allocations per VerifyPage", name, n)
		}
	}
}

func TestCorrectSingleBitRefuses(t *testing.T) {
	page := make([]byte, 4096)
	if _, ok := CorrectSingleBit(page, 1); ok {
		t.Error("repaired an uninitialised page")
	}
	rng := rand.New(rand.NewPCG(17, 18))
	page = randomBytes(rng, 4096)
	SetPageChecksum(page, 1)
	if _, ok := CorrectSingleBit(page, 1); ok {
		t.Error("repaired a good page")
	}
	page[10] ^= 1
	page[2000] ^= 1
	orig := append([]byte(nil), page...)
	if _, ok := CorrectSingleBit(page, 1); ok || !bytes.Equal(orig, page) {
		t.Error("double error was 'repaired' or the page changed")
	}
}
