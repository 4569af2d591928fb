package format

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese"
)

// dbSample is one database of shared/ese-samples with the values INVENTORY.md
// lists for it.
type dbSample struct {
	path             string
	pageSize         int
	state            DBState
	format           string // ulVersion,updateMajor,updateMinor
	dbtime           uint64
	genMin, genMax   uint32
	lgposConsistent  string
	ok, bad, uninit  int64
	badFirst, badEnd uint32 // inclusive range of bad pages, when bad > 0
}

var dbSamples = []dbSample{
	{path: "srum-win10-clean/SRUDB.dat", pageSize: 4096, state: DBStateCleanShutdown, format: "0x620,110,240",
		dbtime: 2712, lgposConsistent: "(9,6,36)", ok: 104, uninit: 86},
	{path: "srum-win10-dirty/SRUDB.dat", pageSize: 4096, state: DBStateDirtyShutdown, format: "0x620,20,0",
		dbtime: 25653, genMin: 81, genMax: 81, lgposConsistent: "(51,8,0)", ok: 647, uninit: 135},
	{path: "srum-win11-dirty/SRUDB.dat", pageSize: 4096, state: DBStateDirtyShutdown, format: "0x620,200,440",
		dbtime: 43851, genMin: 92, genMax: 92, lgposConsistent: "(5C,7,36)", ok: 482, uninit: 124},
	{path: "bits-qmgr-win11-16k/qmgr.db", pageSize: 16384, state: DBStateDirtyShutdown, format: "0x620,300,620",
		dbtime: 41141, genMin: 23, genMax: 23, lgposConsistent: "(17,1F,78B)", ok: 43, uninit: 35},
	{path: "dissect-basic-4k/basic.edb", pageSize: 4096, state: DBStateCleanShutdown, format: "0x620,20,0",
		dbtime: 403, lgposConsistent: "(1,16,0)", ok: 23, uninit: 231},
	{path: "dissect-large-32k/large.edb.gz", pageSize: 32768, state: DBStateCleanShutdown, format: "0x620,20,0",
		dbtime: 196235, lgposConsistent: "(5,1B1,0)", ok: 381, uninit: 385},
	{path: "dissect-srudb-badtail/SRUDB.dat", pageSize: 4096, state: DBStateCleanShutdown, format: "0x620,20,0",
		dbtime: 1714, lgposConsistent: "(5,9,E5C)", ok: 79, bad: 16, uninit: 63, badFirst: 143, badEnd: 158},
	{path: "ntds-2012r2-tempdb/temp.edb", pageSize: 8192, state: DBStateJustCreated, format: "0x620,20,0",
		dbtime: 64, lgposConsistent: "(0,0,0)", bad: 234, uninit: 22},
}

func TestReadDBHeaderSamples(t *testing.T) {
	for _, s := range dbSamples {
		t.Run(s.path, func(t *testing.T) {
			b := loadSample(t, s.path)
			hr, err := ReadDBHeader(bytes.NewReader(b), int64(len(b)), s.path)
			if err != nil {
				t.Fatal(err)
			}
			h := hr.Header
			if hr.PageSize != s.pageSize || h.CbPage() != s.pageSize || len(hr.Page) != s.pageSize {
				t.Errorf("page size %d/%d/%d want %d", hr.PageSize, h.CbPage(), len(hr.Page), s.pageSize)
			}
			if !hr.PrimaryOK || !hr.ShadowOK || !hr.Identical || hr.UsedShadow {
				t.Errorf("election %+v", hr)
			}
			if h.State != s.state {
				t.Errorf("state %v want %v", h.State, s.state)
			}
			if got := h.FormatString(); got != s.format {
				t.Errorf("format %s want %s", got, s.format)
			}
			if h.CreateVersion != 0x620 || h.CreateUpdate != 20 {
				t.Errorf("created %#x,%d want 0x620,20", h.CreateVersion, h.CreateUpdate)
			}
			if h.DBTime != s.dbtime {
				t.Errorf("dbtime %d want %d", h.DBTime, s.dbtime)
			}
			if h.GenMinRequired != s.genMin || h.GenMaxRequired != s.genMax {
				t.Errorf("logReq %d-%d want %d-%d", h.GenMinRequired, h.GenMaxRequired, s.genMin, s.genMax)
			}
			if got := h.LgposConsistent.String(); got != s.lgposConsistent {
				t.Errorf("lgposConsistent %s want %s", got, s.lgposConsistent)
			}
			if h.Magic != DBMagic || h.Checksum != le.Uint32(b) {
				t.Errorf("magic %#x checksum %#x", h.Magic, h.Checksum)
			}
			if h.State.Consistent() != (s.state == DBStateCleanShutdown) {
				t.Errorf("Consistent() = %v", h.State.Consistent())
			}
		})
	}
}

