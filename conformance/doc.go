// Package conformance checks that a protocol.Snapshotter keeps the snapshot
// protocol, in-process or through a launched plugin process. It does not
// import testing: `esesnap plugin-test` calls RunAll, and plugin authors call
// conformancetest.Run from their own tests. Every failure says what the
// plugin did and what it should do instead.
//
// The checks, in the order they run:
//
//   - info: Name and Version are set, Kinds lists valid kinds once each,
//     MaxChunkBytes is in (0, protocol.MaxChunkBytes].
//   - begin-rejects-kind: Begin refuses the zero Kind and an unknown one
//     with JET_errInvalidParameter, and every kind Info does not list.
//   - backup-full, backup-copy, backup-incremental, backup-differential:
//     a whole backup of that kind. No database is listed after a log, no
//     file twice; every stream starts at offset 0, has no gap, no chunk
//     above the size asked for or Info.MaxChunkBytes, and the length Files
//     announced; End(succeeded) without truncation succeeds and truncates
//     nothing; the ended session refuses Files.
//   - abort-after-begin, abort-after-files, abort-mid-read (the ChunkWriter
//     fails; Read must return its error unchanged), abort-after-last-files:
//     End(aborted) succeeds, records and truncates nothing, and a new
//     Begin on the same source succeeds.
//   - unknown-session: Files, Read and End on an id the plugin never issued
//     fail with JET_errNoBackup and leave the open session alone.
//   - read-outside-batch, read-twice: Read of a name the current batch does
//     not list, and a second Read of a file, fail.
//   - files-before-batch-read: Files before every file of the batch was read
//     fails with JET_errInvalidBackupSequence (each batch is returned once).
//   - end-succeeded-early: End(succeeded) with files unread fails and
//     records nothing; the End(aborted) that follows succeeds.
//   - end-twice: a second End never turns an aborted session into a
//     backup, nor changes what a successful End reported.
//   - cancel-mid-read: cancelling Read's context ends the stream with an
//     error and the session with it; End(aborted) succeeds and the source
//     is free again.
//   - restart: with Target.Restart, a plugin restarted in the middle of a
//     session has forgotten it and serves the source again.
//
// Every error the checks provoke must be typed, so that a host still knows
// what happened on the other side of the process boundary: an error of the
// plugin's own domain (protocol.Coded; for ESE's domain "jet", whose JET_err
// must be the one named above) or, for a plugin without a domain of its own,
// a gRPC code that fits (the code ESE maps the JET_err named above to:
// FailedPrecondition for JET_errNoBackup and
// JET_errInvalidBackupSequence, AlreadyExists for JET_errBackupInProgress,
// InvalidArgument for JET_errInvalidParameter). A plain Go error, which
// travels as Internal, fails; the exceptions are a cancelled Read and a
// failing ChunkWriter, whose errors Read returns as they are.
package conformance
