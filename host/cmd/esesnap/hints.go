package main

import (
	"errors"
	"io/fs"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/host/catalog"
	"github.com/esesnap/esesnap/host/restic"
	"github.com/esesnap/esesnap/plugin"
	"github.com/esesnap/esesnap/protocol"
	"google.golang.org/grpc/codes"
)

// hints says what a person can do about each JET_err a backup, verify or
// restore can end with. The error text itself already names the file, the
// operation, the page and the code.
var hints = map[ese.Code]string{
	ese.ErrNoBackup:                      "the plugin has no such backup session (it ended or the plugin restarted); run the backup again",
	ese.ErrBackupAbortByServer:           "the application stopped the backup (JetStopBackupInstance); run it again when the application allows backups",
	ese.ErrClientRequestToStopJetService: "the ESE service is stopping; run the backup again after it restarted",
	ese.ErrInstanceUnavailable:           "the ESE instance hit a fatal error (for example a failed header write); see the plugin log, fix the cause and restart the instance",
	ese.ErrNotInitialized:                "the ESE instance is not running; start the application (or point --source at the right instance)",
	ese.ErrTermInProgress:                "the ESE instance is shutting down; run the backup again after it restarted",
	ese.ErrRestoreInProgress:             "a restore is running on this instance; wait for it to finish",
	ese.ErrRunningInMultiInstanceMode:    "the process uses ESE instances; use the instance-based calls",
	ese.ErrBackupInProgress:              "another backup of this instance is running; wait for it to finish and try again",
	ese.ErrBackupNotAllowedYet:           "the instance is still recovering or terminating; try again later",
	ese.ErrMissingFullBackup:             "incremental and differential backups need a full backup first: run 'esesnap backup --kind full --writable --truncate-logs'",
	ese.ErrInvalidBackup:                 "circular logging is on, so only full and copy backups are possible",
	ese.ErrInvalidBackupSequence:         "the plugin refused the order of calls; run the backup again, and report it if it repeats",
	ese.ErrReadVerifyFailure:             "the database has a damaged page; run 'esesnap inspect' on it, and restore it from an earlier good backup (or repair it with esentutl /p on Windows, losing data)",
	ese.ErrReadPgnoVerifyFailure:         "a page of the database holds another page (a misdirected write); run 'esesnap inspect' on it and restore from an earlier good backup",
	ese.ErrLogReadVerifyFailure:          "a transaction log is damaged; take a full backup so the damaged log is no longer needed",
	ese.ErrMissingLogFile:                "a log generation is missing from the chain; take a full backup",
	ese.ErrMissingFileToBackup:           "a log generation the backup needs is gone (deleted or truncated elsewhere); take a full backup",
	ese.ErrLogGenerationMismatch:         "a log file holds another generation than its name says (renamed or exchanged logs); put each log back under its own name (esesnap inspect shows the generations) and run the backup again",
	ese.ErrBadLogSignature:               "a log belongs to another instance than the databases; remove it from the log directory or point --source at the right instance",
	ese.ErrInvalidLogSequence:            "the logs do not follow each other (an old or foreign log among them, or one out of place); run 'esesnap inspect' on the log directory and remove or restore the log it names",
	ese.ErrBadCheckpointSignature:        "the checkpoint file belongs to another instance than the logs and databases; put the instance's own checkpoint back",
	ese.ErrLogFileNotCopied:              "not every log was copied, so no log was truncated; run the backup again",
	ese.ErrFileAccessDenied:              "the instance was opened read-only or the files are not writable: pass --writable to let the plugin record the backup and truncate logs, and check file permissions",
	ese.ErrCheckpointFileNotFound:        "the checkpoint file (<base>.chk) is missing: point --system-dir at it, or give --base-name",
	ese.ErrCheckpointCorrupt:             "both copies of the checkpoint file are damaged; the instance needs recovery on Windows",
	ese.ErrFileNotFound:                  "a file is missing; check the paths given",
	ese.ErrDatabaseNotFound:              "that database is not attached to this instance; check --database",
	ese.ErrDatabaseCorrupted:             "the file is not a usable ESE database",
	ese.ErrDiskIO:                        "an I/O error occurred; check the disk and the system log",
	ese.ErrGivenLogFileHasBadSignature:   "the logs of the set belong to another log stream than the database; restore a matching full backup with its own logs",
	ese.ErrGivenLogFileIsNotContiguous:   "the logs of the set do not form a chain; a backup of the chain is missing or mixed up",
	ese.ErrRestoreOfNonBackupDatabase:    "the database file is not a streamed backup copy; restore from an esesnap backup set",
	ese.ErrDatabasePatchFileMismatch:     "the database copy's trailer does not match its header: the copy is damaged or from another backup",
	ese.ErrStartingRestoreLogTooHigh:     "the restore starts after the first log the database copy needs; include the earlier backups of the chain",
	ese.ErrEndingRestoreLogTooLow:        "the restore ends before the last log the database copy needs; include the later logs",
	ese.ErrInvalidPath:                   "a directory given does not exist or cannot be read: check --source (and --log-dir, --system-dir) point at the instance's logs and checkpoint",
	ese.ErrFileIOBeyondEOF:               "a file is shorter than its own headers say (a database cut short, or still being copied); back up the complete instance, or restore the database from an earlier good backup",
	ese.ErrBadDbSignature:                "the database file is not the database the instance's logs name (another database under the same path); put the right file in place or point --source at the right instance",
	ese.ErrFileAlreadyExists:             "the target already holds a file of that name, and nothing is overwritten: restore into an empty directory (--to, --log-dir) or move the file away",
}

