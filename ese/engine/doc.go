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
//
// Which databases the instance has comes from the instance itself: the
// ATTACHINFO lists of the checkpoint (when its fVersion bit 0x1 says the
// list is valid) and of the current log header. Each recorded path (a
// Windows path such as C:\Windows\system32\SRU\SRUDB.dat) is mapped to the
// same relative path under LogDir or SystemDir when it lies under the log or
// system directory recorded in the same header (components compared
// case-insensitively), else to the longest suffix of it that exists under
// them. A database named there is always backed up, whatever
// Config.Databases says; missing it is JET_errFileNotFound (-1811), another
// database under its name (a different signDb) JET_errBadDbSignature (-531).
// When the headers name none (a current log written by a later recovery, as
// in some SRUM copies), LogDir and SystemDir and their subdirectories, two
// levels deep, are scanned for database files: a header copy (primary, or
// the shadow at any page size) with the database magic and file type, or a
// flush map <stem>.jfm beside the file. Config.Databases narrows that scan;
// a scanned database of another log stream, or with the signature of one
// already found (a copy, as in a backup set kept below the instance), is
// skipped; one that cannot be read fails JetInit.
//
// Every database must also have its full size. ESE's DBFILEHDR records no
// size, but pgno 1 (the database root, objidFDP 1) starts with a space header
// naming the root of the database's owned-extent tree (pgno 2), whose keys
// are the last page of each extent the database owns: the highest key is the
// last page it owns. A file shorter than (that page + 2 header pages) ×
// page size, or than the header pages and pgno 1..3 when the space tree
// cannot be read (a damaged page 1 or 2, synthetic files without space
// trees), is JET_errFileIOBeyondEOF (-4001) with the expected and actual
// size; an empty file too. A file that is not a whole number of pages is
// JET_errDatabaseCorrupted (-1206). A file may be longer than its space tree
// (ESE extends files ahead of their use), never shorter: ESE extends a file
// before the space tree records the new extent. The rule is checked at
// JetInit, JetAttachDatabase, Begin and OpenFile, so a database cut short
// fails the backup before anything is streamed or recorded.
package engine
