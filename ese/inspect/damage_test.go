package inspect

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

// mustInspect runs Inspect and fails the test on an error.
func mustInspect(t *testing.T, path string, opts Options) *Report {
	t.Helper()
	r, err := Inspect(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Inspect(%s): %v", path, err)
	}
	return r
}

// modify rewrites a file through fn.
func modify(t *testing.T, path string, fn func(b []byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fn(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// errorFor returns the first error about the file with base name name.
func errorFor(r *Report, name string) *Problem {
	for i := range r.Errors {
		if filepath.Base(r.Errors[i].File) == name {
			return &r.Errors[i]
		}
	}
	return nil
}

func warningFor(r *Report, name string) *Problem {
	for i := range r.Warnings {
		if filepath.Base(r.Warnings[i].File) == name {
			return &r.Warnings[i]
		}
	}
	return nil
}

func logNamed(t *testing.T, r *Report, name string) *Log {
	t.Helper()
	for i := range r.Logs {
		if filepath.Base(r.Logs[i].File) == name {
			return &r.Logs[i]
		}
	}
	t.Fatalf("no log %s", name)
	return nil
}

// TestChainFaults breaks the log chain of real sets. A fault a backup runs
// into (from the checkpoint's generation on, or a log out of place above
// the current one) is an error; a fault before the checkpoint, which
// neither recovery nor a backup reads, is a warning (the engine agrees:
// engine.TestLogPhaseDataErrors).
func TestChainFaults(t *testing.T) {
	clean := filepath.Join(samplesDir(t), "srum-win10-clean")
	dirty := filepath.Join(samplesDir(t), "srum-win10-dirty") // checkpoint at 0x51
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		file   string   // the log whose link breaks
		code   ese.Code // the JET_err of the broken link
		fatal  bool
		src    string // clean unless set
	}{
		{"gap before the checkpoint", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "SRU00005.log")); err != nil {
				t.Fatal(err)
			}
		}, "SRU00006.log", ese.ErrMissingLogFile, false, ""},
		{"gap after the checkpoint", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "SRU00051.log")); err != nil {
				t.Fatal(err)
			}
		}, "SRU.log", ese.ErrMissingLogFile, true, dirty},
		{"time link after the checkpoint", func(t *testing.T, dir string) {
			modify(t, filepath.Join(dir, "SRU00051.log"), func(b []byte) []byte {
				h, err := format.ParseLogHeader(b)
				if err != nil {
					t.Fatal(err)
				}
				h.Create[0] ^= 1
				h.Encode(b)
				return b
			})
		}, "SRU.log", ese.ErrInvalidLogSequence, true, dirty},
		{"foreign log", func(t *testing.T, dir string) {
			b, err := os.ReadFile(filepath.Join(samplesDir(t), "srum-win10-dirty", "SRU0004E.log"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "SRU0004E.log"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "SRU0004E.log", ese.ErrBadLogSignature, true, ""},
		{"renamed log", func(t *testing.T, dir string) {
			if err := os.Rename(filepath.Join(dir, "SRU00008.log"), filepath.Join(dir, "SRU0000A.log")); err != nil {
				t.Fatal(err)
			}
		}, "SRU0000A.log", ese.ErrLogGenerationMismatch, true, ""},
		{"time link before the checkpoint", func(t *testing.T, dir string) {
			// Give generation 6 another creation time (with a valid header
			// checksum): generation 7's tmPrevGen no longer matches.
			modify(t, filepath.Join(dir, "SRU00006.log"), func(b []byte) []byte {
				h, err := format.ParseLogHeader(b)
				if err != nil {
					t.Fatal(err)
				}
				h.Create[0] ^= 1
				h.Encode(b)
				return b
			})
		}, "SRU00007.log", ese.ErrInvalidLogSequence, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src
			if src == "" {
				src = clean
			}
			dir := copyDir(t, src)
			tc.damage(t, dir)
			r := mustInspect(t, dir, Options{})
			if r.OK != !tc.fatal {
				t.Fatalf("report OK %t, want %t: errors %v", r.OK, !tc.fatal, r.Errors)
			}
			l := logNamed(t, r, tc.file)
			if l.ChainErrorCode != int32(tc.code) || !strings.HasPrefix(l.Chain, tc.code.Name()) {
				t.Errorf("%s: chain %q code %d, want %s", tc.file, l.Chain, l.ChainErrorCode, tc.code)
			}
			if tc.fatal {
				if e := errorFor(r, tc.file); e == nil || e.JetErr != int32(tc.code) || e.IO {
					t.Errorf("error for %s: %+v, want %s", tc.file, e, tc.code)
				}
			} else if w := warningFor(r, tc.file); w == nil || w.JetErr != int32(tc.code) || !strings.Contains(w.Message, "before the checkpoint") {
				t.Errorf("warning for %s: %+v, want %s before the checkpoint", tc.file, w, tc.code)
			}
			if len(r.Streams) != 1 || r.Streams[0].ChainErrorCode != int32(tc.code) {
				t.Errorf("stream %+v", r.Streams)
			}
			for _, l := range r.Logs {
				if filepath.Base(l.File) != tc.file && l.ChainErrorCode != 0 {
					t.Errorf("%s also broken: %s", l.File, l.Chain)
				}
			}
		})
	}
}

