package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"syscall"
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

// listTree lists every path under dir with its size (directories as "/"),
// for before/after comparisons.
func listTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel] = "/"
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[rel] = fmt.Sprint(info.Size())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// faultDoubleCreate is a test double of the file system that fails Create
// for one file name (after creating nothing), or, with afterBytes, makes
// that file's writes fail once afterBytes were written: a disk that fills
// up in the middle of staging.
type faultDoubleCreate struct {
	OSFS
	name       string
	afterBytes int64
}

func (f faultDoubleCreate) Create(name string) (File, error) {
	if filepath.Base(name) != f.name {
		return f.OSFS.Create(name)
	}
	if f.afterBytes == 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.ENOSPC}
	}
	file, err := f.OSFS.Create(name)
	if err != nil {
		return nil, err
	}
	return &faultDoubleFullFile{File: file, left: f.afterBytes}, nil
}

type faultDoubleFullFile struct {
	File
	left int64
}

func (f *faultDoubleFullFile) WriteAt(p []byte, off int64) (int, error) {
	if int64(len(p)) > f.left {
		n, _ := f.File.WriteAt(p[:f.left], off)
		f.left = 0
		return n, &fs.PathError{Op: "write", Path: "staged file", Err: syscall.ENOSPC}
	}
	f.left -= int64(len(p))
	return f.File.WriteAt(p, off)
}

// TestExternalRestoreLeavesNothing: a restore that fails while staging —
// a file in the way, a disk that fills up — leaves the target exactly as
// it was, and the same restore succeeds once the cause is gone.
func TestExternalRestoreLeavesNothing(t *testing.T) {
	src := sampleCopy(t, "srum-win10-dirty")
	set := t.TempDir()
	writeBackupSet(t, openInstance(t, Config{LogDir: src}), set, 0)
	cases := []struct {
		name  string
		fsys  FS
		setup func(t *testing.T, target string) (fix func())
		want  ese.Code
	}{
		{"log in the way", OSFS{}, func(t *testing.T, target string) func() {
			os.MkdirAll(filepath.Join(target, "logs"), 0o755)
			inTheWay := filepath.Join(target, "logs", "SRU00052.log")
			writeFile(t, inTheWay, []byte("someone else's log"))
			return func() { removeFile(t, inTheWay) }
		}, ese.ErrFileAlreadyExists},
		{"database in the way", OSFS{}, func(t *testing.T, target string) func() {
			inTheWay := filepath.Join(target, "SRUDB.dat")
			writeFile(t, inTheWay, []byte("x"))
			return func() { removeFile(t, inTheWay) }
		}, ese.ErrFileAlreadyExists},
		{"disk full at the last log", faultDoubleCreate{name: "SRU00052.log"}, func(*testing.T, string) func() { return nil }, ese.ErrDiskIO},
		{"disk full in the database", faultDoubleCreate{name: "SRUDB.dat", afterBytes: 1 << 20}, func(*testing.T, string) func() { return nil }, ese.ErrDiskIO},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "target")
			os.Mkdir(target, 0o755)
			fix := tc.setup(t, target)
			before := listTree(t, target)
			err := restore(tc.fsys, restoreRequest(t, set, target), nil)
			if ee := new(ese.Error); !errors.As(err, &ee) || ee.Code != tc.want {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if after := listTree(t, target); !maps.Equal(before, after) {
				t.Fatalf("the failed restore changed the target:\nbefore %v\nafter  %v", before, after)
			}
			if fix != nil {
				fix()
			}
			if err := restore(OSFS{}, restoreRequest(t, set, target), nil); err != nil {
				t.Fatalf("the second run: %v", err)
			}
			if fileSHA(t, filepath.Join(target, "logs", "SRU00052.log")) != fileSHA(t, filepath.Join(set, "SRU00052.log")) {
				t.Fatal("the second run did not stage the last log")
			}
		})
	}
}
