package engine

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

var fixedNow = func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }

// TestFullBackupRealSamples streams every complete real set and compares
// the stream with the source: header snapshots, every data page, trailer,
// and the logs the copy range names.
func TestFullBackupRealSamples(t *testing.T) {
	cases := []struct {
		set      string
		db       string
		genLow   uint32
		genHigh  uint32
		logNames []string
	}{
		{"srum-win10-clean", "SRUDB.dat", 9, 9, []string{"SRU00009.log"}},
		{"srum-win10-dirty", "SRUDB.dat", 0x51, 0x52, []string{"SRU00051.log", "SRU00052.log"}},
		{"srum-win11-dirty", "SRUDB.dat", 0x5C, 0x5C, []string{"SRU0005C.log"}},
	}
	for _, tc := range cases {
		t.Run(tc.set, func(t *testing.T) {
			dir := sampleCopy(t, tc.set) // the backup must change nothing: digests below
			before := dirDigest(t, dir)
			in := openInstance(t, Config{LogDir: dir, Now: fixedNow})
			if in.BaseName() != "SRU" {
				t.Fatalf("base name %q, want SRU", in.BaseName())
			}
			res := runBackup(t, in, 0, false, ese.BackupEndNormal)
			if res.logInfo != (ese.LogInfo{GenLow: tc.genLow, GenHigh: tc.genHigh, BaseName: "SRU"}) {
				t.Fatalf("log info %+v, want %d..%d", res.logInfo, tc.genLow, tc.genHigh)
			}
			var gotLogs []string
			for name := range res.logs {
				gotLogs = append(gotLogs, filepath.Base(name))
			}
			if len(gotLogs) != len(tc.logNames) {
				t.Fatalf("logs %v, want %v", gotLogs, tc.logNames)
			}
			for _, want := range tc.logNames {
				data, ok := res.logs[filepath.Join(dir, want)]
				if !ok {
					t.Fatalf("log %s not streamed (got %v)", want, gotLogs)
				}
				src, ok := sourceLog(t, dir, want)
				if !ok || !bytes.Equal(data, src) {
					t.Fatalf("streamed %s differs from its source", want)
				}
			}
			dbPath := filepath.Join(dir, tc.db)
			stream := res.dbs[dbPath]
			checkStream(t, dbPath, stream, tc.genLow)
			if got := dirDigest(t, dir); !reflect.DeepEqual(got, before) {
				t.Fatalf("a read-only backup changed the source")
			}
		})
	}
}

// sourceLog returns the bytes of a listed log: its archived file, or the
// current log for the generation the virtual roll names.
func sourceLog(t *testing.T, dir, name string) ([]byte, bool) {
	if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
		return b, true
	}
	b, err := os.ReadFile(filepath.Join(dir, name[:3]+".log"))
	return b, err == nil
}

// checkStream compares a streamed database with its source file.
func checkStream(t *testing.T, dbPath string, stream []byte, genLow uint32) {
	t.Helper()
	src, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	hr, err := format.ReadDBHeader(bytes.NewReader(src), int64(len(src)), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	ps := hr.PageSize
	if len(stream) != len(src)+ps {
		t.Fatalf("stream is %d bytes, want file size + one trailer page = %d", len(stream), len(src)+ps)
	}
	if !bytes.Equal(stream[:ps], stream[ps:2*ps]) {
		t.Fatal("the two header snapshots differ")
	}
	h, err := format.ParseDBHeader(stream[:ps])
	if err != nil {
		t.Fatal(err)
	}
	if h.BKInfoFullCur.GenLow != genLow || h.BKInfoFullCur.GenHigh != 0 {
		t.Fatalf("bkinfoFullCur %+v, want genLow %d genHigh 0", h.BKInfoFullCur, genLow)
	}
	if format.HeaderChecksum(stream[:ps]) != le32(stream[:4]) {
		t.Fatal("header snapshot checksum not recomputed")
	}
	if !bytes.Equal(stream[2*ps:len(src)], src[2*ps:]) {
		t.Fatal("data pages differ from the source")
	}
	if !format.IsTrailerPage(stream[len(src):]) {
		t.Fatal("last page is not a trailer")
	}
	sdb, err := format.VerifyStreamedDatabase(context.Background(), bytes.NewReader(stream), int64(len(stream)), "stream")
	if err != nil {
		t.Fatalf("streamed copy does not verify: %v", err)
	}
	if sdb.Trailer.BKInfo.GenLow != genLow {
		t.Fatalf("trailer genLow %d, want %d", sdb.Trailer.BKInfo.GenLow, genLow)
	}
}

// TestBufferSizes streams the same database with every legal buffer size
// and gets the same bytes, trailer placement included.
func TestBufferSizes(t *testing.T) {
	dir := sampleCopy(t, "srum-win10-clean")
	var want []byte
	for _, pages := range []int{3, 4, 7, 16, 191, 192, 193, 512} {
		in := openInstance(t, Config{LogDir: dir, Now: fixedNow})
		wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
		got := backupFile(t, in, filepath.Join(dir, "SRUDB.dat"), pages*4096)
		wantCode(t, in.EndExternalBackup(ese.BackupEndAbort), ese.ErrSuccess)
		if want == nil {
			want = got
		} else if !bytes.Equal(got, want) {
			t.Fatalf("buffer of %d pages streams different bytes", pages)
		}
	}
}
