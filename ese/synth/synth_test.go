package synth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

// dbScan is what a full read of a generated database shows.
type dbScan struct {
	header    *format.HeaderRead
	tally     format.Tally
	maxDBTime uint64
	size      int64
}

func scanDB(t *testing.T, path string) dbScan {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	hr, err := format.ReadDBHeader(f, fi.Size(), path)
	if err != nil {
		t.Fatalf("ReadDBHeader: %v", err)
	}
	tally, err := format.VerifyDatabase(context.Background(), f, fi.Size(), hr.PageSize, nil)
	if err != nil {
		t.Fatalf("VerifyDatabase: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var maxDBTime uint64
	for off := 2 * hr.PageSize; off < len(b); off += hr.PageSize {
		maxDBTime = max(maxDBTime, le.Uint64(b[off+offDBTime:]))
	}
	return dbScan{header: hr, tally: tally, maxDBTime: maxDBTime, size: fi.Size()}
}

// checkLogs verifies every log of s and their chain, and returns the checks
// in generation order.
func checkLogs(t *testing.T, s *Set) []format.ChainLink {
	t.Helper()
	d, err := format.ScanLogDir(s.Dir, s.BaseName)
	if err != nil {
		t.Fatalf("ScanLogDir: %v", err)
	}
	var found []string
	for _, f := range d.Chain() {
		found = append(found, f.Path)
	}
	if !slices.Equal(found, s.LogPaths) {
		t.Fatalf("log directory holds %q, set says %q", found, s.LogPaths)
	}
	if d.CurrentGen != s.CurrentGen || d.Checkpoint != s.CheckpointPath {
		t.Fatalf("scan: current gen %d checkpoint %q, set says %d %q", d.CurrentGen, d.Checkpoint, s.CurrentGen, s.CheckpointPath)
	}
	var links []format.ChainLink
	for _, p := range s.LogPaths {
		c, err := format.VerifyLogFile(p)
		if err != nil {
			t.Fatalf("VerifyLog: %v", err)
		}
		if c.Segments == 0 || c.SegmentsShadow != 0 || c.Segments+c.SegmentsEmpty != s.Options.LogSize/4096-1 {
			t.Fatalf("%s: %d segments, %d empty, %d shadow", p, c.Segments, c.SegmentsEmpty, c.SegmentsShadow)
		}
		if len(c.Header.Attach) != 1 || c.Header.Attach[0].SignDb != s.SignDb {
			t.Fatalf("%s: attach list %+v does not name the database", p, c.Header.Attach)
		}
		if c.Header.Version() != "8.4000.60.140" || c.Header.PageSize() != s.PageSize {
			t.Fatalf("%s: version %s page size %d", p, c.Header.Version(), c.Header.PageSize())
		}
		links = append(links, format.ChainLink{Name: p, Check: c})
	}
	if err := format.CheckChain(links, &s.SignLog); err != nil {
		t.Fatalf("CheckChain: %v", err)
	}
	if g := links[0].Check.Header.Generation; g != s.FirstGen {
		t.Fatalf("first log is generation %d, want %d", g, s.FirstGen)
	}
	if g := links[len(links)-1].Check.Header.Generation; g != s.CurrentGen {
		t.Fatalf("current log is generation %d, want %d", g, s.CurrentGen)
	}
	return links
}

// checkSet runs every verifier of package format over a generated set.
func checkSet(t *testing.T, s *Set) {
	t.Helper()
	sc := scanDB(t, s.DBPath)
	h := sc.header.Header
	switch {
	case !sc.header.Identical:
		t.Error("header copies differ")
	case sc.header.PageSize != s.PageSize:
		t.Errorf("page size %d, want %d", sc.header.PageSize, s.PageSize)
	case sc.size != (int64(s.Pages)+2)*int64(s.PageSize):
		t.Errorf("file is %d bytes, want %d pages", sc.size, s.Pages+2)
	case sc.tally.OK != int64(s.UsedPages) || sc.tally.Uninitialized != int64(s.Pages-s.UsedPages) || sc.tally.Bad != 0:
		t.Errorf("tally %+v, want %d ok, %d uninitialised", sc.tally, s.UsedPages, s.Pages-s.UsedPages)
	case h.State != s.State || h.SignDb != s.SignDb || h.SignLog != s.SignLog:
		t.Errorf("header state %s, signatures %s %s", h.State, h.SignDb, h.SignLog)
	case h.Version != 0x620 || h.FormatString() != "0x620,110,240" || h.FileType != format.FileTypeDatabase:
		t.Errorf("header format %s file type %s", h.FormatString(), h.FileType)
	case h.DBTime != sc.maxDBTime && s.UsedPages > 0:
		t.Errorf("header dbtime %d, highest page dbtime %d", h.DBTime, sc.maxDBTime)
	}
	links := checkLogs(t, s)
	created := func(gen uint32) format.LogTime {
		return links[gen-s.FirstGen].Check.Header.Create
	}
	if s.State == format.DBStateCleanShutdown {
		cur := links[len(links)-1].Check
		if h.GenMinRequired != 0 || h.GenMaxRequired != 0 || h.GenMaxCommitted != 0 {
			t.Errorf("clean header requires %d-%d (committed %d)", h.GenMinRequired, h.GenMaxRequired, h.GenMaxCommitted)
		}
		if want := (format.LGPos{Gen: int32(s.CurrentGen), ISec: uint16(cur.LastSegment), IB: 40}); h.LgposConsistent != want && s.CurrentGen == s.Options.CurrentGen {
			t.Errorf("lgposConsistent %s, want %s (the tip of the current log)", h.LgposConsistent, want)
		}
	} else {
		if h.GenMinRequired != s.CheckpointGen || h.GenMaxRequired != s.CurrentGen || h.GenMaxCommitted != s.CurrentGen {
			t.Errorf("dirty header requires %d-%d (committed %d), want %d-%d", h.GenMinRequired, h.GenMaxRequired, h.GenMaxCommitted, s.CheckpointGen, s.CurrentGen)
		}
		if h.LogtimeGenMaxRequired != created(h.GenMaxRequired) || h.LogtimeGenMaxCreate != created(h.GenMaxCommitted) {
			t.Errorf("logtimeGenMaxRequired %s / GenMaxCreate %s, log %d was created %s", h.LogtimeGenMaxRequired, h.LogtimeGenMaxCreate, h.GenMaxRequired, created(h.GenMaxRequired))
		}
	}
	c, err := format.ReadCheckpoint(s.CheckpointPath)
	if err != nil {
		t.Fatalf("ReadCheckpoint: %v", err)
	}
	if !c.PrimaryOK || !c.ShadowOK || c.SignLog != s.SignLog || c.LgposCheckpoint.Gen != int32(s.CheckpointGen) {
		t.Errorf("checkpoint %+v: copies ok %v/%v, gen %d, want %d", c.LgposCheckpoint, c.PrimaryOK, c.ShadowOK, c.LgposCheckpoint.Gen, s.CheckpointGen)
	}
	if dirty := s.State != format.DBStateCleanShutdown; dirty != (len(c.Attach) == 1) {
		t.Errorf("checkpoint attach list %+v for a %s database", c.Attach, s.State)
	}
}

func TestGenerateVerifies(t *testing.T) {
	for _, cb := range []int{2048, 4096, 8192, 16384, 32768} {
		for _, st := range []format.DBState{format.DBStateCleanShutdown, format.DBStateDirtyShutdown} {
			t.Run(fmt.Sprintf("%d-%s", cb, st), func(t *testing.T) {
				s, err := Generate(context.Background(), Options{
					Dir:        t.TempDir(),
					PageSize:   cb,
					Pages:      83, // not a multiple of the extent size
					UsedPages:  51,
					State:      st,
					FirstGen:   0x1E,
					CurrentGen: 0x23,
					Seed:       int64(cb),
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(s.LogPaths) != 6 || filepath.Base(s.LogPaths[0]) != "edb0001E.log" || filepath.Base(s.LogPaths[5]) != "edb.log" {
					t.Fatalf("log paths %q", s.LogPaths)
				}
				checkSet(t, s)
			})
		}
	}
}

func TestGenerateShapes(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		logs []string
	}{
		{"defaults", Options{}, []string{"edb00001.log", "edb00002.log", "edb00003.log", "edb.log"}},
		{"only a current log", Options{FirstGen: 7, CurrentGen: 7, State: format.DBStateDirtyShutdown}, []string{"edb.log"}},
		{"eight digits and another base", Options{BaseName: "SRU", DBName: "SRUDB.dat", EightDigitNames: true, FirstGen: 0xFFFFE, CurrentGen: 0x100001},
			[]string{"SRU000FFFFE.log", "SRU000FFFFF.log", "SRU00100000.log", "SRU.log"}},
		{"five digits roll over to eight", Options{FirstGen: 0xFFFFF, CurrentGen: 0x100001},
			[]string{"edbFFFFF.log", "edb00100000.log", "edb.log"}},
		{"all pages empty but one", Options{Pages: 40, UsedPages: 1, LogSize: 8192}, nil},
		{"one page", Options{Pages: 1}, nil},
		{"big logs", Options{LogSize: 1 << 20, State: format.DBStateDirtyShutdown, CheckpointGen: 1}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Dir = t.TempDir()
			s, err := Generate(context.Background(), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if tc.logs != nil {
				var got []string
				for _, p := range s.LogPaths {
					got = append(got, filepath.Base(p))
				}
				if !slices.Equal(got, tc.logs) {
					t.Fatalf("logs %q, want %q", got, tc.logs)
				}
			}
			checkSet(t, s)
		})
	}
}

func TestGenerateOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		o    Options
	}{
		{"no dir", Options{}},
		{"page size", Options{PageSize: 1024}},
		{"page size not a power of two", Options{PageSize: 12288}},
		{"used above pages", Options{Pages: 10, UsedPages: 11}},
		{"state", Options{State: format.DBStateJustCreated}},
		{"generations reversed", Options{FirstGen: 5, CurrentGen: 4}},
		{"checkpoint below logs", Options{FirstGen: 5, CurrentGen: 8, CheckpointGen: 4}},
		{"checkpoint above logs", Options{FirstGen: 5, CurrentGen: 8, CheckpointGen: 9}},
		{"log size", Options{LogSize: 4096}},
		{"log size unaligned", Options{LogSize: 10000}},
		{"base name", Options{BaseName: "ed"}},
		{"base name dot", Options{BaseName: "e.b"}},
		{"db name path", Options{DBName: "a/b.edb"}},
		{"db name is a log", Options{DBName: "edb00001.log"}},
		{"generation too large", Options{CurrentGen: 1 << 31}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name != "no dir" {
				tc.o.Dir = t.TempDir()
			}
			if _, err := Generate(context.Background(), tc.o); err == nil {
				t.Fatal("Generate accepted invalid options")
			}
			if tc.o.Dir != "" {
				if ents, _ := os.ReadDir(tc.o.Dir); len(ents) != 0 {
					t.Errorf("files written for invalid options: %d", len(ents))
				}
			}
		})
	}
}

func TestGenerateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Generate(ctx, Options{Dir: t.TempDir()})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

// hashDir returns the sha256 of every file in dir by name.
func hashDir(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string][32]byte)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = sha256.Sum256(b)
	}
	return m
}

func TestGenerateDeterministic(t *testing.T) {
	for _, st := range []format.DBState{format.DBStateCleanShutdown, format.DBStateDirtyShutdown} {
		o := Options{Pages: 300, UsedPages: 200, State: st, Seed: 42, PageSize: 8192}
		o.Dir = t.TempDir()
		if _, err := Generate(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		a := hashDir(t, o.Dir)
		o.Dir = t.TempDir()
		if _, err := Generate(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		b := hashDir(t, o.Dir)
		if len(a) != 6 || len(a) != len(b) {
			t.Fatalf("%d and %d files", len(a), len(b))
		}
		for name, h := range a {
			if b[name] != h {
				t.Errorf("%s: %s differs between two runs with the same seed", st, name)
			}
		}
		o.Dir, o.Seed = t.TempDir(), 43
		if _, err := Generate(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		for name, h := range hashDir(t, o.Dir) {
			if a[name] == h {
				t.Errorf("%s: %s is the same with another seed", st, name)
			}
		}
	}
}

// smallDir is the bundled set, written by the go:generate line in doc.go.
const smallDir = "../../testdata/synth-small"

func TestSmallTestdataUpToDate(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	const line = "//go:generate go run ./cmd/esesynth -preset small -dir " + smallDir + "\n"
	if !bytes.Contains(doc, []byte(line)) {
		t.Fatalf("doc.go lacks %q: the test below compares with SmallOptions only", line)
	}
	o := SmallOptions()
	o.Dir = t.TempDir()
	s, err := Generate(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	checkSet(t, s)
	fresh := hashDir(t, o.Dir)
	bundled := hashDir(t, smallDir)
	var total int64
	for name := range bundled {
		fi, err := os.Stat(filepath.Join(smallDir, name))
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
		if _, ok := fresh[name]; !ok {
			t.Errorf("testdata has %s, which generation does not write", name)
		}
	}
	for name, h := range fresh {
		if bundled[name] != h {
			t.Errorf("testdata/synth-small/%s is stale: run go generate ./ese/synth", name)
		}
	}
	if total > 1<<20 {
		t.Errorf("bundled set is %d bytes, more than 1 MiB", total)
	}
}

func TestRoll(t *testing.T) {
	for _, st := range []format.DBState{format.DBStateCleanShutdown, format.DBStateDirtyShutdown} {
		t.Run(st.String(), func(t *testing.T) {
			s, err := Generate(context.Background(), Options{Dir: t.TempDir(), Pages: 64, State: st, FirstGen: 3, CurrentGen: 5, CheckpointGen: 4})
			if err != nil {
				t.Fatal(err)
			}
			before := scanDB(t, s.DBPath).header.Header
			oldCurrent, err := os.ReadFile(s.CurrentLogPath())
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{1, 3, 0} {
				gen, ckpt := s.CurrentGen, s.CheckpointGen
				if err := Roll(s, n); err != nil {
					t.Fatal(err)
				}
				if s.CurrentGen != gen+uint32(n) || s.CheckpointGen != min(ckpt+uint32(n), s.CurrentGen) {
					t.Fatalf("after rolling %d: current %d checkpoint %d", n, s.CurrentGen, s.CheckpointGen)
				}
				if len(s.LogPaths) != int(s.CurrentGen-s.FirstGen+1) {
					t.Fatalf("%d log paths for generations %d..%d", len(s.LogPaths), s.FirstGen, s.CurrentGen)
				}
				checkSet(t, s)
			}
			if archived, err := os.ReadFile(s.LogPaths[2]); err != nil || !bytes.Equal(archived, oldCurrent) {
				t.Errorf("the old current log changed when it was archived (%v)", err)
			}
			after := scanDB(t, s.DBPath).header.Header
			if st == format.DBStateCleanShutdown && *after != *before {
				t.Error("Roll changed a clean database")
			}
			if st == format.DBStateDirtyShutdown && after.DBTime != before.DBTime {
				t.Error("Roll changed the dbtime")
			}
		})
	}
}

func TestRollMismatch(t *testing.T) {
	s, err := Generate(context.Background(), Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	stale := *s
	stale.CurrentGen--
	if err := Roll(&stale, 1); err == nil {
		t.Error("Roll accepted a set whose current generation is out of date")
	}
	if err := Roll(s, -1); err == nil {
		t.Error("Roll accepted a negative count")
	}
	if err := os.Remove(s.CurrentLogPath()); err != nil {
		t.Fatal(err)
	}
	if err := Roll(s, 1); !errors.Is(err, ese.ErrMissingLogFile) {
		t.Errorf("Roll without a current log: %v", err)
	}
}

func TestTouchPages(t *testing.T) {
	for _, cb := range []int{4096, 32768} {
		t.Run(fmt.Sprint(cb), func(t *testing.T) {
			s, err := Generate(context.Background(), Options{Dir: t.TempDir(), PageSize: cb, Pages: 200, UsedPages: 150, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			orig, err := os.ReadFile(s.DBPath)
			if err != nil {
				t.Fatal(err)
			}
			copyPath := filepath.Join(t.TempDir(), "copy.edb")
			if err := os.WriteFile(copyPath, orig, 0o644); err != nil {
				t.Fatal(err)
			}
			n, err := TouchPages(s.DBPath, 0.3, 9)
			if err != nil {
				t.Fatal(err)
			}
			if n < 20 || n > 80 {
				t.Fatalf("touched %d of 150 pages at fraction 0.3", n)
			}
			now, err := os.ReadFile(s.DBPath)
			if err != nil {
				t.Fatal(err)
			}
			diff := 0
			for off := 2 * cb; off < len(now); off += cb {
				if !bytes.Equal(orig[off:off+cb], now[off:off+cb]) {
					diff++
					if isZeroPage(orig[off : off+cb]) {
						t.Fatalf("zero page at offset %d was written", off)
					}
				}
			}
			if diff != n {
				t.Fatalf("TouchPages reported %d pages, %d differ", n, diff)
			}
			sc := scanDB(t, s.DBPath)
			if sc.tally.OK != 150 || sc.tally.Bad != 0 || !sc.header.Identical || sc.header.Header.DBTime != sc.maxDBTime {
				t.Fatalf("after TouchPages: tally %+v, header dbtime %d, max page dbtime %d", sc.tally, sc.header.Header.DBTime, sc.maxDBTime)
			}

			// The same seed touches the same pages the same way.
			n2, err := TouchPages(copyPath, 0.3, 9)
			if err != nil {
				t.Fatal(err)
			}
			again, err := os.ReadFile(copyPath)
			if err != nil {
				t.Fatal(err)
			}
			if n2 != n || !bytes.Equal(again, now) {
				t.Fatalf("TouchPages is not deterministic: %d vs %d pages", n2, n)
			}
			for _, tc := range []struct {
				fraction float64
				want     int
			}{{0, 0}, {-1, 0}, {1, 150}, {2, 150}} {
				got, err := TouchPages(copyPath, tc.fraction, 1)
				if err != nil || got != tc.want {
					t.Errorf("fraction %v: %d pages, %v; want %d", tc.fraction, got, err, tc.want)
				}
			}
			if sc := scanDB(t, copyPath); sc.tally.OK != 150 || sc.header.Header.DBTime != sc.maxDBTime {
				t.Errorf("after full touch: tally %+v", sc.tally)
			}
		})
	}
}

func TestTouchPagesErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := TouchPages(filepath.Join(dir, "missing.edb"), 0.5, 1); err == nil {
		t.Error("missing file accepted")
	}
	junk := filepath.Join(dir, "junk.edb")
	if err := os.WriteFile(junk, bytes.Repeat([]byte{1}, 3*4096), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := TouchPages(junk, 0.5, 1); !errors.Is(err, ese.ErrDatabaseCorrupted) {
		t.Errorf("junk file: %v", err)
	}
}

func TestUsedInExtent(t *testing.T) {
	for _, tc := range []struct{ pages, used uint32 }{{1, 1}, {16, 0}, {83, 51}, {1000, 999}, {4096, 100}, {17, 17}} {
		var sum uint32
		extents := (tc.pages + extentPages - 1) / extentPages
		for e := uint32(0); e < extents; e++ {
			n := usedInExtent(e, tc.pages, tc.used)
			if n > min(extentPages, tc.pages-e*extentPages) {
				t.Fatalf("pages %d used %d: extent %d gets %d", tc.pages, tc.used, e, n)
			}
			sum += n
		}
		if sum != tc.used {
			t.Errorf("pages %d used %d: extents hold %d", tc.pages, tc.used, sum)
		}
	}
}

// BenchmarkGenerate1GiB writes a 1 GiB database (4 KiB pages, all used) with
// its logs and checkpoint.
func BenchmarkGenerate1GiB(b *testing.B) {
	const size = 1 << 30
	o := Options{PageSize: 4096, Pages: size / 4096, State: format.DBStateDirtyShutdown}
	b.SetBytes(size)
	for i := 0; i < b.N; i++ {
		o.Dir = b.TempDir()
		start := time.Now()
		if _, err := Generate(context.Background(), o); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/GiB")
	}
}

// TestStreamOfGeneratedDatabase lays generated databases out as a backup
// stream (the way the engine does) and checks that format accepts it, at
// every page size, including 2 and 8 KiB that no real sample has.
func TestStreamOfGeneratedDatabase(t *testing.T) {
	for _, cb := range []int{2048, 4096, 8192, 16384, 32768} {
		s, err := Generate(context.Background(), Options{Dir: t.TempDir(), PageSize: cb, Pages: 50, UsedPages: 30, State: format.DBStateDirtyShutdown})
		if err != nil {
			t.Fatal(err)
		}
		db, err := os.ReadFile(s.DBPath)
		if err != nil {
			t.Fatal(err)
		}
		h, err := format.ParseDBHeader(db[:cb])
		if err != nil {
			t.Fatal(err)
		}
		bk := format.BKInfo{Mark: format.LGPos{Gen: int32(s.CurrentGen), ISec: 2}, MarkTime: format.LogTimeFrom(DefaultTime), GenLow: s.CheckpointGen}
		stream := make([]byte, format.StreamSize(s.Pages, cb))
		format.StreamHeaderPage(stream[:cb], db[:cb], bk)
		format.StreamHeaderPage(stream[cb:2*cb], db[:cb], bk)
		copy(stream[2*cb:], db[2*cb:])
		tr := format.TrailerFor(h, bk, s.CurrentGen-1)
		tr.Encode(stream[len(stream)-cb:])
		sd, err := format.VerifyStreamedDatabase(context.Background(), bytes.NewReader(stream), int64(len(stream)), s.DBPath)
		if err != nil {
			t.Fatalf("page size %d: %v", cb, err)
		}
		if sd.Pages != s.Pages || sd.Tally.OK != int64(s.UsedPages) || sd.Trailer.BKInfo.GenHigh != s.CurrentGen {
			t.Errorf("page size %d: %d pages, tally %+v, genHigh %d (want %d: raised to lGenMaxCommitted)",
				cb, sd.Pages, sd.Tally, sd.Trailer.BKInfo.GenHigh, s.CurrentGen)
		}
	}
}
