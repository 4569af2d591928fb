package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/engine"
	"github.com/esesnap/esesnap/ese/eseset"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/ese/synth"
	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/protocol"
)

// These tests back up real ESE streams: the pure-Go engine serves a file set
// at rest through ese.BackupAPI exactly as ESENT would, and the test double
// replays what it streamed. When the ESE driver (ese.NewDriver) exists, the
// same checks apply to a backup through it.

// engineSnapshotter runs one full external backup of the file set in dir
// with ese/engine and returns a test double that serves the streams it
// produced, databases first, then logs, with the engine's full paths as
// names.
func engineSnapshotter(t testing.TB, dir string) (*fakeSnapshotter, ese.LogInfo) {
	t.Helper()
	in, err := engine.Open(engine.Config{LogDir: dir})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	var api ese.BackupAPI = in
	if err := api.BeginExternalBackup(0); err != nil {
		t.Fatal(err)
	}
	stream := func(name string) []byte {
		h, size, err := api.OpenFile(name)
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		buf := ese.AlignedBuffer(256 << 10)
		var out bytes.Buffer
		for {
			n, err := api.ReadFile(h, buf)
			if err != nil {
				t.Fatalf("read %s: %v", name, err)
			}
			if n == 0 {
				break
			}
			out.Write(buf[:n])
		}
		if err := api.CloseFile(h); err != nil {
			t.Fatal(err)
		}
		if int64(out.Len()) != size {
			t.Fatalf("%s: %d bytes, OpenFile said %d", name, out.Len(), size)
		}
		return out.Bytes()
	}
	f := newFake(t)
	f.info.Name, f.info.Version = "engine-replay", "0"
	dbs, err := api.GetAttachInfo()
	if err != nil {
		t.Fatal(err)
	}
	var dbBatch, logBatch []fakeFile
	for _, db := range dbs {
		data := stream(db)
		dbBatch = append(dbBatch, fakeFile{protocol.File{Name: db, Role: protocol.RoleDatabase, Size: int64(len(data)), PageSize: in.PageSize()}, data})
	}
	logs, li, err := api.GetLogInfo()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range logs {
		data := stream(l)
		// Leave Size and Generation 0 for some logs: the host must
		// fill them in from the stream.
		logBatch = append(logBatch, fakeFile{protocol.File{Name: l, Role: protocol.RoleLog}, data})
	}
	if err := api.EndExternalBackup(ese.BackupEndNormal); err != nil {
		t.Fatal(err)
	}
	f.batches = [][]fakeFile{dbBatch, logBatch}
	return f, li
}

// copyDir copies the regular files of src into a new temporary directory.
func copyDir(t testing.TB, src string) string { return samples.CopyDir(t, src) }

// moduleRoot is the repository root, for testdata.
func moduleRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}

// realSets are the ESE file sets the real-data tests back up.
func realSets(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"synth-small": func(t *testing.T) string {
			return copyDir(t, filepath.Join(moduleRoot(t), "testdata", "synth-small"))
		},
		"srum-win10-clean": func(t *testing.T) string { return samples.CopySet(t, "srum-win10-clean") },
		"srum-win11-dirty": func(t *testing.T) string { return samples.CopySet(t, "srum-win11-dirty") },
		"synth-32k": func(t *testing.T) string {
			dir := t.TempDir()
			if _, err := synth.Generate(context.Background(), synth.Options{
				Dir: dir, PageSize: 32768, Pages: 40, UsedPages: 30, State: format.DBStateDirtyShutdown,
				FirstGen: 3, CurrentGen: 6, Seed: 7,
			}); err != nil {
				t.Fatal(err)
			}
			return dir
		},
	}
}

