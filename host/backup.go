package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/protocol"
)

// DefaultAbortTimeout bounds the End(aborted) call Backup makes on a
// failure path. It is short because that call runs when something already
// went wrong (possibly a plugin that no longer answers) and its only job is
// to release the plugin's session.
const DefaultAbortTimeout = 10 * time.Second

// ToolName is the tool name manifests record unless WithTool overrides it.
const ToolName = "esesnap"

// BackupRequest says what Backup backs up and how.
type BackupRequest struct {
	// Kind is the backup kind; the plugin must list it in Info.Kinds.
	Kind protocol.Kind
	// Source is passed to Begin and recorded in the manifest: its location
	// and only the options the plugin's Info lists as not secret.
	Source protocol.Source
	// Description is a free text recorded in the manifest, such as the
	// host name and service the backup is of.
	Description string
	// Host names the machine the source lives on (the CLI: this machine's
	// host name, or the one the user gave restic); recorded in the
	// manifest, where it identifies the source together with its location.
	Host string
	// TruncateLogs asks the plugin to truncate logs once the set is
	// durably stored. Only full and incremental backups truncate, and only
	// plugins with protocol.CapabilityTruncateLogs; Backup refuses other
	// combinations before it begins a session.
	TruncateLogs bool
	// ChunkBytes is the chunk size proposed to Read; 0 lets the plugin pick
	// its default.
	ChunkBytes int
}

// Result is what a backup produced. Backup returns it whenever the set was
// committed to the sink, even when ending the session failed afterwards.
type Result struct {
	// Manifest is the manifest stored as the set's last file.
	Manifest *backupset.Manifest
	// End is what ending the session reported: the header field the backup
	// was recorded in, the logs truncated, the log range and warnings. It is
	// zero when the session did not end successfully.
	End protocol.EndResult
	// Warnings are the host's own remarks about the set, such as why it
	// has no ESE metadata.
	Warnings []string
}

// Progress receives events as Backup streams files. Calls come from the
// goroutine running Backup, in order; an implementation must return quickly
// and must not call back into the backup.
type Progress interface {
	// FilesListed is called with each batch of files the plugin lists,
	// before they are read: their sizes (0 when unknown) add up to the
	// total as far as it is known.
	FilesListed(batch []protocol.File)
	// FileStarted is called before a file is read; name is its name in the
	// set.
	FileStarted(f protocol.File, name string)
	// FileBytes is called after each chunk with the bytes of the file
	// stored so far.
	FileBytes(name string, done int64)
	// FileDone is called once a file is completely stored.
	FileDone(f backupset.ManifestFile)
}

// Option configures Backup.
type Option func(*options)

type options struct {
	progress     Progress
	now          func() time.Time
	tool         backupset.Component
	abortTimeout time.Duration
	keepalive    time.Duration // 0: from Info.IdleTimeout; <0: never
}

// WithProgress reports progress to p.
func WithProgress(p Progress) Option { return func(o *options) { o.progress = p } }

// WithClock replaces time.Now for the session times of the manifest (and
// so the times of tar entries), for reproducible sets in tests.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithTool names the program that writes the set in its manifest; the
// default is ToolName with the module version from the build information.
func WithTool(name, version string) Option {
	return func(o *options) { o.tool = backupset.Component{Name: name, Version: version} }
}

// WithAbortTimeout replaces DefaultAbortTimeout.
func WithAbortTimeout(d time.Duration) Option { return func(o *options) { o.abortTimeout = d } }

// DefaultKeepalive is the interval of Keepalive calls while the sink
// commits when the plugin does not say how long it waits for an idle host.
const DefaultKeepalive = 30 * time.Second

// WithKeepalive sets the interval of the Keepalive calls Backup makes while
// the sink commits; by default it is a quarter of the plugin's
// Info.IdleTimeout (DefaultKeepalive when the plugin does not say), and a
// negative d sends none (tests use that to show what the calls prevent).
func WithKeepalive(d time.Duration) Option { return func(o *options) { o.keepalive = d } }

