package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/protocol"
)

// fakeFile is one file a fakeSnapshotter serves.
type fakeFile struct {
	protocol.File
	data []byte
}

// fakeSnapshotter is an in-process test double of protocol.Snapshotter: it
// serves fixed batches of in-memory files and records every call, with
// hooks to inject failures.
type fakeSnapshotter struct {
	info    protocol.Info
	batches [][]fakeFile
	chunk   int // chunk size of Read; 0 means 64 KiB

	beginErr error
	filesErr error
	endErr   error
	// onChunk, if set, runs before each chunk is passed on; an error fails
	// Read with it.
	onChunk func(ctx context.Context, file string, off int64) error
	// badOffset makes Read skip ahead after the first chunk of that file.
	badOffset string
	// short makes Read of that file stop one byte early.
	short string
	// ignoreCtx makes Read keep going when ctx is cancelled, so that the
	// host's own check is what stops it.
	ignoreCtx bool

	mu      sync.Mutex
	events  *eventLog
	next    int // next batch
	begun   int
	ends    []protocol.EndRequest
	endCtxs []context.Context
}

// eventLog is the call order shared by the double and the recording sink.
type eventLog struct {
	mu sync.Mutex
	ev []string
}

func (l *eventLog) add(format string, args ...any) {
	l.mu.Lock()
	l.ev = append(l.ev, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *eventLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ev)
}

func (l *eventLog) index(e string) int { return slices.Index(l.list(), e) }

// newFake returns a double serving two databases and three logs of
// pseudo-random bytes, as a generic (non-ESE) plugin would.
func newFake(t testing.TB) *fakeSnapshotter {
	t.Helper()
	rng := rand.New(rand.NewSource(1))
	blob := func(n int) []byte {
		b := make([]byte, n)
		rng.Read(b)
		return b
	}
	return &fakeSnapshotter{
		info: protocol.Info{
			Name: "fake", Version: "1.2.3",
			Kinds:         []protocol.Kind{protocol.KindFull, protocol.KindCopy},
			MaxChunkBytes: protocol.DefaultChunkBytes,
			Capabilities:  []string{protocol.CapabilityTruncateLogs},
		},
		batches: [][]fakeFile{
			{
				{protocol.File{Name: `C:\Windows\System32\sru\SRUDB.dat`, Role: protocol.RoleDatabase, Size: 300_000, PageSize: 4096}, blob(300_000)},
				{protocol.File{Name: "/var/lib/x/other.edb", Role: protocol.RoleDatabase}, blob(70_001)}, // size unknown
			},
			{
				{protocol.File{Name: `C:\sru\SRU00001.log`, Role: protocol.RoleLog, Size: 65536, Generation: 1}, blob(65536)},
				{protocol.File{Name: `C:\sru\SRU00002.log`, Role: protocol.RoleLog, Size: 65536, Generation: 2}, blob(65536)},
				{protocol.File{Name: `C:\sru\SRU00003.log`, Role: protocol.RoleLog, Size: 0, Generation: 3}, blob(0)},
			},
		},
		events: &eventLog{},
	}
}

func (f *fakeSnapshotter) Info(ctx context.Context) (protocol.Info, error) {
	f.events.add("info")
	return f.info, nil
}

func (f *fakeSnapshotter) Begin(ctx context.Context, req protocol.BeginRequest) (string, error) {
	f.events.add("begin:%s", req.Kind)
	f.mu.Lock()
	f.begun++
	f.mu.Unlock()
	if f.beginErr != nil {
		return "", f.beginErr
	}
	return "session-1", nil
}

