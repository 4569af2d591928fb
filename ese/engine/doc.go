// Package engine is a pure-Go ESE backup engine for file sets at rest: a log
// directory with its checkpoint and the databases attached to that log
// stream, as found on a volume snapshot, a stopped service or a copy. It
// serves them through ese.BackupAPI with ESENT's state machine, stream
// layout and JET_err codes (../shared/docs/ese-backup-api.md), verifying
// every page and every log it serves.
//
// Files at rest have no running engine to roll the log. The first
// GetLogInfo of a session therefore performs a virtual roll: the current log
// (<base>.log, generation N) is listed and served under the archived name a
// real roll would give it (<base>0000N.log), read from <base>.log, and the
// copy range ends at N. Nothing is renamed on disk. Recovery on Windows
// replays genLow..N from the backup set, which holds every committed record.
//
// The engine is read-only unless Config.Writable is set: only then does End
// record the backup in both database header copies and TruncateLog delete
// archived logs.
package engine
