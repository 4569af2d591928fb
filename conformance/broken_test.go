package conformance_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/esesnap/esesnap/conformance"
	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/protocol"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fault is one way memSnap breaks the protocol.
type fault int

const (
	faultNone                fault = iota
	faultInfoNoName                // Info.Name is empty
	faultInfoNoChunkLimit          // Info.MaxChunkBytes is 0
	faultAcceptsAnyKind            // Begin takes the zero Kind
	faultChunkGap                  // the second chunk skips a byte
	faultChunkTooBig               // ignores the chunk size asked for
	faultWrongSize                 // Files announces a size the stream does not have
	faultLogsFirst                 // lists the logs before the databases
	faultTruncatesUnasked          // End(succeeded) deletes logs nobody asked it to
	faultNeverReleases             // End(aborted) keeps the source locked
	faultUncodedErrors             // errors carry no JET_err
	faultWrongUnknownCode          // an unknown session is JET_errInvalidParameter
	faultRereadAllowed             // a file can be read twice
	faultFilesSkipsAhead           // Files before the batch was read returns the next batch
	faultEndSucceedsEarly          // End(succeeded) with files unread succeeds
	faultEndRevivesAborted         // End(succeeded) after End(aborted) records a backup
	faultSwallowsWriterError       // Read returns nil when the writer fails
	faultIgnoresCancel             // Read streams on after its context was cancelled
	faultLivesOnAfterCancel        // a cancelled Read leaves the session running
	faultRestartKeepsLock          // the restarted plugin finds the source still locked
	faultKeepaliveAfterEnd         // Keepalive succeeds for an ended session
	faultWrongPlainStatus          // errors without a domain all travel as InvalidArgument

	// Not faults: conforming plugins without a domain of their own.
	plainProtocolErrors // errors are *protocol.Error with the fitting gRPC code, no domain
	plainStatusErrors   // errors are gRPC statuses with the fitting code
)

// memFile is one file memSnap serves; its bytes are a function of the
// offset.
type memFile struct {
	name string
	role protocol.Role
	size int
}

var (
	memDatabases = []memFile{{"db1.edb", protocol.RoleDatabase, 200 << 10}, {"db2.edb", protocol.RoleDatabase, 5}}
	memLogs      = []memFile{{"e01.log", protocol.RoleLog, 70 << 10}, {"e02.log", protocol.RoleLog, 1}}
)

// memSnap is a small Snapshotter serving two batches from memory. Without
// a fault it keeps the protocol; each fault breaks one rule.
type memSnap struct {
	fault fault
	lock  *memLock // shared with a restarted memSnap only by faultRestartKeepsLock

	mu       sync.Mutex
	sessions map[string]*memSession
	next     int
}

type memLock struct {
	mu    sync.Mutex
	owner string
}

type memSession struct {
	id      string
	phase   int // 0 nothing listed, 1 first batch, 2 second batch, 3 done
	batch   map[string]memFile
	read    map[string]bool
	ended   bool
	aborted bool
	result  protocol.EndResult
}

func newMemSnap(f fault) *memSnap {
	return &memSnap{fault: f, lock: &memLock{}, sessions: map[string]*memSession{}}
}

func (m *memSnap) restart() (protocol.Snapshotter, error) {
	n := newMemSnap(m.fault)
	if m.fault == faultRestartKeepsLock {
		n.lock = m.lock
	}
	return n, nil
}

func (m *memSnap) err(code ese.Code, op, msg string) error {
	switch m.fault {
	case faultUncodedErrors:
		return errors.New(op + ": " + msg)
	case faultWrongPlainStatus:
		return &protocol.Error{Status: codes.InvalidArgument, Op: op, Err: errors.New(msg)}
	case plainProtocolErrors:
		return &protocol.Error{Status: code.GRPCCode(), Op: op, Err: errors.New(msg)}
	case plainStatusErrors:
		return status.Error(code.GRPCCode(), op+": "+msg)
	}
	return &ese.Error{Code: code, Op: op, Err: errors.New(msg)}
}

