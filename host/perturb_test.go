package host

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/driver"
	"github.com/esesnap/esesnap/ese/engine"
	"github.com/esesnap/esesnap/ese/eseset"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/protocol"
)

// readOnlyDriver is the real ESE driver over a read-only engine, restoring
// through the engine's ExternalRestore, as esesnap-plugin runs it.
func readOnlyDriver(t testing.TB) *driver.Driver {
	t.Helper()
	d := driver.New(driver.Config{
		Name: "esesnap-ese", Version: "test",
		Open: func(ctx context.Context, src protocol.Source) (*driver.Instance, error) {
			in, err := engine.Open(engine.Config{LogDir: src.Location})
			if err != nil {
				return nil, err
			}
			return &driver.Instance{API: in, Close: func() error { return in.Term(ese.TermAbrupt) }}, nil
		},
		Restore: func(ctx context.Context, req ese.RestoreRequest) error {
			return engine.ExternalRestore(req, nil)
		},
		IdleTimeout: time.Minute,
	})
	t.Cleanup(func() { d.Close() })
	return d
}

// perturbation damages a copy of an instance directory the way issue 10
// lists. logs are the instance's archived log names, sorted.
type perturbation struct {
	name  string
	apply func(t *testing.T, dir string, logs []string)
}

func perturbations(t *testing.T, set string) []perturbation {
	foreign := func(set, file string) string { return filepath.Join(samples.Dir(t), set, file) }
	// A log of another instance: srum-win10-dirty's generation 0x51, or for
	// that set itself srum-win10-clean's generation 8.
	foreignLog := foreign("srum-win10-dirty", "SRU00051.log")
	if set == "srum-win10-dirty" {
		foreignLog = foreign("srum-win10-clean", "SRU00008.log")
	}
	return []perturbation{
		{"none", func(*testing.T, string, []string) {}},
		{"current log renamed to its archived name", func(t *testing.T, dir string, _ []string) {
			h := logHeaderOf(t, filepath.Join(dir, "SRU.log"))
			rename(t, dir, "SRU.log", format.LogFileName("SRU", h.Generation, ".log", false))
		}},
		{"current log missing", func(t *testing.T, dir string, _ []string) { remove(t, dir, "SRU.log") }},
		{"archived generation missing in the middle", func(t *testing.T, dir string, logs []string) { remove(t, dir, logs[len(logs)/2]) }},
		{"newest archived generation missing", func(t *testing.T, dir string, logs []string) { remove(t, dir, logs[len(logs)-1]) }},
		{"two archived logs exchanged", func(t *testing.T, dir string, logs []string) {
			a, b := logs[len(logs)-2], logs[len(logs)-1]
			rename(t, dir, a, "x.tmp")
			rename(t, dir, b, a)
			rename(t, dir, "x.tmp", b)
		}},
		{"current and newest archived log exchanged", func(t *testing.T, dir string, logs []string) {
			b := logs[len(logs)-1]
			rename(t, dir, "SRU.log", "x.tmp")
			rename(t, dir, b, "SRU.log")
			rename(t, dir, "x.tmp", b)
		}},
		{"log of another instance under the current generation's name", func(t *testing.T, dir string, _ []string) {
			h := logHeaderOf(t, filepath.Join(dir, "SRU.log"))
			copyOver(t, foreignLog, filepath.Join(dir, format.LogFileName("SRU", h.Generation, ".log", false)))
		}},
		{"log of another instance as the current log", func(t *testing.T, dir string, _ []string) {
			copyOver(t, foreignLog, filepath.Join(dir, "SRU.log"))
		}},
		{"checkpoint of another instance", func(t *testing.T, dir string, _ []string) {
			other := "srum-win10-dirty"
			if sameStream(t, dir, foreign(other, "SRU.chk")) {
				other = "srum-win10-clean"
			}
			copyOver(t, foreign(other, "SRU.chk"), filepath.Join(dir, "SRU.chk"))
		}},
		{"checkpoint of 4 KiB (no shadow copy)", func(t *testing.T, dir string, _ []string) {
			if err := os.Truncate(filepath.Join(dir, "SRU.chk"), 4096); err != nil {
				t.Fatal(err)
			}
		}},
		{"current log truncated", func(t *testing.T, dir string, _ []string) {
			if err := os.Truncate(filepath.Join(dir, "SRU.log"), 32<<10); err != nil {
				t.Fatal(err)
			}
		}},
		{"newest archived log truncated", func(t *testing.T, dir string, logs []string) {
			if err := os.Truncate(filepath.Join(dir, logs[len(logs)-1]), 32<<10); err != nil {
				t.Fatal(err)
			}
		}},
		{"database empty", func(t *testing.T, dir string, _ []string) { cutDatabase(t, dir, func(int64) int64 { return 0 }) }},
		{"database cut at a page boundary", func(t *testing.T, dir string, _ []string) {
			cutDatabase(t, dir, func(size int64) int64 { return size / 2 / 4096 * 4096 })
		}},
		{"database cut mid-page", func(t *testing.T, dir string, _ []string) {
			cutDatabase(t, dir, func(size int64) int64 { return size/2 + 777 })
		}},
		{"database missing", func(t *testing.T, dir string, _ []string) { remove(t, dir, "SRUDB.dat") }},
		{"database primary header copy damaged", func(t *testing.T, dir string, _ []string) { damageByte(t, dir, "SRUDB.dat", 200) }},
		{"database both header copies damaged", func(t *testing.T, dir string, _ []string) {
			damageByte(t, dir, "SRUDB.dat", 200)
			damageByte(t, dir, "SRUDB.dat", 4096+200)
		}},
		{"checkpoint missing", func(t *testing.T, dir string, _ []string) { remove(t, dir, "SRU.chk") }},
	}
}

