//lint:file-ignore ST1005 the suite's messages begin with the Snapshotter method that failed (Info, Begin, Files, Read, End), as a plugin author reads them

package conformance

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/esesnap/esesnap/protocol"
	"google.golang.org/grpc/codes"
)

// maxBatches bounds the Files loop so that a plugin that never returns the
// empty batch fails instead of hanging the suite.
const maxBatches = 1000

// cleanupTimeout bounds the End(aborted) a check sends on its way out.
const cleanupTimeout = 30 * time.Second

// plan is what every check learns first: the plugin's Info and the kind
// its sessions use.
type plan struct {
	info protocol.Info
	kind protocol.Kind
}

// prepare asks the plugin for its Info and picks the kind of the checks
// other than backup: copy, else full (both start with the databases and
// change nothing the next backup depends on), else the first one listed.
func prepare(ctx context.Context, tgt Target) (plan, error) {
	info, err := tgt.Snapshotter.Info(ctx)
	if err != nil {
		return plan{}, fmt.Errorf("Info: %w", err)
	}
	kinds := targetKinds(tgt, info)
	if len(kinds) == 0 {
		return plan{}, errors.New("no backup kind to use: Info lists none and Target.Kinds is empty")
	}
	p := plan{info: info, kind: kinds[0]}
	switch {
	case slices.Contains(kinds, protocol.KindCopy):
		p.kind = protocol.KindCopy
	case slices.Contains(kinds, protocol.KindFull):
		p.kind = protocol.KindFull
	}
	return p, nil
}

// targetKinds is Target.Kinds, or every kind Info lists.
func targetKinds(tgt Target, info protocol.Info) []protocol.Kind {
	if len(tgt.Kinds) > 0 {
		return tgt.Kinds
	}
	return info.Kinds
}

// session is one session of the plugin under test. cleanup ends it aborted
// unless the check ended it, so a failing check leaves nothing open that
// would make the next check fail too.
type session struct {
	s     protocol.Snapshotter
	src   protocol.Source
	id    string
	kind  protocol.Kind
	ended bool
}

// begin starts a session of kind on the target's source.
func begin(ctx context.Context, s protocol.Snapshotter, src protocol.Source, kind protocol.Kind) (*session, error) {
	id, err := s.Begin(ctx, protocol.BeginRequest{Kind: kind, Source: src})
	if err != nil {
		return nil, fmt.Errorf("Begin(%s) of %s: %w", kind, describe(src), err)
	}
	if id == "" {
		return nil, fmt.Errorf("Begin(%s) of %s returned an empty session id: return an id that Files, Read and End accept", kind, describe(src))
	}
	return &session{s: s, src: src, id: id, kind: kind}, nil
}