// resticHints says what to do about restic's documented exit codes.
var resticHints = map[int]string{
	10: "check -r/--restic-repo or RESTIC_REPOSITORY (RESTIC_REPOSITORY_FILE); to start a new repository there, run 'restic init' with the same repository and password",
	11: "another restic holds the repository's lock: wait for it to finish; if no restic runs any more, remove the stale lock with 'restic unlock'",
	12: "the password does not open the repository: check RESTIC_PASSWORD_FILE, RESTIC_PASSWORD or RESTIC_PASSWORD_COMMAND (or --password-file, --password-command)",
}

// hintFor returns the advice for err: a JET_err hint, one for restic's
// exit code, or one for a plugin that could not be started.
func hintFor(err error) string {
	if code, ok := ese.CodeOf(err); ok && code != ese.ErrSuccess {
		return hints[code]
	}
	var re *restic.ExitError
	if errors.As(err, &re) && resticHints[re.Code] != "" {
		return resticHints[re.Code]
	}
	switch {
	case errors.Is(err, plugin.ErrPluginNotFound):
		return "install esesnap-plugin beside esesnap or on PATH, or pass --plugin PATH"
	case errors.Is(err, plugin.ErrHandshake):
		return "the program given is not a working esesnap plugin; check --plugin and the plugin's log above"
	case errors.Is(err, plugin.ErrChecksumMismatch):
		return "the plugin binary is not the one pinned with --plugin-sha256; reinstall it or update the pin"
	case errors.Is(err, backupset.ErrDeltaSet):
		return "restore the set with 'esesnap restore --restic-repo', which rebuilds its databases from their base and verifies them"
	case errors.Is(err, fs.ErrNotExist):
		return "a path given does not exist: check the spelling, or that the set or source is where you think it is"
	case errors.Is(err, catalog.ErrNotFound), errors.Is(err, catalog.ErrAmbiguous):
		return "'esesnap snapshots' lists the instances, chains and restore points the repository holds"
	case errors.Is(err, backupset.ErrBadDelta):
		return "the page delta or its base snapshot does not match; restore an earlier snapshot whose base is intact, or a full backup without --page-delta"
	}
	return ""
}

// exitFor classifies an error: damaged data is a verification failure
// (exit 1), a lookup that found nothing a usage error (2), a restic
// repository that does not exist or that the password does not open exit
// 5, anything else an error (exit 3). Damage is a JET_err of the list
// below, or, from a plugin without ESE's domain, an error of gRPC code
// DataLoss.
func exitFor(err error) int {
	var re *restic.ExitError
	switch {
	case errors.Is(err, catalog.ErrNotFound), errors.Is(err, catalog.ErrAmbiguous):
		return ExitUsage
	case errors.As(err, &re) && (re.Code == 10 || re.Code == 12):
		return ExitRepository
	}
	code, ok := ese.CodeOf(err)
	if !ok {
		var pe *protocol.Error
		if errors.As(err, &pe) && pe.Domain != ese.Domain && pe.GRPCCode() == codes.DataLoss {
			return ExitVerifyFailed
		}
		return ExitError
	}
	switch code {
	case ese.ErrReadVerifyFailure, ese.ErrReadPgnoVerifyFailure, ese.ErrReadLostFlushVerifyFailure,
		ese.ErrLogReadVerifyFailure, ese.ErrMissingLogFile, ese.ErrMissingFileToBackup,
		ese.ErrDatabaseCorrupted, ese.ErrDatabasePatchFileMismatch, ese.ErrBadPatchPage,
		ese.ErrGivenLogFileHasBadSignature, ese.ErrGivenLogFileIsNotContiguous, ese.ErrBadLogSignature,
		ese.ErrInvalidLogSequence, ese.ErrLogSequenceChecksumMismatch, ese.ErrRestoreOfNonBackupDatabase,
		ese.ErrLogGenerationMismatch, ese.ErrBadCheckpointSignature:
		return ExitVerifyFailed
	}
	return ExitError
}
