package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/esesnap/esesnap/internal/samples"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/ese/synth"
)

// TestSyntheticLifecycle runs full → roll → incremental → differential on
// generated sets at every page size, clean and dirty, and checks the streams
// and the log ranges against what the generator wrote.
func TestSyntheticLifecycle(t *testing.T) {
	for _, ps := range []int{2048, 4096, 8192, 16384, 32768} {
		for _, state := range []format.DBState{format.DBStateCleanShutdown, format.DBStateDirtyShutdown} {
			t.Run(state.String()+"/"+strconv.Itoa(ps), func(t *testing.T) {
				dir := t.TempDir()
				set, err := synth.Generate(context.Background(), synth.Options{
					Dir: dir, PageSize: ps, Pages: 300, UsedPages: 200, State: state,
					FirstGen: 5, CurrentGen: 9, Seed: int64(ps),
				})
				if err != nil {
					t.Fatal(err)
				}
				in := openInstance(t, Config{LogDir: dir, Writable: true, Now: fixedNow})
				if in.PageSize() != ps {
					t.Fatalf("page size %d, want %d", in.PageSize(), ps)
				}
				res := runBackup(t, in, 0, true, ese.BackupEndNormal)
				if res.logInfo.GenLow != set.CheckpointGen || res.logInfo.GenHigh != set.CurrentGen {
					t.Fatalf("full backup logs %+v, want %d..%d", res.logInfo, set.CheckpointGen, set.CurrentGen)
				}
				checkStream(t, set.DBPath, res.dbs[set.DBPath], set.CheckpointGen)
				for g := set.FirstGen; g < set.CheckpointGen; g++ {
					if _, err := os.Stat(filepath.Join(dir, format.LogFileName("edb", g, ".log", false))); !os.IsNotExist(err) {
						t.Fatalf("generation %d below the checkpoint survived truncation", g)
					}
				}
				// The application writes on: three more generations.
				if err := synth.Roll(set, 3); err != nil {
					t.Fatal(err)
				}
				res = runBackup(t, in, ese.BackupIncremental, false, ese.BackupEndNormal)
				if res.logInfo.GenLow != set.CheckpointGen-3 && res.logInfo.GenLow > set.CurrentGen-3 {
					t.Fatalf("incremental starts at %d", res.logInfo.GenLow)
				}
				if res.logInfo.GenHigh != set.CurrentGen {
					t.Fatalf("incremental ends at %d, want the current generation %d", res.logInfo.GenHigh, set.CurrentGen)
				}
				if len(res.dbs) != 0 {
					t.Fatal("an incremental backup streamed a database")
				}
				for name, data := range res.logs {
					src, ok := sourceLog(t, dir, filepath.Base(name))
					if !ok || !bytes.Equal(src, data) {
						t.Fatalf("incremental log %s differs from its source", name)
					}
				}
				h := readHeader(t, set.DBPath)
				if h.BKInfoDiffPrev.GenHigh != set.CurrentGen {
					t.Fatalf("differential not recorded: %+v", h.BKInfoDiffPrev)
				}
			})
		}
	}
}

// TestDatabaseOnlySamples streams the real 16 KiB and 32 KiB databases,
// which come without logs: the test gives each a checkpoint and a log
// stream carrying the database's own log signature, as its instance had.
func TestDatabaseOnlySamples(t *testing.T) {
	cases := []struct{ path, name string }{
		{"bits-qmgr-win11-16k/qmgr.db", "qmgr.db"},
		{"dissect-large-32k/large.edb.gz", "large.edb"},
		{"dissect-basic-4k/basic.edb", "basic.edb"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := readSample(t, tc.path)
			dir := t.TempDir()
			hr, err := format.ReadDBHeader(bytes.NewReader(data), int64(len(data)), tc.name)
			if err != nil {
				t.Fatal(err)
			}
			set, err := synth.Generate(context.Background(), synth.Options{Dir: dir, PageSize: hr.PageSize, Pages: 16, FirstGen: 1, CurrentGen: 3})
			if err != nil {
				t.Fatal(err)
			}
			os.Remove(set.DBPath)
			adoptLogSignature(t, set, hr.Header.SignLog)
			// The stream's attach lists name the database it now serves.
			rewriteAttach(t, set.LogPaths, set.CheckpointPath, func(a *format.AttachInfo) {
				a.Path = `C:\ProgramData\esesnap\synth\` + tc.name
				a.SignDb = hr.Header.SignDb
			})
			db := filepath.Join(dir, tc.name)
			writeFile(t, db, data)

			in := openInstance(t, Config{LogDir: dir, Databases: []string{db}})
			res := runBackup(t, in, 0, false, ese.BackupEndNormal)
			checkStream(t, db, res.dbs[db], set.CheckpointGen)
		})
	}
}

func readSample(t *testing.T, rel string) []byte { return samples.Read(t, rel) }

// adoptLogSignature rewrites the log signature of a generated log stream
// and checkpoint (log header offset 44, checkpoint offset 20 in both copies).
func adoptLogSignature(t *testing.T, set *synth.Set, sign format.Signature) {
	t.Helper()
	for _, p := range set.LogPaths {
		rewriteLogHeader(t, p, func(b []byte) { sign.Put(b[44:]) })
	}
	b, err := os.ReadFile(set.CheckpointPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int{0, 4096} {
		sign.Put(b[off+20:])
		format.SetHeaderChecksum(b[off : off+4096])
	}
	writeFile(t, set.CheckpointPath, b)
	_ = binary.LittleEndian
}