// cutDatabase truncates SRUDB.dat to the size newSize gives for its size.
func cutDatabase(t *testing.T, dir string, newSize func(int64) int64) {
	t.Helper()
	p := filepath.Join(dir, "SRUDB.dat")
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, newSize(st.Size())); err != nil {
		t.Fatal(err)
	}
}

// damageByte flips the bits of one byte of a file of dir.
func damageByte(t *testing.T, dir, name string, off int64) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := []byte{0}
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xFF
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// dataCodes are the JET_errs that name damaged or mismatched data; a backup
// of a damaged instance must fail with one of them.
var dataCodes = []ese.Code{
	ese.ErrMissingFileToBackup, ese.ErrMissingLogFile, ese.ErrLogGenerationMismatch,
	ese.ErrBadLogSignature, ese.ErrBadCheckpointSignature, ese.ErrCheckpointCorrupt,
	ese.ErrLogReadVerifyFailure, ese.ErrLogFileCorrupt, ese.ErrInvalidLogSequence,
	ese.ErrLogSequenceChecksumMismatch, ese.ErrLogFileSizeMismatch,
	ese.ErrDatabasePatchFileMismatch, ese.ErrDatabaseLogSetMismatch,
	ese.ErrBadDbSignature, // the current log names another database under the file's path
	// A database that is missing, cut short, not whole pages or without a
	// good header copy.
	ese.ErrFileNotFound, ese.ErrFileIOBeyondEOF, ese.ErrDatabaseCorrupted, ese.ErrReadVerifyFailure,
	ese.ErrCheckpointFileNotFound,
}

// TestPerturbedInstances is the property of issue 10 over damaged copies of
// real instances: a backup either fails with a data error (an *ese.Error
// with a data JET_err naming the file, never JET_errInvalidBackupSequence),
// leaving the source byte-identical and no manifest, or it produces a set
// that Verify accepts and that the plugin's Restore stages.
func TestPerturbedInstances(t *testing.T) {
	sets := []string{"srum-win10-clean", "srum-win11-dirty", "srum-win10-dirty"}
	d := readOnlyDriver(t)
	failed, stored, cases := 0, 0, 0
	for _, set := range sets {
		for _, p := range perturbations(t, set) {
			cases++
			t.Run(set+"/"+p.name, func(t *testing.T) {
				src := samples.CopySet(t, set)
				p.apply(t, src, archivedLogs(t, src))
				before := digest(t, src)
				out := filepath.Join(t.TempDir(), "set")
				sink, err := backupset.NewDirSink(out)
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				_, err = Backup(ctx, d, BackupRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: src}}, sink)
				if after := digest(t, src); !reflect.DeepEqual(before, after) {
					t.Fatalf("the backup changed the source")
				}
				if err != nil {
					failed++
					t.Logf("refused: %v", err)
					checkDataFailure(t, err)
					if _, serr := os.Stat(filepath.Join(out, backupset.ManifestName)); !errors.Is(serr, os.ErrNotExist) {
						t.Fatalf("a failed backup left a manifest: %v", serr)
					}
					return
				}
				stored++
				rep, err := backupset.Verify(ctx, out)
				if err != nil {
					t.Fatalf("the backup exited ok but its set does not verify: %v", err)
				}
				stageSet(t, d, out, rep.Manifest)
				t.Logf("stored: generations %#x..%#x verify and stage", eseset.ReportOf(rep).GenLow, eseset.ReportOf(rep).GenHigh)
			})
		}
	}
	// The perturbations must exercise both outcomes (when all of them ran).
	if failed+stored == cases && (failed == 0 || stored == 0) {
		t.Fatalf("%d backups failed and %d stored: the perturbations do not cover both outcomes", failed, stored)
	}
}