func TestRealSetBackupAndVerify(t *testing.T) {
	for name, mk := range realSets(t) {
		t.Run(name, func(t *testing.T) {
			f, li := engineSnapshotter(t, mk(t))
			setDir := filepath.Join(t.TempDir(), "set")
			sink, err := backupset.NewDirSink(setDir)
			if err != nil {
				t.Fatal(err)
			}
			res := backupTo(t, f, sink)
			e := eseset.InfoOf(res.Manifest)
			if e == nil {
				t.Fatalf("no ESE metadata: %q", res.Warnings)
			}
			if e.GenLow != li.GenLow || e.GenHigh != li.GenHigh || !strings.EqualFold(e.BaseName, li.BaseName) ||
				e.SignLog == nil || len(e.Databases) != len(f.batches[0]) || e.PageSize != f.batches[0][0].PageSize {
				t.Fatalf("ESE metadata %+v, engine log info %+v", e, li)
			}
			for _, d := range e.Databases {
				if d.SignLog != *e.SignLog || d.BackupGenLow != li.GenLow || len(d.SignDb.Hex) != 56 {
					t.Fatalf("database metadata %+v", d)
				}
			}
			for _, mf := range res.Manifest.Files {
				if mf.Role == protocol.RoleLog && (mf.Generation < li.GenLow || mf.Generation > li.GenHigh || mf.PageSize == 0) {
					t.Fatalf("log %s: generation %d, page size %d not filled in from its header", mf.Name, mf.Generation, mf.PageSize)
				}
			}
			rep, err := backupset.Verify(context.Background(), setDir)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if len(eseset.ReportOf(rep).Databases) != len(e.Databases) || eseset.ReportOf(rep).GenLow != li.GenLow || eseset.ReportOf(rep).GenHigh != li.GenHigh ||
				eseset.ReportOf(rep).Logs != int(li.GenHigh-li.GenLow+1) {
				t.Fatalf("report %+v", rep)
			}
			if d := eseset.ReportOf(rep).Databases[0]; d.Pages == 0 || d.OKPages == 0 || d.GenHigh < d.GenLow || d.GenHigh > li.GenHigh {
				t.Fatalf("database report %+v", d)
			}

			// The same backup as a tar verifies too.
			f2, _ := engineSnapshotter(t, mk(t))
			tarPath := filepath.Join(t.TempDir(), "set.tar")
			out, _ := os.Create(tarPath)
			backupTo(t, f2, backupset.NewTarSink(out))
			out.Close()
			trep, err := backupset.Verify(context.Background(), tarPath)
			if err != nil {
				t.Fatalf("verify tar: %v", err)
			}
			if len(eseset.ReportOf(trep).Databases) != len(eseset.ReportOf(rep).Databases) || eseset.ReportOf(trep).Logs != eseset.ReportOf(rep).Logs {
				t.Fatalf("tar report %+v, directory report %+v", trep, rep)
			}

			// A set of logs only (what an incremental backup holds) is
			// checked against the manifest's log signature.
			// Only incremental and differential backups stream logs alone:
			// a copy set without its databases would not verify, so the
			// backup itself refuses to store it.
			f3, _ := engineSnapshotter(t, mk(t))
			f3.batches = f3.batches[1:]
			copyDir := filepath.Join(t.TempDir(), "logs-copy")
			csink, _ := backupset.NewDirSink(copyDir)
			if _, err := Backup(context.Background(), f3, BackupRequest{Kind: protocol.KindCopy}, csink); !errors.Is(err, backupset.ErrManifestMismatch) || !strings.Contains(err.Error(), "a copy backup streams the databases, the set holds none") {
				t.Fatalf("backup of a logs-only copy set: %v", err)
			}
			if _, err := os.Stat(filepath.Join(copyDir, backupset.ManifestName)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the refused set has a manifest: %v", err)
			}
			f4, _ := engineSnapshotter(t, mk(t))
			f4.batches = f4.batches[1:]
			f4.info.Kinds = append(f4.info.Kinds, protocol.KindIncremental)
			logsDir := filepath.Join(t.TempDir(), "logs")
			lsink, _ := backupset.NewDirSink(logsDir)
			lres, err := Backup(context.Background(), f4, BackupRequest{Kind: protocol.KindIncremental}, lsink, WithClock(fixedClock))
			if err != nil {
				t.Fatalf("logs-only incremental backup: %v", err)
			}
			if eseset.InfoOf(lres.Manifest) == nil || eseset.InfoOf(lres.Manifest).SignLog == nil || *eseset.InfoOf(lres.Manifest).SignLog != *e.SignLog {
				t.Fatalf("logs-only ESE metadata %+v", eseset.InfoOf(lres.Manifest))
			}
			if lrep, err := backupset.Verify(context.Background(), logsDir); err != nil || eseset.ReportOf(lrep).Logs != eseset.ReportOf(rep).Logs {
				t.Fatalf("verify logs only: %+v, %v", lrep, err)
			}
			editManifest(t, logsDir, func(m map[string]any) {
				s := m["ese"].(map[string]any)["sign_log"].(map[string]any)
				h := []byte(s["hex"].(string))
				h[1] ^= 1
				s["hex"] = string(h)
			})
			_, err = backupset.Verify(context.Background(), logsDir)
			wantESE(t, err, ese.ErrBadLogSignature, "", 0)
		})
	}
}