func (m *memSnap) Info(ctx context.Context) (protocol.Info, error) {
	info := protocol.Info{Name: "mem", Version: "1.0.0", Kinds: []protocol.Kind{protocol.KindFull, protocol.KindCopy}, MaxChunkBytes: protocol.DefaultChunkBytes,
		Capabilities: []string{protocol.CapabilityKeepalive}}
	switch m.fault {
	case faultInfoNoName:
		info.Name = ""
	case faultInfoNoChunkLimit:
		info.MaxChunkBytes = 0
	}
	return info, nil
}

func (m *memSnap) Begin(ctx context.Context, req protocol.BeginRequest) (string, error) {
	if req.Kind != protocol.KindFull && req.Kind != protocol.KindCopy && m.fault != faultAcceptsAnyKind {
		return "", m.err(ese.ErrInvalidParameter, "Begin", "unsupported kind "+req.Kind.String())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lock.mu.Lock()
	defer m.lock.mu.Unlock()
	if m.lock.owner != "" {
		return "", m.err(ese.ErrBackupInProgress, "Begin", "source busy")
	}
	m.next++
	s := &memSession{id: "s" + strconv.Itoa(m.next), read: map[string]bool{}}
	m.sessions[s.id] = s
	m.lock.owner = s.id
	return s.id, nil
}

// session returns a session that may be used; the caller holds m.mu.
func (m *memSnap) session(op, id string, ended bool) (*memSession, error) {
	s := m.sessions[id]
	if s == nil {
		if m.fault == faultWrongUnknownCode {
			return nil, m.err(ese.ErrInvalidParameter, op, "unknown session")
		}
		return nil, m.err(ese.ErrNoBackup, op, "unknown session")
	}
	if s.ended && !ended {
		return nil, m.err(ese.ErrNoBackup, op, "session ended")
	}
	return s, nil
}

func (m *memSnap) release(s *memSession) {
	m.lock.mu.Lock()
	if m.lock.owner == s.id {
		m.lock.owner = ""
	}
	m.lock.mu.Unlock()
}

func (m *memSnap) finish(s *memSession, aborted bool, res protocol.EndResult) {
	s.ended, s.aborted, s.result = true, aborted, res
	if !aborted || m.fault != faultNeverReleases {
		m.release(s)
	}
}

func (m *memSnap) Files(ctx context.Context, id string) ([]protocol.File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.session("Files", id, false)
	if err != nil {
		return nil, err
	}
	for name := range s.batch {
		if !s.read[name] && m.fault != faultFilesSkipsAhead {
			return nil, m.err(ese.ErrInvalidBackupSequence, "Files", "batch not read")
		}
	}
	batches := [][]memFile{memDatabases, memLogs}
	if m.fault == faultLogsFirst {
		batches[0], batches[1] = batches[1], batches[0]
	}
	s.batch = map[string]memFile{}
	if s.phase >= 2 {
		s.phase = 3
		return nil, nil
	}
	var files []protocol.File
	for _, f := range batches[s.phase] {
		size := int64(f.size)
		if m.fault == faultWrongSize {
			size++
		}
		s.batch[f.name] = f
		files = append(files, protocol.File{Name: f.name, Role: f.role, Size: size})
	}
	s.phase++
	return files, nil
}

func (m *memSnap) Read(ctx context.Context, id, file string, chunkBytes int, w protocol.ChunkWriter) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.session("Read", id, false)
	if err != nil {
		return err
	}
	f, ok := s.batch[file]
	switch {
	case !ok:
		return m.err(ese.ErrInvalidParameter, "Read", "not in the batch: "+file)
	case s.read[file] && m.fault != faultRereadAllowed:
		return m.err(ese.ErrInvalidParameter, "Read", "already read: "+file)
	}
	info, _ := m.Info(ctx)
	chunk := protocol.ChunkBytes(chunkBytes, info.MaxChunkBytes)
	if m.fault == faultChunkTooBig {
		chunk = f.size
	}
	buf := make([]byte, chunk)
	cancelled := func() error {
		if m.fault == faultIgnoresCancel {
			return nil
		}
		if err := ctx.Err(); err != nil {
			if m.fault != faultLivesOnAfterCancel {
				m.finish(s, true, protocol.EndResult{})
			}
			return err
		}
		return nil
	}
	for off := 0; off < f.size; off += chunk {
		if err := cancelled(); err != nil {
			return err
		}
		part := buf[:min(chunk, f.size-off)]
		for i := range part {
			part[i] = byte((off + i) % 251)
		}
		at := int64(off)
		if m.fault == faultChunkGap && off > 0 {
			at++
		}
		if err := w.WriteChunk(at, part); err != nil {
			m.finish(s, true, protocol.EndResult{})
			if m.fault == faultSwallowsWriterError {
				return nil
			}
			return err
		}
	}
	if err := cancelled(); err != nil {
		return err
	}
	s.read[file] = true
	return nil
}

