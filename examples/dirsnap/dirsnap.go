// Package dirsnap is a snapshot plugin that is not about ESE: it backs up
// the regular files at the top of a directory. It exists to show that the
// snapshot protocol is generic, and as a small, complete example for plugin
// authors: one batch of files, chunked streams with a reused buffer, one
// session per directory. It has no error domain of its own and does not
// import package ese: its errors are *protocol.Error with a plain gRPC code
// (InvalidArgument for a bad request, AlreadyExists for a directory another
// session holds, FailedPrecondition for a call out of order or on an
// unknown session, Aborted for a session the plugin aborted) or wrap the
// operating system's error, whose kind gives the code (NotFound,
// PermissionDenied, ...). They cross the process boundary with that code,
// the operation, the file and the cause's text.
//
// It takes no snapshot of its own: point it at a directory that does not
// change during the backup (a volume snapshot, a stopped application). The
// stream of a file is what the file holds when it is read; a file that
// changed size since it was listed fails the host's size check.
package dirsnap

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/esesnap/esesnap/protocol"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
)

// Name and Version are what Info reports.
const (
	Name    = "dirsnap"
	Version = "1.0.0"
)

// keepEnded is how long an ended session is remembered, so that a host
// retrying End gets the first answer instead of JET_errNoBackup.
const keepEnded = 10 * time.Minute

// New returns the directory snapshotter. Source.Location names the
// directory; dirsnap takes no options (Info.Options is empty), so
// Source.Options must be empty. logger may be nil.
func New(logger hclog.Logger) protocol.Snapshotter {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &snapshotter{log: logger, sessions: map[string]*session{}, busy: map[string]string{}}
}

// snapshotter is the protocol.Snapshotter of this package.
type snapshotter struct {
	log hclog.Logger

	mu       sync.Mutex
	sessions map[string]*session // by id, open and recently ended
	busy     map[string]string   // directory -> id of its open session
}

// session is one backup of one directory. Its fields are guarded by mu,
// which also serialises the calls of the session, except endedAt, which
// the snapshotter's mu guards.
type session struct {
	mu      sync.Mutex
	id      string
	dir     string
	kind    protocol.Kind
	listed  bool                  // the batch was returned
	files   map[string]*fileState // the batch, by File.Name
	order   []*fileState          // the batch, as listed
	buf     []byte                // read buffer, reused for every file
	ended   bool
	result  protocol.EndResult // what End reports, again if retried
	endErr  error
	aborted string // why the plugin ended the session itself
	endedAt time.Time
}

type fileState struct {
	file protocol.File
	read bool
}

// options are the options dirsnap describes in Info: none. A host that
// builds its flags from Info offers only the location (--source).
var options []protocol.OptionSpec

// Info describes the plugin.
func (s *snapshotter) Info(ctx context.Context) (protocol.Info, error) {
	return protocol.Info{
		Name:          Name,
		Version:       Version,
		Kinds:         []protocol.Kind{protocol.KindFull, protocol.KindCopy},
		MaxChunkBytes: protocol.MaxChunkBytes,
		Options:       options,
	}, nil
}

