package ese

import "google.golang.org/grpc/codes"

// GRPCCode returns the gRPC status code that carries JET_err c across the
// plugin boundary; protocol.ToStatus asks the error for it (protocol.Coded),
// so the protocol itself holds no JET_err table. Every code maps through one table (below); errors it does
// not list are engine faults or belong to APIs the backup path never calls,
// and map to Internal. Success and warnings (c >= 0) map to OK: a warning
// never becomes a failure, it travels in a response's warnings instead.
//
// The codes follow gRPC's own guidance, so a host can act on the code alone:
//   - FailedPrecondition: the call is wrong for the state of the session or
//     the instance (NoBackup, InvalidBackupSequence, MissingFullBackup...);
//     repeating it changes nothing until someone fixes the cause.
//   - AlreadyExists: another backup or snapshot holds the instance
//     (BackupInProgress, SurrogateBackupInProgress, OSSnapshotNotAllowed).
//     This is not FailedPrecondition, because nothing is wrong with the
//     caller's own session: waiting for the other backup and beginning
//     again works, and Retryable says so.
//   - Aborted: the session or operation was ended by someone else or by a
//     conflict (BackupAbortByServer after JetStopBackup, write conflicts);
//     only a new session can continue.
//   - DataLoss: data is damaged or missing (page and log checksum failures,
//     missing logs, corrupt structures). The backup must not count.
//   - Unavailable: the instance or storage is going away, not ready, or
//     failing transiently (TermInProgress, ClientRequestToStopJetService,
//     NotInitialized, DiskIO).
//   - InvalidArgument, NotFound, PermissionDenied, ResourceExhausted,
//     Unimplemented, OutOfRange: as their names say.
//
// Canceled and DeadlineExceeded are never used for a JET_err: they stay
// reserved for context cancellation, which protocol.ToStatus maps itself.
func (c Code) GRPCCode() codes.Code {
	if c >= 0 {
		return codes.OK
	}
	if m, ok := jetErrTable[c]; ok {
		return m.code
	}
	return codes.Internal
}

// Retryable reports whether the condition behind JET_err c is expected to
// clear without anyone fixing anything (another backup finishing, the
// instance coming back, memory or I/O pressure easing), so that a host may
// retry after a delay. It is false for unknown codes, success and warnings.
func (c Code) Retryable() bool {
	return jetErrTable[c].retryable
}

// jetErrMapping is one row of jetErrTable.
type jetErrMapping struct {
	code      codes.Code
	retryable bool
}

// Values of jetErrMapping.retryable, named for readability of the table.
const (
	retry   = true
	noRetry = false
)

