package protocol

import "context"

// Snapshotter is the Go shape of the snapshot service: what a plugin
// implements and what a host calls, in-process or through the go-plugin
// adapters. A session runs Begin, then Files and Read until Files returns an
// empty batch, then End; the host calls End on every path, including after
// a failure or cancellation, and an implementation accepts End in any state
// of the session. Calls of one session are sequential.
//
// Errors that have a code of the plugin's own domain are (or wrap) a Coded
// error, such as ESE's *ese.Error, so that the adapters carry the code
// across the process boundary (ToStatus, FromStatus); a plugin without a
// domain returns plain errors, an *Error with a gRPC code, or a status.
// Warnings are not errors and travel in EndResult.Warnings and
// RestoreResult.Warnings.
type Snapshotter interface {
	// Info describes the plugin. It needs no session and changes nothing.
	Info(ctx context.Context) (Info, error)

	// Begin starts a session and returns its id, which is opaque to the
	// host.
	Begin(ctx context.Context, req BeginRequest) (session string, err error)

	// Files returns the next batch of files to read: the databases first,
	// the logs only after every database was read (ESE knows the log range
	// only then), and an empty batch once there is nothing more. Each batch
	// is returned once.
	Files(ctx context.Context, session string) ([]File, error)

	// Read streams one file of the current batch to w, in order and without
	// gaps, in chunks of at most chunkBytes (see ChunkBytes: 0 asks for the
	// plugin's default, and the plugin may pick a smaller size than the one
	// proposed but never more than its Info.MaxChunkBytes).
	//
	// Read pushes chunks instead of returning an io.Reader so that nothing
	// is buffered beyond one chunk and a plugin can reuse one read buffer
	// (ESE needs it aligned and sized in whole pages) for the whole file,
	// while the host hashes and stores each chunk as it arrives. The data
	// passed to w is valid only during the call. Read returns nil after the
	// last chunk, never io.EOF, so that a stream cut short always ends in a
	// non-nil error; an error returned by w is returned unchanged. OpenReader
	// adapts Read to an io.ReadCloser whose Read reports io.EOF, unwrapped,
	// exactly when this Read returned nil.
	Read(ctx context.Context, session, file string, chunkBytes int, w ChunkWriter) error

	// End finishes the session. With OutcomeSucceeded the plugin records the
	// backup and, if asked and the kind allows it, truncates logs; with
	// OutcomeAborted it records and truncates nothing.
	End(ctx context.Context, session string, req EndRequest) (EndResult, error)

	// Restore stages a backup set for recovery. It needs no session.
	Restore(ctx context.Context, req RestoreRequest) (RestoreResult, error)
}

// SessionKeeper is implemented by Snapshotters whose sessions expire when
// the host makes no call for a while (Info.IdleTimeout). A host that keeps a
// session open without calling it, as while its sink commits a large set,
// calls Keepalive at intervals well within the timeout; it is a separate
// interface so that existing Snapshotters need not change.
type SessionKeeper interface {
	// Keepalive resets the idle watchdog of the session. It fails when the
	// session is over (ended, or aborted by the plugin), with the reason, so
	// that a host learns before it commits a set that End cannot succeed.
	Keepalive(ctx context.Context, session string) error
}
