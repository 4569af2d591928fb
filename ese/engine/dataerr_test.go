package engine

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

// TestLogPhaseDataErrors damages copies of real instances the ways issue 10
// lists and checks that the engine names the damage with a data error (the
// file, the JET_err, the generations), never JET_errInvalidBackupSequence,
// changes no file, and keeps the session so that End can abort it; or, for
// damage ESE copes with, that the backup goes through and its database copy
// verifies.
func TestLogPhaseDataErrors(t *testing.T) {
	samples := samplesDir(t)
	cases := []struct {
		name    string
		set     string
		damage  func(t *testing.T, dir string)
		dbs     []string // Config.Databases, relative to the copy
		failAt  string   // "begin" or "loginfo"; "" for a backup that succeeds
		code    ese.Code
		file    string   // base name of the file the error names
		mention []string // in the message
		genHigh uint32   // for a backup that succeeds: the trailer's genHigh
	}{
		{name: "missing current log", set: "srum-win10-clean",
			damage: func(t *testing.T, dir string) { removeFile(t, filepath.Join(dir, "SRU.log")) },
			failAt: "loginfo", code: ese.ErrMissingFileToBackup, file: "SRU00009.log",
			mention: []string{"checkpoint is at generation 9", "0x9 (SRU00009.log)"}},
		{name: "missing archived generation in the copy range", set: "srum-win10-dirty",
			damage: func(t *testing.T, dir string) { removeFile(t, filepath.Join(dir, "SRU00051.log")) },
			failAt: "loginfo", code: ese.ErrMissingFileToBackup, file: "SRU00051.log",
			mention: []string{"0x51 (SRU00051.log)"}},
		{name: "archived logs exchanged", set: "srum-win10-dirty",
			damage: func(t *testing.T, dir string) { swapFiles(t, dir, "SRU00050.log", "SRU00051.log") },
			failAt: "loginfo", code: ese.ErrLogGenerationMismatch, file: "SRU00051.log",
			mention: []string{"name says generation 81 (0x51), its header 80 (0x50)"}},
		{name: "current and archived log exchanged", set: "srum-win10-clean",
			damage: func(t *testing.T, dir string) { swapFiles(t, dir, "SRU.log", "SRU00008.log") },
			failAt: "loginfo", code: ese.ErrLogGenerationMismatch, file: "SRU00008.log"},
		{name: "log of another instance under a generation name", set: "srum-win10-clean",
			damage: func(t *testing.T, dir string) {
				copyOver(t, filepath.Join(samples, "srum-win10-dirty", "SRU00051.log"), filepath.Join(dir, "SRU00009.log"))
			},
			failAt: "loginfo", code: ese.ErrLogGenerationMismatch, file: "SRU00009.log"},
		{name: "current log of another instance", set: "srum-win10-clean", dbs: []string{"SRUDB.dat"},
			damage: func(t *testing.T, dir string) {
				copyOver(t, filepath.Join(samples, "srum-win10-dirty", "SRU00051.log"), filepath.Join(dir, "SRU.log"))
			},
			// The foreign log's attach list names its own database under
			// SRUDB.dat's path: the instance refuses the file at JetInit.
			failAt: "init", code: ese.ErrBadDbSignature, file: "SRUDB.dat", mention: []string{"SRU.log names", "another database"}},
		{name: "checkpoint of another instance", set: "srum-win10-clean",
			damage: func(t *testing.T, dir string) {
				copyOver(t, filepath.Join(samples, "srum-win10-dirty", "SRU.chk"), filepath.Join(dir, "SRU.chk"))
			},
			failAt: "begin", code: ese.ErrBadCheckpointSignature, file: "SRU.chk", mention: []string{"another instance", "SRUDB.dat has"}},
		{name: "log of another instance above the current generation", set: "srum-win10-clean",
			damage: func(t *testing.T, dir string) {
				copyOver(t, filepath.Join(samples, "srum-win10-dirty", "SRU0004E.log"), filepath.Join(dir, "SRU0004E.log"))
			},
			failAt: "loginfo", code: ese.ErrBadLogSignature, file: "SRU0004E.log"},
		{name: "archived log renamed above the current generation", set: "srum-win10-clean",
			damage: func(t *testing.T, dir string) {
				if err := os.Rename(filepath.Join(dir, "SRU00008.log"), filepath.Join(dir, "SRU0000A.log")); err != nil {
					t.Fatal(err)
				}
			},
			failAt: "loginfo", code: ese.ErrLogGenerationMismatch, file: "SRU0000A.log"},
		{name: "current log older than an archived one", set: "srum-win10-dirty",
			damage: func(t *testing.T, dir string) {
				copyOver(t, filepath.Join(dir, "SRU00050.log"), filepath.Join(dir, "SRU.log"))
			},
			failAt: "loginfo", code: ese.ErrInvalidLogSequence, file: "SRU00051.log", mention: []string{"newer than the current log SRU.log"}},
		{name: "archived logs below the checkpoint exchanged", set: "srum-win10-clean",
			damage:  func(t *testing.T, dir string) { swapFiles(t, dir, "SRU00007.log", "SRU00008.log") },
			genHigh: 9},
		{name: "archived log below the checkpoint missing", set: "srum-win10-dirty",
			damage:  func(t *testing.T, dir string) { removeFile(t, filepath.Join(dir, "SRU0004F.log")) },
			genHigh: 0x52},
		{name: "current log renamed as archived", set: "srum-win10-clean",
			damage: func(t *testing.T, dir string) {
				if err := os.Rename(filepath.Join(dir, "SRU.log"), filepath.Join(dir, "SRU00009.log")); err != nil {
					t.Fatal(err)
				}
			},
			genHigh: 9},
		{name: "checkpoint without its shadow copy", set: "srum-win10-clean",
			damage: func(t *testing.T, dir string) {
				if err := os.Truncate(filepath.Join(dir, "SRU.chk"), 4096); err != nil {
					t.Fatal(err)
				}
			},
			genHigh: 9},
		{name: "current log of a dirty set renamed", set: "srum-win10-dirty",
			damage: func(t *testing.T, dir string) {
				if err := os.Rename(filepath.Join(dir, "SRU.log"), filepath.Join(dir, "SRU00052.log")); err != nil {
					t.Fatal(err)
				}
			},
			genHigh: 0x52},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copySample(t, tc.set)
			tc.damage(t, dir)
			before := dirDigest(t, dir)
			cfg := Config{LogDir: dir, Now: fixedNow}
			for _, db := range tc.dbs {
				cfg.Databases = append(cfg.Databases, filepath.Join(dir, db))
			}
			if tc.failAt == "init" {
				_, err := Open(cfg)
				checkDataError(t, err, tc.code, tc.file, tc.mention)
				if after := dirDigest(t, dir); !reflect.DeepEqual(before, after) {
					t.Errorf("the refused instance changed the source")
				}
				return
			}
			in := openInstance(t, cfg)
			defer func() {
				if after := dirDigest(t, dir); !reflect.DeepEqual(before, after) {
					t.Errorf("the backup changed the source")
				}
			}()
			if tc.failAt == "" {
				res := runBackup(t, in, 0, false, ese.BackupEndNormal)
				if res.logInfo.GenHigh != tc.genHigh {
					t.Fatalf("log range %d..%d, want genHigh %d", res.logInfo.GenLow, res.logInfo.GenHigh, tc.genHigh)
				}
				for name, data := range res.dbs {
					sdb, err := format.VerifyStreamedDatabase(context.Background(), bytes.NewReader(data), int64(len(data)), name)
					if err != nil {
						t.Fatalf("the streamed copy does not verify: %v", err)
					}
					if sdb.Trailer.BKInfo.GenHigh != tc.genHigh {
						t.Fatalf("trailer genHigh %d, want %d", sdb.Trailer.BKInfo.GenHigh, tc.genHigh)
					}
				}
				return
			}
			err := in.BeginExternalBackup(0)
			if tc.failAt == "loginfo" {
				wantCode(t, err, ese.ErrSuccess)
				dbs, err := in.GetAttachInfo()
				wantCode(t, err, ese.ErrSuccess)
				for _, db := range dbs {
					backupFile(t, in, db, 256<<10)
				}
				_, _, err = in.GetLogInfo()
				checkDataError(t, err, tc.code, tc.file, tc.mention)
				// Not an aborting error: the caller ends the session.
				wantCode(t, in.EndExternalBackup(ese.BackupEndAbort), ese.ErrSuccess)
				return
			}
			checkDataError(t, err, tc.code, tc.file, tc.mention)
			wantCode(t, in.EndExternalBackup(ese.BackupEndAbort), ese.ErrNoBackup)
		})
	}
}