// cleanup ends the session aborted if the check did not end it. Errors are
// ignored: the check has already said what went wrong.
func (se *session) cleanup(ctx context.Context) {
	if se == nil || se.ended {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	se.s.End(ctx, se.id, protocol.EndRequest{Outcome: protocol.OutcomeAborted})
	se.ended = true
}

// end calls End and marks the session ended, whatever End returned.
func (se *session) end(ctx context.Context, outcome protocol.Outcome, truncate bool) (protocol.EndResult, error) {
	se.ended = true
	return se.s.End(ctx, se.id, protocol.EndRequest{Outcome: outcome, TruncateLogs: truncate})
}

// files calls Files and checks what every listed file must satisfy.
func (se *session) files(ctx context.Context) ([]protocol.File, error) {
	files, err := se.s.Files(ctx, se.id)
	if err != nil {
		return nil, fmt.Errorf("Files: %w", err)
	}
	for _, f := range files {
		switch {
		case f.Name == "":
			return nil, errors.New("Files listed a file with an empty name: Read needs a name to ask for")
		case !f.Role.Valid():
			return nil, fmt.Errorf("Files listed %q with role %s: give every file RoleDatabase, RoleLog or RoleOther", f.Name, f.Role)
		case f.Size < 0:
			return nil, fmt.Errorf("Files listed %q with size %d: report the size in bytes, or 0 when unknown", f.Name, f.Size)
		}
	}
	return files, nil
}

// chunkAsks are the chunk sizes the backup check proposes, file after
// file: the smallest, the plugin's default, and an odd multiple.
var chunkAsks = []int{protocol.MinChunkBytes, 0, 3 * protocol.MinChunkBytes}

// chunkLimit is the largest chunk a plugin may send when asked for ask
// bytes: ask itself when set (the conformance suite only proposes
// multiples of protocol.MinChunkBytes, which need no rounding), and never
// more than Info.MaxChunkBytes or protocol.MaxChunkBytes.
func chunkLimit(info protocol.Info, ask int) (limit int, why string) {
	limit, why = protocol.MaxChunkBytes, "protocol.MaxChunkBytes"
	if info.MaxChunkBytes > 0 && info.MaxChunkBytes < limit {
		limit, why = info.MaxChunkBytes, "Info.MaxChunkBytes"
	}
	if ask > 0 && ask < limit {
		limit, why = ask, "the chunk size the host asked for"
	}
	return limit, why
}

// readChecked reads one file with chunk size ask and checks the stream:
// offsets from 0 without gaps or overlaps, no chunk above the limit, and as
// many bytes as Files announced.
func (se *session) readChecked(ctx context.Context, info protocol.Info, f protocol.File, ask int) error {
	limit, why := chunkLimit(info, ask)
	var next int64
	var bad error
	err := se.s.Read(ctx, se.id, f.Name, ask, protocol.ChunkWriterFunc(func(off int64, data []byte) error {
		switch {
		case off != next:
			bad = fmt.Errorf("Read %q: chunk at offset %d, want %d: send chunks in order, the first at offset 0 and each where the previous one ended", f.Name, off, next)
		case len(data) > limit:
			bad = fmt.Errorf("Read %q with chunkBytes %d: a chunk of %d bytes at offset %d exceeds %d, %s: size chunks with protocol.ChunkBytes(chunkBytes, maxChunkBytes)", f.Name, ask, len(data), off, limit, why)
		}
		if bad != nil {
			return bad
		}
		next += int64(len(data))
		return nil
	}))
	if bad != nil {
		return bad
	}
	if err != nil {
		return fmt.Errorf("Read %q: %w", f.Name, err)
	}
	if f.Size > 0 && next != f.Size {
		return fmt.Errorf("Read %q streamed %d bytes but Files listed its size as %d: list the exact size, or 0 when it is not known in advance", f.Name, next, f.Size)
	}
	return nil
}

// readAll reads every batch until the empty one, checking each batch and
// stream, and returns how many files it read.
func (se *session) readAll(ctx context.Context, info protocol.Info) (int, error) {
	seen := map[string]bool{}
	lastLog := ""
	n := 0
	for batch := 1; ; batch++ {
		if batch > maxBatches {
			return n, fmt.Errorf("Files returned %d non-empty batches without the empty batch that ends a backup: return an empty batch once every file was listed", maxBatches)
		}
		files, err := se.files(ctx)
		if err != nil {
			return n, fmt.Errorf("batch %d: %w", batch, err)
		}
		if len(files) == 0 {
			return n, nil
		}
		for _, f := range files {
			if seen[f.Name] {
				return n, fmt.Errorf("batch %d lists %q again: list each file once per session, and return the empty batch when nothing is left", batch, f.Name)
			}
			seen[f.Name] = true
			switch {
			case f.Role == protocol.RoleLog && lastLog == "":
				lastLog = f.Name
			case f.Role == protocol.RoleDatabase && lastLog != "":
				return n, fmt.Errorf("batch %d lists database %q after log %q: list every database before the logs (ESE knows the log range only once the databases were read)", batch, f.Name, lastLog)
			}
		}
		for i, f := range files {
			if err := se.readChecked(ctx, info, f, chunkAsks[(n+i)%len(chunkAsks)]); err != nil {
				return n, err
			}
		}
		n += len(files)
	}
}

// errNoData is why a check that needs a stream could not run.
func errNoData(src protocol.Source, kind protocol.Kind) error {
	return fmt.Errorf("no file of a %s backup of %s had any data, so the check cannot interrupt a stream: give Target.Source at least one file that is not empty", kind, describe(src))
}

// readUntilChunk reads the files of the session, largest announced size
// first within each batch, until a Read delivers a chunk; w then gets that
// chunk and every later one of the same Read. It returns the file and the
// error of that Read, and errNoData when no file had data.
func (se *session) readUntilChunk(ctx, readCtx context.Context, w protocol.ChunkWriterFunc) (string, error) {
	for batch := 1; batch <= maxBatches; batch++ {
		files, err := se.files(ctx)
		if err != nil {
			return "", err
		}
		if len(files) == 0 {
			return "", errNoData(se.src, se.kind)
		}
		slices.SortStableFunc(files, func(a, b protocol.File) int { return cmp.Compare(b.Size, a.Size) })
		for _, f := range files {
			chunked := false
			err := se.s.Read(readCtx, se.id, f.Name, protocol.MinChunkBytes, protocol.ChunkWriterFunc(func(off int64, data []byte) error {
				chunked = true
				return w(off, data)
			}))
			if chunked {
				return f.Name, err
			}
			if err != nil {
				return f.Name, fmt.Errorf("Read %q: %w", f.Name, err)
			}
		}
	}
	return "", fmt.Errorf("Files returned %d non-empty batches without the empty batch that ends a backup", maxBatches)
}

// beginAgain proves the source is free: a new session begins on it and
// ends aborted without error. after says what happened before.
func beginAgain(ctx context.Context, s protocol.Snapshotter, src protocol.Source, kind protocol.Kind, after string) error {
	se, err := begin(ctx, s, src, kind)
	if err != nil {
		return fmt.Errorf("a new session after %s could not begin, so the source was not released: %w", after, err)
	}
	defer se.cleanup(ctx)
	if _, err := se.end(ctx, protocol.OutcomeAborted, false); err != nil {
		return fmt.Errorf("End(aborted) of a new session after %s: %w", after, err)
	}
	return nil
}

// failure is a failure a check expects, in the two ways a plugin may say
// it: the JET_err of ESE's error domain ("jet", the only engine domain the
// suite knows by number), and the gRPC code an error of any other plugin
// travels with. The numbers are ESE's (TestFailuresAreESEs keeps them
// equal to package ese's); the suite imports nothing of the ese tree.
type failure struct {
	jet  int64      // the JET_err, negative
	name string     // its name, such as JET_errNoBackup
	grpc codes.Code // the gRPC code that fits it
}

// jetDomain is ESE's error domain.
const jetDomain = "jet"

// The failures the checks expect.
var (
	failNoBackup              = failure{-520, "JET_errNoBackup", codes.FailedPrecondition}
	failInvalidParameter      = failure{-1003, "JET_errInvalidParameter", codes.InvalidArgument}
	failInvalidBackupSequence = failure{-521, "JET_errInvalidBackupSequence", codes.FailedPrecondition}
	failMissingFullBackup     = failure{-560, "JET_errMissingFullBackup", codes.FailedPrecondition}
	anyTypedFailure           = failure{}
)

// String names the failure as a JET_err with its number.
func (f failure) String() string { return fmt.Sprintf("%s (%d)", f.name, f.jet) }

// is reports whether err is the failure in ESE's domain.
func (f failure) is(err error) bool {
	var c protocol.Coded
	return errors.As(err, &c) && c.ErrorDomain() == jetDomain && c.ErrorCode() == f.jet
}

// wantCode returns nil when err is a failure of the kind want names (any
// typed failure for anyTypedFailure), and otherwise a message saying what
// the plugin should have returned from call. A plugin may answer in its
// own error domain or with plain gRPC codes:
//   - an error of domain "jet" (ESE's; an *ese.Error in process, a
//     *protocol.Error from a plugin process) must carry exactly want's
//     JET_err;
//   - any other coded error (protocol.Coded) or a plain gRPC status must
//     travel with want's gRPC code (FailedPrecondition for
//     JET_errNoBackup, InvalidArgument for JET_errInvalidParameter, ...),
//     or with any code but Internal and Unknown for anyTypedFailure.
//
// An error with no code at all (a plain Go error, which travels as
// Internal) always fails: the host could not tell what happened.
func wantCode(err error, call string, want failure) error {
	wantText := "a typed error (a protocol.Coded error, or a *protocol.Error or gRPC status with a code other than Internal and Unknown)"
	if want != anyTypedFailure {
		wantText = fmt.Sprintf("%s or, without a domain of its own, gRPC %s", want, want.grpc)
	}
	if err == nil {
		return fmt.Errorf("%s succeeded; it must fail with %s", call, wantText)
	}
	var c protocol.Coded
	coded := errors.As(err, &c)
	if coded && c.ErrorDomain() == jetDomain {
		code := c.ErrorCode()
		switch {
		case code >= 0:
			return fmt.Errorf("%s failed with %q, whose code %d is not an error code: use a negative JET_err", call, err, code)
		case want != anyTypedFailure && code != want.jet:
			return fmt.Errorf("%s failed with %s (%d), want %s; the error was %q", call, c.ErrorName(), code, want, err)
		}
		return nil
	}
	got := protocol.CodeOf(err)
	switch {
	case (!coded || c.ErrorDomain() == "") && (got == codes.Internal || got == codes.Unknown):
		return fmt.Errorf("%s failed with %q, which carries no code (it travels as gRPC %s): return %s so that the host knows what happened across the process boundary", call, err, got, wantText)
	case want != anyTypedFailure && got != want.grpc:
		return fmt.Errorf("%s failed with gRPC %s, want %s; the error was %q", call, got, wantText, err)
	}
	return nil
}

// describe names a source in messages.
func describe(src protocol.Source) string {
	if src.Location == "" {
		return "the source"
	}
	return fmt.Sprintf("%q", src.Location)
}