// EndError is the error Backup returns, together with a non-nil Result,
// when the set was stored but the session did not end successfully. End
// holds what the plugin reported with its error: the logs it truncated
// before the failure (they are gone: the stored set is now the only copy of
// their records) and whether the backup is recorded. The set must be kept.
type EndError struct {
	End protocol.EndResult
	Err error
}

// Error says that the set is stored and what ending the session did.
func (e *EndError) Error() string {
	return fmt.Sprintf("backup set stored, but ending the session failed (%s): %v", e.Outcome(), e.Err)
}

// Unwrap returns the plugin's error.
func (e *EndError) Unwrap() error { return e.Err }

// Outcome says in words what the failed End did: whether logs were
// truncated and whether the backup is recorded.
func (e *EndError) Outcome() string {
	trunc := "no log was truncated"
	if n := len(e.End.Truncated); n > 0 {
		names := make([]string, n)
		for i, l := range e.End.Truncated {
			names[i] = backupset.BaseName(l)
		}
		trunc = fmt.Sprintf("%d log(s) were truncated: %s", n, strings.Join(names, " "))
	}
	rec := "the backup is not recorded"
	if e.End.Recorded != "" {
		rec = "the backup is recorded in " + e.End.Recorded
	}
	return trunc + "; " + rec
}

// moduleVersion returns the version of this module in the running binary,
// or "(devel)" when it was built from a work tree.
func moduleVersion() string {
	const module = "github.com/esesnap/esesnap"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path == module && bi.Main.Version != "" {
			return bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == module {
				return d.Version
			}
		}
	}
	return "(devel)"
}

// PanicError is a panic that Backup recovered from a plugin, a sink or a
// progress callback and turned into an error, so that the session still
// ends and the caller gets an error instead of a crash.
type PanicError struct {
	Op    string // what was running, such as "Read" or "sink commit"
	Value any    // the value passed to panic
	Stack []byte // the stack of the panicking goroutine
}

// Error describes the panic without the stack.
func (e *PanicError) Error() string { return fmt.Sprintf("panic in %s: %v", e.Op, e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// safely runs f and turns a panic into a *PanicError.
func safely[T any](op string, f func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &PanicError{Op: op, Value: p, Stack: debug.Stack()}
		}
	}()
	return f()
}

