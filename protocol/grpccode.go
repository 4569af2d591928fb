package protocol

import (
	"github.com/esesnap/esesnap/ese"
	"google.golang.org/grpc/codes"
)

// GRPCCode returns the gRPC status code that carries JET_err c across the
// plugin boundary. Every code maps through one table (below); errors it does
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
// reserved for context cancellation, which ToStatus maps itself.
func GRPCCode(c ese.Code) codes.Code {
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
func Retryable(c ese.Code) bool {
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
// canonical codes of ese.Codes (aliases share their value). Rows are grouped
// by gRPC code; backup and restore codes come first in each group.
var jetErrTable = map[ese.Code]jetErrMapping{
	// FailedPrecondition: wrong call for the state of the session, the
	// instance or the files.
	ese.ErrNoBackup:                                             {codes.FailedPrecondition, noRetry},
	ese.ErrInvalidBackupSequence:                                {codes.FailedPrecondition, noRetry},
	ese.ErrLogFileNotCopied:                                     {codes.FailedPrecondition, noRetry},
	ese.ErrMissingFullBackup:                                    {codes.FailedPrecondition, noRetry},
	ese.ErrInvalidBackup:                                        {codes.FailedPrecondition, noRetry},
	ese.ErrLoggingDisabled:                                      {codes.FailedPrecondition, noRetry},
	ese.ErrBackupDirectoryNotEmpty:                              {codes.FailedPrecondition, noRetry},
	ese.ErrDatabaseAttachedForRecovery:                          {codes.FailedPrecondition, noRetry},
	ese.ErrOSSnapshotInvalidSequence:                            {codes.FailedPrecondition, noRetry},
	ese.ErrRestoreOfNonBackupDatabase:                           {codes.FailedPrecondition, noRetry},
	ese.ErrSoftRecoveryOnBackupDatabase:                         {codes.FailedPrecondition, noRetry},
	ese.ErrSoftRecoveryOnSnapshot:                               {codes.FailedPrecondition, noRetry},
	ese.ErrBadRestoreTargetInstance:                             {codes.FailedPrecondition, noRetry},
	ese.ErrAfterInitialization:                                  {codes.FailedPrecondition, noRetry},
	ese.ErrRunningInOneInstanceMode:                             {codes.FailedPrecondition, noRetry},
	ese.ErrRunningInMultiInstanceMode:                           {codes.FailedPrecondition, noRetry},
	ese.ErrDatabasesNotFromSameSnapshot:                         {codes.FailedPrecondition, noRetry},
	ese.ErrRecoveredWithoutUndo:                                 {codes.FailedPrecondition, noRetry},
	ese.ErrRecoveredWithoutUndoDatabasesConsistent:              {codes.FailedPrecondition, noRetry},
	ese.ErrDatabaseDirtyShutdown:                                {codes.FailedPrecondition, noRetry},
	ese.ErrDirtyShutdown:                                        {codes.FailedPrecondition, noRetry},
	ese.ErrDatabaseInUse:                                        {codes.FailedPrecondition, noRetry},
	ese.ErrDatabaseSharingViolation:                             {codes.FailedPrecondition, noRetry},
	ese.ErrAttachedDatabaseMismatch:                             {codes.FailedPrecondition, noRetry},
	ese.ErrPartiallyAttachedDB:                                  {codes.FailedPrecondition, noRetry},
	ese.ErrForceDetachNotAllowed:                                {codes.FailedPrecondition, noRetry},
	ese.ErrPageSizeMismatch:                                     {codes.FailedPrecondition, noRetry},
	ese.ErrLogFileSizeMismatch:                                  {codes.FailedPrecondition, noRetry},
	ese.ErrLogFileSizeMismatchDatabasesConsistent:               {codes.FailedPrecondition, noRetry},
	ese.ErrLogSectorSizeMismatch:                                {codes.FailedPrecondition, noRetry},
	ese.ErrLogSectorSizeMismatchDatabasesConsistent:             {codes.FailedPrecondition, noRetry},
	ese.ErrLogSequenceEndDatabasesConsistent:                    {codes.FailedPrecondition, noRetry},
	ese.ErrBadLogVersion:                                        {codes.FailedPrecondition, noRetry},
	ese.ErrInvalidDatabaseVersion:                               {codes.FailedPrecondition, noRetry},
	ese.ErrDatabase200Format:                                    {codes.FailedPrecondition, noRetry},
	ese.ErrDatabase400Format:                                    {codes.FailedPrecondition, noRetry},
	ese.ErrDatabase500Format:                                    {codes.FailedPrecondition, noRetry},
	ese.ErrDatabaseAlreadyUpgraded:                              {codes.FailedPrecondition, noRetry},
	ese.ErrDatabaseIncompleteUpgrade:                            {codes.FailedPrecondition, noRetry},
	ese.ErrMustDisableLoggingForDbUpgrade:                       {codes.FailedPrecondition, noRetry},
	ese.ErrEngineFormatVersionNoLongerSupportedTooLow:           {codes.FailedPrecondition, noRetry},
	ese.ErrEngineFormatVersionNotYetImplementedTooHigh:          {codes.FailedPrecondition, noRetry},
	ese.ErrEngineFormatVersionParamTooLowForRequestedFeature:    {codes.FailedPrecondition, noRetry},
	ese.ErrEngineFormatVersionSpecifiedTooLowForLogVersion:      {codes.FailedPrecondition, noRetry},
	ese.ErrEngineFormatVersionSpecifiedTooLowForDatabaseVersion: {codes.FailedPrecondition, noRetry},
	ese.ErrSectorSizeNotSupported:                               {codes.FailedPrecondition, noRetry},
	ese.ErrAlreadyInitialized:                                   {codes.FailedPrecondition, noRetry},
	ese.ErrSystemParamsAlreadySet:                               {codes.FailedPrecondition, noRetry},
	ese.ErrInvalidOperation:                                     {codes.FailedPrecondition, noRetry},
	ese.ErrIllegalOperation:                                     {codes.FailedPrecondition, noRetry},
	ese.ErrDatabaseIncompleteIncrementalReseed:                  {codes.FailedPrecondition, noRetry},
	ese.ErrDatabaseInvalidIncrementalReseed:                     {codes.FailedPrecondition, noRetry},
	ese.ErrDatabaseIncompleteRevert:                             {codes.FailedPrecondition, noRetry},
	ese.ErrRBSRCBadDbState:                                      {codes.FailedPrecondition, noRetry},
	ese.ErrNotInTransaction:                                     {codes.FailedPrecondition, noRetry},
	ese.ErrInTransaction:                                        {codes.FailedPrecondition, noRetry},
	ese.ErrMustRollback:                                         {codes.FailedPrecondition, noRetry},
	ese.ErrRollbackRequired:                                     {codes.FailedPrecondition, noRetry},
	ese.ErrTransReadOnly:                                        {codes.FailedPrecondition, noRetry},
	ese.ErrUpdateNotPrepared:                                    {codes.FailedPrecondition, noRetry},
	ese.ErrAlreadyPrepared:                                      {codes.FailedPrecondition, noRetry},
	ese.ErrKeyNotMade:                                           {codes.FailedPrecondition, noRetry},
	ese.ErrNoCurrentRecord:                                      {codes.FailedPrecondition, noRetry},
	ese.ErrNoCurrentIndex:                                       {codes.FailedPrecondition, noRetry},
	ese.ErrSessionInUse:                                         {codes.FailedPrecondition, noRetry},
	ese.ErrSessionSharingViolation:                              {codes.FailedPrecondition, noRetry},
	ese.ErrSessionContextAlreadySet:                             {codes.FailedPrecondition, noRetry},
	ese.ErrSessionContextNotSetByThisThread:                     {codes.FailedPrecondition, noRetry},
	ese.ErrOneDatabasePerSession:                                {codes.FailedPrecondition, noRetry},
	ese.ErrExclusiveTableLockRequired:                           {codes.FailedPrecondition, noRetry},
	ese.ErrFixedDDL:                                             {codes.FailedPrecondition, noRetry},
	ese.ErrFixedInheritedDDL:                                    {codes.FailedPrecondition, noRetry},
	ese.ErrTableNotEmpty:                                        {codes.FailedPrecondition, noRetry},
	ese.ErrContainerNotEmpty:                                    {codes.FailedPrecondition, noRetry},
	ese.ErrTableInUse:                                           {codes.FailedPrecondition, noRetry},
	ese.ErrIndexInUse:                                           {codes.FailedPrecondition, noRetry},
	ese.ErrColumnInUse:                                          {codes.FailedPrecondition, noRetry},
	ese.ErrUpdateMustVersion:                                    {codes.FailedPrecondition, noRetry},
	ese.ErrCannotDisableVersioning:                              {codes.FailedPrecondition, noRetry},

	// AlreadyExists: another backup, snapshot or task already holds what
	// the call wanted to start; it ends by itself.
	ese.ErrBackupInProgress:                      {codes.AlreadyExists, retry},
	ese.ErrSurrogateBackupInProgress:             {codes.AlreadyExists, retry},
	ese.ErrOSSnapshotNotAllowed:                  {codes.AlreadyExists, retry},
	ese.ErrDatabaseAlreadyRunningMaintenance:     {codes.AlreadyExists, retry},
	ese.ErrRootSpaceLeakEstimationAlreadyRunning: {codes.AlreadyExists, retry},
	// AlreadyExists: a name or object is taken.
	ese.ErrFileAlreadyExists:                   {codes.AlreadyExists, noRetry},
	ese.ErrInstanceNameInUse:                   {codes.AlreadyExists, noRetry},
	ese.ErrSystemPathInUse:                     {codes.AlreadyExists, noRetry},
	ese.ErrLogFilePathInUse:                    {codes.AlreadyExists, noRetry},
	ese.ErrTempPathInUse:                       {codes.AlreadyExists, noRetry},
	ese.ErrDatabaseDuplicate:                   {codes.AlreadyExists, noRetry},
	ese.ErrDatabaseSignInUse:                   {codes.AlreadyExists, noRetry},
	ese.ErrDatabaseIdInUse:                     {codes.AlreadyExists, noRetry},
	ese.ErrTableDuplicate:                      {codes.AlreadyExists, noRetry},
	ese.ErrIndexDuplicate:                      {codes.AlreadyExists, noRetry},
	ese.ErrIndexHasPrimary:                     {codes.AlreadyExists, noRetry},
	ese.ErrColumnDuplicate:                     {codes.AlreadyExists, noRetry},
	ese.ErrObjectDuplicate:                     {codes.AlreadyExists, noRetry},
	ese.ErrKeyDuplicate:                        {codes.AlreadyExists, noRetry},
	ese.ErrMultiValuedDuplicate:                {codes.AlreadyExists, noRetry},
	ese.ErrMultiValuedDuplicateAfterTruncation: {codes.AlreadyExists, noRetry},

	// Aborted: the session or operation was ended by someone else or lost
	// a conflict; a new session (or transaction) may succeed.
	ese.ErrBackupAbortByServer:       {codes.Aborted, noRetry},
	ese.ErrBackupAbortByCaller:       {codes.Aborted, noRetry},
	ese.ErrOSSnapshotTimeOut:         {codes.Aborted, retry},
	ese.ErrFileIOAbort:               {codes.Aborted, retry},
	ese.ErrRBSRCRevertCancelled:      {codes.Aborted, noRetry},
	ese.ErrDatabaseLocked:            {codes.Aborted, retry},
	ese.ErrTableLocked:               {codes.Aborted, retry},
	ese.ErrWriteConflict:             {codes.Aborted, retry},
	ese.ErrWriteConflictPrimaryIndex: {codes.Aborted, retry},
	ese.ErrSessionWriteConflict:      {codes.Aborted, retry},
	ese.ErrDataHasChanged:            {codes.Aborted, retry},
	ese.ErrBFLatchConflict:           {codes.Aborted, retry},
	ese.ErrSPConflict:                {codes.Aborted, retry},

	// DataLoss: damaged pages and logs, and files a backup or restore needs
	// that are gone. Never retryable: the data will not heal itself.
	ese.ErrReadVerifyFailure:                    {codes.DataLoss, noRetry},
	ese.ErrReadPgnoVerifyFailure:                {codes.DataLoss, noRetry},
	ese.ErrReadLostFlushVerifyFailure:           {codes.DataLoss, noRetry},
	ese.ErrDiskReadVerificationFailure:          {codes.DataLoss, noRetry},
	ese.ErrLogReadVerifyFailure:                 {codes.DataLoss, noRetry},
	ese.ErrMissingLogFile:                       {codes.DataLoss, noRetry},
	ese.ErrMissingPreviousLogFile:               {codes.DataLoss, noRetry},
	ese.ErrMissingFileToBackup:                  {codes.DataLoss, noRetry},
	ese.ErrRequiredLogFilesMissing:              {codes.DataLoss, noRetry},
	ese.ErrMissingRestoreLogFiles:               {codes.DataLoss, noRetry},
	ese.ErrMissingCurrentLogFiles:               {codes.DataLoss, noRetry},
	ese.ErrCommittedLogFilesMissing:             {codes.DataLoss, noRetry},
	ese.ErrCommittedLogFileCorrupt:              {codes.DataLoss, noRetry},
	ese.ErrPatchFileMissing:                     {codes.DataLoss, noRetry},
	ese.ErrMissingPatchPage:                     {codes.DataLoss, noRetry},
	ese.ErrBadPatchPage:                         {codes.DataLoss, noRetry},
	ese.ErrLogFileCorrupt:                       {codes.DataLoss, noRetry},
	ese.ErrLogCorrupted:                         {codes.DataLoss, noRetry},
	ese.ErrLogGenerationMismatch:                {codes.DataLoss, noRetry},
	ese.ErrBadLogSignature:                      {codes.DataLoss, noRetry},
	ese.ErrBadDbSignature:                       {codes.DataLoss, noRetry},
	ese.ErrBadCheckpointSignature:               {codes.DataLoss, noRetry},
	ese.ErrCheckpointCorrupt:                    {codes.DataLoss, noRetry},
	ese.ErrRedoAbruptEnded:                      {codes.DataLoss, noRetry},
	ese.ErrDatabaseLogSetMismatch:               {codes.DataLoss, noRetry},
	ese.ErrDatabaseStreamingFileMismatch:        {codes.DataLoss, noRetry},
	ese.ErrConsistentTimeMismatch:               {codes.DataLoss, noRetry},
	ese.ErrDatabasePatchFileMismatch:            {codes.DataLoss, noRetry},
	ese.ErrGivenLogFileHasBadSignature:          {codes.DataLoss, noRetry},
	ese.ErrGivenLogFileIsNotContiguous:          {codes.DataLoss, noRetry},
	ese.ErrExistingLogFileHasBadSignature:       {codes.DataLoss, noRetry},
	ese.ErrExistingLogFileIsNotContiguous:       {codes.DataLoss, noRetry},
	ese.ErrBadBackupDatabaseSize:                {codes.DataLoss, noRetry},
	ese.ErrLogTornWriteDuringHardRestore:        {codes.DataLoss, noRetry},
	ese.ErrLogTornWriteDuringHardRecovery:       {codes.DataLoss, noRetry},
	ese.ErrLogCorruptDuringHardRestore:          {codes.DataLoss, noRetry},
	ese.ErrLogCorruptDuringHardRecovery:         {codes.DataLoss, noRetry},
	ese.ErrLogSequenceChecksumMismatch:          {codes.DataLoss, noRetry},
	ese.ErrDbTimeTooOld:                         {codes.DataLoss, noRetry},
	ese.ErrDbTimeTooNew:                         {codes.DataLoss, noRetry},
	ese.ErrDbTimeBeyondMaxRequired:              {codes.DataLoss, noRetry},
	ese.ErrLogOperationInconsistentWithDatabase: {codes.DataLoss, noRetry},
	ese.ErrPageInitializedMismatch:              {codes.DataLoss, noRetry},
	ese.ErrPageNotInitialized:                   {codes.DataLoss, noRetry},
	ese.ErrRecoveryVerifyFailure:                {codes.DataLoss, noRetry},
	ese.ErrDatabaseCorrupted:                    {codes.DataLoss, noRetry},
	ese.ErrDatabaseCorruptedNoRepair:            {codes.DataLoss, noRetry},
	ese.ErrCatalogCorrupted:                     {codes.DataLoss, noRetry},
	ese.ErrFileSystemCorruption:                 {codes.DataLoss, noRetry},
	ese.ErrDatabaseBufferDependenciesCorrupted:  {codes.DataLoss, noRetry},
	ese.ErrBadPageLink:                          {codes.DataLoss, noRetry},
	ese.ErrBadParentPageLink:                    {codes.DataLoss, noRetry},
	ese.ErrSPAvailExtCacheOutOfSync:             {codes.DataLoss, noRetry},
	ese.ErrSPAvailExtCorrupted:                  {codes.DataLoss, noRetry},
	ese.ErrSPOwnExtCorrupted:                    {codes.DataLoss, noRetry},
	ese.ErrDbTimeCorrupted:                      {codes.DataLoss, noRetry},
	ese.ErrBadEmptyPage:                         {codes.DataLoss, noRetry},
	ese.ErrBadLineCount:                         {codes.DataLoss, noRetry},
	ese.ErrPageTagCorrupted:                     {codes.DataLoss, noRetry},
	ese.ErrNodeCorrupted:                        {codes.DataLoss, noRetry},
	ese.ErrCompressionIntegrityCheckFailed:      {codes.DataLoss, noRetry},
	ese.ErrDecompressionFailed:                  {codes.DataLoss, noRetry},
	ese.ErrLVCorrupted:                          {codes.DataLoss, noRetry},
	ese.ErrDerivedColumnCorruption:              {codes.DataLoss, noRetry},
	ese.ErrIndexBuildCorrupted:                  {codes.DataLoss, noRetry},
	ese.ErrPrimaryIndexCorrupted:                {codes.DataLoss, noRetry},
	ese.ErrSecondaryIndexCorrupted:              {codes.DataLoss, noRetry},
	ese.ErrFlushMapUnrecoverable:                {codes.DataLoss, noRetry},
	ese.ErrRBSFileCorrupt:                       {codes.DataLoss, noRetry},
	ese.ErrRBSHeaderCorrupt:                     {codes.DataLoss, noRetry},
	ese.ErrRBSRCPageFDPDeleteFileCorrupt:        {codes.DataLoss, noRetry},
	// A restore that skipped or failed some databases left data behind.
	ese.ErrRecoveredWithErrors: {codes.DataLoss, noRetry},

	// Unavailable: the instance or its storage is stopping, not ready, or
	// failing for the moment.
	ese.ErrClientRequestToStopJetService:      {codes.Unavailable, retry},
	ese.ErrTermInProgress:                     {codes.Unavailable, retry},
	ese.ErrNotInitialized:                     {codes.Unavailable, retry},
	ese.ErrInitInProgress:                     {codes.Unavailable, retry},
	ese.ErrRestoreInProgress:                  {codes.Unavailable, retry},
	ese.ErrBackupNotAllowedYet:                {codes.Unavailable, retry},
	ese.ErrDatabaseNotReady:                   {codes.Unavailable, retry},
	ese.ErrTransactionsNotReadyDuringRecovery: {codes.Unavailable, retry},
	ese.ErrDiskIO:                             {codes.Unavailable, retry},
	ese.ErrFileIOFail:                         {codes.Unavailable, retry},
	ese.ErrFileIORetry:                        {codes.Unavailable, retry},
	ese.ErrDeviceTimeout:                      {codes.Unavailable, retry},
	ese.ErrDeviceBusy:                         {codes.Unavailable, retry},
	ese.ErrDiskTilt:                           {codes.Unavailable, retry},
	// Unavailable until someone restarts the instance or repairs storage.
	ese.ErrInstanceUnavailable:             {codes.Unavailable, noRetry},
	ese.ErrDatabaseUnavailable:             {codes.Unavailable, noRetry},
	ese.ErrLogWriteFail:                    {codes.Unavailable, noRetry},
	ese.ErrLogDisabledDueToRecoveryFailure: {codes.Unavailable, noRetry},
	ese.ErrLogServiceStopped:               {codes.Unavailable, noRetry},
	ese.ErrDeviceMissing:                   {codes.Unavailable, noRetry},
	ese.ErrDeviceMisconfigured:             {codes.Unavailable, noRetry},
	ese.ErrDeviceFailure:                   {codes.Unavailable, noRetry},

	// InvalidArgument: a parameter is wrong whatever the state.
	ese.ErrInvalidParameter:                     {codes.InvalidArgument, noRetry},
	ese.ErrInvalidGrbit:                         {codes.InvalidArgument, noRetry},
	ese.ErrInvalidPath:                          {codes.InvalidArgument, noRetry},
	ese.ErrInvalidSystemPath:                    {codes.InvalidArgument, noRetry},
	ese.ErrInvalidLogDirectory:                  {codes.InvalidArgument, noRetry},
	ese.ErrInvalidName:                          {codes.InvalidArgument, noRetry},
	ese.ErrInvalidFilename:                      {codes.InvalidArgument, noRetry},
	ese.ErrDatabaseInvalidName:                  {codes.InvalidArgument, noRetry},
	ese.ErrDatabaseInvalidPath:                  {codes.InvalidArgument, noRetry},
	ese.ErrNoBackupDirectory:                    {codes.InvalidArgument, noRetry},
	ese.ErrInvalidInstance:                      {codes.InvalidArgument, noRetry},
	ese.ErrInvalidDatabase:                      {codes.InvalidArgument, noRetry},
	ese.ErrFileInvalidType:                      {codes.InvalidArgument, noRetry},
	ese.ErrEndingRestoreLogTooLow:               {codes.InvalidArgument, noRetry},
	ese.ErrStartingRestoreLogTooHigh:            {codes.InvalidArgument, noRetry},
	ese.ErrOSSnapshotInvalidSnapId:              {codes.InvalidArgument, noRetry},
	ese.ErrUnicodeTranslationFail:               {codes.InvalidArgument, noRetry},
	ese.ErrInvalidSettings:                      {codes.InvalidArgument, noRetry},
	ese.ErrInvalidSesid:                         {codes.InvalidArgument, noRetry},
	ese.ErrInvalidSesparamId:                    {codes.InvalidArgument, noRetry},
	ese.ErrInvalidDbparamId:                     {codes.InvalidArgument, noRetry},
	ese.ErrInvalidDatabaseId:                    {codes.InvalidArgument, noRetry},
	ese.ErrInvalidTableId:                       {codes.InvalidArgument, noRetry},
	ese.ErrInvalidIndexId:                       {codes.InvalidArgument, noRetry},
	ese.ErrInvalidObject:                        {codes.InvalidArgument, noRetry},
	ese.ErrInvalidBookmark:                      {codes.InvalidArgument, noRetry},
	ese.ErrInvalidBufferSize:                    {codes.InvalidArgument, noRetry},
	ese.ErrInvalidCountry:                       {codes.InvalidArgument, noRetry},
	ese.ErrInvalidLanguageId:                    {codes.InvalidArgument, noRetry},
	ese.ErrInvalidCodePage:                      {codes.InvalidArgument, noRetry},
	ese.ErrInvalidLCMapStringFlags:              {codes.InvalidArgument, noRetry},
	ese.ErrInvalidColumnType:                    {codes.InvalidArgument, noRetry},
	ese.ErrInvalidCreateIndex:                   {codes.InvalidArgument, noRetry},
	ese.ErrIndexInvalidDef:                      {codes.InvalidArgument, noRetry},
	ese.ErrInvalidLVChunkSize:                   {codes.InvalidArgument, noRetry},
	ese.ErrInvalidPreread:                       {codes.InvalidArgument, noRetry},
	ese.ErrInvalidColumnReference:               {codes.InvalidArgument, noRetry},
	ese.ErrInvalidPlaceholderColumn:             {codes.InvalidArgument, noRetry},
	ese.ErrInvalidCreateDbVersion:               {codes.InvalidArgument, noRetry},
	ese.ErrDatabaseInvalidPages:                 {codes.InvalidArgument, noRetry},
	ese.ErrSpaceHintsInvalid:                    {codes.InvalidArgument, noRetry},
	ese.ErrDensityInvalid:                       {codes.InvalidArgument, noRetry},
	ese.ErrBadColumnId:                          {codes.InvalidArgument, noRetry},
	ese.ErrBadItagSequence:                      {codes.InvalidArgument, noRetry},
	ese.ErrNullInvalid:                          {codes.InvalidArgument, noRetry},
	ese.ErrKeyTooBig:                            {codes.InvalidArgument, noRetry},
	ese.ErrRecordTooBig:                         {codes.InvalidArgument, noRetry},
	ese.ErrRecordTooBigForBackwardCompatibility: {codes.InvalidArgument, noRetry},
	ese.ErrColumnTooBig:                         {codes.InvalidArgument, noRetry},
	ese.ErrDefaultValueTooBig:                   {codes.InvalidArgument, noRetry},
	ese.ErrVersionStoreEntryTooBig:              {codes.InvalidArgument, noRetry},
	ese.ErrSetAutoIncrementTooHigh:              {codes.InvalidArgument, noRetry},

	// NotFound: a file, database or object the call names does not exist.
	// FileNotFound is also what ESE returns when no archived log is on disk.
	ese.ErrFileNotFound:           {codes.NotFound, noRetry},
	ese.ErrDatabaseNotFound:       {codes.NotFound, noRetry},
	ese.ErrCheckpointFileNotFound: {codes.NotFound, noRetry},
	ese.ErrRBSRCNoRBSFound:        {codes.NotFound, noRetry},
	ese.ErrObjectNotFound:         {codes.NotFound, noRetry},
	ese.ErrIndexNotFound:          {codes.NotFound, noRetry},
	ese.ErrColumnNotFound:         {codes.NotFound, noRetry},
	ese.ErrRecordNotFound:         {codes.NotFound, noRetry},
	ese.ErrNotFound:               {codes.NotFound, noRetry},

	// PermissionDenied: the operating system or engine refused access.
	ese.ErrFileAccessDenied:     {codes.PermissionDenied, noRetry},
	ese.ErrPermissionDenied:     {codes.PermissionDenied, noRetry},
	ese.ErrAccessDenied:         {codes.PermissionDenied, noRetry},
	ese.ErrDatabaseFileReadOnly: {codes.PermissionDenied, noRetry},

	// ResourceExhausted: memory, handles, disk space or a counter ran out.
	// Memory, buffers, threads, I/O slots and the version store free up by
	// themselves; limits and full disks do not. In a backup session
	// OutOfMemory also reports a second open file, a host bug that a retry
	// of the whole backup avoids.
	ese.ErrOutOfMemory:                               {codes.ResourceExhausted, retry},
	ese.ErrOutOfBuffers:                              {codes.ResourceExhausted, retry},
	ese.ErrOutOfThreads:                              {codes.ResourceExhausted, retry},
	ese.ErrTooManyIO:                                 {codes.ResourceExhausted, retry},
	ese.ErrVersionStoreOutOfMemory:                   {codes.ResourceExhausted, retry},
	ese.ErrVersionStoreOutOfMemoryAndCleanupTimedOut: {codes.ResourceExhausted, retry},
	ese.ErrCheckpointDepthTooDeep:                    {codes.ResourceExhausted, retry},
	ese.ErrOutOfSessions:                             {codes.ResourceExhausted, retry},
	ese.ErrTooManyActiveUsers:                        {codes.ResourceExhausted, retry},
	ese.ErrDiskFull:                                  {codes.ResourceExhausted, noRetry},
	ese.ErrLogDiskFull:                               {codes.ResourceExhausted, noRetry},
	ese.ErrInstanceUnavailableDueToFatalLogDiskFull:  {codes.ResourceExhausted, noRetry},
	ese.ErrOutOfDatabaseSpace:                        {codes.ResourceExhausted, noRetry},
	ese.ErrOutOfFileHandles:                          {codes.ResourceExhausted, noRetry},
	ese.ErrLogSequenceEnd:                            {codes.ResourceExhausted, noRetry},
	ese.ErrLogBufferTooSmall:                         {codes.ResourceExhausted, noRetry},
	ese.ErrTransactionTooLong:                        {codes.ResourceExhausted, noRetry},
	ese.ErrSPAvailExtCacheOutOfMemory:                {codes.ResourceExhausted, noRetry},
	ese.ErrCurrencyStackOutOfMemory:                  {codes.ResourceExhausted, noRetry},
	ese.ErrTooManyMempoolEntries:                     {codes.ResourceExhausted, noRetry},
	ese.ErrOutOfCursors:                              {codes.ResourceExhausted, noRetry},
	ese.ErrOutOfObjectIDs:                            {codes.ResourceExhausted, noRetry},
	ese.ErrOutOfLongValueIDs:                         {codes.ResourceExhausted, noRetry},
	ese.ErrOutOfAutoincrementValues:                  {codes.ResourceExhausted, noRetry},
	ese.ErrOutOfDbtimeValues:                         {codes.ResourceExhausted, noRetry},
	ese.ErrOutOfSequentialIndexValues:                {codes.ResourceExhausted, noRetry},
	ese.ErrOutOfRBSSpace:                             {codes.ResourceExhausted, noRetry},
	ese.ErrTooManyInstances:                          {codes.ResourceExhausted, noRetry},
	ese.ErrTooManyOpenDatabases:                      {codes.ResourceExhausted, noRetry},
	ese.ErrTooManyAttachedDatabases:                  {codes.ResourceExhausted, noRetry},
	ese.ErrTooManyOpenTables:                         {codes.ResourceExhausted, noRetry},
	ese.ErrTooManyOpenTablesAndCleanupTimedOut:       {codes.ResourceExhausted, noRetry},
	ese.ErrTooManyOpenIndexes:                        {codes.ResourceExhausted, noRetry},
	ese.ErrTooManySorts:                              {codes.ResourceExhausted, noRetry},
	ese.ErrTooManyIndexes:                            {codes.ResourceExhausted, noRetry},
	ese.ErrTooManyKeys:                               {codes.ResourceExhausted, noRetry},
	ese.ErrTooManyColumns:                            {codes.ResourceExhausted, noRetry},
	ese.ErrTooManyRecords:                            {codes.ResourceExhausted, noRetry},
	ese.ErrTooManySplits:                             {codes.ResourceExhausted, noRetry},
	ese.ErrTooManyTestInjections:                     {codes.ResourceExhausted, noRetry},

	// Unimplemented: the engine or this configuration lacks the feature.
	ese.WrnNyi:                              {codes.Unimplemented, noRetry},
	ese.ErrFeatureNotAvailable:              {codes.Unimplemented, noRetry},
	ese.ErrDisabledFunctionality:            {codes.Unimplemented, noRetry},
	ese.ErrUnloadableOSFunctionality:        {codes.Unimplemented, noRetry},
	ese.ErrEntryPointNotFound:               {codes.Unimplemented, noRetry},
	ese.ErrUnicodeNormalizationNotSupported: {codes.Unimplemented, noRetry},
	ese.ErrLanguageNotSupported:             {codes.Unimplemented, noRetry},
	ese.ErrQueryNotSupported:                {codes.Unimplemented, noRetry},
	ese.ErrSQLLinkNotSupported:              {codes.Unimplemented, noRetry},
	ese.ErrLinkNotSupported:                 {codes.Unimplemented, noRetry},
	ese.ErrFilteredMoveNotSupported:         {codes.Unimplemented, noRetry},
	ese.ErrTestInjectionNotSupported:        {codes.Unimplemented, noRetry},

	// Internal, listed to say it on purpose: engine bugs, and buffer sizing,
	// which the bindings handle themselves, so that it surfacing is a bug.
	ese.ErrInternalError:                    {codes.Internal, noRetry},
	ese.ErrCodeInconsistency:                {codes.Internal, noRetry},
	ese.ErrBufferTooSmall:                   {codes.Internal, noRetry},
	ese.ErrUnicodeTranslationBufferTooSmall: {codes.Internal, noRetry},

	// OutOfRange: a position past the end of a file, tree or value.
	ese.ErrFileIOBeyondEOF: {codes.OutOfRange, noRetry},
	ese.ErrPageBoundary:    {codes.OutOfRange, noRetry},
	ese.ErrKeyBoundary:     {codes.OutOfRange, noRetry},
	ese.ErrColumnNoChunk:   {codes.OutOfRange, noRetry},
}
