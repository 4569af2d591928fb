package engine

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

func readHeader(t *testing.T, path string) *format.DBHeader {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hr, err := format.ReadDBHeader(bytes.NewReader(b), int64(len(b)), path)
	if err != nil {
		t.Fatal(err)
	}
	if !hr.PrimaryOK || !hr.ShadowOK || !hr.Identical {
		t.Fatalf("%s: header copies not both valid and identical after the update: %+v", path, hr)
	}
	return hr.Header
}

// TestBackupTypesRecorded walks full → incremental → differential → copy on
// a writable copy of a real clean set and checks the header bookkeeping of
// §6 and the log truncation of each step.
func TestBackupTypesRecorded(t *testing.T) {
	// SRUM runs with circular logging (log flag 0x02), so ESE refuses
	// incremental backups of the clean set outright.
	clean := openInstance(t, Config{LogDir: sampleCopy(t, "srum-win10-clean")})
	wantCode(t, clean.BeginExternalBackup(ese.BackupIncremental), ese.ErrInvalidBackup)

	// The dirty Win10 set's current log has circular logging off (0x04).
	dir := copySample(t, "srum-win10-dirty")
	db := filepath.Join(dir, "SRUDB.dat")
	in := openInstance(t, Config{LogDir: dir, Writable: true, Now: fixedNow})

	// Incremental before any full backup.
	wantCode(t, in.BeginExternalBackup(ese.BackupIncremental), ese.ErrMissingFullBackup)

	// Full with truncation: logs below the checkpoint (0x4E..0x50) go,
	// 0x51 and SRU.log (0x52) stay.
	res := runBackup(t, in, 0, true, ese.BackupEndNormal)
	if len(res.trunc) != 3 || filepath.Base(res.trunc[0]) != "SRU0004E.log" || filepath.Base(res.trunc[2]) != "SRU00050.log" {
		t.Fatalf("truncate list %v, want SRU0004E..SRU00050", res.trunc)
	}
	if _, err := os.Stat(filepath.Join(dir, "SRU00051.log")); err != nil {
		t.Fatalf("log 0x51 (checkpoint generation) was deleted: %v", err)
	}
	for g := 0x4E; g <= 0x50; g++ {
		if _, err := os.Stat(filepath.Join(dir, format.LogFileName("SRU", uint32(g), ".log", false))); !os.IsNotExist(err) {
			t.Fatalf("log %d survived truncation: %v", g, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "SRU.log")); err != nil {
		t.Fatalf("current log touched: %v", err)
	}
	h := readHeader(t, db)
	if h.BKInfoFullPrev.GenLow != 0x51 || h.BKInfoFullPrev.GenHigh != 0x52 || h.BKInfoFullPrev.MarkTime.IsZero() || h.BKInfoTypeFullPrev != ese.BKInfoNormal {
		t.Fatalf("bkinfoFullPrev %+v type %d", h.BKInfoFullPrev, h.BKInfoTypeFullPrev)
	}
	if !h.BKInfoIncPrev.IsZero() || !h.BKInfoDiffPrev.IsZero() || !h.BKInfoCopyPrev.IsZero() {
		t.Fatal("a full backup left other records set")
	}

	// Incremental without truncation is a differential.
	res = runBackup(t, in, ese.BackupIncremental, false, ese.BackupEndNormal)
	if res.logInfo.GenLow != 0x51 || res.logInfo.GenHigh != 0x52 {
		t.Fatalf("differential log range %+v", res.logInfo)
	}
	h = readHeader(t, db)
	if h.BKInfoDiffPrev.GenLow != 0x51 || !h.BKInfoIncPrev.IsZero() {
		t.Fatalf("differential not recorded in bkinfoDiffPrev: diff %+v inc %+v", h.BKInfoDiffPrev, h.BKInfoIncPrev)
	}

	// Incremental with truncation.
	runBackup(t, in, ese.BackupIncremental, true, ese.BackupEndNormal)
	h = readHeader(t, db)
	if h.BKInfoIncPrev.GenLow != 0x51 || h.BKInfoIncPrev.GenHigh != 0x52 {
		t.Fatalf("bkinfoIncPrev %+v", h.BKInfoIncPrev)
	}

	// Full without truncation is a copy and leaves the chain alone.
	runBackup(t, in, 0, false, ese.BackupEndNormal)
	h2 := readHeader(t, db)
	if h2.BKInfoCopyPrev.GenLow != 0x51 || h2.BKInfoIncPrev != h.BKInfoIncPrev || h2.BKInfoFullPrev != h.BKInfoFullPrev {
		t.Fatalf("copy backup: copy %+v, inc %+v (was %+v)", h2.BKInfoCopyPrev, h2.BKInfoIncPrev, h.BKInfoIncPrev)
	}

	// JET_bitBackupTruncateDone turns an untruncated full into a full.
	runBackup(t, in, 0, false, ese.BackupEndNormal|ese.BackupTruncateDone)
	h3 := readHeader(t, db)
	if h3.BKInfoFullPrev.GenLow != 0x51 || !h3.BKInfoIncPrev.IsZero() {
		t.Fatalf("TruncateDone: full %+v inc %+v", h3.BKInfoFullPrev, h3.BKInfoIncPrev)
	}

	// Abort and NoDbHeaderUpdate record nothing.
	before := fileSHA(t, db)
	runBackup(t, in, 0, false, ese.BackupEndAbort)
	runBackup(t, in, 0, false, ese.BackupEndNormal|ese.BackupNoDbHeaderUpdate)
	if fileSHA(t, db) != before {
		t.Fatal("an aborted backup changed the database")
	}
}

// TestReadOnlyNeverWrites: without Writable, TruncateLog is refused with
// JET_errFileAccessDenied after its copy check, End records nothing, and no
// byte of the source changes.
func TestReadOnlyNeverWrites(t *testing.T) {
	dir := copySample(t, "srum-win10-dirty")
	before := dirDigest(t, dir)
	in := openInstance(t, Config{LogDir: dir, Now: fixedNow})
	wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
	dbs, _ := in.GetAttachInfo()
	backupFile(t, in, dbs[0], 64<<10)
	logs, _, err := in.GetLogInfo()
	wantCode(t, err, ese.ErrSuccess)
	wantCode(t, in.TruncateLog(), ese.ErrLogFileNotCopied)
	for _, l := range logs {
		backupFile(t, in, l, 64<<10)
	}
	wantCode(t, in.TruncateLog(), ese.ErrFileAccessDenied)
	wantCode(t, in.EndExternalBackup(ese.BackupEndNormal), ese.ErrSuccess)
	after := dirDigest(t, dir)
	if len(after) != len(before) {
		t.Fatalf("files changed: %d before, %d after", len(before), len(after))
	}
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("%s changed", k)
		}
	}
}
