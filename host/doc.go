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
// set offline: manifest, sizes and SHA-256, and for ESE sets every page, log
// and the log chain. HandleSignals turns Ctrl+C into a cancelled context.
//
// The package prints nothing; progress goes to an optional Progress.
package host
