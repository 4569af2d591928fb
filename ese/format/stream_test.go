package format

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/esesnap/esesnap/internal/samples"

	"github.com/esesnap/esesnap/ese"
)

// streamSample reads a real database from shared/ese-samples.
func streamSample(t testing.TB, rel string) []byte { return samples.Read(t, rel) }

// streamTestBK is the BKINFO of the streams built by these tests: a backup begun
// at log position (9,3,0) with the checkpoint in generation 9.
var streamTestBK = BKInfo{
	Mark:     LGPos{IB: 0, ISec: 3, Gen: 9},
	MarkTime: LogTimeFrom(time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC)),
	GenLow:   9,
}

// buildStream lays a database file out as JetReadFile streams it: two header
// snapshots with bk, the data pages, then the trailer for currentGen.
func buildStream(t testing.TB, db []byte, bk BKInfo, currentGen uint32) []byte {
	t.Helper()
	hr, err := ReadDBHeader(bytes.NewReader(db), int64(len(db)), "db")
	if err != nil {
		t.Fatalf("ReadDBHeader: %v", err)
	}
	cb := hr.PageSize
	pages := uint32(len(db)/cb - 2)
	out := make([]byte, StreamSize(pages, cb))
	StreamHeaderPage(out[:cb], hr.Page, bk)
	StreamHeaderPage(out[cb:2*cb], hr.Page, bk)
	copy(out[2*cb:], db[2*cb:])
	tr := TrailerFor(hr.Header, bk, currentGen)
	tr.Encode(out[len(out)-cb:])
	return out
}

func verifyStreamBytes(b []byte) (*StreamedDB, error) {
	return VerifyStreamedDatabase(context.Background(), bytes.NewReader(b), int64(len(b)), "stream.edb")
}

func TestVerifyStreamedDatabaseSamples(t *testing.T) {
	tests := []struct {
		sample      string
		pageSize    int
		pages       uint32
		ok, uninit  int64
		currentGen  uint32
		wantGenHigh uint32
	}{
		// clean DB: lGenMaxCommitted 0, so genHigh is the current generation.
		{"srum-win10-clean/SRUDB.dat", 4096, 190, 104, 86, 10, 10},
		// dirty DB with lGenMaxCommitted 23, above the current generation
		// given: genHigh is raised to it.
		{"bits-qmgr-win11-16k/qmgr.db", 16384, 78, 43, 35, 20, 23},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.sample), func(t *testing.T) {
			db := streamSample(t, tc.sample)
			hr, err := ReadDBHeader(bytes.NewReader(db), int64(len(db)), tc.sample)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.wantGenHigh
			s := buildStream(t, db, streamTestBK, tc.currentGen)
			if got, w := int64(len(s)), int64(len(db))+int64(tc.pageSize); got != w {
				t.Fatalf("stream is %d bytes, want file size + one page = %d", got, w)
			}
			sd, err := verifyStreamBytes(s)
			if err != nil {
				t.Fatalf("VerifyStreamedDatabase: %v", err)
			}
			if sd.PageSize != tc.pageSize || sd.Pages != tc.pages {
				t.Errorf("page size %d pages %d, want %d %d", sd.PageSize, sd.Pages, tc.pageSize, tc.pages)
			}
			if sd.Tally.OK != tc.ok || sd.Tally.Uninitialized != tc.uninit || sd.Tally.Bad != 0 {
				t.Errorf("tally %+v, want ok %d uninit %d bad 0", sd.Tally, tc.ok, tc.uninit)
			}
			if sd.Header.BKInfoFullCur != streamTestBK {
				t.Errorf("header bkinfoFullCur %+v, want %+v", sd.Header.BKInfoFullCur, streamTestBK)
			}
			if sd.Trailer.BKInfo.GenHigh != want {
				t.Errorf("trailer genHigh %d, want %d", sd.Trailer.BKInfo.GenHigh, want)
			}
			if sd.Trailer.SignDb != hr.Header.SignDb || sd.Trailer.SignLog != hr.Header.SignLog {
				t.Error("trailer signatures differ from the database's")
			}
			if sd.Trailer.GenMaxCommitted != hr.Header.GenMaxCommitted ||
				sd.Trailer.LogtimeGenMaxCommitted != hr.Header.LogtimeGenMaxCreate ||
				sd.Trailer.LogtimeGenMaxRequired != hr.Header.LogtimeGenMaxRequired {
				t.Error("trailer does not carry the header's generation window")
			}
		})
	}
}