func TestCorruptLogSegment(t *testing.T) {
	// Generation 4 is before the checkpoint (9): a warning. The same damage
	// in a generation a backup copies is an error.
	dir := copyDir(t, filepath.Join(samplesDir(t), "srum-win10-clean"))
	modify(t, filepath.Join(dir, "SRU00004.log"), func(b []byte) []byte {
		b[3*4096+100] ^= 0x10
		return b
	})
	r := mustInspect(t, dir, Options{})
	e := warningFor(r, "SRU00004.log")
	if !r.OK || e == nil || e.JetErr != int32(ese.ErrLogReadVerifyFailure) || !strings.Contains(e.Message, "segment 3") {
		t.Fatalf("ok %t, warning %+v, want JET_errLogReadVerifyFailure naming segment 3", r.OK, e)
	}
	dirty := copyDir(t, filepath.Join(samplesDir(t), "srum-win10-dirty"))
	modify(t, filepath.Join(dirty, "SRU00051.log"), func(b []byte) []byte {
		b[3*4096+100] ^= 0x10
		return b
	})
	if rd := mustInspect(t, dirty, Options{}); rd.OK || errorFor(rd, "SRU00051.log") == nil {
		t.Fatalf("damage in the checkpoint's generation: ok %t errors %v", rd.OK, rd.Errors)
	}
	if l := logNamed(t, r, "SRU00004.log"); l.Verified || !strings.HasPrefix(l.Chain, "not checked") {
		t.Errorf("SRU00004.log verified %t chain %q", l.Verified, l.Chain)
	}
	if l := logNamed(t, r, "SRU00005.log"); !strings.HasPrefix(l.Chain, "not checked: previous generation 0x4") {
		t.Errorf("SRU00005.log chain %q", l.Chain)
	}
	if len(r.Errors) != 0 {
		t.Errorf("errors %v, want none (the segment is a warning)", r.Errors)
	}
}

func TestSingleBitPage(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(samplesDir(t), "dissect-basic-4k", "basic.edb")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// Page 1 is the first data page (file page 2); flip a bit in its body.
	const pgno, byteOff, bit = 1, 1000, 3
	if format.VerifyPage(b[(pgno+1)*4096:(pgno+2)*4096], pgno).Status != format.PageOK {
		t.Fatal("page 1 of basic.edb is not a good page")
	}
	b[(pgno+1)*4096+byteOff] ^= 1 << bit
	path := filepath.Join(dir, "basic.edb")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustInspect(t, path, Options{})
	d := r.Databases[0]
	if d.PagesBad != 1 || d.PagesOK != 22 || len(d.BadPages) != 1 {
		t.Fatalf("tally ok %d bad %d, bad pages %v", d.PagesOK, d.PagesBad, d.BadPages)
	}
	bp := d.BadPages[0]
	if bp.Page != pgno || bp.Bit != byteOff*8+bit {
		t.Errorf("bad page %+v, want page %d bit %d", bp, pgno, byteOff*8+bit)
	}
	if len(r.Errors) != 1 || r.Errors[0].Page != pgno || !strings.Contains(r.Errors[0].String(), "basic.edb page 1: JET_errReadVerifyFailure (-1018)") {
		t.Errorf("errors %v", r.Errors)
	}
	var sb strings.Builder
	if err := WriteText(&sb, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sb.String(), "single-bit error at byte 1000 bit 3") {
		t.Errorf("text output does not locate the bit:\n%s", sb.String())
	}
}

