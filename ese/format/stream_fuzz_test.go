package format

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/internal/samples"
)

// FuzzParseTrailer feeds arbitrary pages to ParseTrailer: it must not panic,
// every failure must be JET_errBadPatchPage, and an accepted page must
// re-encode to the same bytes (a trailer page holds nothing but its fields).
func FuzzParseTrailer(f *testing.F) {
	page := make([]byte, 2048)
	(&Trailer{BKInfo: streamTestBK, GenMinRequired: 9, GenMaxRequired: 10, GenMaxCommitted: 10}).Encode(page)
	f.Add(page)
	f.Add(make([]byte, 2048))
	f.Add(page[:TrailerSize])
	// Trailers of streams of the real databases.
	for _, s := range sampleStreams(f) {
		ps, _ := ReadDBHeader(bytes.NewReader(s), int64(len(s)), "seed")
		f.Add(s[len(s)-ps.PageSize:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := ParseTrailer(b)
		if err != nil {
			if !errors.Is(err, ese.ErrBadPatchPage) {
				t.Fatalf("error %v is not JET_errBadPatchPage", err)
			}
			return
		}
		if !IsTrailerPage(b) {
			t.Fatal("ParseTrailer accepted a page IsTrailerPage rejects")
		}
		again := make([]byte, len(b))
		tr.Encode(again)
		if isZero(b[4:trailerOffBKInfo]) && isZero(b[TrailerSize:]) && !bytes.Equal(again, b) {
			t.Fatal("re-encoded trailer differs")
		}
		back, err := ParseTrailer(again)
		if err != nil || *back != *tr {
			t.Fatalf("round trip: %v, %+v != %+v", err, back, tr)
		}
	})
}

// FuzzVerifyStreamedDatabase runs the stream verifier on arbitrary bytes: it
// must not panic and must fail with an *ese.Error or succeed with a result
// whose page count matches the size.
func FuzzVerifyStreamedDatabase(f *testing.F) {
	f.Add(smallStreamSeed(f))
	for _, s := range sampleStreams(f) {
		f.Add(s)
	}
	f.Add([]byte{})
	f.Add(make([]byte, 3*2048))
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := VerifyStreamedDatabase(context.Background(), bytes.NewReader(b), int64(len(b)), "fuzz")
		if err != nil {
			var e *ese.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *ese.Error", err, err)
			}
			return
		}
		if StreamSize(sd.Pages, sd.PageSize) != int64(len(b)) {
			t.Fatalf("%d pages of %d bytes accepted for a %d-byte stream", sd.Pages, sd.PageSize, len(b))
		}
		if sd.Tally.Pages() != int64(sd.Pages) || sd.Tally.Bad != 0 {
			t.Fatalf("tally %+v for %d pages", sd.Tally, sd.Pages)
		}
	})
}

// smallStreamSeed builds a valid 2 KiB-page stream of two data pages (one used,
// one zero) from a synthetic header, small enough to seed the fuzzer.
func smallStreamSeed(tb testing.TB) []byte {
	const cb = 2048
	h := &DBHeader{
		Magic:       DBMagic,
		Version:     0x620,
		DBTime:      5,
		State:       DBStateCleanShutdown,
		PageSize:    cb,
		UpdateMajor: 20,
		FileType:    FileTypeDatabase,
	}
	h.SignDb.Random = 0x1234
	h.SignLog.Random = 0x5678
	hdr := make([]byte, cb)
	h.Encode(hdr)
	SetHeaderChecksum(hdr)
	out := make([]byte, StreamSize(2, cb))
	StreamHeaderPage(out[:cb], hdr, streamTestBK)
	StreamHeaderPage(out[cb:2*cb], hdr, streamTestBK)
	data := out[2*cb : 3*cb]
	le.PutUint64(data[8:], 5) // dbtime
	le.PutUint32(data[24:], 2)
	for i := 40; i < cb; i++ {
		data[i] = byte(i)
	}
	SetPageChecksum(data, 1)
	tr := TrailerFor(h, streamTestBK, 10)
	tr.Encode(out[len(out)-cb:])
	if _, err := VerifyStreamedDatabase(context.Background(), bytes.NewReader(out), int64(len(out)), "seed"); err != nil {
		tb.Fatalf("seed stream does not verify: %v", err)
	}
	return out
}

// sampleStreams lays the first data pages of each real database out as a
// backup stream (header snapshots, pages, trailer) that verifies: real
// pages, kept few so that an execution stays fast. The NTDS temp database
// is left out: its pages carry no checksums, so no stream of it verifies.
func sampleStreams(tb testing.TB) [][]byte {
	const dataPages = 6
	var out [][]byte
	for _, name := range fuzzDatabases {
		if name == "ntds-2012r2-tempdb/temp.edb" {
			continue
		}
		db := samples.Read(tb, name)
		hr, err := ReadDBHeader(bytes.NewReader(db), int64(len(db)), name)
		if err != nil {
			tb.Fatal(err)
		}
		s := buildStream(tb, db[:(2+dataPages)*hr.PageSize], streamTestBK, 10)
		if _, err := verifyStreamBytes(s); err != nil {
			tb.Fatalf("the stream of the first pages of %s does not verify: %v", name, err)
		}
		out = append(out, s)
	}
	return out
}