// Begin starts a session on req.Source.Location, which must be a
// directory that no other session of this plugin is backing up.
func (s *snapshotter) Begin(ctx context.Context, req protocol.BeginRequest) (string, error) {
	const op = "Begin"
	if req.Kind != protocol.KindFull && req.Kind != protocol.KindCopy {
		return "", &protocol.Error{Status: codes.InvalidArgument, Op: op, Err: fmt.Errorf("dirsnap takes full and copy backups, not %s: a directory has no log chain to back up incrementally", req.Kind)}
	}
	if err := protocol.CheckOptions(options, req.Source.Options, false); err != nil {
		return "", &protocol.Error{Status: codes.InvalidArgument, Op: op, Err: err}
	}
	if req.Source.Location == "" {
		return "", &protocol.Error{Status: codes.InvalidArgument, Op: op, Err: errors.New("no directory: set Source.Location")}
	}
	dir, err := filepath.Abs(req.Source.Location)
	if err != nil {
		return "", &protocol.Error{Status: codes.InvalidArgument, Op: op, File: req.Source.Location, Err: err}
	}
	st, err := os.Stat(dir)
	if err != nil {
		return "", ioError(op, dir, err)
	}
	if !st.IsDir() {
		return "", &protocol.Error{Status: codes.InvalidArgument, Op: op, File: dir, Err: errors.New("not a directory")}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetEndedLocked()
	if _, ok := s.busy[dir]; ok {
		return "", &protocol.Error{Status: codes.AlreadyExists, Op: op, File: dir, Retryable: true, Err: errors.New("another session is backing up this directory; end it first")}
	}
	se := &session{id: rand.Text(), dir: dir, kind: req.Kind}
	s.sessions[se.id] = se
	s.busy[dir] = se.id
	s.log.Info("backup session started", "session", se.id, "kind", req.Kind.String(), "dir", dir)
	return se.id, nil
}

// forgetEndedLocked drops sessions that ended more than keepEnded ago.
func (s *snapshotter) forgetEndedLocked() {
	for id, se := range s.sessions {
		if !se.endedAt.IsZero() && time.Since(se.endedAt) > keepEnded {
			delete(s.sessions, id)
		}
	}
}

// lookup returns the session with its lock held; an unknown id is
// JET_errNoBackup, as ESE answers a call without a backup in progress, and
// so is an ended session unless the call is End.
func (s *snapshotter) lookup(op, id string) (*session, error) {
	s.mu.Lock()
	se := s.sessions[id]
	s.mu.Unlock()
	if se == nil {
		return nil, &protocol.Error{Status: codes.FailedPrecondition, Op: op, Err: fmt.Errorf("unknown session %q", id)}
	}
	se.mu.Lock()
	if se.ended && op != "End" {
		se.mu.Unlock()
		return nil, &protocol.Error{Status: codes.FailedPrecondition, Op: op, Err: errors.New("the session has ended")}
	}
	return se, nil
}

// Files returns the regular files at the top of the directory in one
// batch, then the empty batch once every one of them was read.
func (s *snapshotter) Files(ctx context.Context, id string) ([]protocol.File, error) {
	const op = "Files"
	se, err := s.lookup(op, id)
	if err != nil {
		return nil, err
	}
	defer se.mu.Unlock()
	if se.listed {
		for _, f := range se.order {
			if !f.read {
				return nil, &protocol.Error{Status: codes.FailedPrecondition, Op: op, File: f.file.Name, Err: errors.New("read every file of the batch before asking for the next")}
			}
		}
		return nil, nil
	}
	entries, err := os.ReadDir(se.dir)
	if err != nil {
		return nil, ioError(op, se.dir, err)
	}
	files := make([]protocol.File, 0, len(entries))
	se.files = make(map[string]*fileState, len(entries))
	for _, e := range entries {
		// Subdirectories, links and devices are left out: the host stores
		// files under their base names, in one flat set.
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, ioError(op, filepath.Join(se.dir, e.Name()), err)
		}
		f := protocol.File{Name: filepath.Join(se.dir, e.Name()), Role: protocol.RoleOther, Size: info.Size()}
		st := &fileState{file: f}
		files = append(files, f)
		se.files[f.Name] = st
		se.order = append(se.order, st)
	}
	se.listed = true
	return files, nil
}

// Read streams one file of the batch in chunks of the size the host asked
// for. A stream cut short (the host cancelled or its writer failed) ends
// the session aborted, as the ESE driver does: the host then ends it.
func (s *snapshotter) Read(ctx context.Context, id, file string, chunkBytes int, w protocol.ChunkWriter) error {
	const op = "Read"
	se, err := s.lookup(op, id)
	if err != nil {
		return err
	}
	defer se.mu.Unlock()
	st := se.files[file]
	switch {
	case st == nil:
		return &protocol.Error{Status: codes.InvalidArgument, Op: op, File: file, Err: errors.New("not a file of the current batch")}
	case st.read:
		return &protocol.Error{Status: codes.InvalidArgument, Op: op, File: file, Err: errors.New("already read in this session")}
	}
	fh, err := os.Open(file)
	if err != nil {
		return ioError(op, file, err)
	}
	defer fh.Close()
	n := protocol.ChunkBytes(chunkBytes, protocol.MaxChunkBytes)
	if cap(se.buf) < n {
		se.buf = make([]byte, n)
	}
	buf := se.buf[:n]
	var off int64
	for {
		if err := ctx.Err(); err != nil {
			s.abortLocked(se, "the host cancelled the read of "+file)
			return err
		}
		n, rerr := io.ReadFull(fh, buf)
		if n > 0 {
			if err := w.WriteChunk(off, buf[:n]); err != nil {
				s.abortLocked(se, fmt.Sprintf("the host stopped receiving %s: %v", file, err))
				return err
			}
			off += int64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return ioError(op, file, rerr)
		}
	}
	// A cancellation during the last chunk still means the host did not
	// take the whole file.
	if err := ctx.Err(); err != nil {
		s.abortLocked(se, "the host cancelled the read of "+file)
		return err
	}
	st.read = true
	return nil
}

