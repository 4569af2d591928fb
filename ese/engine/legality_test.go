package engine

import (
	"path/filepath"
	"testing"

	"github.com/esesnap/esesnap/ese"
)

// legalityState prepares an instance in one column of the legality table
// (§5.3 of the API notes) and returns the database and a log name to use.
type legalityState struct {
	name  string
	setup func(t *testing.T, in *Instance, db, log string)
}

var legalityStates = []legalityState{
	{"none", func(t *testing.T, in *Instance, db, log string) {}},
	{"db-phase", func(t *testing.T, in *Instance, db, log string) {
		wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
	}},
	{"db-open", func(t *testing.T, in *Instance, db, log string) {
		wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
		_, _, err := in.OpenFile(db)
		wantCode(t, err, ese.ErrSuccess)
	}},
	{"logs-phase", func(t *testing.T, in *Instance, db, log string) {
		wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
		_, _, err := in.GetLogInfo()
		wantCode(t, err, ese.ErrSuccess)
	}},
	{"log-open", func(t *testing.T, in *Instance, db, log string) {
		wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
		_, _, err := in.GetLogInfo()
		wantCode(t, err, ese.ErrSuccess)
		_, _, err = in.OpenFile(log)
		wantCode(t, err, ese.ErrSuccess)
	}},
	{"stopped", func(t *testing.T, in *Instance, db, log string) {
		wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
		wantCode(t, in.StopBackup(), ese.ErrSuccess)
	}},
}

// legalityCall is one row of the table: the call and, per state, the code
// it returns and whether the session is gone afterwards.
type legalityCall struct {
	name string
	call func(in *Instance, db, log string) error
	want map[string]ese.Code
	// aborts lists the states in which the call tears the session down.
	aborts map[string]bool
}