// jetErrTable is the one mapping from JET_err to gRPC code. Keys are the
// canonical codes of Codes (aliases share their value). Rows are grouped
// by gRPC code; backup and restore codes come first in each group.
var jetErrTable = map[Code]jetErrMapping{
	// FailedPrecondition: wrong call for the state of the session, the
	// instance or the files.
	ErrNoBackup:                                             {codes.FailedPrecondition, noRetry},
	ErrInvalidBackupSequence:                                {codes.FailedPrecondition, noRetry},
	ErrLogFileNotCopied:                                     {codes.FailedPrecondition, noRetry},
	ErrMissingFullBackup:                                    {codes.FailedPrecondition, noRetry},
	ErrInvalidBackup:                                        {codes.FailedPrecondition, noRetry},
	ErrLoggingDisabled:                                      {codes.FailedPrecondition, noRetry},
	ErrBackupDirectoryNotEmpty:                              {codes.FailedPrecondition, noRetry},
	ErrDatabaseAttachedForRecovery:                          {codes.FailedPrecondition, noRetry},
	ErrOSSnapshotInvalidSequence:                            {codes.FailedPrecondition, noRetry},
	ErrRestoreOfNonBackupDatabase:                           {codes.FailedPrecondition, noRetry},
	ErrSoftRecoveryOnBackupDatabase:                         {codes.FailedPrecondition, noRetry},
	ErrSoftRecoveryOnSnapshot:                               {codes.FailedPrecondition, noRetry},
	ErrBadRestoreTargetInstance:                             {codes.FailedPrecondition, noRetry},
	ErrAfterInitialization:                                  {codes.FailedPrecondition, noRetry},
	ErrRunningInOneInstanceMode:                             {codes.FailedPrecondition, noRetry},
	ErrRunningInMultiInstanceMode:                           {codes.FailedPrecondition, noRetry},
	ErrDatabasesNotFromSameSnapshot:                         {codes.FailedPrecondition, noRetry},
	ErrRecoveredWithoutUndo:                                 {codes.FailedPrecondition, noRetry},
	ErrRecoveredWithoutUndoDatabasesConsistent:              {codes.FailedPrecondition, noRetry},
	ErrDatabaseDirtyShutdown:                                {codes.FailedPrecondition, noRetry},
	ErrDirtyShutdown:                                        {codes.FailedPrecondition, noRetry},
	ErrDatabaseInUse:                                        {codes.FailedPrecondition, noRetry},
	ErrDatabaseSharingViolation:                             {codes.FailedPrecondition, noRetry},
	ErrAttachedDatabaseMismatch:                             {codes.FailedPrecondition, noRetry},
	ErrPartiallyAttachedDB:                                  {codes.FailedPrecondition, noRetry},
	ErrForceDetachNotAllowed:                                {codes.FailedPrecondition, noRetry},
	ErrPageSizeMismatch:                                     {codes.FailedPrecondition, noRetry},
	ErrLogFileSizeMismatch:                                  {codes.FailedPrecondition, noRetry},
	ErrLogFileSizeMismatchDatabasesConsistent:               {codes.FailedPrecondition, noRetry},
	ErrLogSectorSizeMismatch:                                {codes.FailedPrecondition, noRetry},
	ErrLogSectorSizeMismatchDatabasesConsistent:             {codes.FailedPrecondition, noRetry},
	ErrLogSequenceEndDatabasesConsistent:                    {codes.FailedPrecondition, noRetry},
	ErrBadLogVersion:                                        {codes.FailedPrecondition, noRetry},
	ErrInvalidDatabaseVersion:                               {codes.FailedPrecondition, noRetry},
	ErrDatabase200Format:                                    {codes.FailedPrecondition, noRetry},
	ErrDatabase400Format:                                    {codes.FailedPrecondition, noRetry},
	ErrDatabase500Format:                                    {codes.FailedPrecondition, noRetry},
	ErrDatabaseAlreadyUpgraded:                              {codes.FailedPrecondition, noRetry},
	ErrDatabaseIncompleteUpgrade:                            {codes.FailedPrecondition, noRetry},
	ErrMustDisableLoggingForDbUpgrade:                       {codes.FailedPrecondition, noRetry},
	ErrEngineFormatVersionNoLongerSupportedTooLow:           {codes.FailedPrecondition, noRetry},
	ErrEngineFormatVersionNotYetImplementedTooHigh:          {codes.FailedPrecondition, noRetry},
	ErrEngineFormatVersionParamTooLowForRequestedFeature:    {codes.FailedPrecondition, noRetry},
	ErrEngineFormatVersionSpecifiedTooLowForLogVersion:      {codes.FailedPrecondition, noRetry},
	ErrEngineFormatVersionSpecifiedTooLowForDatabaseVersion: {codes.FailedPrecondition, noRetry},
	ErrSectorSizeNotSupported:                               {codes.FailedPrecondition, noRetry},
	ErrAlreadyInitialized:                                   {codes.FailedPrecondition, noRetry},
	ErrSystemParamsAlreadySet:                               {codes.FailedPrecondition, noRetry},
	ErrInvalidOperation:                                     {codes.FailedPrecondition, noRetry},
	ErrIllegalOperation:                                     {codes.FailedPrecondition, noRetry},
	ErrDatabaseIncompleteIncrementalReseed:                  {codes.FailedPrecondition, noRetry},
	ErrDatabaseInvalidIncrementalReseed:                     {codes.FailedPrecondition, noRetry},
	ErrDatabaseIncompleteRevert:                             {codes.FailedPrecondition, noRetry},
	ErrRBSRCBadDbState:                                      {codes.FailedPrecondition, noRetry},
	ErrNotInTransaction:                                     {codes.FailedPrecondition, noRetry},
	ErrInTransaction:                                        {codes.FailedPrecondition, noRetry},
	ErrMustRollback:                                         {codes.FailedPrecondition, noRetry},
	ErrRollbackRequired:                                     {codes.FailedPrecondition, noRetry},
	ErrTransReadOnly:                                        {codes.FailedPrecondition, noRetry},
	ErrUpdateNotPrepared:                                    {codes.FailedPrecondition, noRetry},
	ErrAlreadyPrepared:                                      {codes.FailedPrecondition, noRetry},
	ErrKeyNotMade:                                           {codes.FailedPrecondition, noRetry},
	ErrNoCurrentRecord:                                      {codes.FailedPrecondition, noRetry},
	ErrNoCurrentIndex:                                       {codes.FailedPrecondition, noRetry},
	ErrSessionInUse:                                         {codes.FailedPrecondition, noRetry},
	ErrSessionSharingViolation:                              {codes.FailedPrecondition, noRetry},
	ErrSessionContextAlreadySet:                             {codes.FailedPrecondition, noRetry},
	ErrSessionContextNotSetByThisThread:                     {codes.FailedPrecondition, noRetry},
	ErrOneDatabasePerSession:                                {codes.FailedPrecondition, noRetry},
	ErrExclusiveTableLockRequired:                           {codes.FailedPrecondition, noRetry},
	ErrFixedDDL:                                             {codes.FailedPrecondition, noRetry},
	ErrFixedInheritedDDL:                                    {codes.FailedPrecondition, noRetry},
	ErrTableNotEmpty:                                        {codes.FailedPrecondition, noRetry},
	ErrContainerNotEmpty:                                    {codes.FailedPrecondition, noRetry},
	ErrTableInUse:                                           {codes.FailedPrecondition, noRetry},
	ErrIndexInUse:                                           {codes.FailedPrecondition, noRetry},
	ErrColumnInUse:                                          {codes.FailedPrecondition, noRetry},
	ErrUpdateMustVersion:                                    {codes.FailedPrecondition, noRetry},
	ErrCannotDisableVersioning:                              {codes.FailedPrecondition, noRetry},

	// AlreadyExists: another backup, snapshot or task already holds what
	// the call wanted to start; it ends by itself.
	ErrBackupInProgress:                      {codes.AlreadyExists, retry},
	ErrSurrogateBackupInProgress:             {codes.AlreadyExists, retry},
	ErrOSSnapshotNotAllowed:                  {codes.AlreadyExists, retry},
	ErrDatabaseAlreadyRunningMaintenance:     {codes.AlreadyExists, retry},
	ErrRootSpaceLeakEstimationAlreadyRunning: {codes.AlreadyExists, retry},
	// AlreadyExists: a name or object is taken.
	ErrFileAlreadyExists:                   {codes.AlreadyExists, noRetry},
	ErrInstanceNameInUse:                   {codes.AlreadyExists, noRetry},
	ErrSystemPathInUse:                     {codes.AlreadyExists, noRetry},
	ErrLogFilePathInUse:                    {codes.AlreadyExists, noRetry},
	ErrTempPathInUse:                       {codes.AlreadyExists, noRetry},
	ErrDatabaseDuplicate:                   {codes.AlreadyExists, noRetry},
	ErrDatabaseSignInUse:                   {codes.AlreadyExists, noRetry},
	ErrDatabaseIdInUse:                     {codes.AlreadyExists, noRetry},
	ErrTableDuplicate:                      {codes.AlreadyExists, noRetry},
	ErrIndexDuplicate:                      {codes.AlreadyExists, noRetry},
	ErrIndexHasPrimary:                     {codes.AlreadyExists, noRetry},
	ErrColumnDuplicate:                     {codes.AlreadyExists, noRetry},
	ErrObjectDuplicate:                     {codes.AlreadyExists, noRetry},
	ErrKeyDuplicate:                        {codes.AlreadyExists, noRetry},
	ErrMultiValuedDuplicate:                {codes.AlreadyExists, noRetry},
	ErrMultiValuedDuplicateAfterTruncation: {codes.AlreadyExists, noRetry},

	// Aborted: the session or operation was ended by someone else or lost
	// a conflict; a new session (or transaction) may succeed.
	ErrBackupAbortByServer:       {codes.Aborted, noRetry},
	ErrBackupAbortByCaller:       {codes.Aborted, noRetry},
	ErrOSSnapshotTimeOut:         {codes.Aborted, retry},
	ErrFileIOAbort:               {codes.Aborted, retry},
	ErrRBSRCRevertCancelled:      {codes.Aborted, noRetry},
	ErrDatabaseLocked:            {codes.Aborted, retry},
	ErrTableLocked:               {codes.Aborted, retry},
	ErrWriteConflict:             {codes.Aborted, retry},
	ErrWriteConflictPrimaryIndex: {codes.Aborted, retry},
	ErrSessionWriteConflict:      {codes.Aborted, retry},
	ErrDataHasChanged:            {codes.Aborted, retry},
	ErrBFLatchConflict:           {codes.Aborted, retry},
	ErrSPConflict:                {codes.Aborted, retry},

	// DataLoss: damaged pages and logs, and files a backup or restore needs
	// that are gone. Never retryable: the data will not heal itself.
	ErrReadVerifyFailure:                    {codes.DataLoss, noRetry},
	ErrReadPgnoVerifyFailure:                {codes.DataLoss, noRetry},
	ErrReadLostFlushVerifyFailure:           {codes.DataLoss, noRetry},
	ErrDiskReadVerificationFailure:          {codes.DataLoss, noRetry},
	ErrLogReadVerifyFailure:                 {codes.DataLoss, noRetry},
	ErrMissingLogFile:                       {codes.DataLoss, noRetry},
	ErrMissingPreviousLogFile:               {codes.DataLoss, noRetry},
	ErrMissingFileToBackup:                  {codes.DataLoss, noRetry},
	ErrRequiredLogFilesMissing:              {codes.DataLoss, noRetry},
	ErrMissingRestoreLogFiles:               {codes.DataLoss, noRetry},
	ErrMissingCurrentLogFiles:               {codes.DataLoss, noRetry},
	ErrCommittedLogFilesMissing:             {codes.DataLoss, noRetry},
	ErrCommittedLogFileCorrupt:              {codes.DataLoss, noRetry},
	ErrPatchFileMissing:                     {codes.DataLoss, noRetry},
	ErrMissingPatchPage:                     {codes.DataLoss, noRetry},
	ErrBadPatchPage:                         {codes.DataLoss, noRetry},
	ErrLogFileCorrupt:                       {codes.DataLoss, noRetry},
	ErrLogCorrupted:                         {codes.DataLoss, noRetry},
	ErrLogGenerationMismatch:                {codes.DataLoss, noRetry},
	ErrBadLogSignature:                      {codes.DataLoss, noRetry},
	ErrBadDbSignature:                       {codes.DataLoss, noRetry},
	ErrBadCheckpointSignature:               {codes.DataLoss, noRetry},
	ErrCheckpointCorrupt:                    {codes.DataLoss, noRetry},
	ErrRedoAbruptEnded:                      {codes.DataLoss, noRetry},
	ErrDatabaseLogSetMismatch:               {codes.DataLoss, noRetry},
	ErrDatabaseStreamingFileMismatch:        {codes.DataLoss, noRetry},
	ErrConsistentTimeMismatch:               {codes.DataLoss, noRetry},
	ErrDatabasePatchFileMismatch:            {codes.DataLoss, noRetry},
	ErrGivenLogFileHasBadSignature:          {codes.DataLoss, noRetry},
	ErrGivenLogFileIsNotContiguous:          {codes.DataLoss, noRetry},
	ErrExistingLogFileHasBadSignature:       {codes.DataLoss, noRetry},
	ErrExistingLogFileIsNotContiguous:       {codes.DataLoss, noRetry},
	ErrBadBackupDatabaseSize:                {codes.DataLoss, noRetry},
	ErrLogTornWriteDuringHardRestore:        {codes.DataLoss, noRetry},
	ErrLogTornWriteDuringHardRecovery:       {codes.DataLoss, noRetry},
	ErrLogCorruptDuringHardRestore:          {codes.DataLoss, noRetry},
	ErrLogCorruptDuringHardRecovery:         {codes.DataLoss, noRetry},
	ErrLogSequenceChecksumMismatch:          {codes.DataLoss, noRetry},
	ErrDbTimeTooOld:                         {codes.DataLoss, noRetry},
	ErrDbTimeTooNew:                         {codes.DataLoss, noRetry},
	ErrDbTimeBeyondMaxRequired:              {codes.DataLoss, noRetry},
	ErrLogOperationInconsistentWithDatabase: {codes.DataLoss, noRetry},
	ErrPageInitializedMismatch:              {codes.DataLoss, noRetry},
	ErrPageNotInitialized:                   {codes.DataLoss, noRetry},
	ErrRecoveryVerifyFailure:                {codes.DataLoss, noRetry},
	ErrDatabaseCorrupted:                    {codes.DataLoss, noRetry},
	ErrDatabaseCorruptedNoRepair:            {codes.DataLoss, noRetry},
	ErrCatalogCorrupted:                     {codes.DataLoss, noRetry},
	ErrFileSystemCorruption:                 {codes.DataLoss, noRetry},
	ErrDatabaseBufferDependenciesCorrupted:  {codes.DataLoss, noRetry},
	ErrBadPageLink:                          {codes.DataLoss, noRetry},
	ErrBadParentPageLink:                    {codes.DataLoss, noRetry},
	ErrSPAvailExtCacheOutOfSync:             {codes.DataLoss, noRetry},
	ErrSPAvailExtCorrupted:                  {codes.DataLoss, noRetry},
	ErrSPOwnExtCorrupted:                    {codes.DataLoss, noRetry},
	ErrDbTimeCorrupted:                      {codes.DataLoss, noRetry},
	ErrBadEmptyPage:                         {codes.DataLoss, noRetry},
	ErrBadLineCount:                         {codes.DataLoss, noRetry},
	ErrPageTagCorrupted:                     {codes.DataLoss, noRetry},
	ErrNodeCorrupted:                        {codes.DataLoss, noRetry},
	ErrCompressionIntegrityCheckFailed:      {codes.DataLoss, noRetry},
	ErrDecompressionFailed:                  {codes.DataLoss, noRetry},
	ErrLVCorrupted:                          {codes.DataLoss, noRetry},
	ErrDerivedColumnCorruption:              {codes.DataLoss, noRetry},
	ErrIndexBuildCorrupted:                  {codes.DataLoss, noRetry},
	ErrPrimaryIndexCorrupted:                {codes.DataLoss, noRetry},
	ErrSecondaryIndexCorrupted:              {codes.DataLoss, noRetry},
	ErrFlushMapUnrecoverable:                {codes.DataLoss, noRetry},
	ErrRBSFileCorrupt:                       {codes.DataLoss, noRetry},
	ErrRBSHeaderCorrupt:                     {codes.DataLoss, noRetry},
	ErrRBSRCPageFDPDeleteFileCorrupt:        {codes.DataLoss, noRetry},
	// A restore that skipped or failed some databases left data behind.
	ErrRecoveredWithErrors: {codes.DataLoss, noRetry},

	// Unavailable: the instance or its storage is stopping, not ready, or
	// failing for the moment.
	ErrClientRequestToStopJetService:      {codes.Unavailable, retry},
	ErrTermInProgress:                     {codes.Unavailable, retry},
	ErrNotInitialized:                     {codes.Unavailable, retry},
	ErrInitInProgress:                     {codes.Unavailable, retry},
	ErrRestoreInProgress:                  {codes.Unavailable, retry},
	ErrBackupNotAllowedYet:                {codes.Unavailable, retry},
	ErrDatabaseNotReady:                   {codes.Unavailable, retry},
	ErrTransactionsNotReadyDuringRecovery: {codes.Unavailable, retry},
	ErrDiskIO:                             {codes.Unavailable, retry},
	ErrFileIOFail:                         {codes.Unavailable, retry},
	ErrFileIORetry:                        {codes.Unavailable, retry},
	ErrDeviceTimeout:                      {codes.Unavailable, retry},
	ErrDeviceBusy:                         {codes.Unavailable, retry},
	ErrDiskTilt:                           {codes.Unavailable, retry},
	// Unavailable until someone restarts the instance or repairs storage.
	ErrInstanceUnavailable:             {codes.Unavailable, noRetry},
	ErrDatabaseUnavailable:             {codes.Unavailable, noRetry},
	ErrLogWriteFail:                    {codes.Unavailable, noRetry},
	ErrLogDisabledDueToRecoveryFailure: {codes.Unavailable, noRetry},
	ErrLogServiceStopped:               {codes.Unavailable, noRetry},
	ErrDeviceMissing:                   {codes.Unavailable, noRetry},
	ErrDeviceMisconfigured:             {codes.Unavailable, noRetry},
	ErrDeviceFailure:                   {codes.Unavailable, noRetry},

	// InvalidArgument: a parameter is wrong whatever the state.
	ErrInvalidParameter:                     {codes.InvalidArgument, noRetry},
	ErrInvalidGrbit:                         {codes.InvalidArgument, noRetry},
	ErrInvalidPath:                          {codes.InvalidArgument, noRetry},
	ErrInvalidSystemPath:                    {codes.InvalidArgument, noRetry},
	ErrInvalidLogDirectory:                  {codes.InvalidArgument, noRetry},
	ErrInvalidName:                          {codes.InvalidArgument, noRetry},
	ErrInvalidFilename:                      {codes.InvalidArgument, noRetry},
	ErrDatabaseInvalidName:                  {codes.InvalidArgument, noRetry},
	ErrDatabaseInvalidPath:                  {codes.InvalidArgument, noRetry},
	ErrNoBackupDirectory:                    {codes.InvalidArgument, noRetry},
	ErrInvalidInstance:                      {codes.InvalidArgument, noRetry},
	ErrInvalidDatabase:                      {codes.InvalidArgument, noRetry},
	ErrFileInvalidType:                      {codes.InvalidArgument, noRetry},
	ErrEndingRestoreLogTooLow:               {codes.InvalidArgument, noRetry},
	ErrStartingRestoreLogTooHigh:            {codes.InvalidArgument, noRetry},
	ErrOSSnapshotInvalidSnapId:              {codes.InvalidArgument, noRetry},
	ErrUnicodeTranslationFail:               {codes.InvalidArgument, noRetry},
	ErrInvalidSettings:                      {codes.InvalidArgument, noRetry},
	ErrInvalidSesid:                         {codes.InvalidArgument, noRetry},
	ErrInvalidSesparamId:                    {codes.InvalidArgument, noRetry},
	ErrInvalidDbparamId:                     {codes.InvalidArgument, noRetry},
	ErrInvalidDatabaseId:                    {codes.InvalidArgument, noRetry},
	ErrInvalidTableId:                       {codes.InvalidArgument, noRetry},
	ErrInvalidIndexId:                       {codes.InvalidArgument, noRetry},
	ErrInvalidObject:                        {codes.InvalidArgument, noRetry},
	ErrInvalidBookmark:                      {codes.InvalidArgument, noRetry},
	ErrInvalidBufferSize:                    {codes.InvalidArgument, noRetry},
	ErrInvalidCountry:                       {codes.InvalidArgument, noRetry},
	ErrInvalidLanguageId:                    {codes.InvalidArgument, noRetry},
	ErrInvalidCodePage:                      {codes.InvalidArgument, noRetry},
	ErrInvalidLCMapStringFlags:              {codes.InvalidArgument, noRetry},
	ErrInvalidColumnType:                    {codes.InvalidArgument, noRetry},
	ErrInvalidCreateIndex:                   {codes.InvalidArgument, noRetry},
	ErrIndexInvalidDef:                      {codes.InvalidArgument, noRetry},
	ErrInvalidLVChunkSize:                   {codes.InvalidArgument, noRetry},
	ErrInvalidPreread:                       {codes.InvalidArgument, noRetry},
	ErrInvalidColumnReference:               {codes.InvalidArgument, noRetry},
	ErrInvalidPlaceholderColumn:             {codes.InvalidArgument, noRetry},
	ErrInvalidCreateDbVersion:               {codes.InvalidArgument, noRetry},
	ErrDatabaseInvalidPages:                 {codes.InvalidArgument, noRetry},
	ErrSpaceHintsInvalid:                    {codes.InvalidArgument, noRetry},
	ErrDensityInvalid:                       {codes.InvalidArgument, noRetry},
	ErrBadColumnId:                          {codes.InvalidArgument, noRetry},
	ErrBadItagSequence:                      {codes.InvalidArgument, noRetry},
	ErrNullInvalid:                          {codes.InvalidArgument, noRetry},
	ErrKeyTooBig:                            {codes.InvalidArgument, noRetry},
	ErrRecordTooBig:                         {codes.InvalidArgument, noRetry},
	ErrRecordTooBigForBackwardCompatibility: {codes.InvalidArgument, noRetry},
	ErrColumnTooBig:                         {codes.InvalidArgument, noRetry},
	ErrDefaultValueTooBig:                   {codes.InvalidArgument, noRetry},
	ErrVersionStoreEntryTooBig:              {codes.InvalidArgument, noRetry},
	ErrSetAutoIncrementTooHigh:              {codes.InvalidArgument, noRetry},

	// NotFound: a file, database or object the call names does not exist.
	// FileNotFound is also what ESE returns when no archived log is on disk.
	ErrFileNotFound:           {codes.NotFound, noRetry},
	ErrDatabaseNotFound:       {codes.NotFound, noRetry},
	ErrCheckpointFileNotFound: {codes.NotFound, noRetry},
	ErrRBSRCNoRBSFound:        {codes.NotFound, noRetry},
	ErrObjectNotFound:         {codes.NotFound, noRetry},
	ErrIndexNotFound:          {codes.NotFound, noRetry},
	ErrColumnNotFound:         {codes.NotFound, noRetry},
	ErrRecordNotFound:         {codes.NotFound, noRetry},
	ErrNotFound:               {codes.NotFound, noRetry},

	// PermissionDenied: the operating system or engine refused access.
	ErrFileAccessDenied:     {codes.PermissionDenied, noRetry},
	ErrPermissionDenied:     {codes.PermissionDenied, noRetry},
	ErrAccessDenied:         {codes.PermissionDenied, noRetry},
	ErrDatabaseFileReadOnly: {codes.PermissionDenied, noRetry},

	// ResourceExhausted: memory, handles, disk space or a counter ran out.
	// Memory, buffers, threads, I/O slots and the version store free up by
	// themselves; limits and full disks do not. In a backup session
	// OutOfMemory also reports a second open file, a host bug that a retry
	// of the whole backup avoids.
	ErrOutOfMemory:             {codes.ResourceExhausted, retry},
	ErrOutOfBuffers:            {codes.ResourceExhausted, retry},
	ErrOutOfThreads:            {codes.ResourceExhausted, retry},
	ErrTooManyIO:               {codes.ResourceExhausted, retry},
	ErrVersionStoreOutOfMemory: {codes.ResourceExhausted, retry},
	ErrVersionStoreOutOfMemoryAndCleanupTimedOut: {codes.ResourceExhausted, retry},
	ErrCheckpointDepthTooDeep:                    {codes.ResourceExhausted, retry},
	ErrOutOfSessions:                             {codes.ResourceExhausted, retry},
	ErrTooManyActiveUsers:                        {codes.ResourceExhausted, retry},
	ErrDiskFull:                                  {codes.ResourceExhausted, noRetry},
	ErrLogDiskFull:                               {codes.ResourceExhausted, noRetry},
	ErrInstanceUnavailableDueToFatalLogDiskFull:  {codes.ResourceExhausted, noRetry},
	ErrOutOfDatabaseSpace:                        {codes.ResourceExhausted, noRetry},
	ErrOutOfFileHandles:                          {codes.ResourceExhausted, noRetry},
	ErrLogSequenceEnd:                            {codes.ResourceExhausted, noRetry},
	ErrLogBufferTooSmall:                         {codes.ResourceExhausted, noRetry},
	ErrTransactionTooLong:                        {codes.ResourceExhausted, noRetry},
	ErrSPAvailExtCacheOutOfMemory:                {codes.ResourceExhausted, noRetry},
	ErrCurrencyStackOutOfMemory:                  {codes.ResourceExhausted, noRetry},
	ErrTooManyMempoolEntries:                     {codes.ResourceExhausted, noRetry},
	ErrOutOfCursors:                              {codes.ResourceExhausted, noRetry},
	ErrOutOfObjectIDs:                            {codes.ResourceExhausted, noRetry},
	ErrOutOfLongValueIDs:                         {codes.ResourceExhausted, noRetry},
	ErrOutOfAutoincrementValues:                  {codes.ResourceExhausted, noRetry},
	ErrOutOfDbtimeValues:                         {codes.ResourceExhausted, noRetry},
	ErrOutOfSequentialIndexValues:                {codes.ResourceExhausted, noRetry},
	ErrOutOfRBSSpace:                             {codes.ResourceExhausted, noRetry},
	ErrTooManyInstances:                          {codes.ResourceExhausted, noRetry},
	ErrTooManyOpenDatabases:                      {codes.ResourceExhausted, noRetry},
	ErrTooManyAttachedDatabases:                  {codes.ResourceExhausted, noRetry},
	ErrTooManyOpenTables:                         {codes.ResourceExhausted, noRetry},
	ErrTooManyOpenTablesAndCleanupTimedOut:       {codes.ResourceExhausted, noRetry},
	ErrTooManyOpenIndexes:                        {codes.ResourceExhausted, noRetry},
	ErrTooManySorts:                              {codes.ResourceExhausted, noRetry},
	ErrTooManyIndexes:                            {codes.ResourceExhausted, noRetry},
	ErrTooManyKeys:                               {codes.ResourceExhausted, noRetry},
	ErrTooManyColumns:                            {codes.ResourceExhausted, noRetry},
	ErrTooManyRecords:                            {codes.ResourceExhausted, noRetry},
	ErrTooManySplits:                             {codes.ResourceExhausted, noRetry},
	ErrTooManyTestInjections:                     {codes.ResourceExhausted, noRetry},

	// Unimplemented: the engine or this configuration lacks the feature.
	WrnNyi:                              {codes.Unimplemented, noRetry},
	ErrFeatureNotAvailable:              {codes.Unimplemented, noRetry},
	ErrDisabledFunctionality:            {codes.Unimplemented, noRetry},
	ErrUnloadableOSFunctionality:        {codes.Unimplemented, noRetry},
	ErrEntryPointNotFound:               {codes.Unimplemented, noRetry},
	ErrUnicodeNormalizationNotSupported: {codes.Unimplemented, noRetry},
	ErrLanguageNotSupported:             {codes.Unimplemented, noRetry},
	ErrQueryNotSupported:                {codes.Unimplemented, noRetry},
	ErrSQLLinkNotSupported:              {codes.Unimplemented, noRetry},
	ErrLinkNotSupported:                 {codes.Unimplemented, noRetry},
	ErrFilteredMoveNotSupported:         {codes.Unimplemented, noRetry},
	ErrTestInjectionNotSupported:        {codes.Unimplemented, noRetry},

	// Internal, listed to say it on purpose: engine bugs, and buffer sizing,
	// which the bindings handle themselves, so that it surfacing is a bug.
	ErrInternalError:                    {codes.Internal, noRetry},
	ErrCodeInconsistency:                {codes.Internal, noRetry},
	ErrBufferTooSmall:                   {codes.Internal, noRetry},
	ErrUnicodeTranslationBufferTooSmall: {codes.Internal, noRetry},

	// OutOfRange: a position past the end of a file, tree or value.
	ErrFileIOBeyondEOF: {codes.OutOfRange, noRetry},
	ErrPageBoundary:    {codes.OutOfRange, noRetry},
	ErrKeyBoundary:     {codes.OutOfRange, noRetry},
	ErrColumnNoChunk:   {codes.OutOfRange, noRetry},
}
