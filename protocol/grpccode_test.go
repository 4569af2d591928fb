package protocol

import (
	"slices"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"google.golang.org/grpc/codes"
)

// TestGRPCCodeTable checks the table itself: every row is a canonical error
// code of the generated table, and no row uses a code reserved for other
// meanings (OK for success, Canceled and DeadlineExceeded for contexts,
// Unknown for non-status errors).
func TestGRPCCodeTable(t *testing.T) {
	all := ese.Codes()
	if len(jetErrTable) < 100 {
		t.Fatalf("table has only %d rows", len(jetErrTable))
	}
	for c, m := range jetErrTable {
		if !c.Known() || !slices.Contains(all, c) {
			t.Errorf("%v: not a canonical code of ese.Codes()", c)
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
	all := ese.Codes()
	if len(all) < 400 {
		t.Fatalf("ese.Codes() has only %d codes", len(all))
	}
	for _, c := range all {
		got := GRPCCode(c)
		if c >= 0 {
			if got != codes.OK || Retryable(c) {
				t.Errorf("%v: GRPCCode = %v, Retryable = %v; want OK, false", c, got, Retryable(c))
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
		code      ese.Code
		want      codes.Code
		retryable bool
	}{
		// The backup sequence.
		{ese.ErrNoBackup, codes.FailedPrecondition, false},
		{ese.ErrInvalidBackupSequence, codes.FailedPrecondition, false},
		{ese.ErrLogFileNotCopied, codes.FailedPrecondition, false},
		{ese.ErrMissingFullBackup, codes.FailedPrecondition, false},
		{ese.ErrInvalidBackup, codes.FailedPrecondition, false},
		// Someone else's backup: wait and begin again.
		{ese.ErrBackupInProgress, codes.AlreadyExists, true},
		{ese.ErrSurrogateBackupInProgress, codes.AlreadyExists, true},
		// Stopped by the application.
		{ese.ErrBackupAbortByServer, codes.Aborted, false},
		// Damage and missing files.
		{ese.ErrReadVerifyFailure, codes.DataLoss, false},
		{ese.ErrReadPgnoVerifyFailure, codes.DataLoss, false},
		{ese.ErrReadLostFlushVerifyFailure, codes.DataLoss, false},
		{ese.ErrLogReadVerifyFailure, codes.DataLoss, false},
		{ese.ErrMissingLogFile, codes.DataLoss, false},
		{ese.ErrMissingFileToBackup, codes.DataLoss, false},
		// The instance is going or not there.
		{ese.ErrClientRequestToStopJetService, codes.Unavailable, true},
		{ese.ErrTermInProgress, codes.Unavailable, true},
		{ese.ErrRestoreInProgress, codes.Unavailable, true},
		{ese.ErrNotInitialized, codes.Unavailable, true},
		{ese.ErrBackupNotAllowedYet, codes.Unavailable, true},
		{ese.ErrInstanceUnavailable, codes.Unavailable, false},
		{ese.ErrDiskIO, codes.Unavailable, true},
		// Arguments.
		{ese.ErrInvalidParameter, codes.InvalidArgument, false},
		{ese.ErrInvalidGrbit, codes.InvalidArgument, false},
		{ese.ErrInvalidPath, codes.InvalidArgument, false},
		// Missing things.
		{ese.ErrFileNotFound, codes.NotFound, false},
		{ese.ErrDatabaseNotFound, codes.NotFound, false},
		{ese.ErrCheckpointFileNotFound, codes.NotFound, false},
		// Resources.
		{ese.ErrOutOfMemory, codes.ResourceExhausted, true},
		{ese.ErrDiskFull, codes.ResourceExhausted, false},
		{ese.ErrLogDiskFull, codes.ResourceExhausted, false},
		{ese.ErrInstanceUnavailableDueToFatalLogDiskFull, codes.ResourceExhausted, false},
		// Access.
		{ese.ErrFileAccessDenied, codes.PermissionDenied, false},
		// Defaults and non-errors.
		{ese.WrnNyi, codes.Unimplemented, false}, // JET_wrnNyi is -1: an error despite its name
		{ese.ErrInternalError, codes.Internal, false},
		{ese.ErrRfsFailure, codes.Internal, false},
		{ese.Code(-12345), codes.Internal, false},
		{ese.ErrSuccess, codes.OK, false},
		{ese.WrnTargetInstanceRunning, codes.OK, false},
		{ese.Code(12345), codes.OK, false},
	} {
		if got := GRPCCode(tc.code); got != tc.want {
			t.Errorf("GRPCCode(%v) = %v, want %v", tc.code, got, tc.want)
		}
		if got := Retryable(tc.code); got != tc.retryable {
			t.Errorf("Retryable(%v) = %v, want %v", tc.code, got, tc.retryable)
		}
	}
}

// TestBackupPathCodesAreListed checks that every JET_err the external backup
// and restore calls can return (ese-backup-api.md section 8) has a row of
// its own instead of falling to the default.
func TestBackupPathCodesAreListed(t *testing.T) {
	for _, c := range []ese.Code{
		// API entry.
		ese.ErrInvalidInstance, ese.ErrInvalidParameter, ese.ErrRunningInMultiInstanceMode,
		ese.ErrNotInitialized, ese.ErrTermInProgress, ese.ErrRestoreInProgress,
		ese.ErrClientRequestToStopJetService, ese.ErrInstanceUnavailable,
		ese.ErrInstanceUnavailableDueToFatalLogDiskFull,
		// Begin.
		ese.ErrBackupNotAllowedYet, ese.ErrLoggingDisabled, ese.ErrLogWriteFail, ese.ErrInvalidGrbit,
		ese.ErrInvalidBackup, ese.ErrLogDiskFull, ese.ErrBackupInProgress,
		ese.ErrSurrogateBackupInProgress, ese.ErrMissingFullBackup, ese.ErrCheckpointFileNotFound,
		ese.ErrCheckpointCorrupt, ese.ErrOutOfMemory,
		// Session.
		ese.ErrNoBackup, ese.ErrBackupAbortByServer, ese.ErrInvalidBackupSequence,
		ese.ErrDatabaseNotFound, ese.ErrDatabaseLocked, ese.ErrDatabaseAttachedForRecovery,
		ese.ErrMissingFileToBackup, ese.ErrReadVerifyFailure, ese.ErrReadPgnoVerifyFailure,
		ese.ErrReadLostFlushVerifyFailure, ese.ErrDiskIO, ese.ErrLogReadVerifyFailure,
		ese.ErrFileNotFound, ese.ErrFileAccessDenied, ese.ErrLogFileNotCopied, ese.ErrBufferTooSmall,
		ese.ErrUnicodeTranslationFail, ese.ErrInvalidPath, ese.ErrBackupAbortByCaller,
		// Restore.
		ese.ErrRunningInOneInstanceMode, ese.ErrBadRestoreTargetInstance,
		ese.ErrGivenLogFileHasBadSignature, ese.ErrGivenLogFileIsNotContiguous,
		ese.ErrMissingRestoreLogFiles, ese.ErrExistingLogFileHasBadSignature,
		ese.ErrExistingLogFileIsNotContiguous, ese.ErrMissingCurrentLogFiles, ese.ErrDatabaseCorrupted,
		ese.ErrRestoreOfNonBackupDatabase, ese.ErrDatabasePatchFileMismatch,
		ese.ErrStartingRestoreLogTooHigh, ese.ErrEndingRestoreLogTooLow, ese.ErrAfterInitialization,
		ese.ErrRecoveredWithErrors, ese.ErrSoftRecoveryOnBackupDatabase, ese.ErrPatchFileMissing,
	} {
		if _, ok := jetErrTable[c]; !ok {
			t.Errorf("%v has no row in the table", c)
		}
	}
}