// checkDataFailure fails unless err carries a data JET_err naming a file.
func checkDataFailure(t *testing.T, err error) {
	t.Helper()
	var ee *ese.Error
	if !errors.As(err, &ee) {
		t.Fatalf("the backup failed without a JET_err: %v", err)
	}
	if ee.Code == ese.ErrInvalidBackupSequence {
		t.Fatalf("damaged data reported as a call-order error: %v", err)
	}
	if !slices.Contains(dataCodes, ee.Code) {
		t.Fatalf("the backup failed with %v, not a data error: %v", ee.Code, err)
	}
	if ee.File == "" || !strings.Contains(err.Error(), filepath.Base(ee.File)) {
		t.Fatalf("the error names no file: %v", err)
	}
	if !strings.Contains(err.Error(), ee.Code.Name()) {
		t.Fatalf("the message lacks %s: %v", ee.Code.Name(), err)
	}
}

// stageSet stages a verified set through the driver's Restore, as
// esesnap restore --set does, and checks that the database and every log
// of the range arrived.
func stageSet(t *testing.T, d protocol.Snapshotter, set string, m *backupset.Manifest) {
	t.Helper()
	to := t.TempDir()
	logDir := filepath.Join(to, "logs")
	req := protocol.RestoreRequest{BackupSetDir: set, Options: map[string]string{"log-dir": logDir, "system-dir": logDir},
		Metadata: []protocol.Metadata{protocol.LogRange{GenLow: eseset.InfoOf(m).GenLow, GenHigh: eseset.InfoOf(m).GenHigh, BaseName: eseset.InfoOf(m).BaseName}.Metadata()}}
	for _, f := range m.Files {
		if f.Role == protocol.RoleDatabase {
			req.Databases = append(req.Databases, protocol.RestoreMap{DatabaseName: filepath.Join(set, f.Name), NewDatabaseName: filepath.Join(to, f.Name)})
		}
	}
	res, err := d.Restore(context.Background(), req)
	if err != nil {
		t.Fatalf("the set verifies but Restore refuses it: %v", err)
	}
	for _, s := range res.Staged {
		if _, err := os.Stat(s); err != nil {
			t.Fatalf("Restore reports %s staged: %v", s, err)
		}
	}
	if want := len(req.Databases) + int(eseset.InfoOf(m).GenHigh-eseset.InfoOf(m).GenLow+1); len(res.Staged) != want {
		t.Fatalf("staged %d files, want %d: %v", len(res.Staged), want, res.Staged)
	}
}

// faultDoubleSnapshotter wraps the real driver and drops the listed files
// from Files, as a plugin with a faulty log list would: the host's own check
// must then refuse to commit the set.
type faultDoubleSnapshotter struct {
	protocol.Snapshotter
	drop func(protocol.File) bool
}

func (f faultDoubleSnapshotter) Files(ctx context.Context, session string) ([]protocol.File, error) {
	files, err := f.Snapshotter.Files(ctx, session)
	if err != nil {
		return nil, err
	}
	// The driver wants every listed file read before the next batch: the
	// double reads the dropped ones itself and throws them away.
	discard := protocol.ChunkWriterFunc(func(int64, []byte) error { return nil })
	for _, file := range files {
		if f.drop(file) {
			if err := f.Snapshotter.Read(ctx, session, file.Name, 0, discard); err != nil {
				return nil, err
			}
		}
	}
	return slices.DeleteFunc(files, f.drop), nil
}

