package esent

import (
	"errors"

	"github.com/esesnap/esesnap/ese"
)

// ErrNeedsWritable explains why an instance opened through ESENT.DLL is
// never read-only: JetInit3W replays the logs into the databases and writes
// to the current log, attaching writes the database headers, and a normal
// JetEndExternalBackupInstance2 records the backup in them. Turning
// recovery off (JET_paramRecovery "Off") disables logging, and ESE refuses
// an external backup without logging (JET_errLoggingDisabled, -516); ending
// with JET_bitBackupEndAbort records nothing but is a failed backup.
var ErrNeedsWritable = errors.New("ESENT.DLL changes the instance it opens (JetInit3W replays and writes the logs, attaching writes the database headers, and a successful JetEndExternalBackupInstance2 records the backup in them); " +
	"pass --writable (source option writable=true) to allow that, or choose the pure-Go engine (esesnap --plugin-arg=--backend=engine), which reads the files at rest without changing them")

// RequireWritable is the check Open makes first: an instance that must
// stay untouched is refused with JET_errFileAccessDenied (-1032) before
// ESENT.DLL is called at all.
func RequireWritable(writable bool, logDir string) error {
	if writable {
		return nil
	}
	return &ese.Error{Code: ese.ErrFileAccessDenied, Op: "JetInit3W", File: logDir, Err: ErrNeedsWritable}
}