// Backup takes one backup from s into sink.
//
// It calls Info and checks that the plugin supports req.Kind (and log
// truncation if requested), then Begin, then Files and Read until Files
// returns an empty batch, storing each file under its SetName while it
// hashes every byte with SHA-256 and checks that chunks are contiguous and
// that the stream has the length File.Size announced (when not 0). It then
// writes the manifest and commits the sink, and only when Commit returned
// nil (the set is durably stored) calls End(succeeded, req.TruncateLogs).
//
// The session always ends, exactly once: on any error, panic (recovered
// into a *PanicError), cancellation of ctx or sink failure, Backup aborts
// the sink (unless it committed) and calls End(aborted, no truncation) with
// a fresh context limited to the abort timeout, joining its error to the
// original one. Logs are never truncated on a failure path.
//
// From the last batch until End (while it builds and checks the manifest
// and the sink commits), Backup calls Keepalive (protocol.SessionKeeper)
// so that a slow commit does not let the plugin abort the session as idle,
// and it checks once before the commit that the plugin still holds the
// session: a session the plugin aborted cannot end succeeded, so no set is
// stored for it.
//
// The returned Result is non-nil exactly when the set was committed. A
// committed set with an error means the set is stored and complete but the
// session did not end successfully (ctx was cancelled after the commit, or
// End failed); the error is then an *EndError that says which logs End
// truncated before it failed and whether the backup is recorded. The caller
// must keep such a set: it may hold the only copy of truncated logs.
func Backup(ctx context.Context, s protocol.Snapshotter, req BackupRequest, sink backupset.Sink, opts ...Option) (res *Result, err error) {
	o := options{now: time.Now, abortTimeout: DefaultAbortTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.tool.Name == "" {
		o.tool = backupset.Component{Name: ToolName, Version: moduleVersion()}
	}
	b := &backupRun{ctx: ctx, s: s, req: req, sink: sink, o: o}
	b.collectors = backupset.NewCollectors()
	defer func() {
		if p := recover(); p != nil {
			err = &PanicError{Op: "backup", Value: p, Stack: debug.Stack()}
		}
		if err != nil {
			err = b.cleanup(err)
		}
		if !b.committed {
			res = nil
		}
	}()
	return b.run()
}

// backupRun is the state of one Backup call.
type backupRun struct {
	ctx  context.Context
	s    protocol.Snapshotter
	req  BackupRequest
	sink backupset.Sink
	o    options

	session   string
	ended     bool // End was called (successfully or not): never call it again
	committed bool // the sink committed: never abort it

	names      backupset.Names
	collectors []backupset.Collector // one per registered Format, in kind order
}

// cleanup runs the failure path: abort the sink unless it committed, then
// end the session as aborted unless End was already called.
func (b *backupRun) cleanup(err error) error {
	if !b.committed {
		if _, aerr := safely("sink abort", func() (struct{}, error) { return struct{}{}, b.sink.Abort() }); aerr != nil {
			err = errors.Join(err, fmt.Errorf("abort backup set: %w", aerr))
		}
	}
	if b.session != "" && !b.ended {
		b.ended = true
		ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), b.o.abortTimeout)
		defer cancel()
		req := protocol.EndRequest{Outcome: protocol.OutcomeAborted, TruncateLogs: false}
		if _, eerr := safely("End", func() (protocol.EndResult, error) { return b.s.End(ctx, b.session, req) }); eerr != nil {
			err = errors.Join(err, fmt.Errorf("end session %s (aborted): %w", b.session, eerr))
		}
	}
	return err
}

