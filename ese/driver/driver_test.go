package driver

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/engine"
	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/protocol"
)

func engineDriver(t *testing.T, writable bool) *Driver {
	t.Helper()
	d := New(Config{
		Name: "test", Version: "0",
		Open: func(ctx context.Context, src protocol.Source) (*Instance, error) {
			in, err := engine.Open(engine.Config{LogDir: src.Location, Writable: writable})
			if err != nil {
				return nil, err
			}
			return &Instance{API: in, RecordsBackups: writable, Close: func() error { return in.Term(ese.TermAbrupt) }}, nil
		},
		IdleTimeout: time.Minute,
	})
	t.Cleanup(func() { d.Close() })
	return d
}

// backupAll runs Files/Read until the empty batch and returns every file.
func backupAll(t *testing.T, d *Driver, id string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	ctx := context.Background()
	for {
		files, err := d.Files(ctx, id)
		if err != nil {
			t.Fatalf("files: %v", err)
		}
		if len(files) == 0 {
			return out
		}
		for _, f := range files {
			var buf bytes.Buffer
			err := d.Read(ctx, id, f.Name, 64<<10, protocol.ChunkWriterFunc(func(off int64, data []byte) error {
				if off != int64(buf.Len()) {
					t.Fatalf("%s: chunk at %d, expected %d", f.Name, off, buf.Len())
				}
				if len(data) > 64<<10 {
					t.Fatalf("%s: chunk of %d bytes exceeds the 64 KiB asked for", f.Name, len(data))
				}
				buf.Write(data)
				return nil
			}))
			if err != nil {
				t.Fatalf("read %s: %v", f.Name, err)
			}
			if int64(buf.Len()) != f.Size || f.Size == 0 {
				t.Fatalf("%s: streamed %d bytes, listed as %d", f.Name, buf.Len(), f.Size)
			}
			out[filepath.Base(f.Name)] = buf.Bytes()
		}
	}
}

func TestDriverKinds(t *testing.T) {
	dir := samples.CopySet(t, "srum-win10-dirty")
	d := engineDriver(t, true)
	ctx := context.Background()
	for _, tc := range []struct {
		kind     protocol.Kind
		truncate bool
		recorded string
		files    []string
	}{
		{protocol.KindCopy, true, "bkinfoCopyPrev", []string{"SRUDB.dat", "SRU00051.log", "SRU00052.log"}},
		{protocol.KindFull, true, "bkinfoFullPrev", []string{"SRUDB.dat", "SRU00051.log", "SRU00052.log"}},
		{protocol.KindDifferential, false, "bkinfoDiffPrev", []string{"SRU00051.log", "SRU00052.log"}},
		{protocol.KindIncremental, true, "bkinfoIncPrev", []string{"SRU00051.log", "SRU00052.log"}},
	} {
		id, err := d.Begin(ctx, protocol.BeginRequest{Kind: tc.kind, Source: protocol.Source{Location: dir}})
		if err != nil {
			t.Fatalf("%s: begin: %v", tc.kind, err)
		}
		got := backupAll(t, d, id)
		if len(got) != len(tc.files) {
			t.Fatalf("%s: streamed %d files, want %v", tc.kind, len(got), tc.files)
		}
		for _, f := range tc.files {
			if len(got[f]) == 0 {
				t.Fatalf("%s: %s not streamed", tc.kind, f)
			}
		}
		res, err := d.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeSucceeded, TruncateLogs: tc.truncate})
		if err != nil {
			t.Fatalf("%s: end: %v", tc.kind, err)
		}
		if res.Recorded != tc.recorded || res.LogRange().GenLow != 0x51 || res.LogRange().GenHigh != 0x52 {
			t.Fatalf("%s: end result %+v", tc.kind, res)
		}
		if tc.kind == protocol.KindFull && len(res.Truncated) != 3 {
			t.Fatalf("full backup truncated %v, want 0x4E..0x50", res.Truncated)
		}
		// A retried End gets the same answer.
		again, err := d.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeAborted})
		if err != nil || again.Recorded != res.Recorded {
			t.Fatalf("%s: repeated end: %+v %v", tc.kind, again, err)
		}
	}
}

