package host

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese/eseset"
	"github.com/esesnap/esesnap/protocol"
)

// backupTo runs a copy backup of f into sink with the fixed clock.
func backupTo(t testing.TB, f *fakeSnapshotter, sink backupset.Sink, opts ...Option) *Result {
	t.Helper()
	opts = append([]Option{WithClock(fixedClock), WithTool("esesnap-test", "0.0.1")}, opts...)
	res, err := Backup(context.Background(), f, BackupRequest{Kind: protocol.KindCopy, Description: "test"}, sink, opts...)
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	return res
}

// tarBackup returns the bytes of a tar backup of f.
func tarBackup(t testing.TB, f *fakeSnapshotter) []byte {
	t.Helper()
	var buf bytes.Buffer
	backupTo(t, f, backupset.NewTarSink(&buf))
	return buf.Bytes()
}

func TestBackupToDirectory(t *testing.T) {
	f := newFake(t)
	dir := filepath.Join(t.TempDir(), "set")
	sink, err := backupset.NewDirSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	var prog recordingProgress
	res := backupTo(t, f, sink, WithProgress(&prog))
	f.wantOneEnd(t, protocol.OutcomeSucceeded, false)

	m := res.Manifest
	if m.FormatVersion != 1 || !m.Complete || m.Kind != protocol.KindCopy || m.Plugin != (backupset.Component{Name: "fake", Version: "1.2.3"}) ||
		m.Tool != (backupset.Component{Name: "esesnap-test", Version: "0.0.1"}) || m.Source.Description != "test" {
		t.Fatalf("manifest header %+v", m)
	}
	if !m.Started.Equal(fixedClock()) || m.Started.Location() != time.UTC {
		t.Fatalf("started %v, want %v UTC", m.Started, fixedClock())
	}
	if eseset.InfoOf(m) != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "no ESE") {
		t.Fatalf("random bytes gave ESE metadata %+v, warnings %q", eseset.InfoOf(m), res.Warnings)
	}
	var want []string
	for _, b := range f.batches {
		for _, ff := range b {
			want = append(want, backupset.BaseName(ff.Name))
		}
	}
	if len(m.Files) != len(want) {
		t.Fatalf("manifest has %d files, want %d", len(m.Files), len(want))
	}
	i := 0
	for _, b := range f.batches {
		for _, ff := range b {
			mf := m.Files[i]
			sum := sha256.Sum256(ff.data)
			if mf.Name != want[i] || mf.OriginalName != ff.Name || mf.Role != ff.Role || mf.Size != int64(len(ff.data)) ||
				mf.SHA256 != hex.EncodeToString(sum[:]) || mf.Generation != ff.Generation || mf.PageSize != ff.PageSize {
				t.Errorf("file %d: %+v does not describe %s", i, mf, ff.Name)
			}
			got, err := os.ReadFile(filepath.Join(dir, mf.Name))
			if err != nil || !bytes.Equal(got, ff.data) {
				t.Errorf("stored %s differs (%v)", mf.Name, err)
			}
			i++
		}
	}
	// Nothing else is in the directory: no .partial leftovers.
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(want)+1 {
		t.Fatalf("directory holds %v", names(entries))
	}
	// The manifest on disk is the one returned.
	onDisk, err := os.Open(filepath.Join(dir, backupset.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	defer onDisk.Close()
	dm, err := backupset.ReadManifest(onDisk)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := dm.Marshal(); !bytes.Equal(a, mustMarshal(t, m)) {
		t.Fatal("manifest on disk differs from Result.Manifest")
	}
	if prog.listed != len(want) || prog.started != len(want) || prog.done != len(want) || prog.bytes == 0 {
		t.Fatalf("progress saw %+v", prog)
	}
	rep, err := backupset.Verify(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != len(want) || rep.Tar {
		t.Fatalf("report %+v", rep)
	}
	for _, fr := range rep.Files {
		if !fr.OK {
			t.Fatalf("file %s not OK", fr.Name)
		}
	}
}

func mustMarshal(t testing.TB, m *backupset.Manifest) []byte {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type recordingProgress struct {
	listed, started, done int
	bytes                 int64
}

func (p *recordingProgress) FilesListed(b []protocol.File)     { p.listed += len(b) }
func (p *recordingProgress) FileStarted(protocol.File, string) { p.started++ }
func (p *recordingProgress) FileBytes(_ string, done int64)    { p.bytes = done }
func (p *recordingProgress) FileDone(backupset.ManifestFile)   { p.done++ }

func TestBackupToTar(t *testing.T) {
	f := newFake(t)
	path := filepath.Join(t.TempDir(), "set.tar")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	sink := backupset.NewTarSink(out)
	sink.TempDir = t.TempDir()
	backupTo(t, f, sink)
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if spool, _ := os.ReadDir(sink.TempDir); len(spool) != 0 {
		t.Fatalf("spool files left behind: %v", names(spool))
	}
	// The tar holds the files in order, then the manifest, in fixed form.
	in, _ := os.Open(path)
	defer in.Close()
	tr := tar.NewReader(in)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, h.Name)
		if h.Uid != 0 || h.Gid != 0 || h.Mode != 0o644 || h.Uname != "" || h.Gname != "" || h.Typeflag != tar.TypeReg ||
			!h.ModTime.Equal(fixedClock().Truncate(time.Second)) {
			t.Errorf("entry %s has header %+v", h.Name, h)
		}
	}
	want := []string{"SRUDB.dat", "other.edb", "SRU00001.log", "SRU00002.log", "SRU00003.log", backupset.ManifestName}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("tar entries %v, want %v", got, want)
	}
	rep, err := backupset.Verify(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Tar || len(rep.Files) != 5 || rep.Path != path {
		t.Fatalf("report %+v", rep)
	}
}

// TestTarDeterministic: the same input gives the same bytes, whatever the
// chunk size the plugin streams with.
func TestTarDeterministic(t *testing.T) {
	a := tarBackup(t, newFake(t))
	f := newFake(t)
	f.chunk = 4096
	b := tarBackup(t, f)
	if !bytes.Equal(a, b) {
		t.Fatalf("two tars of the same backup differ (%d and %d bytes)", len(a), len(b))
	}
	// And a different input does not.
	f = newFake(t)
	f.batches[0][0].data[0] ^= 1
	if c := tarBackup(t, f); bytes.Equal(a, c) {
		t.Fatal("a changed byte did not change the tar")
	}
}

func TestNullSink(t *testing.T) {
	f := newFake(t)
	var sink backupset.NullSink
	backupTo(t, f, &sink)
	if sink.Files != 5 || sink.Bytes != 300_000+70_001+2*65536 {
		t.Fatalf("null sink counted %d files, %d bytes", sink.Files, sink.Bytes)
	}
}

// TestEndAfterCommit: End(succeeded, truncate) comes after the sink
// committed, and its result is reported.
func TestEndAfterCommit(t *testing.T) {
	for _, truncate := range []bool{false, true} {
		f := newFake(t)
		sink := &recordingSink{Sink: &backupset.NullSink{}, events: f.events}
		res, err := Backup(context.Background(), f, BackupRequest{Kind: protocol.KindFull, TruncateLogs: truncate}, sink)
		if err != nil {
			t.Fatal(err)
		}
		f.wantOneEnd(t, protocol.OutcomeSucceeded, truncate)
		ci, ei := f.events.index("commit"), f.events.index("end:succeeded:"+map[bool]string{false: "false", true: "true"}[truncate])
		if ci < 0 || ei < ci {
			t.Fatalf("events %v: End before Commit", f.events.list())
		}
		if res.Manifest.TruncateRequested != truncate || res.End.Recorded != "bkinfoFullPrev" ||
			(len(res.End.Truncated) == 1) != truncate {
			t.Fatalf("result %+v", res)
		}
	}
}

// TestRefusedBeforeBegin: requests the plugin cannot serve fail before a
// session exists.
func TestRefusedBeforeBegin(t *testing.T) {
	tests := []struct {
		name string
		req  BackupRequest
		edit func(*fakeSnapshotter)
		want string
	}{
		{"kind unsupported", BackupRequest{Kind: protocol.KindIncremental}, nil, "does not support incremental"},
		{"kind unset", BackupRequest{}, nil, "not valid"},
		{"copy truncates", BackupRequest{Kind: protocol.KindCopy, TruncateLogs: true}, nil, "never truncates"},
		{"no truncate capability", BackupRequest{Kind: protocol.KindFull, TruncateLogs: true},
			func(f *fakeSnapshotter) { f.info.Capabilities = nil }, "cannot truncate"},
		{"begin fails", BackupRequest{Kind: protocol.KindFull},
			func(f *fakeSnapshotter) { f.beginErr = errors.New("engine busy") }, "engine busy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			if tt.edit != nil {
				tt.edit(f)
			}
			sink := &recordingSink{Sink: &backupset.NullSink{}, events: f.events}
			_, err := Backup(context.Background(), f, tt.req, sink)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if len(f.ends) != 0 {
				t.Fatalf("End called without a session: %v", f.ends)
			}
			if f.events.index("abort") < 0 {
				t.Fatal("sink not aborted")
			}
		})
	}
}

