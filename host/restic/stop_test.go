package restic

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for restic's stderr copier and the
// test reading it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// locksOf lists the lock files of a local repository.
func locksOf(t *testing.T, o Options) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(o.Repo, "locks"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// waitForLock waits until restic backup holds its lock, so that a stop
// comes while restic works on the repository.
func waitForLock(t *testing.T, o Options) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, l := range locksOf(t, o) {
			if !strings.Contains(l, "-tmp-") {
				return
			}
		}
	}
	t.Fatal("restic backup took no lock within 30 s")
}

// TestStopRemovesLock: a backup stopped at any point — before any byte,
// mid-stream, by cancelling its context, or while Finish waits — saves no
// snapshot and leaves no lock in the repository, so that the next
// `restic forget` or `prune` runs. restic is stopped as Ctrl-C stops it,
// not killed.
func TestStopRemovesLock(t *testing.T) {
	cases := []struct {
		name  string
		bytes int
		stop  func(b *Backup, cancel context.CancelFunc)
	}{
		{"before any byte", 0, func(b *Backup, _ context.CancelFunc) { b.Stop() }},
		{"mid-stream", 3 << 20, func(b *Backup, _ context.CancelFunc) { b.Stop() }},
		{"context cancelled", 3 << 20, func(b *Backup, cancel context.CancelFunc) {
			cancel()
			b.Stop() // returns once the stop the cancellation started is over
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := testRepo(t)
			var stderr lockedBuffer
			o.Stderr = &stderr
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			b, err := StartBackup(ctx, o, BackupOptions{Filename: "set.tar", Tags: []string{"esesnap"}})
			if err != nil {
				t.Fatal(err)
			}
			waitForLock(t, o)
			if tc.bytes > 0 {
				if _, err := b.Writer().Write(bytes.Repeat([]byte("esesnap stop test "), tc.bytes/18)); err != nil {
					t.Fatal(err)
				}
			}
			started := time.Now()
			tc.stop(b, cancel)
			t.Logf("restic stopped in %v", time.Since(started))
			if _, err := b.Finish(context.Background()); err == nil {
				t.Fatal("Finish after Stop reported success")
			}
			if l := locksOf(t, o); len(l) != 0 {
				t.Fatalf("restic left its lock after the stop: %v", l)
			}
			snaps, err := Snapshots(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if len(snaps) != 0 {
				t.Fatalf("a stopped backup left %d snapshot(s)", len(snaps))
			}
			if strings.Contains(stderr.String(), "signal") {
				t.Fatalf("restic's answer to the stop signal was shown:\n%s", stderr.String())
			}
		})
	}
}

// TestFinishInterrupted: the context is cancelled after the whole stream
// was written and restic's input closed, while restic finishes (uploads
// its data, writes the index and the snapshot). restic is interrupted: it
// saves no snapshot, leaves no lock, and Finish says it was interrupted.
func TestFinishInterrupted(t *testing.T) {
	o := testRepo(t)
	// A throttled upload keeps restic finishing for seconds after its
	// input ended: all data is uploaded in the final flush.
	o.Args = append(o.Args, "--limit-upload", "64")
	b, err := StartBackup(context.Background(), o, BackupOptions{Filename: "set.tar"})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 512<<10) // 8 s of upload at 64 KiB/s: incompressible
	rand.Read(data)
	if _, err := b.Writer().Write(data); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(time.Second, func() { cancel(errors.New("test interrupt")) })
	sum, err := b.Finish(ctx)
	snaps, serr := Snapshots(context.Background(), o)
	if serr != nil {
		t.Fatal(serr)
	}
	switch {
	case err == nil:
		t.Fatalf("Finish interrupted while restic uploaded reported snapshot %s", sum.SnapshotID)
	case len(snaps) != 0:
		t.Fatalf("Finish failed (%v) but restic saved %d snapshot(s)", err, len(snaps))
	case !strings.Contains(err.Error(), "test interrupt"):
		t.Fatalf("Finish's error does not say it was interrupted: %v", err)
	}
	t.Logf("Finish: %v", err)
	if l := locksOf(t, o); len(l) != 0 {
		t.Fatalf("restic left its lock: %v", l)
	}
}

// TestResticErrorOnce: a backup into a repository that does not exist
// fails with restic's own error on the first write, not "broken pipe",
// and restic's fatal message is not also forwarded to stderr (esesnap
// prints the error once).
func TestResticErrorOnce(t *testing.T) {
	o := testRepo(t)
	o.Repo = filepath.Join(t.TempDir(), "no-repo")
	var stderr lockedBuffer
	o.Stderr = &stderr
	b, err := StartBackup(context.Background(), o, BackupOptions{Filename: "set.tar"})
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for i := 0; i < 1000 && werr == nil; i++ {
		_, werr = b.Writer().Write(make([]byte, 1<<20))
	}
	var ee *ExitError
	if !errors.As(werr, &ee) || ee.Code != 10 || !strings.Contains(ee.Error(), "repository does not exist") {
		t.Fatalf("writing into a restic without repository: %v, want restic's exit code 10", werr)
	}
	if strings.Contains(werr.Error(), "broken pipe") {
		t.Fatalf("the error still says broken pipe: %v", werr)
	}
	b.Stop()
	if s := stderr.String(); strings.Contains(s, "does not exist") {
		t.Fatalf("restic's fatal error was forwarded as well:\n%s", s)
	}
}

func TestTailMessage(t *testing.T) {
	cases := []struct {
		name, in, message, forwarded string
		interrupted                  bool
	}{
		{"exit_error JSON", `{"message_type":"exit_error","code":10,"message":"Fatal: repository does not exist:\nIs there a repository?"}` + "\n",
			"repository does not exist: Is there a repository?", "", false},
		{"plain fatal with its continuation", "warning: x\nFatal: repository does not exist: stat /r/config\nIs there a repository at the following location?\n/r\n",
			"repository does not exist: stat /r/config Is there a repository at the following location? /r", "warning: x\n", false},
		{"signal answer", "\x1b[2Ksignal interrupt received, cleaning up\n", "", "", true},
		{"last line", "one\ntwo\n", "two", "one\ntwo\n", false},
		{"partial line", "one\ntw", "tw", "one\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var fw bytes.Buffer
			tl := newTail(&fw)
			for _, b := range []byte(tc.in) { // byte by byte: lines arrive in pieces
				tl.Write([]byte{b})
			}
			if got := tl.message(); got != tc.message {
				t.Errorf("message %q, want %q", got, tc.message)
			}
			if fw.String() != tc.forwarded {
				t.Errorf("forwarded %q, want %q", fw.String(), tc.forwarded)
			}
			select {
			case <-tl.interrupted:
				if !tc.interrupted {
					t.Error("interrupted without restic's answer to a signal")
				}
			default:
				if tc.interrupted {
					t.Error("restic's answer to the signal was not noticed")
				}
			}
		})
	}
}