// firstUsedStreamPage returns the first non-zero data page at or after pgno from.
func firstUsedStreamPage(t *testing.T, s []byte, cb int, from uint32) uint32 {
	t.Helper()
	for pgno := from; int(pgno+3)*cb <= len(s); pgno++ {
		off := int(pgno+1) * cb
		if !isZero(s[off : off+cb]) {
			return pgno
		}
	}
	t.Fatal("no used page")
	return 0
}

func TestVerifyStreamedDatabaseErrors(t *testing.T) {
	db := streamSample(t, "srum-win10-clean/SRUDB.dat")
	const cb = 4096
	good := buildStream(t, db, streamTestBK, 10)
	hdr, err := ParseDBHeader(good[:cb])
	if err != nil {
		t.Fatal(err)
	}
	badPgno := firstUsedStreamPage(t, good, cb, 7)

	// withTrailer rebuilds the stream with a modified trailer.
	withTrailer := func(mod func(*Trailer)) func([]byte) []byte {
		return func(s []byte) []byte {
			tr := TrailerFor(hdr, streamTestBK, 10)
			mod(&tr)
			tr.Encode(s[len(s)-cb:])
			return s
		}
	}
	// withHeader rewrites both header snapshots with another BKINFO.
	withHeader := func(bk BKInfo) func([]byte) []byte {
		return func(s []byte) []byte {
			StreamHeaderPage(s[:cb], s[:cb], bk)
			StreamHeaderPage(s[cb:2*cb], s[cb:2*cb], bk)
			return s
		}
	}
	otherSign := hdr.SignLog
	otherSign.Random ^= 1

	tests := []struct {
		name     string
		mutate   func([]byte) []byte
		code     ese.Code
		wantPage int64
	}{
		{"flipped bit in data page", func(s []byte) []byte {
			s[int(badPgno+1)*cb+1000] ^= 0x10
			return s
		}, ese.ErrReadVerifyFailure, int64(badPgno)},
		{"page from another place", func(s []byte) []byte {
			a, b := int(badPgno+1)*cb, int(badPgno+2)*cb
			other := firstUsedStreamPage(t, s, cb, badPgno+1)
			copy(s[a:b], s[int(other+1)*cb:int(other+2)*cb])
			return s
		}, ese.ErrReadPgnoVerifyFailure, int64(badPgno)},
		{"trailer of another log stream", withTrailer(func(tr *Trailer) { tr.SignLog = otherSign }), ese.ErrDatabasePatchFileMismatch, 0},
		{"trailer of another database", withTrailer(func(tr *Trailer) { tr.SignDb.Random++ }), ese.ErrDatabasePatchFileMismatch, 0},
		{"trailer of another backup", withTrailer(func(tr *Trailer) { tr.BKInfo.Mark.ISec++ }), ese.ErrDatabasePatchFileMismatch, 0},
		{"trailer without genHigh", withTrailer(func(tr *Trailer) { tr.BKInfo.GenHigh = 0 }), ese.ErrDatabasePatchFileMismatch, 0},
		{"trailer checksum", func(s []byte) []byte {
			s[len(s)-cb+200] ^= 1
			return s
		}, ese.ErrBadPatchPage, 0},
		{"header not a backup copy", withHeader(BKInfo{Mark: streamTestBK.Mark, MarkTime: streamTestBK.MarkTime}), ese.ErrRestoreOfNonBackupDatabase, 0},
		{"header already restored", withHeader(BKInfo{Mark: streamTestBK.Mark, GenLow: 9, GenHigh: 10}), ese.ErrDatabaseCorrupted, 0},
		{"header copies differ", func(s []byte) []byte {
			bk := streamTestBK
			bk.MarkTime[0]++
			StreamHeaderPage(s[cb:2*cb], s[cb:2*cb], bk)
			return s
		}, ese.ErrDatabaseCorrupted, 0},
		{"both header copies bad", func(s []byte) []byte {
			s[500] ^= 1
			s[cb+500] ^= 1
			return s
		}, ese.ErrReadVerifyFailure, 0},
		{"truncated by one page", func(s []byte) []byte { return s[:len(s)-cb] }, ese.ErrMissingPatchPage, 0},
		{"truncated mid-page", func(s []byte) []byte { return s[:len(s)-100] }, ese.ErrDatabaseCorrupted, 0},
		{"only the headers", func(s []byte) []byte { return s[:2*cb] }, ese.ErrDatabaseCorrupted, 0},
		{"empty", func(s []byte) []byte { return nil }, ese.ErrDatabaseCorrupted, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.mutate(bytes.Clone(good))
			_, err := verifyStreamBytes(s)
			var e *ese.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want *ese.Error %v", err, err, tc.code)
			}
			if e.Code != tc.code {
				t.Fatalf("code %v, want %v (%v)", e.Code, tc.code, err)
			}
			if e.Op != "verify streamed database" || e.File != "stream.edb" {
				t.Errorf("Op %q File %q", e.Op, e.File)
			}
			if e.Page != tc.wantPage {
				t.Errorf("Page %d, want %d", e.Page, tc.wantPage)
			}
		})
	}
}

