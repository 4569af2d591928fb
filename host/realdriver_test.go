package host

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese/driver"
	"github.com/esesnap/esesnap/ese/eseset"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/ese/synth"
	"github.com/esesnap/esesnap/protocol"
)

// engineDriver is the real ESE driver over a writable engine, so that End
// records backups and truncates logs in the source set.
func engineDriver(t testing.TB) *driver.Driver {
	t.Helper()
	return shortIdleDriver(t, time.Minute)
}

// dirtySet generates a dirty set with logs 1..6 whose checkpoint is at 2,
// so that a full backup holds 2..6 and may truncate generation 1.
func dirtySet(t testing.TB) *synth.Set {
	t.Helper()
	set, err := synth.Generate(context.Background(), synth.Options{
		Dir: t.TempDir(), PageSize: 4096, Pages: 64, UsedPages: 40, State: format.DBStateDirtyShutdown,
		FirstGen: 1, CurrentGen: 6, CheckpointGen: 2, Seed: 11,
	})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func headerOf(t testing.TB, path string) *format.DBHeader {
	t.Helper()
	hr, err := format.ReadDBHeaderFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return hr.Header
}

// TestDriverFullThenIncremental backs up through the real driver: a full
// backup that truncates, then an incremental one; both sets verify, the
// truncation happened only after the commit and is reported in Result.
func TestDriverFullThenIncremental(t *testing.T) {
	set := dirtySet(t)
	d := engineDriver(t)
	src := protocol.Source{Location: set.Dir}

	full := filepath.Join(t.TempDir(), "full")
	sink, err := backupset.NewDirSink(full)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Backup(context.Background(), d, BackupRequest{Kind: protocol.KindFull, Source: src, TruncateLogs: true}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if res.End.Recorded != "bkinfoFullPrev" || len(res.End.Truncated) == 0 || !res.Manifest.TruncateRequested {
		t.Fatalf("end %+v", res.End)
	}
	e := eseset.InfoOf(res.Manifest)
	if e == nil || e.GenLow != res.End.LogRange().GenLow || e.GenHigh != res.End.LogRange().GenHigh || e.BaseName != "edb" {
		t.Fatalf("ESE metadata %+v, End logs %+v", e, res.End.LogRange())
	}
	for _, l := range res.End.Truncated {
		if _, err := os.Stat(l); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("truncated log %s still exists", l)
		}
	}
	if h := headerOf(t, set.DBPath); h.BKInfoFullPrev.GenLow != e.GenLow {
		t.Fatalf("bkinfoFullPrev %+v, want genLow %d", h.BKInfoFullPrev, e.GenLow)
	}
	rep, err := backupset.Verify(context.Background(), full)
	if err != nil {
		t.Fatalf("verify full: %v", err)
	}
	if len(eseset.ReportOf(rep).Databases) != 1 || eseset.ReportOf(rep).GenLow != e.GenLow || eseset.ReportOf(rep).GenHigh != e.GenHigh {
		t.Fatalf("report %+v", rep)
	}

	// The application writes on; an incremental backup holds logs only.
	if err := synth.Roll(set, 2); err != nil {
		t.Fatal(err)
	}
	incPath := filepath.Join(t.TempDir(), "inc.tar")
	out, err := os.Create(incPath)
	if err != nil {
		t.Fatal(err)
	}
	ires, err := Backup(context.Background(), d, BackupRequest{Kind: protocol.KindIncremental, Source: src, TruncateLogs: true}, backupset.NewTarSink(out))
	out.Close()
	if err != nil {
		t.Fatal(err)
	}
	if ires.End.Recorded != "bkinfoIncPrev" || eseset.InfoOf(ires.Manifest) == nil || len(eseset.InfoOf(ires.Manifest).Databases) != 0 ||
		eseset.InfoOf(ires.Manifest).GenHigh <= e.GenHigh {
		t.Fatalf("incremental end %+v, ESE %+v", ires.End, eseset.InfoOf(ires.Manifest))
	}
	if _, err := backupset.Verify(context.Background(), incPath); err != nil {
		t.Fatalf("verify incremental: %v", err)
	}
}

// TestDriverAbortLeavesSourceAlone: when the sink fails, the real driver is
// ended aborted: nothing truncated, nothing recorded.
func TestDriverAbortLeavesSourceAlone(t *testing.T) {
	for _, name := range []string{"sink full", "cancelled"} {
		t.Run(name, func(t *testing.T) {
			set := dirtySet(t)
			before, _ := os.ReadDir(set.Dir)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			parent := t.TempDir()
			ds, _ := backupset.NewDirSink(filepath.Join(parent, "set"))
			var sink backupset.Sink = ds
			switch name {
			case "sink full":
				sink = &recordingSink{Sink: ds, events: &eventLog{}, wrapCreate: func(w io.WriteCloser) io.WriteCloser {
					return &faultyWriter{WriteCloser: w, limit: 50_000, err: errNoSpace}
				}}
			case "cancelled":
				sink = &recordingSink{Sink: ds, events: &eventLog{}, wrapCreate: func(w io.WriteCloser) io.WriteCloser {
					return &cancelWriter{WriteCloser: w, after: 50_000, cancel: cancel}
				}}
			}
			_, err := Backup(ctx, engineDriver(t), BackupRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: set.Dir}, TruncateLogs: true}, sink)
			want := map[string]error{"sink full": errNoSpace, "cancelled": context.Canceled}[name]
			if !errors.Is(err, want) {
				t.Fatalf("error %v, want %v", err, want)
			}
			after, _ := os.ReadDir(set.Dir)
			if !slices.Equal(names(before), names(after)) {
				t.Fatalf("source changed: %v -> %v", names(before), names(after))
			}
			if h := headerOf(t, set.DBPath); !h.BKInfoFullPrev.IsZero() || !h.BKInfoFullCur.IsZero() {
				t.Fatalf("aborted backup recorded: prev %+v cur %+v", h.BKInfoFullPrev, h.BKInfoFullCur)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Fatalf("aborted set left %v", names(entries))
			}
		})
	}
}

// cancelWriter cancels the backup's context once it has passed on after
// bytes, like a Ctrl+C in the middle of a file.
type cancelWriter struct {
	io.WriteCloser
	after  int64
	n      int64
	cancel context.CancelFunc
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	if w.n > w.after {
		w.cancel()
	}
	return w.WriteCloser.Write(p)
}

// TestDriverRealSets takes a copy backup of each real set through the
// driver, as a tar, and verifies it.
func TestDriverRealSets(t *testing.T) {
	for name, mk := range realSets(t) {
		t.Run(name, func(t *testing.T) {
			d := engineDriver(t)
			path := filepath.Join(t.TempDir(), "set.tar")
			out, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Backup(context.Background(), d, BackupRequest{Kind: protocol.KindCopy, Source: protocol.Source{Location: mk(t)}}, backupset.NewTarSink(out))
			out.Close()
			if err != nil {
				t.Fatal(err)
			}
			if res.End.Recorded != "bkinfoCopyPrev" || eseset.InfoOf(res.Manifest) == nil {
				t.Fatalf("end %+v, ESE %+v", res.End, eseset.InfoOf(res.Manifest))
			}
			rep, err := backupset.Verify(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			if len(eseset.ReportOf(rep).Databases) == 0 || eseset.ReportOf(rep).Logs == 0 || eseset.ReportOf(rep).GenLow != res.End.LogRange().GenLow || eseset.ReportOf(rep).GenHigh != res.End.LogRange().GenHigh {
				t.Fatalf("report %+v, end logs %+v", rep, res.End.LogRange())
			}
		})
	}
}
