package ese

import (
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
)

// TestGRPCCodeTable checks the table itself: every row is a canonical error
// code of the generated table, and no row uses a code reserved for other
// meanings (OK for success, Canceled and DeadlineExceeded for contexts,
// Unknown for non-status errors).
func TestGRPCCodeTable(t *testing.T) {
	all := Codes()
	if len(jetErrTable) < 100 {
		t.Fatalf("table has only %d rows", len(jetErrTable))
	}
	for c, m := range jetErrTable {
		if !c.Known() || !slices.Contains(all, c) {
			t.Errorf("%v: not a canonical code of Codes()", c)
		}
		if c >= 0 {
			t.Errorf("%v: success and warnings must not be in the table", c)
		}
		switch m.code {
		case codes.OK, codes.Canceled, codes.DeadlineExceeded, codes.Unknown:
			t.Errorf("%v maps to reserved gRPC code %v", c, m.code)
		}
	}
}

// TestGRPCCodeEveryCode checks the function over every known code: errors
// never map to OK, success and warnings always do and are never retryable.
func TestGRPCCodeEveryCode(t *testing.T) {
	all := Codes()
	if len(all) < 400 {
		t.Fatalf("Codes() has only %d codes", len(all))
	}
	for _, c := range all {
		got := c.GRPCCode()
		if c >= 0 {
			if got != codes.OK || c.Retryable() {
				t.Errorf("%v: GRPCCode = %v, Retryable = %v; want OK, false", c, got, c.Retryable())
			}
			continue
		}
		if got == codes.OK {
			t.Errorf("%v: an error maps to OK", c)
		}
		if _, listed := jetErrTable[c]; !listed && got != codes.Internal {
			t.Errorf("%v: unlisted code maps to %v, want the Internal default", c, got)
		}
	}
}

// TestGRPCCodeDecisions pins the mapping decisions hosts rely on.
func TestGRPCCodeDecisions(t *testing.T) {
	for _, tc := range []struct {
		code      Code
		want      codes.Code
		retryable bool
	}{
		// The backup sequence.
		{ErrNoBackup, codes.FailedPrecondition, false},
		{ErrInvalidBackupSequence, codes.FailedPrecondition, false},
		{ErrLogFileNotCopied, codes.FailedPrecondition, false},
		{ErrMissingFullBackup, codes.FailedPrecondition, false},
		{ErrInvalidBackup, codes.FailedPrecondition, false},
		// Someone else's backup: wait and begin again.
		{ErrBackupInProgress, codes.AlreadyExists, true},
		{ErrSurrogateBackupInProgress, codes.AlreadyExists, true},
		// Stopped by the application.
		{ErrBackupAbortByServer, codes.Aborted, false},
		// Damage and missing files.
		{ErrReadVerifyFailure, codes.DataLoss, false},
		{ErrReadPgnoVerifyFailure, codes.DataLoss, false},
		{ErrReadLostFlushVerifyFailure, codes.DataLoss, false},
		{ErrLogReadVerifyFailure, codes.DataLoss, false},
		{ErrMissingLogFile, codes.DataLoss, false},
		{ErrMissingFileToBackup, codes.DataLoss, false},
		// The instance is going or not there.
		{ErrClientRequestToStopJetService, codes.Unavailable, true},
		{ErrTermInProgress, codes.Unavailable, true},
		{ErrRestoreInProgress, codes.Unavailable, true},
		{ErrNotInitialized, codes.Unavailable, true},
		{ErrBackupNotAllowedYet, codes.Unavailable, true},
		{ErrInstanceUnavailable, codes.Unavailable, false},
		{ErrDiskIO, codes.Unavailable, true},
		// Arguments.
		{ErrInvalidParameter, codes.InvalidArgument, false},
		{ErrInvalidGrbit, codes.InvalidArgument, false},
		{ErrInvalidPath, codes.InvalidArgument, false},
		// Missing things.
		{ErrFileNotFound, codes.NotFound, false},
		{ErrDatabaseNotFound, codes.NotFound, false},
		{ErrCheckpointFileNotFound, codes.NotFound, false},
		// Resources.
		{ErrOutOfMemory, codes.ResourceExhausted, true},
		{ErrDiskFull, codes.ResourceExhausted, false},
		{ErrLogDiskFull, codes.ResourceExhausted, false},
		{ErrInstanceUnavailableDueToFatalLogDiskFull, codes.ResourceExhausted, false},
		// Access.
		{ErrFileAccessDenied, codes.PermissionDenied, false},
		// Defaults and non-errors.
		{WrnNyi, codes.Unimplemented, false}, // JET_wrnNyi is -1: an error despite its name
		{ErrInternalError, codes.Internal, false},
		{ErrRfsFailure, codes.Internal, false},
		{Code(-12345), codes.Internal, false},
		{ErrSuccess, codes.OK, false},
		{WrnTargetInstanceRunning, codes.OK, false},
		{Code(12345), codes.OK, false},
	} {
		if got := tc.code.GRPCCode(); got != tc.want {
			t.Errorf("%v.GRPCCode() = %v, want %v", tc.code, got, tc.want)
		}
		if got := tc.code.Retryable(); got != tc.retryable {
			t.Errorf("%v.Retryable() = %v, want %v", tc.code, got, tc.retryable)
		}
	}
}

