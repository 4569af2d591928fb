package engine

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/esesnap/esesnap/ese"
)

// TestLifecycleCodes produces every return code of the
// JetEndExternalBackupInstance2 page where ESE would return it.
func TestLifecycleCodes(t *testing.T) {
	shared := sampleCopy(t, "srum-win10-dirty")

	t.Run("NoBackup", func(t *testing.T) {
		in := openInstance(t, Config{LogDir: shared})
		wantCode(t, in.EndExternalBackup(ese.BackupEndNormal), ese.ErrNoBackup)
	})
	t.Run("BackupAbortByServer", func(t *testing.T) {
		in := openInstance(t, Config{LogDir: shared})
		wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
		h, _, err := in.OpenFile(filepath.Join(shared, "SRUDB.dat"))
		wantCode(t, err, ese.ErrSuccess)
		buf := ese.AlignedBuffer(16 * 4096)
		_, err = in.ReadFile(h, buf)
		wantCode(t, err, ese.ErrSuccess)
		wantCode(t, in.StopBackup(), ese.ErrSuccess)
		_, err = in.ReadFile(h, buf)
		wantCode(t, err, ese.ErrBackupAbortByServer)
		_, _, err = in.GetLogInfo()
		wantCode(t, err, ese.ErrBackupAbortByServer)
		wantCode(t, in.CloseFile(h), ese.ErrSuccess) // allowed after a stop
		wantCode(t, in.EndExternalBackup(ese.BackupEndNormal), ese.ErrSuccess)
		// Begin clears the stop flag.
		wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
		_, err = in.GetAttachInfo()
		wantCode(t, err, ese.ErrSuccess)
		wantCode(t, in.EndExternalBackup(ese.BackupEndAbort), ese.ErrSuccess)
	})
	t.Run("ClientRequestToStopJetService", func(t *testing.T) {
		in := openInstance(t, Config{LogDir: shared})
		wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
		wantCode(t, in.StopService(), ese.ErrSuccess)
		wantCode(t, in.EndExternalBackup(ese.BackupEndNormal), ese.ErrClientRequestToStopJetService)
		// Only termination cleans the session up now.
		wantCode(t, in.Term(ese.TermAbrupt), ese.ErrSuccess)
		wantCode(t, in.EndExternalBackup(ese.BackupEndNormal), ese.ErrNotInitialized)
	})
	t.Run("InstanceUnavailable", func(t *testing.T) {
		dir := copySample(t, "srum-win10-dirty")
		in := openInstance(t, Config{LogDir: dir, Writable: true, FS: &faultFS{failWrite: "SRUDB.dat"}})
		runBackup(t, in, 0, true, ese.BackupEndNormal) // End succeeds, as in ESE
		wantCode(t, in.BeginExternalBackup(0), ese.ErrInstanceUnavailable)
		wantCode(t, in.EndExternalBackup(ese.BackupEndNormal), ese.ErrInstanceUnavailable)
	})
	t.Run("NotInitialized", func(t *testing.T) {
		in, err := NewRuntime().NewInstance(Config{LogDir: shared})
		wantCode(t, err, ese.ErrSuccess)
		wantCode(t, in.EndExternalBackup(ese.BackupEndNormal), ese.ErrNotInitialized)
		wantCode(t, in.BeginExternalBackup(0), ese.ErrNotInitialized)
	})
	t.Run("TermInProgress", func(t *testing.T) {
		fsys := newBlockingFS("SRUDB.dat")
		in := openInstance(t, Config{LogDir: shared, FS: fsys})
		wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
		h, _, err := in.OpenFile(filepath.Join(shared, "SRUDB.dat"))
		wantCode(t, err, ese.ErrSuccess)
		readDone := make(chan error)
		go func() {
			_, err := in.ReadFile(h, ese.AlignedBuffer(16*4096))
			readDone <- err
		}()
		<-fsys.entered
		termDone := make(chan error)
		go func() { termDone <- in.Term(ese.TermAbrupt) }()
		for in.State() != StateTerminating {
			time.Sleep(time.Millisecond) // Term marks the instance before it waits for the read
		}
		wantCode(t, in.EndExternalBackup(ese.BackupEndNormal), ese.ErrTermInProgress)
		close(fsys.release)
		wantCode(t, <-readDone, ese.ErrBackupAbortByServer)
		wantCode(t, <-termDone, ese.ErrSuccess)
		wantCode(t, in.EndExternalBackup(ese.BackupEndNormal), ese.ErrNotInitialized)
	})
	t.Run("RunningInMultiInstanceMode", func(t *testing.T) {
		rt := NewRuntime()
		wantCode(t, rt.Legacy().EndExternalBackup(ese.BackupEndNormal), ese.ErrInvalidParameter) // no mode yet
		if _, err := rt.NewInstance(Config{LogDir: shared}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, rt.Legacy().EndExternalBackup(ese.BackupEndNormal), ese.ErrRunningInMultiInstanceMode)
		wantCode(t, rt.Legacy().BeginExternalBackup(0), ese.ErrRunningInMultiInstanceMode)
		_, err := rt.InitSingle(Config{LogDir: shared})
		wantCode(t, err, ese.ErrRunningInMultiInstanceMode)
	})
	t.Run("single-instance legacy calls", func(t *testing.T) {
		rt := NewRuntime()
		if _, err := rt.InitSingle(Config{LogDir: shared}); err != nil {
			t.Fatal(err)
		}
		api := rt.Legacy()
		wantCode(t, api.EndExternalBackup(ese.BackupEndNormal), ese.ErrNoBackup)
		res := runBackup(t, api, 0, false, ese.BackupEndNormal)
		if len(res.dbs) != 1 || len(res.logs) != 2 {
			t.Fatalf("legacy backup streamed %d databases and %d logs", len(res.dbs), len(res.logs))
		}
		_, err := rt.NewInstance(Config{LogDir: shared})
		wantCode(t, err, ese.ErrRunningInOneInstanceMode)
	})
	t.Run("RestoreInProgress", func(t *testing.T) {
		src := sampleCopy(t, "srum-win10-dirty")
		set := t.TempDir()
		in := openInstance(t, Config{LogDir: src})
		writeBackupSet(t, in, set, 0)

		fsys := newBlockingFS("SRUDB.dat")
		target := openInstance(t, Config{LogDir: shared, FS: fsys})
		restoreDone := make(chan error)
		go func() {
			restoreDone <- target.ExternalRestore(restoreRequest(t, set, t.TempDir()))
		}()
		<-fsys.entered
		wantCode(t, target.BeginExternalBackup(0), ese.ErrRestoreInProgress)
		wantCode(t, target.EndExternalBackup(ese.BackupEndNormal), ese.ErrRestoreInProgress)
		close(fsys.release)
		wantCode(t, <-restoreDone, ese.ErrSuccess)
		wantCode(t, target.EndExternalBackup(ese.BackupEndNormal), ese.ErrNoBackup)
	})
	t.Run("BackupInProgress across instances", func(t *testing.T) {
		a := openInstance(t, Config{LogDir: shared})
		b := openInstance(t, Config{LogDir: shared})
		wantCode(t, a.BeginExternalBackup(0), ese.ErrSuccess)
		wantCode(t, b.BeginExternalBackup(0), ese.ErrBackupInProgress)
		wantCode(t, a.EndExternalBackup(ese.BackupEndAbort), ese.ErrSuccess)
		wantCode(t, b.BeginExternalBackup(0), ese.ErrSuccess)
		wantCode(t, b.EndExternalBackup(ese.BackupEndAbort), ese.ErrSuccess)
	})
}

func TestAttachDatabase(t *testing.T) {
	dir := sampleCopy(t, "srum-win10-dirty")
	in := openInstance(t, Config{LogDir: dir})
	w, err := in.AttachDatabase(filepath.Join(dir, "SRUDB.dat"))
	if err != nil || w != ese.WrnDatabaseAttached {
		t.Fatalf("attaching an attached database: %v %v", w, err)
	}
	wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
	_, err = in.AttachDatabase(filepath.Join(samplesDir(t), "dissect-basic-4k", "basic.edb"))
	wantCode(t, err, ese.ErrBackupInProgress)
	wantCode(t, in.EndExternalBackup(ese.BackupEndAbort), ese.ErrSuccess)
	if _, err := in.AttachDatabase(filepath.Join(samplesDir(t), "dissect-basic-4k", "basic.edb")); err != nil {
		t.Fatal(err)
	}
	if len(in.Databases()) != 2 {
		t.Fatalf("databases %v", in.Databases())
	}
	_, err = in.AttachDatabase(filepath.Join(samplesDir(t), "bits-qmgr-win11-16k", "qmgr.db"))
	wantCode(t, err, ese.ErrPageSizeMismatch)
}