// checkDataError fails unless err is an *ese.Error with code, naming file,
// and mentioning each of mention.
func checkDataError(t *testing.T, err error, code ese.Code, file string, mention []string) {
	t.Helper()
	var ee *ese.Error
	if !errors.As(err, &ee) {
		t.Fatalf("want *ese.Error %v, got %v", code, err)
	}
	if ee.Code == ese.ErrInvalidBackupSequence {
		t.Fatalf("damaged data reported as a call-order error: %v", err)
	}
	if ee.Code != code {
		t.Fatalf("want %v, got %v", code, err)
	}
	if filepath.Base(ee.File) != file {
		t.Fatalf("the error names %q, want %s: %v", ee.File, file, err)
	}
	for _, m := range mention {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("the message does not say %q: %v", m, err)
		}
	}
}

// swapFiles exchanges the contents of two files of dir.
func swapFiles(t *testing.T, dir, a, b string) {
	t.Helper()
	pa, pb, tmp := filepath.Join(dir, a), filepath.Join(dir, b), filepath.Join(dir, "swap.tmp")
	for _, mv := range [][2]string{{pa, tmp}, {pb, pa}, {tmp, pb}} {
		if err := os.Rename(mv[0], mv[1]); err != nil {
			t.Fatal(err)
		}
	}
}

// copyOver copies src over dst.
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