func TestBadPrimaryHeader(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "basic.edb")
	b, err := os.ReadFile(filepath.Join(samplesDir(t), "dissect-basic-4k", "basic.edb"))
	if err != nil {
		t.Fatal(err)
	}
	b[1000] ^= 0xFF // inside the primary header page, outside DBFILEHDR
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustInspect(t, path, Options{})
	d := r.Databases[0]
	if !r.OK || d.HeaderPrimaryOK || !d.HeaderShadowOK || !d.HeaderUsedShadow {
		t.Errorf("ok %t primary %t shadow %t used shadow %t", r.OK, d.HeaderPrimaryOK, d.HeaderShadowOK, d.HeaderUsedShadow)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0].Message, "primary header copy") {
		t.Errorf("warnings %v", r.Warnings)
	}
	// Both copies bad: an error.
	b[4096+1000] ^= 0xFF
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r = mustInspect(t, path, Options{})
	if r.OK || len(r.Errors) != 1 || r.Errors[0].JetErr != int32(ese.ErrReadVerifyFailure) {
		t.Errorf("both headers bad: ok %t errors %v", r.OK, r.Errors)
	}
}

func TestRequiredLogs(t *testing.T) {
	src := filepath.Join(samplesDir(t), "srum-win11-dirty")
	t.Run("missing", func(t *testing.T) {
		dir := copyDir(t, src)
		if err := os.Remove(filepath.Join(dir, "SRU.log")); err != nil {
			t.Fatal(err)
		}
		r := mustInspect(t, dir, Options{})
		d := r.Databases[0]
		if !strings.HasPrefix(d.RequiredLogs, "missing: missing or unverified generations 0x5C") {
			t.Errorf("required logs %q", d.RequiredLogs)
		}
		// The checkpoint's generation is gone: a backup refuses the
		// instance (JET_errMissingFileToBackup), so inspect fails it.
		if r.OK || len(r.Warnings) == 0 {
			t.Errorf("ok %t warnings %v: the checkpoint's log is missing", r.OK, r.Warnings)
		}
		if e := errorFor(r, "SRU.chk"); e == nil || e.JetErr != int32(ese.ErrMissingFileToBackup) {
			t.Errorf("error for SRU.chk %+v, want JET_errMissingFileToBackup", e)
		}
	})
	t.Run("other log of that generation", func(t *testing.T) {
		dir := copyDir(t, src)
		modify(t, filepath.Join(dir, "SRU.log"), func(b []byte) []byte {
			h, err := format.ParseLogHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			h.Create[0] ^= 1
			h.Encode(b)
			return b
		})
		r := mustInspect(t, dir, Options{})
		if d := r.Databases[0]; !strings.Contains(d.RequiredLogs, "logtimeGenMaxRequired") {
			t.Errorf("required logs %q", d.RequiredLogs)
		}
	})
}

// streamCopy builds the backup stream of basic.edb as JetReadFile returns
// it: two header snapshots marking the backup, the data pages, a trailer.
func streamCopy(t *testing.T, breakTrailer bool) (string, *format.DBHeader) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir(t), "dissect-basic-4k", "basic.edb"))
	if err != nil {
		t.Fatal(err)
	}
	const ps = 4096
	h, err := format.ParseDBHeader(b[:ps])
	if err != nil {
		t.Fatal(err)
	}
	bk := format.BKInfo{Mark: format.LGPos{Gen: 7, ISec: 1}, GenLow: 7}
	out := make([]byte, len(b)+ps)
	format.StreamHeaderPage(out[:ps], b[:ps], bk)
	copy(out[ps:2*ps], out[:ps])
	copy(out[2*ps:], b[2*ps:])
	tr := format.TrailerFor(h, bk, 8)
	if breakTrailer {
		tr.SignDb.Random++
	}
	tr.Encode(out[len(out)-ps:])
	path := filepath.Join(t.TempDir(), "basic.edb")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, h
}