// TestBackupRefusesSetThatWouldNotVerify: with a plugin that leaves a log
// generation out of the set, the backup fails before the manifest is
// committed, with the error Verify gives for such a set, and the session
// ends aborted (nothing is recorded or truncated).
func TestBackupRefusesSetThatWouldNotVerify(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  string
		drop func(protocol.File) bool
		code ese.Code
	}{
		{"the last log left out", "srum-win10-dirty", func(f protocol.File) bool { return strings.HasSuffix(f.Name, "SRU00052.log") }, ese.ErrMissingLogFile},
		{"the first log left out", "srum-win10-dirty", func(f protocol.File) bool { return strings.HasSuffix(f.Name, "SRU00051.log") }, ese.ErrMissingLogFile},
		{"every log left out", "srum-win10-clean", func(f protocol.File) bool { return f.Role == protocol.RoleLog }, ese.ErrMissingLogFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := samples.CopySet(t, tc.set)
			d := faultDoubleSnapshotter{Snapshotter: readOnlyDriver(t), drop: tc.drop}
			out := filepath.Join(t.TempDir(), "set")
			sink, err := backupset.NewDirSink(out)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Backup(context.Background(), d, BackupRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: src}}, sink)
			if err == nil || res != nil {
				t.Fatalf("a set missing a log was committed (result %v, error %v)", res, err)
			}
			if !errors.Is(err, tc.code) {
				t.Fatalf("want %v, got %v", tc.code, err)
			}
			if !strings.Contains(err.Error(), "would not verify") {
				t.Fatalf("the error does not say why the set was not stored: %v", err)
			}
			if _, serr := os.Stat(filepath.Join(out, backupset.ManifestName)); !errors.Is(serr, os.ErrNotExist) {
				t.Fatalf("a refused set left a manifest: %v", serr)
			}
		})
	}
}

// TestCollectorMatchesVerify: the check made while streaming and Verify on
// the stored set judge a good set alike, for a directory and a tar set.
func TestCollectorMatchesVerify(t *testing.T) {
	src := samples.CopySet(t, "srum-win10-dirty")
	d := readOnlyDriver(t)
	out := filepath.Join(t.TempDir(), "set")
	sink, err := backupset.NewDirSink(out)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Backup(context.Background(), d, BackupRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: src}}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if eseset.InfoOf(res.Manifest) == nil || eseset.InfoOf(res.Manifest).GenLow != 0x51 || eseset.InfoOf(res.Manifest).GenHigh != 0x52 {
		t.Fatalf("ESE section %+v, want generations 0x51..0x52", eseset.InfoOf(res.Manifest))
	}
	rep, err := backupset.Verify(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if eseset.ReportOf(rep).Logs != 2 || len(eseset.ReportOf(rep).Databases) != 1 {
		t.Fatalf("verify saw %d logs and %d databases", eseset.ReportOf(rep).Logs, len(eseset.ReportOf(rep).Databases))
	}
}

func logHeaderOf(t *testing.T, path string) *format.LogHeader {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := format.ParseLogHeader(b[:format.LogHeaderSize])
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// sameStream reports whether checkpoint chk has the log signature of the
// logs in dir.
func sameStream(t *testing.T, dir, chk string) bool {
	t.Helper()
	b, err := os.ReadFile(chk)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := format.ParseCheckpoint(b)
	if err != nil {
		t.Fatal(err)
	}
	return cp.SignLog == logHeaderOf(t, filepath.Join(dir, "SRU.log")).SignLog
}

func archivedLogs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var logs []string
	for _, e := range entries {
		if ln, ok := format.ParseLogName(e.Name()); ok && ln.Kind == format.LogArchived {
			logs = append(logs, e.Name())
		}
	}
	slices.Sort(logs)
	if len(logs) < 2 {
		t.Fatalf("%s has %d archived logs; the perturbations need 2", dir, len(logs))
	}
	return logs
}

func rename(t *testing.T, dir, from, to string) {
	t.Helper()
	if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func copyOver(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// digest maps each file of dir to its SHA-256.
func digest(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = fmt.Sprintf("%x", sha256.Sum256(b))
	}
	return m
}
