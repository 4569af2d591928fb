package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

// writeBackupSet runs a backup and stores it as a directory: each file
// under its base name, plus loginfo.json with the JET_LOGINFO.
func writeBackupSet(t *testing.T, api ese.BackupAPI, dir string, grbit ese.Grbit) ese.LogInfo {
	t.Helper()
	res := runBackup(t, api, grbit, false, ese.BackupEndNormal)
	for name, data := range res.dbs {
		writeFile(t, filepath.Join(dir, filepath.Base(name)), data)
	}
	for name, data := range res.logs {
		writeFile(t, filepath.Join(dir, filepath.Base(name)), data)
	}
	b, _ := json.Marshal(res.logInfo)
	writeFile(t, filepath.Join(dir, "loginfo.json"), b)
	return res.logInfo
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func restoreRequest(t *testing.T, set, target string) ese.RestoreRequest {
	t.Helper()
	var li ese.LogInfo
	b, err := os.ReadFile(filepath.Join(set, "loginfo.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &li); err != nil {
		t.Fatal(err)
	}
	return ese.RestoreRequest{
		CheckpointDir: target,
		LogDir:        filepath.Join(target, "logs"),
		BackupLogDir:  set,
		LogInfo:       li,
		Map:           []ese.RstMap{{DatabaseName: filepath.Join(set, "SRUDB.dat"), NewDatabaseName: filepath.Join(target, "SRUDB.dat")}},
	}
}

func TestExternalRestore(t *testing.T) {
	src := sampleCopy(t, "srum-win10-dirty")
	set := t.TempDir()
	writeBackupSet(t, openInstance(t, Config{LogDir: src}), set, 0)

	t.Run("stages a complete set", func(t *testing.T) {
		target := t.TempDir()
		var progress []uint32
		req := restoreRequest(t, set, target)
		req.Progress = func(done, total uint32) { progress = append(progress, done) }
		if err := restore(OSFS{}, req, nil); err != nil {
			t.Fatal(err)
		}
		if fileSHA(t, filepath.Join(target, "SRUDB.dat")) != fileSHA(t, filepath.Join(set, "SRUDB.dat")) {
			t.Fatal("staged database differs from the backup copy")
		}
		for _, g := range []uint32{0x51, 0x52} {
			name := format.LogFileName("SRU", g, ".log", false)
			if fileSHA(t, filepath.Join(target, "logs", name)) != fileSHA(t, filepath.Join(set, name)) {
				t.Fatalf("staged log %s differs", name)
			}
		}
		if len(progress) < 2 || progress[0] != 0 || progress[len(progress)-1] != 100 {
			t.Fatalf("progress %v", progress)
		}
		// Restore never overwrites.
		err := restore(OSFS{}, restoreRequest(t, set, target), nil)
		if err == nil {
			t.Fatal("a second restore into the same place overwrote files")
		}
	})

	cases := []struct {
		name string
		edit func(t *testing.T, set string, req *ese.RestoreRequest)
		want ese.Code
	}{
		{"gap", func(t *testing.T, set string, req *ese.RestoreRequest) {
			removeFile(t, filepath.Join(set, "SRU00052.log"))
		}, ese.ErrFileNotFound},
		{"generation zero is no wildcard", func(t *testing.T, set string, req *ese.RestoreRequest) {
			req.LogInfo.GenLow = 0
		}, ese.ErrFileNotFound},
		{"mismatched signature", func(t *testing.T, set string, req *ese.RestoreRequest) {
			rewriteLogHeader(t, filepath.Join(set, "SRU00052.log"), func(b []byte) { b[44] ^= 1 })
		}, ese.ErrGivenLogFileHasBadSignature},
		{"not contiguous", func(t *testing.T, set string, req *ese.RestoreRequest) {
			rewriteLogHeader(t, filepath.Join(set, "SRU00052.log"), func(b []byte) { b[24] ^= 1 })
		}, ese.ErrGivenLogFileIsNotContiguous},
		{"not a backup copy", func(t *testing.T, set string, req *ese.RestoreRequest) {
			b, err := os.ReadFile(filepath.Join(samplesDir(t), "srum-win10-dirty", "SRUDB.dat"))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(set, "SRUDB.dat"), b)
		}, ese.ErrRestoreOfNonBackupDatabase},
		{"needs earlier logs", func(t *testing.T, set string, req *ese.RestoreRequest) {
			removeFile(t, filepath.Join(set, "SRU00051.log"))
			req.LogInfo.GenLow = 0x52
		}, ese.ErrStartingRestoreLogTooHigh},
		{"needs later logs", func(t *testing.T, set string, req *ese.RestoreRequest) {
			req.LogInfo.GenHigh = 0x51
		}, ese.ErrEndingRestoreLogTooLow},
		{"bad page in the copy", func(t *testing.T, set string, req *ese.RestoreRequest) {
			flipByte(t, filepath.Join(set, "SRUDB.dat"), 10*4096+77)
		}, ese.ErrReadVerifyFailure},
		{"too many map entries", func(t *testing.T, set string, req *ese.RestoreRequest) {
			for len(req.Map) <= maxRestoreMap {
				req.Map = append(req.Map, req.Map[0])
			}
		}, ese.ErrInvalidParameter},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mine := t.TempDir()
			for _, e := range mustReadDir(t, set) {
				b, _ := os.ReadFile(filepath.Join(set, e.Name()))
				writeFile(t, filepath.Join(mine, e.Name()), b)
			}
			target := t.TempDir()
			req := restoreRequest(t, mine, target)
			tc.edit(t, mine, &req)
			wantCode(t, restore(OSFS{}, req, nil), tc.want)
			if _, err := os.Stat(filepath.Join(target, "logs")); err == nil {
				t.Fatal("a refused restore staged logs")
			}
		})
	}
}

func mustReadDir(t *testing.T, dir string) []os.DirEntry {
	t.Helper()
	e, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