// wantESE fails unless err holds an *ese.Error with code about file (and
// page, when not 0).
func wantESE(t testing.TB, err error, code ese.Code, file string, page int64) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %v, got success", code)
	}
	var found bool
	var walk func(error)
	walk = func(e error) {
		if e == nil || found {
			return
		}
		if ee, ok := e.(*ese.Error); ok && ee.Code == code && strings.HasSuffix(ee.File, file) && (page == 0 || ee.Page == page) {
			found = true
			return
		}
		switch x := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range x.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	if !found {
		t.Fatalf("want *ese.Error %v on %s page %d, got %v", code, file, page, err)
	}
}

func TestRealSetDamage(t *testing.T) {
	// One backup of a dirty set that needs five logs, copied for each kind
	// of damage.
	gen := func(t testing.TB) string {
		dir := t.TempDir()
		if _, err := synth.Generate(context.Background(), synth.Options{
			Dir: dir, PageSize: 8192, Pages: 64, UsedPages: 48, State: format.DBStateDirtyShutdown,
			FirstGen: 1, CurrentGen: 6, CheckpointGen: 2, Seed: 3,
		}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	f, li := engineSnapshotter(t, gen(t))
	if li.GenHigh-li.GenLow < 2 {
		t.Fatalf("sample has too few logs: %+v", li)
	}
	master := filepath.Join(t.TempDir(), "set")
	sink, _ := backupset.NewDirSink(master)
	res := backupTo(t, f, sink)
	var db backupset.ManifestFile
	var logs []backupset.ManifestFile
	for _, mf := range res.Manifest.Files {
		switch mf.Role {
		case protocol.RoleDatabase:
			db = mf
		case protocol.RoleLog:
			logs = append(logs, mf)
		}
	}
	ps := int64(db.PageSize)
	const badPage = 5
	middle := logs[len(logs)/2]

	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		check  func(t *testing.T, err error)
	}{
		{"bad database page", func(t *testing.T, dir string) {
			// Data page pgno sits at stream offset (pgno+1)*pageSize.
			flipFileByte(t, filepath.Join(dir, db.Name), (badPage+1)*ps+200)
		}, func(t *testing.T, err error) {
			if !errors.Is(err, backupset.ErrChecksumMismatch) {
				t.Fatalf("no checksum mismatch in %v", err)
			}
			if !errors.Is(err, ese.ErrReadVerifyFailure) && !errors.Is(err, ese.ErrReadPgnoVerifyFailure) {
				t.Fatalf("no page verify failure in %v", err)
			}
			var ee *ese.Error
			errors.As(err, &ee)
			if ee.Page != badPage || ee.File != db.Name {
				t.Fatalf("page error names %s page %d, want %s page %d", ee.File, ee.Page, db.Name, badPage)
			}
		}},
		{"bad trailer", func(t *testing.T, dir string) {
			flipFileByte(t, filepath.Join(dir, db.Name), db.Size-ps+50)
		}, func(t *testing.T, err error) { wantESE(t, err, ese.ErrBadPatchPage, db.Name, 0) }},
		{"bad log", func(t *testing.T, dir string) {
			flipFileByte(t, filepath.Join(dir, middle.Name), 3*4096+100)
		}, func(t *testing.T, err error) { wantESE(t, err, ese.ErrLogReadVerifyFailure, middle.Name, 0) }},
		{"log missing from set and manifest", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, middle.Name))
			editManifest(t, dir, func(m map[string]any) {
				var keep []any
				for _, f := range m["files"].([]any) {
					if f.(map[string]any)["name"] != middle.Name {
						keep = append(keep, f)
					}
				}
				m["files"] = keep
			})
		}, func(t *testing.T, err error) {
			wantESE(t, err, ese.ErrMissingLogFile, backupset.ManifestName, 0)
			wantESE(t, err, ese.ErrMissingLogFile, db.Name, 0)
			if !strings.Contains(err.Error(), middle.Name) {
				t.Fatalf("error does not name the missing log %s: %v", middle.Name, err)
			}
		}},
		{"database log signature does not match the manifest", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) {
				s := m["ese"].(map[string]any)["sign_log"].(map[string]any)
				h := []byte(s["hex"].(string))
				h[0] ^= 1
				s["hex"] = string(h)
			})
		}, func(t *testing.T, err error) { wantESE(t, err, ese.ErrDatabaseLogSetMismatch, db.Name, 0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyDir(t, master)
			tt.damage(t, dir)
			_, err := backupset.Verify(context.Background(), dir)
			tt.check(t, err)
		})
	}

	// A damaged page is found in the tar form as well.
	t.Run("tar bad database page", func(t *testing.T) {
		var buf bytes.Buffer
		f2, _ := engineSnapshotter(t, gen(t))
		backupTo(t, f2, backupset.NewTarSink(&buf))
		es := readTar(t, buf.Bytes())
		es[0].data[(badPage+1)*ps+200] ^= 0x40
		_, err := backupset.VerifyTar(context.Background(), bytes.NewReader(writeTar(t, es)))
		if !errors.Is(err, backupset.ErrChecksumMismatch) {
			t.Fatalf("no checksum mismatch in %v", err)
		}
		var ee *ese.Error
		if !errors.As(err, &ee) || ee.Page != badPage || ee.File != db.Name {
			t.Fatalf("want a page error on %s page %d, got %v", db.Name, badPage, err)
		}
	})
}