func (b *backupRun) run() (*Result, error) {
	ctx, req := b.ctx, b.req
	if !req.Kind.Valid() {
		return nil, fmt.Errorf("backup kind %s is not valid", req.Kind)
	}
	if req.TruncateLogs && !req.Kind.TruncatesLogs() {
		return nil, fmt.Errorf("a %s backup never truncates logs; only full and incremental backups do", req.Kind)
	}
	info, err := safely("Info", func() (protocol.Info, error) { return b.s.Info(ctx) })
	if err != nil {
		return nil, fmt.Errorf("plugin info: %w", err)
	}
	if !info.Supports(req.Kind) {
		return nil, fmt.Errorf("plugin %s does not support %s backups (it supports %v)", info.Name, req.Kind, info.Kinds)
	}
	if req.TruncateLogs && !info.Has(protocol.CapabilityTruncateLogs) {
		return nil, fmt.Errorf("plugin %s cannot truncate logs", info.Name)
	}

	started := b.o.now().UTC()
	b.session, err = safely("Begin", func() (string, error) {
		return b.s.Begin(ctx, protocol.BeginRequest{Kind: req.Kind, Source: req.Source})
	})
	if err != nil {
		return nil, fmt.Errorf("begin %s backup: %w", req.Kind, err)
	}
	if b.session == "" {
		return nil, fmt.Errorf("begin %s backup: plugin %s returned an empty session id", req.Kind, info.Name)
	}

	b.names = backupset.Names{}
	var files []backupset.ManifestFile
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("backup cancelled: %w", err)
		}
		batch, err := safely("Files", func() ([]protocol.File, error) { return b.s.Files(ctx, b.session) })
		if err != nil {
			return nil, fmt.Errorf("list files: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		if p := b.o.progress; p != nil {
			p.FilesListed(batch)
		}
		for _, f := range batch {
			mf, err := b.storeFile(f, started)
			if err != nil {
				return nil, err
			}
			files = append(files, mf)
		}
	}

	// From the last batch to End the host makes no call of its own while it
	// builds and checks the manifest and the sink commits (a large restic
	// upload takes longer than any idle timeout): keep the session alive.
	keeper := b.keeper(info)
	stopKeepalive := sync.OnceValue(b.keepAlive(ctx, keeper, info))
	defer stopKeepalive()

	m := &backupset.Manifest{
		FormatVersion:     backupset.FormatVersion,
		Tool:              b.o.tool,
		Plugin:            backupset.Component{Name: info.Name, Version: info.Version},
		Kind:              req.Kind,
		TruncateRequested: req.TruncateLogs,
		Started:           started,
		Finished:          b.o.now().UTC(),
		Source:            backupset.RecordSource(req.Description, req.Host, req.Source, info),
		Files:             files,
		Complete:          true,
	}
	if m.Files == nil {
		m.Files = []backupset.ManifestFile{}
	}
	for _, f := range m.Files {
		if f.Delta != nil {
			m.FormatVersion = backupset.DeltaFormatVersion
		}
	}
	res := &Result{Manifest: m}
	for _, c := range b.collectors {
		if why := c.Finish(m); why != nil {
			res.Warnings = append(res.Warnings, why.Error())
		}
	}
	// A set that would not verify is not committed: the backup fails with
	// Verify's errors, the session ends aborted and no log is truncated.
	for _, c := range b.collectors {
		if err := c.Check(ctx, m); err != nil {
			return nil, fmt.Errorf("the backup set would not verify, so it was not stored: %w", err)
		}
	}
	data, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("backup cancelled: %w", err)
	}
	if keeper != nil {
		// A session the plugin has given up on cannot end succeeded:
		// better no set than a set whose End is bound to fail.
		if _, err := safely("Keepalive", func() (struct{}, error) { return struct{}{}, keeper.Keepalive(ctx, b.session) }); err != nil {
			return nil, fmt.Errorf("the plugin no longer holds the session, so the set is not stored: %w", err)
		}
	}
	_, err = safely("sink commit", func() (struct{}, error) { return struct{}{}, b.sink.Commit(ctx, data, started) })
	kaErr := stopKeepalive()
	if err != nil {
		return nil, fmt.Errorf("commit backup set: %w", err)
	}
	b.committed = true
	if kaErr != nil {
		res.Warnings = append(res.Warnings, "keeping the session alive while the set was stored failed: "+kaErr.Error())
	}

	// The set is durably stored; from here on the sink is never aborted.
	if err := ctx.Err(); err != nil {
		return res, &EndError{Err: fmt.Errorf("cancelled before the session ended: %w", err)}
	}
	b.ended = true
	endReq := protocol.EndRequest{Outcome: protocol.OutcomeSucceeded, TruncateLogs: req.TruncateLogs}
	end, err := safely("End", func() (protocol.EndResult, error) { return b.s.End(ctx, b.session, endReq) })
	res.End = end
	if err != nil {
		return res, &EndError{End: end, Err: err}
	}
	return res, nil
}

// keeper returns the session keeper of the plugin, or nil when it has
// none or the caller turned keepalives off.
func (b *backupRun) keeper(info protocol.Info) protocol.SessionKeeper {
	k, ok := b.s.(protocol.SessionKeeper)
	if !ok || b.o.keepalive < 0 || !info.Has(protocol.CapabilityKeepalive) {
		return nil
	}
	return k
}

// keepAlive calls Keepalive at intervals until the returned stop is
// called, so that the plugin's idle watchdog does not abort the session
// while the sink commits (a large restic upload takes longer than any idle
// timeout). stop returns the first Keepalive error, if any.
func (b *backupRun) keepAlive(ctx context.Context, k protocol.SessionKeeper, info protocol.Info) (stop func() error) {
	if k == nil {
		return func() error { return nil }
	}
	every := b.o.keepalive
	if every == 0 {
		every = DefaultKeepalive
		if info.IdleTimeout > 0 {
			every = info.IdleTimeout / 4
		}
	}
	every = max(every, time.Millisecond)
	done := make(chan struct{})
	result := make(chan error, 1)
	go func() {
		var first error
		defer func() { result <- first }()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			_, err := safely("Keepalive", func() (struct{}, error) { return struct{}{}, k.Keepalive(ctx, b.session) })
			if err != nil && first == nil && ctx.Err() == nil {
				first = err
			}
		}
	}()
	return func() error {
		close(done)
		return <-result
	}
}

