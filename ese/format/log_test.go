package format

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese"
)

// logSample returns the path of a sample file.
func logSample(t testing.TB, set, file string) string {
	return filepath.Join(samplesDir(t), set, file)
}

// wantCode fails the test unless err is an *ese.Error with code and its
// message contains every fragment.
func wantCode(t *testing.T, err error, code ese.Code, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", code)
	}
	var e *ese.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *ese.Error", err, err)
	}
	if e.Code != code {
		t.Fatalf("error code %v, want %v: %v", e.Code, code, err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}

// sampleLogs lists every real log of the three SRUM sets with the facts
// INVENTORY.md records for it.
var sampleLogs = []struct {
	set, file        string
	gen              uint32
	version          string
	created, prevGen string
}{
	{"srum-win10-clean", "SRU.log", 0x9, "8.4000.60.140", "2022-02-05 19:30:30.435Z", "2022-02-05 19:30:30.389Z"},
	{"srum-win10-clean", "SRU00003.log", 0x3, "8.4000.60.140", "2022-02-05 22:18:49.148Z", "2022-02-05 22:17:47.958Z"},
	{"srum-win10-clean", "SRU00004.log", 0x4, "8.4000.60.140", "2022-02-05 19:30:29.951Z", "2022-02-05 22:18:49.148Z"},
	{"srum-win10-clean", "SRU00005.log", 0x5, "8.4000.60.140", "2022-02-05 19:30:29.967Z", "2022-02-05 19:30:29.951Z"},
	{"srum-win10-clean", "SRU00006.log", 0x6, "8.4000.60.140", "2022-02-05 19:30:30.139Z", "2022-02-05 19:30:29.967Z"},
	{"srum-win10-clean", "SRU00007.log", 0x7, "8.4000.60.140", "2022-02-05 19:30:30.248Z", "2022-02-05 19:30:30.139Z"},
	{"srum-win10-clean", "SRU00008.log", 0x8, "8.4000.60.140", "2022-02-05 19:30:30.389Z", "2022-02-05 19:30:30.248Z"},
	{"srum-win10-dirty", "SRU.log", 0x52, "8.4000.60.140", "2022-02-20 03:34:33.861Z", "2021-02-14 02:32:43.303Z"},
	{"srum-win10-dirty", "SRU0004E.log", 0x4E, "8.4000.5.16", "2021-02-10 19:50:40.248Z", "2021-02-10 20:14:41.338Z"},
	{"srum-win10-dirty", "SRU0004F.log", 0x4F, "8.4000.5.16", "2021-02-10 19:56:02.998Z", "2021-02-10 19:50:40.248Z"},
	{"srum-win10-dirty", "SRU00050.log", 0x50, "8.4000.5.16", "2021-02-10 19:56:03.045Z", "2021-02-10 19:56:02.998Z"},
	{"srum-win10-dirty", "SRU00051.log", 0x51, "8.4000.5.16", "2021-02-14 02:32:43.303Z", "2021-02-10 19:56:03.045Z"},
	{"srum-win11-dirty", "SRU.log", 0x5C, "8.4000.90.200", "2022-07-03 02:10:42.308Z", "2022-07-03 02:05:58.609Z"},
	{"srum-win11-dirty", "SRU00059.log", 0x59, "8.4000.90.200", "2022-07-03 02:05:58.202Z", "2022-07-03 02:05:57.968Z"},
	{"srum-win11-dirty", "SRU0005A.log", 0x5A, "8.4000.90.200", "2022-07-03 02:05:58.453Z", "2022-07-03 02:05:58.202Z"},
	{"srum-win11-dirty", "SRU0005B.log", 0x5B, "8.4000.90.200", "2022-07-03 02:05:58.609Z", "2022-07-03 02:05:58.453Z"},
	// A recycled pre-formatted log with a valid header of an old generation.
	{"srum-win11-dirty", "SRUtmp.log", 0x50, "8.4000.90.200", "2022-07-03 02:05:56.624Z", "2022-07-03 02:05:56.562Z"},
}

// sampleSegments is the segment tally (valid, empty, shadow) of each log;
// several logs end in a stale shadow left by an older generation.
var sampleSegments = map[string][3]int{
	"srum-win10-clean/SRU.log":      {9, 5, 1},
	"srum-win10-clean/SRU00003.log": {14, 1, 0},
	"srum-win10-clean/SRU00004.log": {14, 1, 0},
	"srum-win10-clean/SRU00005.log": {14, 0, 1},
	"srum-win10-clean/SRU00006.log": {14, 1, 0},
	"srum-win10-clean/SRU00007.log": {14, 1, 0},
	"srum-win10-clean/SRU00008.log": {14, 1, 0},
	"srum-win10-dirty/SRU.log":      {0, 15, 0},
	"srum-win10-dirty/SRU0004E.log": {14, 1, 0},
	"srum-win10-dirty/SRU0004F.log": {14, 1, 0},
	"srum-win10-dirty/SRU00050.log": {14, 1, 0},
	"srum-win10-dirty/SRU00051.log": {11, 4, 0},
	"srum-win11-dirty/SRU.log":      {9, 6, 0},
	"srum-win11-dirty/SRU00059.log": {14, 0, 1},
	"srum-win11-dirty/SRU0005A.log": {14, 0, 1},
	"srum-win11-dirty/SRU0005B.log": {14, 0, 1},
	"srum-win11-dirty/SRUtmp.log":   {14, 1, 0},
}

func TestVerifyLogSamples(t *testing.T) {
	for _, s := range sampleLogs {
		t.Run(s.set+"/"+s.file, func(t *testing.T) {
			c, err := VerifyLogFile(logSample(t, s.set, s.file))
			if err != nil {
				t.Fatal(err)
			}
			h := c.Header
			if h.Generation != s.gen || h.Version() != s.version || h.Create.String() != s.created || h.PrevGen.String() != s.prevGen {
				t.Errorf("got gen %#x, version %s, created %s, prevGen %s; want %#x, %s, %s, %s",
					h.Generation, h.Version(), h.Create, h.PrevGen, s.gen, s.version, s.created, s.prevGen)
			}
			if h.CbSec != 4096 || h.CsecHeader != 1 || h.CsecLGFile != 16 || h.PageSize() != 4096 || h.FileType != LogFileType {
				t.Errorf("geometry cbSec %d csecHeader %d csecLGFile %d page %d type %d", h.CbSec, h.CsecHeader, h.CsecLGFile, h.PageSize(), h.FileType)
			}
			if got, want := [3]int{c.Segments, c.SegmentsEmpty, c.SegmentsShadow}, sampleSegments[s.set+"/"+s.file]; got != want || c.SegmentsStale != 0 {
				t.Errorf("segments (valid, empty, shadow) %v, stale %d; want %v, 0", got, c.SegmentsStale, want)
			}
			if c.Segments > 0 && c.LastSegment != c.Segments {
				t.Errorf("last segment %d, want %d (segments are filled in order)", c.LastSegment, c.Segments)
			}
			// Only the dirty set's SRU.log, written by a later clean
			// termination, holds no data yet.
			empty := s.set == "srum-win10-dirty" && s.file == "SRU.log"
			if !empty && (c.Segments == 0 || c.LastSegment < 1 || c.LastSegment > 15 || c.AllSegmentsXOR == 0) {
				t.Errorf("segments %d, last %d, xor %#x: want a non-empty log", c.Segments, c.LastSegment, c.AllSegmentsXOR)
			}
			if empty && (c.Segments != 0 || c.LastSegment != 0 || c.AllSegmentsXOR != 0) {
				t.Errorf("empty log: segments %d, last %d, xor %#x", c.Segments, c.LastSegment, c.AllSegmentsXOR)
			}
			if !strings.HasSuffix(strings.ToUpper(h.SystemPath), `\SRU\`) || h.LcsecLGFile != 16 {
				t.Errorf("DBMS_PARAM system path %q, lcsecLGFile %d", h.SystemPath, h.LcsecLGFile)
			}
		})
	}
}

func TestLogHeaderFieldsClean(t *testing.T) {
	c, err := VerifyLogFile(logSample(t, "srum-win10-clean", "SRU.log"))
	if err != nil {
		t.Fatal(err)
	}
	h := c.Header
	if len(h.Attach) != 1 {
		t.Fatalf("attach list has %d entries, want 1", len(h.Attach))
	}
	a := h.Attach[0]
	want := AttachInfo{
		DBID: 1, Flags: AttachUnicodeNames, DBTime: 0xA52, ObjidLast: 0x18,
		LgposAttach:     LGPos{IB: 0x268, ISec: 7, Gen: 3},
		LgposConsistent: LGPos{IB: 0x36, ISec: 5, Gen: 3},
		Path:            `C:\Windows\system32\SRU\SRUDB.dat`,
	}
	a.SignDb = Signature{}
	if a != want {
		t.Errorf("attach entry %+v, want %+v", a, want)
	}
	if h.Attach[0].SignDb.Random != 0xA5176F0E {
		t.Errorf("attach signDb %s", h.Attach[0].SignDb)
	}
	if h.Flags != LogFlagCircularLogging|LogFlagCircularLoggingHistory || h.LgposCheckpoint != (LGPos{ISec: 6, Gen: 3}) || h.UpdateMinor != 140 {
		t.Errorf("flags %#x, checkpoint %s, update minor %d; want 0x6, (3,6,0), 140", h.Flags, h.LgposCheckpoint, h.UpdateMinor)
	}
	if h.SignLog != readDBSignLog(t, "srum-win10-clean") {
		t.Errorf("log signature %s differs from the database's", h.SignLog)
	}
}

// readDBSignLog reads signLog from offset 108 of a sample's SRUDB.dat header.
func readDBSignLog(t testing.TB, set string) Signature {
	t.Helper()
	f, err := os.Open(logSample(t, set, "SRUDB.dat"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [SignatureSize]byte
	if _, err := f.ReadAt(b[:], 108); err != nil {
		t.Fatal(err)
	}
	return ParseSignature(b[:])
}

func TestLogHeaderRoundTripSamples(t *testing.T) {
	for _, s := range sampleLogs {
		raw, err := os.ReadFile(logSample(t, s.set, s.file))
		if err != nil {
			t.Fatal(err)
		}
		h, err := ParseLogHeader(raw)
		if err != nil {
			t.Fatalf("%s/%s: %v", s.set, s.file, err)
		}
		out := make([]byte, LogHeaderSize)
		for i := range out {
			out[i] = 0xCC // Encode must overwrite everything
		}
		h.Encode(out)
		if !bytes.Equal(out, raw[:LogHeaderSize]) {
			t.Errorf("%s/%s: Encode(ParseLogHeader) differs from the file header", s.set, s.file)
		}
		h2, err := ParseLogHeader(out)
		if err != nil {
			t.Fatalf("%s/%s: re-parse: %v", s.set, s.file, err)
		}
		if h2.Version() != h.Version() || h2.SignLog != h.SignLog || h2.Generation != h.Generation {
			t.Errorf("%s/%s: re-parsed header differs", s.set, s.file)
		}
	}
}

func TestNotLogs(t *testing.T) {
	tests := []struct {
		set, file string
		code      ese.Code // from ParseLogHeader
	}{
		{"srum-win10-clean", "srures00002.jrs", ese.ErrLogFileCorrupt}, // garbage: checksum fails
		{"srum-win10-clean", "SRUres00001.jrs", ese.ErrLogFileCorrupt}, // all zero
		{"srum-win10-dirty", "SRUres00001.jrs", ese.ErrLogFileCorrupt},
		{"srum-win10-dirty", "SRUres00002.jrs", ese.ErrLogFileCorrupt},
		{"srum-win10-dirty", "SRUtmp.log", ese.ErrLogFileCorrupt},
		{"srum-win11-dirty", "SRUres00001.jrs", ese.ErrLogFileCorrupt},
		{"srum-win10-clean", "SRU.chk", ese.ErrFileInvalidType}, // valid checksum, checkpoint type
	}
	for _, tt := range tests {
		t.Run(tt.set+"/"+tt.file, func(t *testing.T) {
			path := logSample(t, tt.set, tt.file)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseLogHeader(raw)
			wantCode(t, err, tt.code)
			_, err = VerifyLogFile(path)
			wantCode(t, err, ese.ErrLogReadVerifyFailure, "header", filepath.Base(path))
		})
	}
	_, err := ParseLogHeader(make([]byte, 100))
	wantCode(t, err, ese.ErrLogFileCorrupt, "4096")
}

// copySample copies a sample file into dir and returns the new path.
func copySample(t *testing.T, dir, set, file string) string {
	t.Helper()
	raw, err := os.ReadFile(logSample(t, set, file))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, file)
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// verifyBytes runs VerifyLog over an in-memory file.
func verifyLogBytes(b []byte, name string) (*LogCheck, error) {
	return VerifyLog(bytes.NewReader(b), int64(len(b)), name)
}

func TestVerifyLogCorruptSegment(t *testing.T) {
	raw, err := os.ReadFile(logSample(t, "srum-win10-clean", "SRU00005.log"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := verifyLogBytes(raw, "SRU00005.log")
	if err != nil {
		t.Fatal(err)
	}
	seg := c.LastSegment
	off := seg*LogSegmentSize + 1000

	t.Run("byte", func(t *testing.T) {
		b := bytes.Clone(raw)
		b[off] ^= 0xFF
		_, err := verifyLogBytes(b, "SRU00005.log")
		wantCode(t, err, ese.ErrLogReadVerifyFailure, "SRU00005.log", "segment "+strconv.Itoa(seg)+" ", "checksum mismatch")
	})
	t.Run("bit", func(t *testing.T) {
		b := bytes.Clone(raw)
		b[off] ^= 0x10
		_, err := verifyLogBytes(b, "SRU00005.log")
		wantCode(t, err, ese.ErrLogReadVerifyFailure, "segment "+strconv.Itoa(seg)+" ", "single-bit error at byte 1000 bit 4")
	})
	t.Run("on disk", func(t *testing.T) {
		dir := t.TempDir()
		p := copySample(t, dir, "srum-win10-clean", "SRU00005.log")
		b := bytes.Clone(raw)
		b[off] ^= 0xFF
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := VerifyLogFile(p)
		wantCode(t, err, ese.ErrLogReadVerifyFailure, p, "segment "+strconv.Itoa(seg)+" ")
	})
	t.Run("moved segment", func(t *testing.T) {
		// A valid segment written at the wrong place (not the next one).
		b := bytes.Clone(raw)
		if seg < 3 {
			t.Skip("log too short")
		}
		copy(b[(seg-2)*LogSegmentSize:(seg-1)*LogSegmentSize], raw[seg*LogSegmentSize:(seg+1)*LogSegmentSize])
		_, err := verifyLogBytes(b, "SRU00005.log")
		wantCode(t, err, ese.ErrLogReadVerifyFailure, "segment "+strconv.Itoa(seg-2)+" ", "checksum names segment "+strconv.Itoa(seg))
	})
	t.Run("stale generation", func(t *testing.T) {
		// Checksum fine but the segment claims another generation: a
		// leftover of a recycled file, accepted but not counted.
		b := bytes.Clone(raw)
		s := b[seg*LogSegmentSize : (seg+1)*LogSegmentSize]
		le.PutUint32(s[12:], 4)
		SetSegmentChecksum(s, uint32(seg))
		got, err := verifyLogBytes(b, "SRU00005.log")
		if err != nil {
			t.Fatal(err)
		}
		if got.SegmentsStale != c.SegmentsStale+1 || got.Segments != c.Segments-1 || got.LastSegment >= seg ||
			got.AllSegmentsXOR != c.AllSegmentsXOR^le.Uint64(raw[seg*LogSegmentSize:]) {
			t.Errorf("stale segment: got %+v, before %+v", got, c)
		}
	})
}

func TestVerifyLogShadowSegment(t *testing.T) {
	raw, err := os.ReadFile(logSample(t, "srum-win10-dirty", "SRU00051.log"))
	if err != nil {
		t.Fatal(err)
	}
	c0, err := verifyLogBytes(raw, "x")
	if err != nil {
		t.Fatal(err)
	}
	seg := c0.LastSegment
	if !isZero(raw[(seg+1)*LogSegmentSize : (seg+2)*LogSegmentSize]) {
		t.Fatalf("segment %d after the tip is not empty", seg+1)
	}
	// Copy the last segment unchanged into the next, empty slot: a shadow.
	b := bytes.Clone(raw)
	copy(b[(seg+1)*LogSegmentSize:], raw[seg*LogSegmentSize:(seg+1)*LogSegmentSize])
	c, err := verifyLogBytes(b, "x")
	if err != nil {
		t.Fatal(err)
	}
	if c.SegmentsShadow != c0.SegmentsShadow+1 || c.Segments != c0.Segments || c.LastSegment != seg || c.AllSegmentsXOR != c0.AllSegmentsXOR {
		t.Errorf("with shadow: %+v; without: %+v", c, c0)
	}
}

func TestVerifyLogGeometry(t *testing.T) {
	raw, err := os.ReadFile(logSample(t, "srum-win10-clean", "SRU00006.log"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseLogHeader(raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("truncated", func(t *testing.T) {
		_, err := verifyLogBytes(raw[:len(raw)-LogSegmentSize], "short.log")
		wantCode(t, err, ese.ErrLogReadVerifyFailure, "short.log", "61440 bytes", "16 sectors")
	})
	t.Run("too small", func(t *testing.T) {
		_, err := verifyLogBytes(raw[:100], "tiny.log")
		wantCode(t, err, ese.ErrLogReadVerifyFailure, "smaller than")
	})
	t.Run("reader shorter than size", func(t *testing.T) {
		_, err := VerifyLog(bytes.NewReader(raw[:LogHeaderSize*2]), int64(len(raw)), "cut.log")
		wantCode(t, err, ese.ErrLogReadVerifyFailure, "offset 4096")
	})
	mods := []struct {
		name string
		mod  func(h *LogHeader)
		frag string
	}{
		{"sector size", func(h *LogHeader) { h.CbSec = 512; h.CsecHeader = 8 }, "v8 log with sector size 512"},
		{"odd sector", func(h *LogHeader) { h.CbSec = 1000 }, "power of two"},
		{"header sectors", func(h *LogHeader) { h.CsecHeader = 2 }, "header sectors"},
		{"no body", func(h *LogHeader) { h.CsecLGFile = 1 }, "no room"},
		{"version", func(h *LogHeader) { h.Major = 9 }, "unsupported log format 9.4000"},
	}
	for _, m := range mods {
		t.Run(m.name, func(t *testing.T) {
			hh := *h
			m.mod(&hh)
			b := bytes.Clone(raw)
			hh.Encode(b)
			_, err := verifyLogBytes(b, "mod.log")
			wantCode(t, err, ese.ErrLogReadVerifyFailure, m.frag)
		})
	}
}

func TestSegmentHeaderRoundTrip(t *testing.T) {
	seg := make([]byte, LogSegmentSize)
	s := SegmentHeader{Pos: LGPos{ISec: 3, Gen: 0x42}, Start: LogTime{1, 2, 3, 4, 5, 122, 1, 0}, Flags: SegmentFlagNewChecksum}
	s.Put(seg)
	copy(seg[SegmentHeaderSize:], "some log records")
	SetSegmentChecksum(seg, 3)
	got := ParseSegmentHeader(seg)
	if got.Pos != s.Pos || got.Start != s.Start || got.Flags != s.Flags || got.Checksum != XEChecksum(seg, 3, true) {
		t.Errorf("segment header %+v, want %+v with a valid checksum", got, s)
	}
}

// legacyLog builds a v7 log of generation gen: a 4 KiB header of 512-byte
// sectors and a body of LRCHECKSUM records, each covering the bytes up to
// the next one. It returns the file and the offsets of the records.
func legacyLog(gen uint32, sectors uint16, shadowLast bool) ([]byte, []int) {
	h := LogHeader{Generation: gen, CbSec: 512, CsecHeader: 8, CsecLGFile: sectors, Major: 7, Minor: 3704, UpdateMajor: 17, FileType: LogFileType}
	b := make([]byte, int(sectors)*512)
	h.Encode(b)
	for i := LogHeaderSize; i < len(b); i++ {
		b[i] = byte(i * 7)
	}
	var offs []int
	o := LogHeaderSize
	back := 0
	for {
		fwd := 700
		next := 1500
		if o+lrckSize+next+lrckSize > len(b) {
			fwd, next = 0, 0
		}
		offs = append(offs, o)
		r := b[o : o+lrckSize]
		r[0] = lrtypChecksum
		le.PutUint32(r[1:], uint32(back))
		le.PutUint32(r[5:], uint32(fwd))
		le.PutUint32(r[9:], uint32(next))
		le.PutUint32(r[17:], 0)
		r[21] = 0
		signLRCK(b, o, gen)
		if shadowLast && next == 0 {
			le.PutUint32(r[13:], le.Uint32(r[13:])^lrckShadowChecksum)
		}
		if next == 0 {
			return b, offs
		}
		back = next - fwd // the bytes after the forward range, up to the next record
		o += lrckSize + next
	}
}

// signLRCK stores the checksum of the LRCHECKSUM record at offset o.
func signLRCK(b []byte, o int, gen uint32) {
	r := b[o : o+lrckSize]
	back, fwd, next := le.Uint32(r[1:]), le.Uint32(r[5:]), le.Uint32(r[9:])
	sum := xorLanes(lrckSeed, b[o-int(back):o])
	sum = xorLanes(sum, b[o+lrckSize:o+lrckSize+int(fwd)])
	sum ^= back ^ fwd ^ next ^ uint32(r[21]) ^ gen
	le.PutUint32(r[13:], sum)
}

func TestVerifyLogLegacy(t *testing.T) {
	b, offs := legacyLog(0x2A, 32, false)
	c, err := verifyLogBytes(b, "edb0002A.log")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Header.Legacy() || c.Records != len(offs) || c.LastSegment != offs[len(offs)-1]/512 || c.Segments != 0 {
		t.Errorf("v7 check %+v, want %d records, last in sector %d", c, len(offs), offs[len(offs)-1]/512)
	}
	if _, err := verifyLogBytes(func() []byte { b, _ := legacyLog(7, 16, true); return b }(), "shadow"); err != nil {
		t.Errorf("shadow-sector checksum rejected: %v", err)
	}
	tests := []struct {
		name string
		mod  func(b []byte)
		frag string
	}{
		{"forward byte", func(b []byte) { b[offs[1]+lrckSize+10] ^= 1 }, "LRCHECKSUM at offset " + strconv.Itoa(offs[1])},
		{"backward byte", func(b []byte) { b[offs[2]-5] ^= 1 }, "LRCHECKSUM at offset " + strconv.Itoa(offs[2])},
		{"record type", func(b []byte) { b[offs[1]] = 1 }, "record type 1"},
		{"next past end", func(b []byte) {
			le.PutUint32(b[offs[1]+9:], 1<<30)
			signLRCK(b, offs[1], 0x2A)
		}, "runs past the end"},
		{"forward past end", func(b []byte) { le.PutUint32(b[offs[1]+5:], 1<<30) }, "forward range"},
		{"backward into header", func(b []byte) { le.PutUint32(b[offs[0]+1:], 8) }, "reaches into the header"},
		{"chain never ends", func(b []byte) {
			last := offs[len(offs)-1]
			le.PutUint32(b[last+9:], uint32(len(b)-last-lrckSize-10))
			signLRCK(b, last, 0x2A)
		}, "runs past the end"},
		{"generation", func(b []byte) {
			h, _ := ParseLogHeader(b)
			h.Generation++
			h.Encode(b)
		}, "checksum mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bb := bytes.Clone(b)
			tt.mod(bb)
			_, err := verifyLogBytes(bb, "edb0002A.log")
			wantCode(t, err, ese.ErrLogReadVerifyFailure, tt.frag)
		})
	}
}

func TestXorLanes(t *testing.T) {
	// Trailing bytes go to their lanes relative to the range start.
	b := []byte{1, 2, 3, 4, 5, 6, 7}
	want := uint32(0x04030201) ^ uint32(0x00070605)
	if got := xorLanes(0, b); got != want {
		t.Errorf("xorLanes = %#x, want %#x", got, want)
	}
	if got := xorLanes(0xFEEDBEAF, nil); got != 0xFEEDBEAF {
		t.Errorf("empty range changed the seed: %#x", got)
	}
}

func TestLogHeaderHelpers(t *testing.T) {
	h := LogHeader{Major: 8, Minor: 4000, UpdateMajor: 5, UpdateMinor: 12, CsecLGFile: 16, CbSec: 4096}
	if h.HasPrevLogChecksum() || h.Legacy() || h.PageSize() != 4096 || h.FileSize() != 65536 {
		t.Errorf("8.4000.5.12 helpers wrong: %v %v %d %d", h.HasPrevLogChecksum(), h.Legacy(), h.PageSize(), h.FileSize())
	}
	h.UpdateMinor = 13
	h.CbPageSize = 8192
	if !h.HasPrevLogChecksum() || h.PageSize() != 8192 {
		t.Errorf("8.4000.5.13 should carry the previous log's checksum")
	}
	h.Major = 7
	if h.HasPrevLogChecksum() || !h.Legacy() {
		t.Errorf("v7 log misclassified")
	}
}

// BenchmarkVerifyLog measures a whole 64 KiB v8 log; allocations stay
// constant per log (one read buffer and the parsed header), not per segment.
func BenchmarkVerifyLog(b *testing.B) {
	raw, err := os.ReadFile(logSample(b, "srum-win10-clean", "SRU00005.log"))
	if err != nil {
		b.Fatal(err)
	}
	r := bytes.NewReader(raw)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyLog(r, int64(len(raw)), "SRU00005.log"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestVerifyLogAllocations(t *testing.T) {
	raw, err := os.ReadFile(logSample(t, "srum-win10-clean", "SRU00005.log"))
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(raw)
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := VerifyLog(r, int64(len(raw)), "x"); err != nil {
			t.Fatal(err)
		}
	})
	// Buffer, header, attach list and its path: far fewer than the 15 segments.
	if allocs > 12 {
		t.Errorf("%.0f allocations per log", allocs)
	}
}