// TestBackupPathCodesAreListed checks that every JET_err the external backup
// and restore calls can return (ese-backup-api.md section 8) has a row of
// its own instead of falling to the default.
func TestBackupPathCodesAreListed(t *testing.T) {
	for _, c := range []Code{
		// API entry.
		ErrInvalidInstance, ErrInvalidParameter, ErrRunningInMultiInstanceMode,
		ErrNotInitialized, ErrTermInProgress, ErrRestoreInProgress,
		ErrClientRequestToStopJetService, ErrInstanceUnavailable,
		ErrInstanceUnavailableDueToFatalLogDiskFull,
		// Begin.
		ErrBackupNotAllowedYet, ErrLoggingDisabled, ErrLogWriteFail, ErrInvalidGrbit,
		ErrInvalidBackup, ErrLogDiskFull, ErrBackupInProgress,
		ErrSurrogateBackupInProgress, ErrMissingFullBackup, ErrCheckpointFileNotFound,
		ErrCheckpointCorrupt, ErrOutOfMemory,
		// Session.
		ErrNoBackup, ErrBackupAbortByServer, ErrInvalidBackupSequence,
		ErrDatabaseNotFound, ErrDatabaseLocked, ErrDatabaseAttachedForRecovery,
		ErrMissingFileToBackup, ErrReadVerifyFailure, ErrReadPgnoVerifyFailure,
		ErrReadLostFlushVerifyFailure, ErrDiskIO, ErrLogReadVerifyFailure,
		ErrFileNotFound, ErrFileAccessDenied, ErrLogFileNotCopied, ErrBufferTooSmall,
		ErrUnicodeTranslationFail, ErrInvalidPath, ErrBackupAbortByCaller,
		// Restore.
		ErrRunningInOneInstanceMode, ErrBadRestoreTargetInstance,
		ErrGivenLogFileHasBadSignature, ErrGivenLogFileIsNotContiguous,
		ErrMissingRestoreLogFiles, ErrExistingLogFileHasBadSignature,
		ErrExistingLogFileIsNotContiguous, ErrMissingCurrentLogFiles, ErrDatabaseCorrupted,
		ErrRestoreOfNonBackupDatabase, ErrDatabasePatchFileMismatch,
		ErrStartingRestoreLogTooHigh, ErrEndingRestoreLogTooLow, ErrAfterInitialization,
		ErrRecoveredWithErrors, ErrSoftRecoveryOnBackupDatabase, ErrPatchFileMissing,
	} {
		if _, ok := jetErrTable[c]; !ok {
			t.Errorf("%v has no row in the table", c)
		}
	}
}