func TestLegalityTable(t *testing.T) {
	const (
		ok = ese.ErrSuccess
	)
	buf := ese.AlignedBuffer(16 * 4096)
	calls := []legalityCall{
		{"Begin", func(in *Instance, db, log string) error { return in.BeginExternalBackup(0) },
			map[string]ese.Code{"none": ok, "db-phase": ese.ErrBackupInProgress, "db-open": ese.ErrBackupInProgress, "logs-phase": ese.ErrBackupInProgress, "log-open": ese.ErrBackupInProgress, "stopped": ese.ErrBackupInProgress}, nil},
		{"GetAttachInfo", func(in *Instance, db, log string) error { _, err := in.GetAttachInfo(); return err },
			map[string]ese.Code{"none": ese.ErrNoBackup, "db-phase": ok, "db-open": ok, "logs-phase": ok, "log-open": ok, "stopped": ese.ErrBackupAbortByServer}, nil},
		{"OpenFile(db)", func(in *Instance, db, log string) error { _, _, err := in.OpenFile(db); return err },
			map[string]ese.Code{"none": ese.ErrNoBackup, "db-phase": ok, "db-open": ese.ErrOutOfMemory, "logs-phase": ese.ErrInvalidBackupSequence, "log-open": ese.ErrOutOfMemory, "stopped": ese.ErrBackupAbortByServer},
			map[string]bool{"logs-phase": true}},
		{"OpenFile(log)", func(in *Instance, db, log string) error { _, _, err := in.OpenFile(log); return err },
			map[string]ese.Code{"none": ese.ErrNoBackup, "db-phase": ese.ErrDatabaseNotFound, "db-open": ese.ErrOutOfMemory, "logs-phase": ok, "log-open": ese.ErrOutOfMemory, "stopped": ese.ErrBackupAbortByServer}, nil},
		{"ReadFile", func(in *Instance, db, log string) error { _, err := in.ReadFile(0, buf); return err },
			map[string]ese.Code{"none": ese.ErrNoBackup, "db-phase": ese.ErrInvalidParameter, "db-open": ok, "logs-phase": ese.ErrInvalidParameter, "log-open": ok, "stopped": ese.ErrBackupAbortByServer}, nil},
		{"CloseFile", func(in *Instance, db, log string) error { return in.CloseFile(0) },
			map[string]ese.Code{"none": ese.ErrNoBackup, "db-phase": ese.ErrInvalidParameter, "db-open": ok, "logs-phase": ese.ErrInvalidParameter, "log-open": ok, "stopped": ese.ErrInvalidParameter}, nil},
		{"GetLogInfo", func(in *Instance, db, log string) error { _, _, err := in.GetLogInfo(); return err },
			map[string]ese.Code{"none": ese.ErrNoBackup, "db-phase": ok, "db-open": ese.ErrInvalidBackupSequence, "logs-phase": ok, "log-open": ese.ErrInvalidBackupSequence, "stopped": ese.ErrBackupAbortByServer}, nil},
		{"GetTruncateLogInfo", func(in *Instance, db, log string) error { _, err := in.GetTruncateLogInfo(); return err },
			map[string]ese.Code{"none": ese.ErrNoBackup, "db-phase": ok, "db-open": ese.ErrInvalidBackupSequence, "logs-phase": ok, "log-open": ese.ErrInvalidBackupSequence, "stopped": ese.ErrBackupAbortByServer}, nil},
		{"TruncateLog", func(in *Instance, db, log string) error { return in.TruncateLog() },
			map[string]ese.Code{"none": ese.ErrNoBackup, "db-phase": ese.ErrInvalidBackupSequence, "db-open": ese.ErrInvalidBackupSequence, "logs-phase": ese.ErrLogFileNotCopied, "log-open": ese.ErrInvalidBackupSequence, "stopped": ese.ErrBackupAbortByServer}, nil},
		{"End(Normal)", func(in *Instance, db, log string) error { return in.EndExternalBackup(ese.BackupEndNormal) },
			map[string]ese.Code{"none": ese.ErrNoBackup, "db-phase": ok, "db-open": ok, "logs-phase": ok, "log-open": ok, "stopped": ok},
			map[string]bool{"db-phase": true, "db-open": true, "logs-phase": true, "log-open": true, "stopped": true}},
		{"End(Abort)", func(in *Instance, db, log string) error { return in.EndExternalBackup(ese.BackupEndAbort) },
			map[string]ese.Code{"none": ese.ErrNoBackup, "db-phase": ok, "db-open": ok, "logs-phase": ok, "log-open": ok, "stopped": ok},
			map[string]bool{"db-phase": true, "db-open": true, "logs-phase": true, "log-open": true, "stopped": true}},
		{"End(0)", func(in *Instance, db, log string) error { return in.EndExternalBackup(0) },
			map[string]ese.Code{"none": ese.ErrInvalidParameter, "db-phase": ese.ErrInvalidParameter, "db-open": ese.ErrInvalidParameter, "logs-phase": ese.ErrInvalidParameter, "log-open": ese.ErrInvalidParameter, "stopped": ese.ErrInvalidParameter}, nil},
		{"End(3)", func(in *Instance, db, log string) error {
			return in.EndExternalBackup(ese.BackupEndNormal | ese.BackupEndAbort)
		},
			map[string]ese.Code{"none": ese.ErrInvalidParameter, "db-phase": ese.ErrInvalidParameter, "db-open": ese.ErrInvalidParameter, "logs-phase": ese.ErrInvalidParameter, "log-open": ese.ErrInvalidParameter, "stopped": ese.ErrInvalidParameter}, nil},
		{"StopBackup", func(in *Instance, db, log string) error { return in.StopBackup() },
			map[string]ese.Code{"none": ok, "db-phase": ok, "db-open": ok, "logs-phase": ok, "log-open": ok, "stopped": ok}, nil},
		{"Term(Complete)", func(in *Instance, db, log string) error { return in.Term(ese.TermComplete) },
			map[string]ese.Code{"none": ok, "db-phase": ese.ErrBackupInProgress, "db-open": ese.ErrBackupInProgress, "logs-phase": ese.ErrBackupInProgress, "log-open": ese.ErrBackupInProgress, "stopped": ese.ErrBackupInProgress}, nil},
	}
	dir := sampleCopy(t, "srum-win10-dirty")
	db := filepath.Join(dir, "SRUDB.dat")
	log := filepath.Join(dir, "SRU00051.log")
	for _, c := range calls {
		for _, st := range legalityStates {
			want, listed := c.want[st.name]
			if !listed {
				t.Fatalf("%s: no expectation for state %s", c.name, st.name)
			}
			t.Run(c.name+"/"+st.name, func(t *testing.T) {
				in := openInstance(t, Config{LogDir: dir, Now: fixedNow})
				st.setup(t, in, db, log)
				wantCode(t, c.call(in, db, log), want)
				if c.name == "Term(Complete)" {
					// A refused termination keeps the session running but
					// allows no new backup.
					if st.name != "none" {
						wantCode(t, in.EndExternalBackup(ese.BackupEndAbort), ese.ErrSuccess)
					}
					wantCode(t, in.BeginExternalBackup(0), map[bool]ese.Code{true: ese.ErrNotInitialized, false: ese.ErrBackupNotAllowedYet}[st.name == "none"])
					return
				}
				// Is the session still there? End(Abort) says: -520 if not.
				endWant := ese.ErrSuccess
				if st.name == "none" && c.name != "Begin" || c.aborts[st.name] {
					endWant = ese.ErrNoBackup
				}
				wantCode(t, in.EndExternalBackup(ese.BackupEndAbort), endWant)
			})
		}
	}
}