func TestDriverSequenceErrors(t *testing.T) {
	dir := samples.CopySet(t, "srum-win10-clean")
	d := engineDriver(t, false)
	ctx := context.Background()

	_, err := d.Files(ctx, "nope")
	wantCode(t, err, ese.ErrNoBackup)
	_, err = d.End(ctx, "nope", protocol.EndRequest{Outcome: protocol.OutcomeAborted})
	wantCode(t, err, ese.ErrNoBackup)

	id, err := d.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: dir}})
	wantCode(t, err, ese.ErrSuccess)
	// A second session on the same instance.
	_, err = d.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: dir}})
	wantCode(t, err, ese.ErrBackupInProgress)

	files, err := d.Files(ctx, id)
	wantCode(t, err, ese.ErrSuccess)
	_, err = d.Files(ctx, id) // the databases are not read yet
	wantCode(t, err, ese.ErrInvalidBackupSequence)
	wantCode(t, d.Read(ctx, id, "/elsewhere/x.edb", 0, discard), ese.ErrInvalidParameter)

	// A host that stops receiving mid-stream ends the ESE session.
	stop := errors.New("host went away")
	err = d.Read(ctx, id, files[0].Name, 0, protocol.ChunkWriterFunc(func(int64, []byte) error { return stop }))
	if !errors.Is(err, stop) {
		t.Fatalf("read: %v", err)
	}
	_, err = d.Files(ctx, id)
	wantCode(t, err, ese.ErrBackupAbortByServer)
	// An aborted session never ends succeeded: -801 with the reason.
	res, err := d.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeSucceeded, TruncateLogs: true})
	wantCode(t, err, ese.ErrBackupAbortByServer)
	if res.Recorded != "" || len(res.Truncated) != 0 || !strings.Contains(err.Error(), "host went away") {
		t.Fatalf("End after the driver aborted: %+v %v", res, err)
	}
	wantCode(t, d.Keepalive(ctx, id), ese.ErrBackupAbortByServer)
	_, err = d.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeAborted})
	wantCode(t, err, ese.ErrSuccess)
	// The instance is free again.
	id, err = d.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: dir}})
	wantCode(t, err, ese.ErrSuccess)
	_, err = d.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeSucceeded})
	wantCode(t, err, ese.ErrInvalidBackupSequence) // nothing was read
}

func TestDriverCancelledRead(t *testing.T) {
	dir := samples.CopySet(t, "srum-win10-clean")
	d := engineDriver(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	id, err := d.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindCopy, Source: protocol.Source{Location: dir}})
	wantCode(t, err, ese.ErrSuccess)
	files, _ := d.Files(ctx, id)
	err = d.Read(ctx, id, files[0].Name, 64<<10, protocol.ChunkWriterFunc(func(int64, []byte) error { cancel(); return nil }))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("read: %v", err)
	}
	_, err = d.Files(context.Background(), id)
	wantCode(t, err, ese.ErrBackupAbortByServer) // the driver aborted it, and says why
	if !strings.Contains(err.Error(), "cancelled the read") {
		t.Fatalf("the reason of the abort is lost: %v", err)
	}
}

func TestDriverIdleWatchdog(t *testing.T) {
	dir := samples.CopySet(t, "srum-win10-clean")
	d := New(Config{
		Open: func(ctx context.Context, src protocol.Source) (*Instance, error) {
			in, err := engine.Open(engine.Config{LogDir: src.Location})
			if err != nil {
				return nil, err
			}
			return &Instance{API: in, Close: func() error { return in.Term(ese.TermAbrupt) }}, nil
		},
		IdleTimeout: 200 * time.Millisecond,
	})
	defer d.Close()
	id, err := d.Begin(context.Background(), protocol.BeginRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: dir}})
	wantCode(t, err, ese.ErrSuccess)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := d.Files(context.Background(), id)
		if errors.Is(err, ese.ErrBackupAbortByServer) {
			if !strings.Contains(err.Error(), "no call from the host") {
				t.Fatalf("the watchdog's reason is lost: %v", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an idle session was never aborted")
		}
		time.Sleep(300 * time.Millisecond) // stay idle longer than the timeout
	}
}

var discard = protocol.ChunkWriterFunc(func(int64, []byte) error { return nil })

func wantCode(t *testing.T, err error, want ese.Code) {
	t.Helper()
	if want == ese.ErrSuccess {
		if err != nil {
			t.Fatalf("want success, got %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("want %v, got %v", want, err)
	}
}