func (f *fakeSnapshotter) Files(ctx context.Context, session string) ([]protocol.File, error) {
	f.events.add("files")
	if f.filesErr != nil {
		return nil, f.filesErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.next >= len(f.batches) {
		return nil, nil
	}
	var out []protocol.File
	for _, ff := range f.batches[f.next] {
		out = append(out, ff.File)
	}
	f.next++
	return out, nil
}

func (f *fakeSnapshotter) find(name string) (fakeFile, bool) {
	for _, b := range f.batches {
		for _, ff := range b {
			if ff.Name == name {
				return ff, true
			}
		}
	}
	return fakeFile{}, false
}

func (f *fakeSnapshotter) Read(ctx context.Context, session, file string, chunkBytes int, w protocol.ChunkWriter) error {
	f.events.add("read:%s", file)
	ff, ok := f.find(file)
	if !ok {
		return fmt.Errorf("no file %q", file)
	}
	data := ff.data
	if f.short == file && len(data) > 0 {
		data = data[:len(data)-1]
	}
	chunk := f.chunk
	if chunk == 0 {
		chunk = 64 << 10
	}
	for off := 0; off < len(data); off += chunk {
		if !f.ignoreCtx {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if f.onChunk != nil {
			if err := f.onChunk(ctx, file, int64(off)); err != nil {
				return err
			}
		}
		end := min(off+chunk, len(data))
		at := int64(off)
		if f.badOffset == file && off > 0 {
			at += 7
		}
		if err := w.WriteChunk(at, data[off:end]); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeSnapshotter) End(ctx context.Context, session string, req protocol.EndRequest) (protocol.EndResult, error) {
	f.events.add("end:%s:%v", req.Outcome, req.TruncateLogs)
	f.mu.Lock()
	f.ends = append(f.ends, req)
	f.endCtxs = append(f.endCtxs, ctx)
	f.mu.Unlock()
	if f.endErr != nil {
		return protocol.EndResult{}, f.endErr
	}
	res := protocol.EndResult{Recorded: "bkinfoFullPrev"}
	if req.Outcome == protocol.OutcomeSucceeded && req.TruncateLogs {
		res.Truncated = []string{`C:\sru\SRU00000.log`}
	}
	return res, nil
}

func (f *fakeSnapshotter) Restore(ctx context.Context, req protocol.RestoreRequest) (protocol.RestoreResult, error) {
	return protocol.RestoreResult{}, errors.New("not implemented by the test double")
}

// wantOneEnd fails unless End was called exactly once with want and without
// truncation unless truncate.
func (f *fakeSnapshotter) wantOneEnd(t testing.TB, want protocol.Outcome, truncate bool) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ends) != 1 {
		t.Fatalf("End called %d times (%v), want once; events %v", len(f.ends), f.ends, f.events.list())
	}
	if f.ends[0].Outcome != want || f.ends[0].TruncateLogs != truncate {
		t.Fatalf("End(%s, truncate=%v), want End(%s, truncate=%v)", f.ends[0].Outcome, f.ends[0].TruncateLogs, want, truncate)
	}
}

// recordingSink wraps a Sink and logs its Commit and Abort into events.
type recordingSink struct {
	backupset.Sink
	events      *eventLog
	commitErr   error  // returned by Commit instead of committing
	onCommit    func() // runs after a successful Commit
	wrapCreate  func(io.WriteCloser) io.WriteCloser
	createErr   error
	commitPanic bool
}

func (s *recordingSink) Create(e backupset.Entry) (io.WriteCloser, error) {
	s.events.add("create:%s", e.Name)
	if s.createErr != nil {
		return nil, s.createErr
	}
	w, err := s.Sink.Create(e)
	if err == nil && s.wrapCreate != nil {
		w = s.wrapCreate(w)
	}
	return w, err
}

func (s *recordingSink) Commit(ctx context.Context, manifest []byte, mod time.Time) error {
	if s.commitPanic {
		panic("sink commit exploded")
	}
	if s.commitErr != nil {
		s.events.add("commit-failed")
		return s.commitErr
	}
	if err := s.Sink.Commit(ctx, manifest, mod); err != nil {
		s.events.add("commit-failed")
		return err
	}
	s.events.add("commit")
	if s.onCommit != nil {
		s.onCommit()
	}
	return nil
}

func (s *recordingSink) Abort() error {
	s.events.add("abort")
	return s.Sink.Abort()
}

// errNoSpace stands for ENOSPC from a full disk.
var errNoSpace = errors.New("no space left on device (test double)")

// faultyWriter passes writes on until it has taken limit bytes, then fails
// with err or panics.
type faultyWriter struct {
	io.WriteCloser
	limit int64
	n     int64
	err   error
	panic bool
}

func (w *faultyWriter) Write(p []byte) (int, error) {
	if w.n+int64(len(p)) > w.limit {
		if w.panic {
			panic("sink write exploded")
		}
		return 0, w.err
	}
	w.n += int64(len(p))
	return w.WriteCloser.Write(p)
}

// fixedClock is the clock of reproducible backups.
func fixedClock() time.Time { return time.Date(2026, 3, 1, 12, 30, 45, 123456789, time.UTC) }