// TestAbortingErrors covers the "+A" cells that need a broken set: a
// missing log generation, a bad log name, a corrupt log.
func TestAbortingErrors(t *testing.T) {
	t.Run("missing log", func(t *testing.T) {
		// Deleted after the log list was taken (before, GetLogInfo refuses:
		// TestLogPhaseDataErrors).
		dir := copySample(t, "srum-win10-dirty")
		in := openInstance(t, Config{LogDir: dir})
		wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
		_, _, err := in.GetLogInfo()
		wantCode(t, err, ese.ErrSuccess)
		removeFile(t, filepath.Join(dir, "SRU00051.log"))
		_, _, err = in.OpenFile(filepath.Join(dir, "SRU00051.log"))
		wantCode(t, err, ese.ErrMissingFileToBackup)
		wantCode(t, in.EndExternalBackup(ese.BackupEndNormal), ese.ErrNoBackup)
	})
	t.Run("bad log name", func(t *testing.T) {
		dir := sampleCopy(t, "srum-win10-dirty")
		in := openInstance(t, Config{LogDir: dir})
		wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
		_, _, err := in.GetLogInfo()
		wantCode(t, err, ese.ErrSuccess)
		_, _, err = in.OpenFile(filepath.Join(dir, "SRUxyz.log"))
		wantCode(t, err, ese.ErrInvalidParameter)
		wantCode(t, in.EndExternalBackup(ese.BackupEndNormal), ese.ErrNoBackup)
	})
	t.Run("corrupt log", func(t *testing.T) {
		dir := copySample(t, "srum-win10-dirty")
		flipByte(t, filepath.Join(dir, "SRU00051.log"), 4096+100)
		in := openInstance(t, Config{LogDir: dir})
		wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
		_, _, err := in.GetLogInfo()
		wantCode(t, err, ese.ErrSuccess)
		h, _, err := in.OpenFile(filepath.Join(dir, "SRU00051.log"))
		wantCode(t, err, ese.ErrSuccess)
		_, err = in.ReadFile(h, ese.AlignedBuffer(64<<10))
		wantCode(t, err, ese.ErrLogReadVerifyFailure)
		wantCode(t, in.EndExternalBackup(ese.BackupEndNormal), ese.ErrNoBackup)
	})
	t.Run("broken chain", func(t *testing.T) {
		// Generation 0x52's previous-generation time no longer matches 0x51.
		dir := copySample(t, "srum-win10-dirty")
		rewriteLogHeader(t, filepath.Join(dir, "SRU.log"), func(b []byte) { b[24] ^= 1 })
		in := openInstance(t, Config{LogDir: dir})
		wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
		logs, _, err := in.GetLogInfo()
		wantCode(t, err, ese.ErrSuccess)
		backupFile(t, in, logs[0], 64<<10)
		h, _, err := in.OpenFile(logs[1])
		wantCode(t, err, ese.ErrSuccess)
		_, err = in.ReadFile(h, ese.AlignedBuffer(64<<10))
		if err == nil {
			t.Fatal("a log that does not continue its predecessor was served")
		}
		t.Logf("broken chain: %v", err)
		wantCode(t, in.EndExternalBackup(ese.BackupEndNormal), ese.ErrNoBackup)
	})
	t.Run("db read error keeps the session", func(t *testing.T) {
		dir := copySample(t, "srum-win10-dirty")
		flipByte(t, filepath.Join(dir, "SRUDB.dat"), 5*4096+200) // pgno 4
		in := openInstance(t, Config{LogDir: dir})
		wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
		h, _, err := in.OpenFile(filepath.Join(dir, "SRUDB.dat"))
		wantCode(t, err, ese.ErrSuccess)
		_, err = in.ReadFile(h, ese.AlignedBuffer(64<<10))
		wantCode(t, err, ese.ErrReadVerifyFailure)
		wantCode(t, in.CloseFile(h), ese.ErrInvalidParameter) // closed implicitly
		_, _, err = in.GetLogInfo()
		wantCode(t, err, ese.ErrSuccess)
		wantCode(t, in.EndExternalBackup(ese.BackupEndNormal), ese.ErrSuccess)
	})
}