// TestAbortPaths: every failure after Begin ends the session exactly once,
// aborted and without truncation, never commits and aborts the sink, and
// the error says what failed.
func TestAbortPaths(t *testing.T) {
	readErr := errors.New("JET_errReadVerifyFailure (test)")
	tests := []struct {
		name  string
		setup func(t *testing.T, f *fakeSnapshotter, s *recordingSink, cancel context.CancelFunc)
		is    error  // errors.Is target, if any
		text  string // substring of the error
	}{
		{"read error", func(t *testing.T, f *fakeSnapshotter, s *recordingSink, _ context.CancelFunc) {
			f.onChunk = func(_ context.Context, file string, off int64) error {
				if strings.HasSuffix(file, "other.edb") && off > 0 {
					return readErr
				}
				return nil
			}
		}, readErr, "other.edb"},
		{"files error", func(t *testing.T, f *fakeSnapshotter, s *recordingSink, _ context.CancelFunc) {
			f.filesErr = readErr
		}, readErr, "list files"},
		{"sink create fails (disk full)", func(t *testing.T, f *fakeSnapshotter, s *recordingSink, _ context.CancelFunc) {
			s.createErr = errNoSpace
		}, errNoSpace, "SRUDB.dat"},
		{"sink write fails mid-file (disk full)", func(t *testing.T, f *fakeSnapshotter, s *recordingSink, _ context.CancelFunc) {
			s.wrapCreate = func(w io.WriteCloser) io.WriteCloser {
				return &faultyWriter{WriteCloser: w, limit: 100_000, err: errNoSpace}
			}
		}, errNoSpace, "store SRUDB.dat"},
		{"ctx cancelled mid-read", func(t *testing.T, f *fakeSnapshotter, s *recordingSink, cancel context.CancelFunc) {
			f.onChunk = func(_ context.Context, file string, off int64) error {
				if off >= 128<<10 {
					cancel()
				}
				return nil
			}
		}, context.Canceled, "SRUDB.dat"},
		{"ctx cancelled, plugin ignores it", func(t *testing.T, f *fakeSnapshotter, s *recordingSink, cancel context.CancelFunc) {
			f.ignoreCtx = true
			f.onChunk = func(_ context.Context, file string, off int64) error {
				if off >= 128<<10 {
					cancel()
				}
				return nil
			}
		}, context.Canceled, "SRUDB.dat"},
		{"panic inside the sink", func(t *testing.T, f *fakeSnapshotter, s *recordingSink, _ context.CancelFunc) {
			s.wrapCreate = func(w io.WriteCloser) io.WriteCloser { return &faultyWriter{WriteCloser: w, limit: 10, panic: true} }
		}, nil, "panic in store SRUDB.dat: sink write exploded"},
		{"panic in sink commit", func(t *testing.T, f *fakeSnapshotter, s *recordingSink, _ context.CancelFunc) {
			s.commitPanic = true
		}, nil, "panic in sink commit"},
		{"commit fails", func(t *testing.T, f *fakeSnapshotter, s *recordingSink, _ context.CancelFunc) {
			s.commitErr = errNoSpace
		}, errNoSpace, "commit"},
		{"panic in the plugin", func(t *testing.T, f *fakeSnapshotter, s *recordingSink, _ context.CancelFunc) {
			f.onChunk = func(context.Context, string, int64) error { panic("plugin exploded") }
		}, nil, "panic in Read: plugin exploded"},
		{"stream shorter than announced", func(t *testing.T, f *fakeSnapshotter, s *recordingSink, _ context.CancelFunc) {
			f.short = f.batches[0][0].Name
		}, nil, "stream ended after 299999 of the 300000 bytes"},
		{"gap between chunks", func(t *testing.T, f *fakeSnapshotter, s *recordingSink, _ context.CancelFunc) {
			f.badOffset = f.batches[0][0].Name
		}, nil, "chunk at offset 65543, want 65536"},
		{"stream longer than announced", func(t *testing.T, f *fakeSnapshotter, s *recordingSink, _ context.CancelFunc) {
			f.batches[1][0].data = append(f.batches[1][0].data, 1)
		}, nil, "longer than the 65536 bytes"},
		{"invalid role", func(t *testing.T, f *fakeSnapshotter, s *recordingSink, _ context.CancelFunc) {
			f.batches[1][0].Role = protocol.RoleUnspecified
		}, nil, "role unspecified"},
	}
	for _, tt := range tests {
		for _, form := range []string{"dir", "tar"} {
			t.Run(tt.name+"/"+form, func(t *testing.T) {
				f := newFake(t)
				parent := t.TempDir()
				var inner backupset.Sink
				var tarOut *os.File
				if form == "dir" {
					d, err := backupset.NewDirSink(filepath.Join(parent, "set"))
					if err != nil {
						t.Fatal(err)
					}
					inner = d
				} else {
					var err error
					tarOut, err = os.Create(filepath.Join(parent, "set.tar"))
					if err != nil {
						t.Fatal(err)
					}
					defer tarOut.Close()
					ts := backupset.NewTarSink(tarOut)
					ts.TempDir = t.TempDir()
					inner = ts
				}
				sink := &recordingSink{Sink: inner, events: f.events}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				tt.setup(t, f, sink, cancel)
				res, err := Backup(ctx, f, BackupRequest{Kind: protocol.KindFull, TruncateLogs: true}, sink, WithClock(fixedClock))
				if err == nil {
					t.Fatal("backup succeeded")
				}
				if res != nil {
					t.Fatalf("result %+v for a set that was not committed", res)
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Fatalf("error %v is not %v", err, tt.is)
				}
				if !strings.Contains(err.Error(), tt.text) {
					t.Fatalf("error %q does not contain %q", err, tt.text)
				}
				f.wantOneEnd(t, protocol.OutcomeAborted, false)
				if f.events.index("commit") >= 0 || f.events.index("abort") < 0 {
					t.Fatalf("events %v: want an abort and no commit", f.events.list())
				}
				// The abort's End ran on a context of its own, alive although
				// ctx may be cancelled, with a deadline.
				endCtx := f.endCtxs[0]
				if _, ok := endCtx.Deadline(); !ok {
					t.Fatal("End(aborted) ran without a deadline")
				}
				if form == "dir" {
					if entries, _ := os.ReadDir(parent); len(entries) != 0 {
						t.Fatalf("aborted directory set left %v", names(entries))
					}
					return
				}
				// The aborted tar never looks complete.
				tarOut.Close()
				if _, err := backupset.Verify(context.Background(), tarOut.Name()); !errors.Is(err, backupset.ErrIncomplete) {
					t.Fatalf("verify of an aborted tar: %v, want ErrIncomplete", err)
				}
			})
		}
	}
}

