package ese

// Grbit is a JET_GRBIT: a set of option bits passed to an ESE call.
type Grbit uint32

// Grbits of JetBeginExternalBackupInstance. ESE accepts only 0 (full) and
// BackupIncremental on the public path; BackupAtomic and BackupSnapshot are
// rejected with JET_errInvalidGrbit.
const (
	BackupIncremental    Grbit = 0x1  // JET_bitBackupIncremental
	BackupKeepOldLogs    Grbit = 0x2  // JET_bitKeepOldLogs (never accepted)
	BackupAtomic         Grbit = 0x4  // JET_bitBackupAtomic (rejected)
	BackupFullWithAllLog Grbit = 0x8  // JET_bitBackupFullWithAllLogs (never accepted)
	BackupSnapshot       Grbit = 0x10 // JET_bitBackupSnapshot (reserved, rejected)
	BackupSurrogate      Grbit = 0x20 // JET_bitBackupSurrogate (JetBeginSurrogateBackup only)
	BackupInternalCopy   Grbit = 0x40 // JET_bitInternalCopy (HA seeding only)
)

// Grbits of JetEndExternalBackupInstance2. Exactly one of BackupEndNormal
// and BackupEndAbort must be set.
const (
	BackupEndNormal          Grbit = 0x0001 // JET_bitBackupEndNormal
	BackupEndAbort           Grbit = 0x0002 // JET_bitBackupEndAbort
	BackupTruncateDone       Grbit = 0x0100 // JET_bitBackupTruncateDone: the client truncated the logs itself
	BackupNoDbHeaderUpdate   Grbit = 0x0200 // JET_bitBackupNoDbHeaderUpdate (private): skip header bookkeeping
	beginAcceptedGrbitsValue Grbit = BackupIncremental | BackupSurrogate | BackupInternalCopy
)

// BeginAcceptedGrbits is the mask of Begin grbits that ESE does not reject
// with JET_errInvalidGrbit.
const BeginAcceptedGrbits = beginAcceptedGrbitsValue

// Grbits of JetTerm2 and JetStopServiceInstance2.
const (
	TermComplete    Grbit = 0x1 // JET_bitTermComplete
	TermAbrupt      Grbit = 0x2 // JET_bitTermAbrupt
	TermStopBackup  Grbit = 0x4 // JET_bitTermStopBackup
	TermDirty       Grbit = 0x8 // JET_bitTermDirty
	StopServiceAll  Grbit = 0x0 // JET_bitStopServiceAll
	StopServiceBgnd Grbit = 0x2 // JET_bitStopServiceBackgroundUserTasks
)

// BKInfoType is the type companion of a BKINFO record in the database header.
type BKInfoType uint32

// BKINFO types as ESE stores them.
const (
	BKInfoNormal     BKInfoType = 0 // streaming (external API) backup
	BKInfoOSSnapshot BKInfoType = 1 // VSS
	BKInfoSnapshot   BKInfoType = 2
	BKInfoSurrogate  BKInfoType = 3
)