// TestBufferRules checks ReadFile's buffer rules (§3.4): alignment, page
// multiples, the 3-page first database read and the 2-page first log read,
// none of which changes state.
func TestBufferRules(t *testing.T) {
	dir := sampleCopy(t, "srum-win10-dirty")
	in := openInstance(t, Config{LogDir: dir})
	wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
	defer in.EndExternalBackup(ese.BackupEndAbort)
	h, _, err := in.OpenFile(filepath.Join(dir, "SRUDB.dat"))
	wantCode(t, err, ese.ErrSuccess)
	big := ese.AlignedBuffer(128 << 10)
	for _, tc := range []struct {
		name string
		buf  []byte
	}{
		{"unaligned", big[1 : 1+16*4096]},
		{"not a page multiple", big[:4096+512]},
		{"two pages first", big[:2*4096]},
		{"empty", big[:0]},
	} {
		_, err := in.ReadFile(h, tc.buf)
		wantCode(t, err, ese.ErrInvalidParameter)
	}
	n, err := in.ReadFile(h, big[:3*4096])
	wantCode(t, err, ese.ErrSuccess)
	if n != 3*4096 {
		t.Fatalf("3-page first read returned %d bytes", n)
	}
	backupRest(t, in, h, big)
	logs, _, err := in.GetLogInfo()
	wantCode(t, err, ese.ErrSuccess)
	h, _, err = in.OpenFile(logs[0])
	wantCode(t, err, ese.ErrSuccess)
	_, err = in.ReadFile(h, big[:4096])
	wantCode(t, err, ese.ErrInvalidParameter)
	n, err = in.ReadFile(h, big[:2*4096])
	wantCode(t, err, ese.ErrSuccess)
	if n != 2*4096 {
		t.Fatalf("2-page first log read returned %d bytes", n)
	}
}

func backupRest(t *testing.T, in *Instance, h ese.Handle, buf []byte) {
	t.Helper()
	for {
		n, err := in.ReadFile(h, buf)
		wantCode(t, err, ese.ErrSuccess)
		if n == 0 {
			break
		}
	}
	wantCode(t, in.CloseFile(h), ese.ErrSuccess)
}