func (m *memSnap) End(ctx context.Context, id string, req protocol.EndRequest) (protocol.EndResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.session("End", id, true)
	if err != nil {
		return protocol.EndResult{}, err
	}
	if s.ended {
		if s.aborted && req.Outcome == protocol.OutcomeSucceeded {
			if m.fault == faultEndRevivesAborted {
				return protocol.EndResult{Recorded: "memPrev"}, nil
			}
			return protocol.EndResult{}, m.err(ese.ErrBackupAbortByServer, "End", "the session was aborted")
		}
		return s.result, nil
	}
	if req.Outcome != protocol.OutcomeSucceeded {
		m.finish(s, true, protocol.EndResult{})
		return protocol.EndResult{}, nil
	}
	if s.phase != 3 && m.fault != faultEndSucceedsEarly {
		m.finish(s, true, protocol.EndResult{})
		return protocol.EndResult{}, m.err(ese.ErrInvalidBackupSequence, "End", "not every file was read")
	}
	res := protocol.EndResult{Recorded: "memPrev"}
	if m.fault == faultTruncatesUnasked {
		res.Truncated = []string{"e00.log"}
	}
	m.finish(s, false, res)
	return res, nil
}

func (m *memSnap) Keepalive(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err := m.session("Keepalive", id, m.fault == faultKeepaliveAfterEnd)
	return err
}

func (m *memSnap) Restore(ctx context.Context, req protocol.RestoreRequest) (protocol.RestoreResult, error) {
	return protocol.RestoreResult{}, m.err(ese.ErrInvalidParameter, "Restore", "not offered")
}

// runMem runs the suite against memSnap with fault f and returns the
// checks that failed and those that were skipped, with their errors.
func runMem(t *testing.T, f fault) (failed, skipped map[string]error) {
	t.Helper()
	m := newMemSnap(f)
	failed, skipped = map[string]error{}, map[string]error{}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	n := conformance.RunAll(ctx, conformance.Target{Snapshotter: m, Restart: m.restart}, func(name string, err error, _ time.Duration) {
		switch {
		case errors.Is(err, conformance.ErrSkip):
			skipped[name] = err
		case err != nil:
			failed[name] = err
		}
	})
	if n != len(failed) {
		t.Errorf("RunAll returned %d failures, the report saw %d", n, len(failed))
	}
	return failed, skipped
}

// TestSuitePassesConformingDouble runs the suite against a conforming
// double that answers in ESE's domain (*ese.Error), and against the same
// double without a domain of its own, answering with *protocol.Error or
// plain gRPC statuses of the fitting codes: the suite accepts all three.
func TestSuitePassesConformingDouble(t *testing.T) {
	for _, f := range []fault{faultNone, plainProtocolErrors, plainStatusErrors} {
		t.Run(strconv.Itoa(int(f)), func(t *testing.T) {
			failed, skipped := runMem(t, f)
			for name, err := range failed {
				t.Errorf("%s: %v", name, err)
			}
			want := []string{"backup-differential", "backup-incremental"}
			if got := sortedKeys(skipped); !slices.Equal(got, want) {
				t.Errorf("skipped %v, want %v", got, want)
			}
		})
	}
}

