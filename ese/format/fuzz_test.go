package format

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/esesnap/esesnap/internal/samples"
)

// fuzzDatabases are real databases of the samples, of 4, 8, 16 and 32 KiB
// pages.
var fuzzDatabases = []string{"dissect-basic-4k/basic.edb", "srum-win11-dirty/SRUDB.dat", "bits-qmgr-win11-16k/qmgr.db", "ntds-2012r2-tempdb/temp.edb", "dissect-large-32k/large.edb.gz"}

// fuzzSeedHeaders adds the first n bytes of each real database to a fuzz
// corpus.
func fuzzSeedHeaders(f *testing.F, n int) {
	addSampleSeeds(f, n, fuzzDatabases)
}

// pageSizeFor picks the largest supported page size that fits n bytes, or n
// itself when none does (VerifyPage must reject it).
func pageSizeFor(n int) int {
	for ps := MaxPageSize; ps >= MinPageSize; ps /= 2 {
		if n >= ps {
			return ps
		}
	}
	return n
}

func FuzzVerifyPage(f *testing.F) {
	// Real pages: the root page and a later used page of each database,
	// under their own page numbers (file page i is pgno i-1), and with the
	// number of another page.
	for _, name := range fuzzDatabases {
		db := samples.Read(f, name)
		hr, err := ReadDBHeader(bytes.NewReader(db), int64(len(db)), name)
		if err != nil {
			f.Fatal(err)
		}
		ps := hr.PageSize
		for _, i := range []int{3, len(db)/ps/2 + 1} {
			page := bytes.Clone(db[i*ps : (i+1)*ps])
			f.Add(page, uint32(i-1))
			f.Add(page, uint32(i))
		}
	}
	rng := rand.New(rand.NewPCG(21, 22))
	for _, ps := range []int{2048, 4096, 16384} {
		p := randomBytes(rng, ps)
		SetPageChecksum(p, 5)
		f.Add(p, uint32(5))
		q := append([]byte(nil), p...)
		q[ps/3] ^= 8
		f.Add(q, uint32(5))
	}
	f.Add(make([]byte, 4096), uint32(1))
	f.Add([]byte{1, 2, 3}, uint32(0))
	f.Fuzz(func(t *testing.T, data []byte, pgno uint32) {
		page := data[:pageSizeFor(len(data))]
		c := VerifyPage(page, pgno)
		if c.Status == PageOK && (c.Bit != -1 || c.Block != -1 || c.ActualPgno != 0) {
			t.Fatalf("OK page with details %+v", c)
		}
		if (c.Err("f", pgno) == nil) != (c.Status != PageBad) {
			t.Fatalf("Err disagrees with status %v", c.Status)
		}
		if c.Bit >= 8*len(page) {
			t.Fatalf("bit %d outside the page", c.Bit)
		}
		orig := append([]byte(nil), page...)
		if bit, ok := CorrectSingleBit(page, pgno); ok {
			if VerifyPage(page, pgno).Status != PageOK {
				t.Fatal("repair left a bad page")
			}
			if bit != c.Bit || orig[bit/8]^page[bit/8] != 1<<(bit%8) {
				t.Fatalf("repair flipped something other than bit %d", c.Bit)
			}
		} else if !bytes.Equal(orig, page) {
			t.Fatal("failed repair changed the page")
		}
		if ValidPageSize(len(page)) {
			SetPageChecksum(page, pgno)
			if c := VerifyPage(page, pgno); c.Status == PageBad {
				t.Fatalf("SetPageChecksum output does not verify: %+v", c)
			}
		}
	})
}

func FuzzParseDBHeader(f *testing.F) {
	fuzzSeedHeaders(f, 4096)
	f.Add(make([]byte, HeaderSize))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseDBHeader(data)
		if err != nil {
			if h != nil {
				t.Fatal("header returned with an error")
			}
			return
		}
		// Encoding over the same bytes must reproduce them exactly.
		out := append([]byte(nil), data...)
		h.Encode(out)
		if !bytes.Equal(out, data) {
			t.Fatal("Encode(Parse(b)) != b")
		}
		_ = h.State.String()
		_ = h.FileType.String()
		_ = h.CbPage()
	})
}

func FuzzReadDBHeader(f *testing.F) {
	// Both header copies of each real database, whatever its page size.
	for _, name := range fuzzDatabases {
		db := samples.Read(f, name)
		hr, err := ReadDBHeader(bytes.NewReader(db), int64(len(db)), name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.Clone(db[:2*hr.PageSize]))
	}
	f.Add([]byte{})
	// A small synthetic database with 2 KiB pages keeps minimisation cheap.
	small := make([]byte, 3*2048)
	h := &DBHeader{Magic: DBMagic, Version: 0x620, PageSize: 2048, State: DBStateCleanShutdown}
	h.Encode(small)
	SetHeaderChecksum(small[:2048])
	copy(small[2048:4096], small[:2048])
	f.Add(small)
	f.Fuzz(func(t *testing.T, data []byte) {
		hr, err := ReadDBHeader(bytes.NewReader(data), int64(len(data)), "fuzz.edb")
		if err != nil {
			if hr != nil {
				t.Fatal("result returned with an error")
			}
			return
		}
		if len(hr.Page) != hr.PageSize || hr.Header.CbPage() != hr.PageSize || !ValidPageSize(hr.PageSize) {
			t.Fatalf("page size %d, page %d bytes, header says %d", hr.PageSize, len(hr.Page), hr.Header.CbPage())
		}
		if HeaderChecksum(hr.Page) != hr.Header.Checksum {
			t.Fatal("elected copy does not checksum")
		}
		if !hr.PrimaryOK && !hr.ShadowOK || hr.UsedShadow == hr.PrimaryOK {
			t.Fatalf("inconsistent election %+v", hr)
		}
	})
}
