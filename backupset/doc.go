// Package backupset is the backup-set format of esesnap: what a backup
// stores and how it is checked and read back, independent of the runner
// (package host) and of any plugin.
//
// A set is the streamed files in order, then manifest.json (Manifest),
// written last so that a set without it is incomplete. It is stored by a
// Sink: a directory (DirSink), a deterministic tar stream (TarSink), page
// deltas against an earlier set (DeltaSink), or nothing (NullSink, for
// measuring). Names reported by plugins pass through SetName and Names, so
// a plugin cannot make a set write outside itself. Verify and VerifyTar
// check a stored set: the manifest (strict JSON), sizes and SHA-256, and
// the checks of the set's format; ExtractTar and ResolveDeltas read a set
// back into whole files.
//
// Formats: what a set holds beyond bytes is checked by a Format that a
// package registers by kind (RegisterFormat) in its init; backupset knows
// none itself. A format records its own section in the manifest, under
// its kind as the key (an ESE set has "ese", package ese/eseset: pages,
// logs, generations, the log chain), and its verify findings in
// VerifyReport.Details. A set with no section is verified by sizes and
// hashes alone (a dirsnap set); one whose kind no package registered fails
// Verify with ErrUnknownFormat rather than passing on hashes.
package backupset
