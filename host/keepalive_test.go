package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/driver"
	"github.com/esesnap/esesnap/ese/engine"
	"github.com/esesnap/esesnap/protocol"
)

// shortIdleDriver is the real ESE driver over a writable engine (End records
// backups and truncates logs in the source set) whose idle
// watchdog aborts a session after idle of silence.
func shortIdleDriver(t testing.TB, idle time.Duration) *driver.Driver {
	t.Helper()
	d := driver.New(driver.Config{
		Name: "esesnap-ese", Version: "test",
		Open: func(ctx context.Context, src protocol.Source) (*driver.Instance, error) {
			in, err := engine.Open(engine.Config{LogDir: src.Location, Writable: true})
			if err != nil {
				return nil, err
			}
			return &driver.Instance{API: in, RecordsBackups: true, Close: func() error { return in.Term(ese.TermAbrupt) }}, nil
		},
		IdleTimeout: idle,
	})
	t.Cleanup(func() { d.Close() })
	return d
}

// slowSinkDouble is a test double sink whose Commit takes its time, as a
// large restic upload does.
type slowSinkDouble struct {
	backupset.Sink
	commitDelay time.Duration
}

func (s slowSinkDouble) Commit(ctx context.Context, manifest []byte, mod time.Time) error {
	select {
	case <-time.After(s.commitDelay):
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Sink.Commit(ctx, manifest, mod)
}

// TestKeepaliveDuringSlowCommit: a sink commit that takes longer than the
// plugin's idle timeout (a large restic upload) must not let the plugin
// abort the session. With Keepalive the backup ends succeeded, records and
// truncates; without it the plugin aborts the session, End(succeeded)
// fails with JET_errBackupAbortByServer, and Backup says the set is stored
// but nothing was recorded or truncated.
func TestKeepaliveDuringSlowCommit(t *testing.T) {
	const idle = time.Second // generous: the keepalive must win on a loaded machine too
	for _, tc := range []struct {
		name      string
		keepalive time.Duration
		wantErr   bool
	}{
		{"keepalive", 0, false}, // the default: a quarter of Info.IdleTimeout
		{"no-keepalive", -1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := dirtySet(t)
			d := shortIdleDriver(t, idle)
			out := filepath.Join(t.TempDir(), "set")
			dir, err := backupset.NewDirSink(out)
			if err != nil {
				t.Fatal(err)
			}
			sink := slowSinkDouble{Sink: dir, commitDelay: 3 * idle}
			req := BackupRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: set.Dir}, TruncateLogs: true}
			res, err := Backup(context.Background(), d, req, sink, WithKeepalive(tc.keepalive))
			if res == nil {
				t.Fatalf("no result: %v (the set was committed in both cases)", err)
			}
			if _, err := backupset.Verify(context.Background(), out); err != nil {
				t.Fatalf("the committed set does not verify: %v", err)
			}
			hdr := headerOf(t, set.DBPath)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("backup with keepalive: %v", err)
				}
				if res.End.Recorded != engine.RecordFull || len(res.End.Truncated) == 0 || hdr.BKInfoFullPrev.GenLow == 0 {
					t.Fatalf("End = %+v, header full-prev %+v: want recorded and truncated", res.End, hdr.BKInfoFullPrev)
				}
				return
			}
			var ee *EndError
			if !errors.As(err, &ee) || !errors.Is(err, ese.ErrBackupAbortByServer) {
				t.Fatalf("backup without keepalive: %v, want an *EndError with JET_errBackupAbortByServer", err)
			}
			if res.End.Recorded != "" || len(res.End.Truncated) != 0 || hdr.BKInfoFullPrev.GenLow != 0 {
				t.Fatalf("End = %+v, header full-prev %+v: want nothing recorded or truncated", res.End, hdr.BKInfoFullPrev)
			}
			if want := "no log was truncated; the backup is not recorded"; ee.Outcome() != want {
				t.Fatalf("outcome %q, want %q", ee.Outcome(), want)
			}
			for _, p := range set.LogPaths {
				if _, err := os.Stat(p); err != nil {
					t.Fatalf("log %s is gone after a failed End: %v", p, err)
				}
			}
		})
	}
}

// lateHostDouble is a test double around the real driver: after the last
// (empty) batch it holds the host back, as a host busy between calls would
// be, so that the plugin's idle watchdog aborts the session before the
// commit.
type lateHostDouble struct {
	*driver.Driver
	delay time.Duration
}

func (h lateHostDouble) Files(ctx context.Context, session string) ([]protocol.File, error) {
	files, err := h.Driver.Files(ctx, session)
	if err == nil && len(files) == 0 {
		time.Sleep(h.delay)
	}
	return files, err
}

// TestNoCommitForAbortedSession: when the plugin aborted the session while
// the host was busy between calls, Backup stores no set at all: End
// (succeeded) could not succeed, and a set that says "complete" for a
// backup ESE never recorded must not exist.
func TestNoCommitForAbortedSession(t *testing.T) {
	const idle = 200 * time.Millisecond
	set := dirtySet(t)
	d := lateHostDouble{shortIdleDriver(t, idle), 4 * idle}
	out := filepath.Join(t.TempDir(), "set")
	sink, err := backupset.NewDirSink(out)
	if err != nil {
		t.Fatal(err)
	}
	req := BackupRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: set.Dir}, TruncateLogs: true}
	res, err := Backup(context.Background(), d, req, sink)
	if res != nil || !errors.Is(err, ese.ErrBackupAbortByServer) {
		t.Fatalf("Backup = %+v, %v; want no set and JET_errBackupAbortByServer", res, err)
	}
	if _, err := os.Stat(filepath.Join(out, backupset.ManifestName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a manifest exists for a set whose session was aborted: %v", err)
	}
	if h := headerOf(t, set.DBPath); h.BKInfoFullPrev.GenLow != 0 {
		t.Fatalf("the header records a backup: %+v", h.BKInfoFullPrev)
	}
	for _, p := range set.LogPaths {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("log %s is gone: %v", p, err)
		}
	}
}
