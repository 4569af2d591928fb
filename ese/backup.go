package ese

// Handle is a JET_HANDLE of a file opened for backup. ESE has a single file
// slot, so the only valid handle is 0; 0 does not mean "no handle".
type Handle uintptr

// BaseNameLength is JET_BASE_NAME_LENGTH: log base names have exactly three
// characters ("edb", "SRU", "E00").
const BaseNameLength = 3

// LogInfo is JET_LOGINFO: the inclusive range of log generations a backup
// set holds and the base name of their files. It is the input of
// JetExternalRestore2.
type LogInfo struct {
	GenLow   uint32
	GenHigh  uint32
	BaseName string
}

// RstMap is one JET_RSTMAP entry: the database path as the backup named it
// and where the restored copy is placed.
type RstMap struct {
	DatabaseName    string
	NewDatabaseName string
}

// RestoreRequest carries the arguments of JetExternalRestore2.
type RestoreRequest struct {
	CheckpointDir string   // szCheckpointFilePath: where recovery keeps its checkpoint
	LogDir        string   // szLogPath: the log directory recovery writes to
	Map           []RstMap // rgrstmap
	BackupLogDir  string   // szBackupLogPath: the logs of the backup set
	LogInfo       LogInfo  // genLow of the full set .. genHigh of the last set applied
	// Progress, if set, is called like JET_PFNSTATUS with done out of total units.
	Progress func(done, total uint32)
}

// BackupAPI is the external backup API of one ESE instance, one method per
// JetXxxInstance call, with ESE's state machine and JET_err codes. Errors are
// *Error values (or nil). ese/engine implements it over files at rest,
// ese/esent over ESENT.DLL.
type BackupAPI interface {
	// BeginExternalBackup is JetBeginExternalBackupInstance: grbit 0 (full)
	// or BackupIncremental.
	BeginExternalBackup(grbit Grbit) error
	// GetAttachInfo is JetGetAttachInfoInstanceW: the databases to stream.
	GetAttachInfo() ([]string, error)
	// OpenFile is JetOpenFileInstanceW; size is the stream length in bytes
	// ((pgnoLast+3)*cbPage for a database).
	OpenFile(name string) (h Handle, size int64, err error)
	// ReadFile is JetReadFileInstance. buf must be 4 KiB-aligned and a
	// multiple of the page size; n == 0 with a nil error is end of file.
	ReadFile(h Handle, buf []byte) (n int, err error)
	// CloseFile is JetCloseFileInstance.
	CloseFile(h Handle) error
	// GetLogInfo is JetGetLogInfoInstance2W: the logs to stream and their
	// range. The first call of a session rolls the log.
	GetLogInfo() ([]string, LogInfo, error)
	// GetTruncateLogInfo is JetGetTruncateLogInfoInstanceW: the logs
	// TruncateLog would delete.
	GetTruncateLogInfo() ([]string, error)
	// TruncateLog is JetTruncateLogInstance.
	TruncateLog() error
	// EndExternalBackup is JetEndExternalBackupInstance2.
	EndExternalBackup(grbit Grbit) error
	// StopBackup is JetStopBackupInstance: the application asks the running
	// backup to stop; later calls of the session fail with
	// JET_errBackupAbortByServer.
	StopBackup() error
	// ExternalRestore is JetExternalRestore2W: stage a backup set for hard
	// recovery.
	ExternalRestore(req RestoreRequest) error
}

// EndOutcome is how a JetEndExternalBackupInstance2 call classified the
// end of its session. ESE returns success for all three, so the code alone
// does not say whether the backup counts.
type EndOutcome int

// End outcomes (§4.8 of the API notes).
const (
	// EndNormal: a normal end; the backup is recorded unless the instance
	// is read-only or JET_bitBackupNoDbHeaderUpdate was given.
	EndNormal EndOutcome = iota + 1
	// EndAbortedByCaller: ended with JET_bitBackupEndAbort, or ended normal
	// while a full backup was still in its database phase.
	EndAbortedByCaller
	// EndAbortedByServer: ended normal after the application called
	// JetStopBackupInstance; nothing is recorded.
	EndAbortedByServer
)

func (o EndOutcome) String() string {
	switch o {
	case EndNormal:
		return "normal"
	case EndAbortedByCaller:
		return "aborted by caller"
	case EndAbortedByServer:
		return "aborted by server"
	}
	return "unknown"
}

// EndReport says what the last JetEndExternalBackupInstance2 of an instance
// did beyond its return code: ESE returns success for a session the
// application stopped and for a header update that failed, so a driver
// that must tell the host the truth asks for it.
type EndReport struct {
	// Outcome is how the end was classified; 0 when no End succeeded yet.
	Outcome EndOutcome
	// Recorded is the header field the backup was written to
	// ("bkinfoFullPrev", ...); empty when no header records the backup.
	Recorded string
	// Databases lists the databases whose headers now record the backup.
	Databases []string
	// Err is why recording the backup failed, with the file; nil otherwise.
	Err error
}

// EndReporter is implemented by BackupAPIs that can say what their last
// EndExternalBackup did (ese/engine does; ESENT cannot be asked).
type EndReporter interface {
	LastEnd() EndReport
}