func TestStreamedCopy(t *testing.T) {
	path, _ := streamCopy(t, false)
	r := mustInspect(t, path, Options{})
	d := r.Databases[0]
	if !r.OK || !d.StreamedCopy || d.Trailer == nil || !d.Trailer.OK {
		t.Fatalf("ok %t streamed %t trailer %+v errors %v", r.OK, d.StreamedCopy, d.Trailer, r.Errors)
	}
	if d.Trailer.GenLow != 7 || d.Trailer.GenHigh != 8 || d.BKInfoFullCur.GenLow != 7 {
		t.Errorf("trailer %+v bkinfo_full_cur %+v", d.Trailer, d.BKInfoFullCur)
	}
	// The trailer is not a data page: same tally as the database itself.
	if d.PagesOK != 23 || d.PagesBad != 0 || d.PagesUninitialized != 231 {
		t.Errorf("tally %d/%d/%d, want 23/0/231", d.PagesOK, d.PagesBad, d.PagesUninitialized)
	}

	path, _ = streamCopy(t, true)
	r = mustInspect(t, path, Options{})
	if r.OK || len(r.Errors) != 1 || r.Errors[0].JetErr != int32(ese.ErrDatabasePatchFileMismatch) {
		t.Errorf("foreign trailer: ok %t errors %v", r.OK, r.Errors)
	}
}

func TestOddFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("notes.txt", []byte("hello"))
	write("empty.bin", nil)
	write("broken.edb.gz", []byte{0x1f, 0x8b, 8, 0, 1, 2, 3})
	write("damaged.edb", make([]byte, 3*4096))
	write("edb00001.log", make([]byte, 65536)) // an archived log of zeros
	r := mustInspect(t, dir, Options{})
	if len(r.Others) != 2 {
		t.Errorf("others %v", r.Others)
	}
	if e := errorFor(r, "broken.edb.gz"); e == nil || !e.IO || e.Op != "gunzip" {
		t.Errorf("broken gzip: %+v", e)
	}
	if e := errorFor(r, "damaged.edb"); e == nil || e.JetErr != int32(ese.ErrDatabaseCorrupted) {
		t.Errorf("damaged.edb: %+v", e)
	}
	if e := errorFor(r, "edb00001.log"); e == nil || e.JetErr != int32(ese.ErrLogFileCorrupt) {
		t.Errorf("zero log: %+v", e)
	}
	if !r.HasIOErrors() || !r.HasVerifyErrors() {
		t.Errorf("io %t verify %t", r.HasIOErrors(), r.HasVerifyErrors())
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Inspect(ctx, samplesDir(t), Options{}); err == nil {
		t.Error("Inspect with a cancelled context succeeded")
	}
}

// TestTempDatabaseFileType: a header that says temp database (file type 5)
// makes pages without a valid checksum a warning, not an error.
func TestTempDatabaseFileType(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(samplesDir(t), "dissect-basic-4k", "basic.edb"))
	if err != nil {
		t.Fatal(err)
	}
	const ps = 4096
	for _, hp := range [][]byte{b[:ps], b[ps : 2*ps]} {
		hp[format.OffFileType] = byte(format.FileTypeTempDatabase)
		format.SetHeaderChecksum(hp)
	}
	b[2*ps+100] ^= 0xFF // page 1 loses its checksum
	path := filepath.Join(t.TempDir(), "tmp.edb")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustInspect(t, path, Options{})
	d := r.Databases[0]
	if !d.Temp || d.FileType != 5 || d.PagesBad != 1 || len(d.BadPages) != 1 {
		t.Fatalf("temp %t file type %d bad %d", d.Temp, d.FileType, d.PagesBad)
	}
	if !r.OK || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0].Message, "temp database: 1 pages") {
		t.Errorf("ok %t errors %v warnings %v", r.OK, r.Errors, r.Warnings)
	}
}