// storeFile streams one file into the sink and returns its manifest entry.
func (b *backupRun) storeFile(f protocol.File, started time.Time) (backupset.ManifestFile, error) {
	ctx := b.ctx
	var mf backupset.ManifestFile
	if !f.Role.Valid() {
		return mf, fmt.Errorf("plugin listed file %q with role %s", f.Name, f.Role)
	}
	if f.Size < 0 {
		return mf, fmt.Errorf("plugin listed file %q with size %d", f.Name, f.Size)
	}
	name, err := b.names.Assign(f.Name)
	if err != nil {
		return mf, err
	}
	if p := b.o.progress; p != nil {
		p.FileStarted(f, name)
	}
	size := int64(-1)
	if f.Size > 0 {
		size = f.Size
	}
	w, err := safely("sink create", func() (io.WriteCloser, error) {
		return b.sink.Create(backupset.Entry{Name: name, Size: size, ModTime: started, Role: f.Role, PageSize: f.PageSize})
	})
	if err != nil {
		return mf, fmt.Errorf("store %s: %w", name, err)
	}

	h := sha256.New()
	var next int64
	var werr error // the sink's or our own error, kept in case a remote Read loses its chain
	cw := protocol.ChunkWriterFunc(func(off int64, data []byte) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = &PanicError{Op: "store " + name, Value: p, Stack: debug.Stack()}
			}
			if err != nil && werr == nil {
				werr = err
			}
		}()
		if err := ctx.Err(); err != nil {
			return err
		}
		if off != next {
			return fmt.Errorf("chunk at offset %d, want %d", off, next)
		}
		if f.Size > 0 && next+int64(len(data)) > f.Size {
			return fmt.Errorf("stream is longer than the %d bytes announced", f.Size)
		}
		h.Write(data)
		for _, c := range b.collectors {
			c.Write(f.Role, off, data)
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
		next += int64(len(data))
		if p := b.o.progress; p != nil {
			p.FileBytes(name, next)
		}
		return nil
	})
	_, rerr := safely("Read", func() (struct{}, error) {
		return struct{}{}, b.s.Read(ctx, b.session, f.Name, b.req.ChunkBytes, cw)
	})
	switch {
	case werr != nil:
		return mf, fmt.Errorf("store %s: %w", name, werr)
	case rerr != nil:
		return mf, fmt.Errorf("read %s: %w", f.Name, rerr)
	case ctx.Err() != nil:
		return mf, fmt.Errorf("read %s: %w", f.Name, ctx.Err())
	case f.Size > 0 && next != f.Size:
		return mf, fmt.Errorf("read %s: stream ended after %d of the %d bytes announced", f.Name, next, f.Size)
	}
	if _, err := safely("sink close", func() (struct{}, error) { return struct{}{}, w.Close() }); err != nil {
		return mf, fmt.Errorf("store %s: %w", name, err)
	}
	mf = backupset.ManifestFile{
		Name:         name,
		OriginalName: f.Name,
		Role:         f.Role,
		Size:         next,
		SHA256:       hex.EncodeToString(h.Sum(nil)),
		PageSize:     f.PageSize,
		Generation:   f.Generation,
	}
	if d, ok := b.sink.(backupset.DeltaReporter); ok {
		mf.Delta = d.FileDelta(name)
	}
	for _, c := range b.collectors {
		c.FileDone(&mf)
	}
	if p := b.o.progress; p != nil {
		p.FileDone(mf)
	}
	return mf, nil
}