// End ends the session and frees the directory. Nothing is recorded and
// nothing truncated; a retried End returns the first one's result.
func (s *snapshotter) End(ctx context.Context, id string, req protocol.EndRequest) (protocol.EndResult, error) {
	const op = "End"
	se, err := s.lookup(op, id)
	if err != nil {
		return protocol.EndResult{}, err
	}
	defer se.mu.Unlock()
	if se.ended && se.aborted != "" {
		// The plugin gave up on the session: it ends aborted, never
		// succeeded.
		if req.Outcome != protocol.OutcomeSucceeded {
			return protocol.EndResult{}, nil
		}
		return protocol.EndResult{}, &protocol.Error{Status: codes.Aborted, Op: op, Err: errors.New("the plugin had already aborted the session: " + se.aborted)}
	}
	if se.ended {
		return se.result, se.endErr
	}
	if req.Outcome != protocol.OutcomeSucceeded {
		s.finishLocked(se, protocol.EndResult{}, nil)
		s.log.Info("backup session ended aborted", "session", id)
		return protocol.EndResult{}, nil
	}
	for _, f := range se.order {
		if !f.read {
			err := &protocol.Error{Status: codes.FailedPrecondition, Op: op, File: f.file.Name, Err: errors.New("not every file was read; the backup was ended aborted")}
			s.abortLocked(se, "the host ended the backup succeeded before every file was read")
			return protocol.EndResult{}, err
		}
	}
	if !se.listed {
		s.abortLocked(se, "the host ended the backup succeeded before listing the files")
		return protocol.EndResult{}, &protocol.Error{Status: codes.FailedPrecondition, Op: op, Err: errors.New("the files were never listed; the backup was ended aborted")}
	}
	var res protocol.EndResult
	if req.TruncateLogs {
		res.Warnings = append(res.Warnings, "dirsnap has no logs to truncate")
	}
	s.finishLocked(se, res, nil)
	s.log.Info("backup session ended", "session", id, "files", len(se.files))
	return res, nil
}

// abortLocked ends the session aborted on the plugin's side; a later End
// reports why. The caller holds se.mu.
func (s *snapshotter) abortLocked(se *session, reason string) {
	if se.ended {
		return
	}
	s.log.Warn("backup session aborted", "session", se.id, "reason", reason)
	se.aborted = reason
	s.finishLocked(se, protocol.EndResult{}, nil)
}

// finishLocked marks the session ended and frees its directory. The caller
// holds se.mu.
func (s *snapshotter) finishLocked(se *session, res protocol.EndResult, err error) {
	se.ended, se.result, se.endErr = true, res, err
	se.files, se.order, se.buf = nil, nil, nil
	s.mu.Lock()
	se.endedAt = time.Now()
	if s.busy[se.dir] == se.id {
		delete(s.busy, se.dir)
	}
	s.mu.Unlock()
}

// Restore is not offered: a directory backup set is restored by copying
// its files back.
func (s *snapshotter) Restore(ctx context.Context, req protocol.RestoreRequest) (protocol.RestoreResult, error) {
	return protocol.RestoreResult{}, &protocol.Error{Status: codes.Unimplemented, Op: "Restore", Err: errors.New("dirsnap does not restore: copy the files of the backup set back")}
}

// ioError gives a file system error its operation and path; the gRPC code
// comes from the error itself (protocol.CodeOf: NotFound for a missing
// file, PermissionDenied, Unavailable for other I/O errors), and a host
// can still test it with errors.Is(err, fs.ErrNotExist) in process.
func ioError(op, path string, err error) error {
	return &protocol.Error{Op: op, File: path, Err: err}
}

// Compile-time check that the unexported type keeps the contract.
var _ protocol.Snapshotter = (*snapshotter)(nil)