// TestSuiteCatchesBrokenDoubles proves that each fault makes the check
// meant to catch it fail, and that the suite still tells it apart: the
// info check passes unless Info itself is broken.
func TestSuiteCatchesBrokenDoubles(t *testing.T) {
	for _, tc := range []struct {
		fault fault
		name  string
		want  []string // checks that must fail
	}{
		{faultInfoNoName, "info without name", []string{"info"}},
		{faultInfoNoChunkLimit, "info without chunk limit", []string{"info"}},
		{faultAcceptsAnyKind, "begin accepts any kind", []string{"begin-rejects-kind"}},
		{faultChunkGap, "non-contiguous offsets", []string{"backup-full", "backup-copy", "abort-after-last-files", "end-twice"}},
		{faultChunkTooBig, "oversized chunks", []string{"backup-full", "backup-copy"}},
		{faultWrongSize, "wrong announced size", []string{"backup-full", "backup-copy"}},
		{faultLogsFirst, "logs before databases", []string{"backup-full", "backup-copy"}},
		{faultTruncatesUnasked, "truncates unasked", []string{"backup-full", "backup-copy"}},
		{faultNeverReleases, "never releases the session", []string{"abort-after-begin", "abort-after-files", "abort-mid-read", "abort-after-last-files", "end-succeeded-early", "end-twice", "cancel-mid-read"}},
		{faultWrongPlainStatus, "errors without domain of the wrong gRPC code", []string{"unknown-session", "files-before-batch-read", "restart"}},
		{faultUncodedErrors, "errors without JET_err", []string{"begin-rejects-kind", "unknown-session", "read-outside-batch", "read-twice", "files-before-batch-read", "end-succeeded-early", "cancel-mid-read"}},
		{faultWrongUnknownCode, "wrong code for an unknown session", []string{"unknown-session", "restart"}},
		{faultRereadAllowed, "a file read twice", []string{"read-twice"}},
		{faultFilesSkipsAhead, "Files skips an unread batch", []string{"files-before-batch-read"}},
		{faultEndSucceedsEarly, "End succeeds an incomplete backup", []string{"end-succeeded-early"}},
		{faultEndRevivesAborted, "End revives an aborted session", []string{"end-twice", "cancel-mid-read"}},
		{faultKeepaliveAfterEnd, "Keepalive of an ended session succeeds", []string{"keepalive", "cancel-mid-read"}},
		{faultSwallowsWriterError, "writer error swallowed", []string{"abort-mid-read"}},
		{faultIgnoresCancel, "cancellation ignored", []string{"cancel-mid-read"}},
		{faultLivesOnAfterCancel, "session survives cancellation", []string{"cancel-mid-read"}},
		{faultRestartKeepsLock, "source locked after a restart", []string{"restart"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failed, _ := runMem(t, tc.fault)
			for _, name := range tc.want {
				if failed[name] == nil {
					t.Errorf("check %s did not catch the fault (failed: %v)", name, sortedKeys(failed))
				}
			}
			if _, infoBroken := failed["info"]; infoBroken && !slices.Contains(tc.want, "info") {
				t.Errorf("info failed for an unrelated fault: %v", failed["info"])
			}
			for _, name := range sortedKeys(failed) {
				t.Logf("%s: %v", name, failed[name])
			}
		})
	}
}

// TestRunAllReportsNilSnapshotter checks that a target without a plugin
// fails every check instead of panicking.
func TestRunAllReportsNilSnapshotter(t *testing.T) {
	var names []string
	n := conformance.RunAll(t.Context(), conformance.Target{}, func(name string, err error, _ time.Duration) {
		if err == nil {
			t.Errorf("%s passed without a plugin", name)
		}
		names = append(names, name)
	})
	if n != len(conformance.Checks()) || len(names) != n {
		t.Fatalf("RunAll failed %d checks and reported %d, want %d", n, len(names), len(conformance.Checks()))
	}
}

// TestChecksHaveUniqueNames keeps the subtest and CLI names distinct.
func TestChecksHaveUniqueNames(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range conformance.Checks() {
		if c.Name == "" || seen[c.Name] || c.Run == nil {
			t.Errorf("check %q: empty, duplicate or without Run", c.Name)
		}
		seen[c.Name] = true
	}
}

func sortedKeys(m map[string]error) []string { return slices.Sorted(maps.Keys(m)) }