// TestExtractAndVerify: ExtractAndVerify hashes each byte once, as it
// writes it, and still runs every check Verify runs on the files written: a
// damaged page whose manifest hash was made to match is found by the page
// check, a byte changed under the manifest's hash by the extraction, and a
// good set gets the report Verify gives of the extracted directory.
func TestExtractAndVerify(t *testing.T) {
	src := t.TempDir()
	if _, err := synth.Generate(context.Background(), synth.Options{
		Dir: src, PageSize: 8192, Pages: 64, UsedPages: 48, State: format.DBStateDirtyShutdown,
		FirstGen: 1, CurrentGen: 6, CheckpointGen: 2, Seed: 3,
	}); err != nil {
		t.Fatal(err)
	}
	f, _ := engineSnapshotter(t, src)
	var buf bytes.Buffer
	res := backupTo(t, f, backupset.NewTarSink(&buf))
	good := buf.Bytes()
	db := res.Manifest.Files[0]
	if db.Role != protocol.RoleDatabase {
		t.Fatalf("the first file is a %v, want the database", db.Role)
	}

	dir := t.TempDir()
	rep, err := backupset.ExtractAndVerify(context.Background(), bytes.NewReader(good), dir)
	if err != nil {
		t.Fatalf("good set: %v", err)
	}
	want, err := backupset.Verify(context.Background(), dir)
	if err != nil {
		t.Fatalf("verify the extracted set: %v", err)
	}
	er, ew := eseset.ReportOf(rep), eseset.ReportOf(want)
	if er == nil || ew == nil || fmt.Sprint(rep.Files, *er) != fmt.Sprint(want.Files, *ew) || len(er.Databases) != 1 || er.Logs == 0 {
		t.Fatalf("ExtractAndVerify reports\n%+v\nVerify of the same directory\n%+v", rep, want)
	}

	// A page damaged in the set and in its manifest's hash: only the page
	// check can find it.
	const badPage = 5
	es := readTar(t, good)
	es[0].data[(badPage+1)*int64(db.PageSize)+200] ^= 0x40
	sum := sha256.Sum256(es[0].data)
	last := &es[len(es)-1]
	last.data = bytes.Replace(last.data, []byte(db.SHA256), []byte(hex.EncodeToString(sum[:])), 1)
	last.hdr.Size = int64(len(last.data))
	_, err = backupset.ExtractAndVerify(context.Background(), bytes.NewReader(writeTar(t, es)), t.TempDir())
	var ee *ese.Error
	if errors.Is(err, backupset.ErrChecksumMismatch) || !errors.As(err, &ee) || ee.Page != badPage || ee.File != db.Name {
		t.Fatalf("want only a page error on %s page %d, got %v", db.Name, badPage, err)
	}

	// A byte changed under the manifest's hash: the extraction refuses it
	// and leaves nothing behind.
	es = readTar(t, good)
	es[0].data[(badPage+1)*int64(db.PageSize)+200] ^= 0x40
	dir = t.TempDir()
	if rep, err := backupset.ExtractAndVerify(context.Background(), bytes.NewReader(writeTar(t, es)), dir); rep != nil || !errors.Is(err, backupset.ErrChecksumMismatch) {
		t.Fatalf("changed byte: report %v, error %v, want no report and %v", rep, err, backupset.ErrChecksumMismatch)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("a refused extraction left %d file(s)", len(left))
	}
}
