// Package host is the runner of an esesnap backup host: it drives any
// protocol.Snapshotter (a plugin in another process through the go-plugin
// adapters, or one in the same process) through one backup and stores what
// it streams as a backup set (package backupset) in a backupset.Sink.
//
// Backup runs the session (Info, Begin, Files and Read, End) with a
// guaranteed End, exactly once: every failure, panic or cancellation ends
// the session as aborted, and End(succeeded) with log truncation comes
// only after the Sink confirmed the set is durably stored. Before the
// commit, the registered set formats' collectors record their manifest
// section and check the streamed set as Verify would; a set that would
// not verify is never committed. From the last batch to End the runner
// keeps the session alive (protocol.SessionKeeper). A failed End after the
// commit is an *EndError with the Result, so the caller keeps the set.
// HandleSignals turns Ctrl+C into a cancelled context (a second one kills
// the plugin).
//
// The package imports nothing of the ese tree and prints nothing; progress
// goes to an optional Progress. A program that wants JET_err back as
// *ese.Error registers ese.FromRemote with protocol.RegisterDecoder, as the
// esesnap CLI does.
package host