// TestAfterCommit: when ctx is cancelled after the commit, or End fails,
// the set is kept, the result returned, and End is still called once.
func TestAfterCommit(t *testing.T) {
	t.Run("cancelled", func(t *testing.T) {
		f := newFake(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		dir := filepath.Join(t.TempDir(), "set")
		d, _ := backupset.NewDirSink(dir)
		sink := &recordingSink{Sink: d, events: f.events, onCommit: cancel}
		res, err := Backup(ctx, f, BackupRequest{Kind: protocol.KindFull, TruncateLogs: true}, sink)
		if !errors.Is(err, context.Canceled) || res == nil || !strings.Contains(err.Error(), "backup set stored") {
			t.Fatalf("res %v, err %v", res, err)
		}
		f.wantOneEnd(t, protocol.OutcomeAborted, false)
		if f.events.index("abort") >= 0 {
			t.Fatal("a committed sink was aborted")
		}
		if _, err := backupset.Verify(context.Background(), dir); err != nil {
			t.Fatalf("committed set: %v", err)
		}
	})
	t.Run("end fails", func(t *testing.T) {
		f := newFake(t)
		f.endErr = errors.New("JET_errBackupAbortByServer (test)")
		res, err := Backup(context.Background(), f, BackupRequest{Kind: protocol.KindFull, TruncateLogs: true}, &backupset.NullSink{})
		if !errors.Is(err, f.endErr) || res == nil || !strings.Contains(err.Error(), "ending the session failed") {
			t.Fatalf("res %v, err %v", res, err)
		}
		f.wantOneEnd(t, protocol.OutcomeSucceeded, true)
	})
}

// TestDirSinkRefusesNonEmpty: an existing set is never mixed into.
func TestDirSinkRefusesNonEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, backupset.ManifestName), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := backupset.NewDirSink(dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("NewDirSink on a non-empty dir: %v", err)
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := backupset.NewDirSink(file); err == nil {
		t.Fatal("NewDirSink on a file succeeded")
	}
	// An existing empty directory is used and kept on abort.
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	s, err := backupset.NewDirSink(empty)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := s.Create(backupset.Entry{Name: "a", Size: -1})
	w.Write([]byte("x"))
	if err := s.Abort(); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(empty); err != nil || len(entries) != 0 {
		t.Fatalf("after abort: %v, %v", names(entries), err)
	}
}