// TestDBHeaderSampleDetails checks fields INVENTORY.md names for single samples.
func TestDBHeaderSampleDetails(t *testing.T) {
	parse := func(path string) *DBHeader {
		b := loadSample(t, path)
		h, err := ParseDBHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	h := parse("srum-win10-dirty/SRUDB.dat")
	if h.GenMaxCommitted != 0x51 || h.LgposAttach.String() != "(51,A,268)" {
		t.Errorf("win10-dirty: genMaxCommitted %d lgposAttach %s", h.GenMaxCommitted, h.LgposAttach)
	}
	if got := h.LogtimeGenMaxCreate.String(); got != "2021-02-14 02:32:43.303Z" {
		t.Errorf("win10-dirty: logtimeGenMaxCreate %s", got)
	}
	h = parse("srum-win11-dirty/SRUDB.dat")
	if h.GenMaxCommitted != 92 || h.GenMinConsistent != 92 || h.FileType != FileTypeDatabase {
		t.Errorf("win11-dirty: genMaxCommitted %d genMinConsistent %d filetype %v", h.GenMaxCommitted, h.GenMinConsistent, h.FileType)
	}
	if got := h.LogtimeGenMaxRequired.String(); got != "2022-07-03 02:10:42.308Z" {
		t.Errorf("win11-dirty: logtimeGenMaxRequired %s", got)
	}
	if h.OSMajor != 10 || h.OSMinor != 0 || h.OSBuild != 22000 {
		t.Errorf("win11-dirty: OS %d.%d.%d", h.OSMajor, h.OSMinor, h.OSBuild)
	}
	h = parse("dissect-basic-4k/basic.edb")
	if h.OSMajor != 6 || h.OSMinor != 2 || h.OSBuild != 9200 {
		t.Errorf("basic: OS %d.%d.%d", h.OSMajor, h.OSMinor, h.OSBuild)
	}
	for _, s := range dbSamples {
		h := parse(s.path)
		if !h.BKInfoFullPrev.IsZero() || !h.BKInfoIncPrev.IsZero() || !h.BKInfoFullCur.IsZero() ||
			!h.BKInfoSnapshotCur.IsZero() || !h.BKInfoCopyPrev.IsZero() || !h.BKInfoDiffPrev.IsZero() {
			t.Errorf("%s: unexpected backup info", s.path)
		}
	}
}

func TestDBHeaderRoundTrip(t *testing.T) {
	for _, s := range dbSamples {
		b := loadSample(t, s.path)
		for copyNo := 0; copyNo < 2; copyNo++ {
			orig := b[copyNo*s.pageSize : (copyNo+1)*s.pageSize]
			h, err := ParseDBHeader(orig)
			if err != nil {
				t.Fatalf("%s: %v", s.path, err)
			}
			// Into a zero page: the header page is zero past the fields,
			// so every byte must come back.
			fresh := make([]byte, s.pageSize)
			h.Encode(fresh)
			if !bytes.Equal(fresh, orig) {
				for i := range fresh {
					if fresh[i] != orig[i] {
						t.Fatalf("%s copy %d: byte %d is %#x, want %#x", s.path, copyNo, i, fresh[i], orig[i])
					}
				}
			}
			// Into a copy of itself: nothing changes.
			same := append([]byte(nil), orig...)
			h.Encode(same)
			if !bytes.Equal(same, orig) {
				t.Errorf("%s: Encode over the original changed it", s.path)
			}
			h2, err := ParseDBHeader(fresh)
			if err != nil || *h2 != *h {
				t.Errorf("%s: Parse(Encode(h)) differs: %v", s.path, err)
			}
		}
	}
}

func TestDBHeaderEncodeEditAndChecksum(t *testing.T) {
	b := loadSample(t, "dissect-basic-4k/basic.edb")
	page := append([]byte(nil), b[:4096]...)
	h, err := ParseDBHeader(page)
	if err != nil {
		t.Fatal(err)
	}
	h.State = DBStateDirtyShutdown
	h.BKInfoFullPrev = BKInfo{Mark: LGPos{IB: 1, ISec: 2, Gen: 3}, GenLow: 4, GenHigh: 5}
	h.BKInfoTypeFullPrev = ese.BKInfoOSSnapshot
	h.Encode(page)
	if HeaderChecksum(page) == le.Uint32(page) {
		t.Fatal("checksum still matches after an edit")
	}
	SetHeaderChecksum(page)
	h2, err := ParseDBHeader(page)
	if err != nil {
		t.Fatal(err)
	}
	if h2.State != DBStateDirtyShutdown || h2.BKInfoFullPrev.GenHigh != 5 || h2.BKInfoTypeFullPrev != ese.BKInfoOSSnapshot {
		t.Errorf("edit lost: %+v", h2)
	}
	if le.Uint32(page[OffDBState:]) != 2 || le.Uint32(page[OffBKInfoFullPrev+20:]) != 5 || le.Uint32(page[OffBKInfoTypeFullPrev:]) != 1 {
		t.Error("fields not at their offsets")
	}
	short := make([]byte, 100)
	h.Encode(short) // must not panic
	if !bytes.Equal(short, make([]byte, 100)) {
		t.Error("Encode wrote into a short page")
	}
}

func TestPutBKInfo(t *testing.T) {
	page := make([]byte, 4096)
	bk := BKInfo{Mark: LGPos{IB: 0x10, ISec: 0x20, Gen: 0x30}, MarkTime: LogTime{1, 2, 3, 4, 5, 6, 7, 8}, GenLow: 9, GenHigh: 10}
	for _, off := range []int{OffBKInfoFullPrev, OffBKInfoIncPrev, OffBKInfoFullCur, OffBKInfoSnapshotCur, OffBKInfoCopyPrev, OffBKInfoDiffPrev} {
		PutBKInfo(page, off, bk)
		if got := ParseBKInfo(page[off:]); got != bk {
			t.Errorf("offset %d: got %+v", off, got)
		}
	}
	PutBKInfo(page, 4090, bk) // out of range: ignored
	PutBKInfo(page, -1, bk)
	if !bytes.Equal(page[4090:], make([]byte, 6)) {
		t.Error("PutBKInfo wrote past the page")
	}
}

func TestDBStateAndFileTypeStrings(t *testing.T) {
	states := map[DBState]string{
		DBStateJustCreated: "JustCreated", DBStateDirtyShutdown: "DirtyShutdown", DBStateCleanShutdown: "CleanShutdown",
		DBStateBeingConverted: "BeingConverted", DBStateForceDetach: "ForceDetach",
		DBStateIncrementalReseedInProgress: "IncrementalReseedInProgress",
		DBStateDirtyAndPatchedShutdown:     "DirtyAndPatchedShutdown", DBStateRevertInProgress: "RevertInProgress",
		0: "DBState(0)", 9: "DBState(9)",
	}
	for s, want := range states {
		if got := s.String(); got != want {
			t.Errorf("state %d: %q want %q", uint32(s), got, want)
		}
		if s.Consistent() != (s == DBStateCleanShutdown) {
			t.Errorf("state %v: Consistent() wrong", s)
		}
	}
	types := map[FileType]string{
		FileTypeUnknown: "unknown", FileTypeDatabase: "database", FileTypeStreamingFile: "streaming file", FileTypeLog: "log",
		FileTypeCheckpoint: "checkpoint", FileTypeTempDatabase: "temp database", FileTypeFlushMap: "flush map", 6: "FileType(6)",
	}
	for ft, want := range types {
		if got := ft.String(); got != want {
			t.Errorf("filetype %d: %q want %q", uint32(ft), got, want)
		}
	}
	if (&DBHeader{}).CbPage() != 4096 || (&DBHeader{PageSize: 8192}).CbPage() != 8192 {
		t.Error("CbPage")
	}
}

func TestParseDBHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		page []byte
	}{
		{"nil", nil},
		{"short", make([]byte, HeaderSize-1)},
		{"bad magic", make([]byte, 4096)},
	}
	for _, tt := range tests {
		h, err := ParseDBHeader(tt.page)
		if h != nil || !errors.Is(err, ese.ErrDatabaseCorrupted) {
			t.Errorf("%s: %v, %v", tt.name, h, err)
		}
	}
}