func TestVerifyStreamedDatabaseCancel(t *testing.T) {
	db := streamSample(t, "srum-win10-clean/SRUDB.dat")
	s := buildStream(t, db, streamTestBK, 10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := VerifyStreamedDatabase(ctx, bytes.NewReader(s), int64(len(s)), "x")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

func TestStreamHeaderPage(t *testing.T) {
	db := streamSample(t, "srum-win10-clean/SRUDB.dat")
	src := bytes.Clone(db[:4096])
	dst := make([]byte, 4096)
	StreamHeaderPage(dst, src, streamTestBK)
	if !bytes.Equal(src, db[:4096]) {
		t.Fatal("StreamHeaderPage modified its source")
	}
	if got, want := le.Uint32(dst), HeaderChecksum(dst); got != want {
		t.Fatalf("checksum %08X, computed %08X", got, want)
	}
	h, err := ParseDBHeader(dst)
	if err != nil {
		t.Fatal(err)
	}
	if h.BKInfoFullCur != streamTestBK {
		t.Errorf("bkinfoFullCur %+v, want %+v", h.BKInfoFullCur, streamTestBK)
	}
	for i := range dst {
		inBK := i >= OffBKInfoFullCur && i < OffBKInfoFullCur+BKInfoSize
		if i >= 4 && !inBK && dst[i] != src[i] {
			t.Fatalf("byte %d changed outside bkinfoFullCur and the checksum", i)
		}
	}
	// In place works too.
	StreamHeaderPage(src, src, streamTestBK)
	if !bytes.Equal(src, dst) {
		t.Error("in-place StreamHeaderPage differs")
	}
}

func TestTrailerFor(t *testing.T) {
	tests := []struct {
		current, maxCommitted, want uint32
	}{
		{10, 0, 10},
		{10, 9, 10},
		{10, 10, 10},
		{10, 11, 11}, // the header saw a log roll the log manager has not
	}
	for _, tc := range tests {
		h := &DBHeader{GenMinRequired: 7, GenMaxRequired: 8, GenMaxCommitted: tc.maxCommitted}
		h.SignDb.Random = 1
		h.SignLog.Random = 2
		h.LogtimeGenMaxCreate[0] = 3
		h.LogtimeGenMaxRequired[0] = 4
		tr := TrailerFor(h, streamTestBK, tc.current)
		if tr.BKInfo.GenHigh != tc.want {
			t.Errorf("current %d maxCommitted %d: genHigh %d, want %d", tc.current, tc.maxCommitted, tr.BKInfo.GenHigh, tc.want)
		}
		if tr.BKInfo.GenLow != streamTestBK.GenLow || tr.BKInfo.Mark != streamTestBK.Mark || tr.BKInfo.MarkTime != streamTestBK.MarkTime {
			t.Errorf("BKInfo %+v does not keep the backup's mark and genLow", tr.BKInfo)
		}
		if tr.SignDb.Random != 1 || tr.SignLog.Random != 2 || tr.GenMinRequired != 7 || tr.GenMaxRequired != 8 ||
			tr.GenMaxCommitted != tc.maxCommitted || tr.LogtimeGenMaxCommitted[0] != 3 || tr.LogtimeGenMaxRequired[0] != 4 {
			t.Errorf("trailer %+v does not copy the header fields", tr)
		}
	}
}

func TestTrailerLayout(t *testing.T) {
	tr := Trailer{
		BKInfo:          BKInfo{Mark: LGPos{IB: 1, ISec: 2, Gen: 3}, GenLow: 4, GenHigh: 5},
		SignDb:          Signature{Random: 0x11111111},
		SignLog:         Signature{Random: 0x22222222},
		GenMinRequired:  6,
		GenMaxRequired:  7,
		GenMaxCommitted: 8,
	}
	tr.BKInfo.MarkTime[0] = 0x33
	tr.LogtimeGenMaxRequired[1] = 0x44
	tr.LogtimeGenMaxCommitted[2] = 0x55
	for _, cb := range []int{2048, 4096, 8192, 16384, 32768} {
		page := bytes.Repeat([]byte{0xEE}, cb)
		tr.Encode(page)
		// Offsets from PATCHHDR: 40-byte page header, then BKINFO, the two
		// signatures, three generations and two LOGTIMEs.
		checks := []struct {
			off  int
			want uint32
		}{
			{40, 0x00020001}, {44, 3}, {56, 4}, {60, 5},
			{64, 0x11111111}, {92, 0x22222222},
			{120, 6}, {124, 7}, {128, 8},
		}
		for _, c := range checks {
			if got := le.Uint32(page[c.off:]); got != c.want {
				t.Errorf("cb %d: dword at %d = %#x, want %#x", cb, c.off, got, c.want)
			}
		}
		if page[48] != 0x33 || page[133] != 0x44 || page[142] != 0x55 {
			t.Errorf("cb %d: LOGTIMEs not at 48/132/140", cb)
		}
		if !isZero(page[4:40]) || !isZero(page[TrailerSize:]) {
			t.Errorf("cb %d: page header or tail not zero", cb)
		}
		if !IsTrailerPage(page) {
			t.Errorf("cb %d: IsTrailerPage false on an encoded trailer", cb)
		}
		got, err := ParseTrailer(page)
		if err != nil {
			t.Fatalf("cb %d: %v", cb, err)
		}
		if *got != tr {
			t.Errorf("cb %d: round trip %+v, want %+v", cb, *got, tr)
		}
	}
}

func TestIsTrailerPage(t *testing.T) {
	db := streamSample(t, "srum-win10-clean/SRUDB.dat")
	trailer := make([]byte, 4096)
	(&Trailer{BKInfo: streamTestBK}).Encode(trailer)
	dataPage := db[3*4096 : 4*4096]
	if isZero(dataPage) {
		t.Fatal("sample page 2 unexpectedly empty")
	}
	withObjid := bytes.Clone(trailer)
	withObjid[24] = 1
	withDBTime := bytes.Clone(trailer)
	withDBTime[15] = 1
	tests := []struct {
		name string
		page []byte
		want bool
	}{
		{"trailer", trailer, true},
		{"header page", db[:4096], false}, // has a dbtime
		{"data page", dataPage, false},
		{"zero page", make([]byte, 4096), false},
		{"objid set", withObjid, false},
		{"dbtime set", withDBTime, false},
		{"short", trailer[:100], false},
		{"nil", nil, false},
	}
	for _, tc := range tests {
		if got := IsTrailerPage(tc.page); got != tc.want {
			t.Errorf("%s: IsTrailerPage = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseTrailerErrors(t *testing.T) {
	good := make([]byte, 4096)
	(&Trailer{BKInfo: streamTestBK}).Encode(good)
	badSum := bytes.Clone(good)
	badSum[1000] = 1
	tests := []struct {
		name string
		page []byte
	}{
		{"bad checksum", badSum},
		{"zero page", make([]byte, 4096)},
		{"odd size", good[:4000]},
		{"too short", good[:64]},
		{"objid set", func() []byte {
			p := bytes.Clone(good)
			p[24] = 9
			SetHeaderChecksum(p)
			return p
		}()},
	}
	for _, tc := range tests {
		_, err := ParseTrailer(tc.page)
		if !errors.Is(err, ese.ErrBadPatchPage) {
			t.Errorf("%s: err %v, want JET_errBadPatchPage", tc.name, err)
		}
	}
}

func TestStreamSize(t *testing.T) {
	if got := StreamSize(190, 4096); got != 193*4096 {
		t.Errorf("StreamSize(190, 4096) = %d", got)
	}
	if got := StreamSize(1<<32-1, 32768); got != (1<<32+2)*32768 {
		t.Errorf("StreamSize does not widen before multiplying: %d", got)
	}
}
