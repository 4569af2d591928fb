// Package host is the library side of an esesnap backup host: it drives any
// protocol.Snapshotter (a plugin in another process through the go-plugin
// adapters, or one in the same process) through a backup and stores what it
// streams as a backup set.
//
// Backup runs the session (Info, Begin, Files and Read, End) with a
// guaranteed End: every failure, panic or cancellation ends the session as
// aborted, and logs are truncated only after the Sink confirmed the set is
// durably stored. A backup set is the databases, then the logs, then
// manifest.json (Manifest), as a directory (DirSink) or a deterministic tar
// stream (TarSink). Names reported by plugins pass through SetName, so a
// plugin cannot make the host write outside the set. Verify checks a stored
// set offline: manifest, sizes and SHA-256, and the checks of the set's
// format. HandleSignals turns Ctrl+C into a cancelled context.
//
// Set formats: what a set holds beyond bytes is checked by a Format that a
// package registers by kind (RegisterFormat) in its init; package host
// knows none itself. A set's kind comes from its manifest (SetFormat): a
// manifest with the "ese" section is of kind "ese" (package ese/eseset:
// pages, logs, generations and the log chain), which also holds for sets
// written before formats existed, so their manifests are unchanged and
// decode strictly as before. A manifest with no such section is verified by
// sizes and hashes alone; one whose kind no package registered fails
// Verify with ErrUnknownFormat rather than passing on hashes. At backup
// time every registered format's Collector sees the streamed files, and
// the one whose files they are records its section and checks the set
// before it is committed.
//
// The package prints nothing; progress goes to an optional Progress.
package host