// errReaderAt fails every read.
type errReaderAt struct{}

func (errReaderAt) ReadAt([]byte, int64) (int, error) { return 0, errors.New("device gone") }

func TestReadDBHeaderElection(t *testing.T) {
	const ps = 4096
	src := loadSample(t, "srum-win10-clean/SRUDB.dat")
	mutate := func(f func(b []byte)) []byte {
		b := append([]byte(nil), src[:8*ps]...)
		f(b)
		return b
	}
	tests := []struct {
		name                           string
		file                           []byte
		primaryOK, shadowOK, identical bool
		usedShadow                     bool
		code                           ese.Code // 0 = success
	}{
		{"both good", mutate(func([]byte) {}), true, true, true, false, 0},
		{"primary bit flip", mutate(func(b []byte) { b[300] ^= 1 }), false, true, false, true, 0},
		{"primary page size field", mutate(func(b []byte) { le.PutUint32(b[OffPageSize:], 8192) }), false, true, false, true, 0},
		{"primary magic gone", mutate(func(b []byte) { clear(b[:ps]) }), false, true, false, true, 0},
		{"shadow bit flip", mutate(func(b []byte) { b[ps+2000] ^= 0x40 }), true, false, false, false, 0},
		{"shadow differs but valid", mutate(func(b []byte) {
			le.PutUint32(b[ps+OffDBID:], 7)
			SetHeaderChecksum(b[ps : 2*ps])
		}), true, true, false, false, 0},
		{"both bad", mutate(func(b []byte) { b[300] ^= 1; b[ps+300] ^= 1 }), false, false, false, false, ese.ErrReadVerifyFailure},
		{"no shadow in file", src[:ps+100], true, false, false, false, 0},
		{"not a database", make([]byte, 3*ps), false, false, false, false, ese.ErrDatabaseCorrupted},
		{"too small", src[:HeaderSize-1], false, false, false, false, ese.ErrDatabaseCorrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hr, err := ReadDBHeader(bytes.NewReader(tt.file), int64(len(tt.file)), "SRUDB.dat")
			if tt.code != 0 {
				var ee *ese.Error
				if !errors.As(err, &ee) || !errors.Is(err, tt.code) || ee.File != "SRUDB.dat" || ee.Op != "read database header" || hr != nil {
					t.Fatalf("want %v, got %v", tt.code, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if hr.PrimaryOK != tt.primaryOK || hr.ShadowOK != tt.shadowOK || hr.Identical != tt.identical || hr.UsedShadow != tt.usedShadow {
				t.Errorf("got %+v", *hr)
			}
			if hr.PageSize != ps || hr.Header.DBTime != 2712 {
				t.Errorf("page size %d dbtime %d", hr.PageSize, hr.Header.DBTime)
			}
			want := src[:ps]
			if HeaderChecksum(hr.Page) != le.Uint32(hr.Page) {
				t.Error("elected page does not checksum")
			}
			if tt.name != "shadow differs but valid" && !bytes.Equal(hr.Page, want) {
				t.Error("elected page differs from the good copy")
			}
		})
	}
}

func TestReadDBHeaderIOErrors(t *testing.T) {
	_, err := ReadDBHeader(errReaderAt{}, 1<<20, "x.edb")
	if !errors.Is(err, ese.ErrDiskIO) || !strings.Contains(err.Error(), "device gone") {
		t.Errorf("read error: %v", err)
	}
	// The file is shorter than the size we were told.
	b := loadSample(t, "dissect-basic-4k/basic.edb")
	_, err = ReadDBHeader(bytes.NewReader(b[:5000]), 1<<20, "x.edb")
	if !errors.Is(err, ese.ErrDiskIO) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short file: %v", err)
	}
}

func TestReadDBHeaderAllSizes(t *testing.T) {
	// A synthetic header at every page size, including 2 KiB and a zero
	// page-size field (meaning 4 KiB).
	for _, ps := range []int{2048, 4096, 8192, 16384, 32768, 0} {
		cb := ps
		if cb == 0 {
			cb = 4096
		}
		h := &DBHeader{Magic: DBMagic, Version: 0x620, UpdateMajor: 20, PageSize: uint32(ps), State: DBStateCleanShutdown, FileType: FileTypeDatabase}
		file := make([]byte, 4*cb)
		h.Encode(file[:cb])
		SetHeaderChecksum(file[:cb])
		copy(file[cb:2*cb], file[:cb])
		file[5] ^= 0xFF // primary magic broken: detection must use the shadow
		hr, err := ReadDBHeader(bytes.NewReader(file), int64(len(file)), "s.edb")
		if err != nil {
			t.Fatalf("%d: %v", ps, err)
		}
		if hr.PageSize != cb || !hr.UsedShadow || hr.Header.CbPage() != cb {
			t.Errorf("%d: %+v", ps, hr)
		}
	}
}
