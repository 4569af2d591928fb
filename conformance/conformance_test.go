package conformance_test

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/esesnap/esesnap/conformance"
	"github.com/esesnap/esesnap/conformance/conformancetest"
	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/driver"
	"github.com/esesnap/esesnap/ese/engine"
	"github.com/esesnap/esesnap/examples/dirsnap"
	"github.com/esesnap/esesnap/protocol"
)

// copySynthSmall copies the repository's synthetic ESE set into a
// temporary directory, since a writable engine records backups in it.
func copySynthSmall(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "testdata", "synth-small")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// engineDriver is the ESE plugin's Snapshotter over the pure-Go engine.
func engineDriver(t *testing.T, writable bool) *driver.Driver {
	d := driver.New(driver.Config{
		Name:    "esesnap-ese",
		Version: "0.0.0-test",
		Open: func(ctx context.Context, src protocol.Source) (*driver.Instance, error) {
			in, err := engine.Open(engine.Config{LogDir: src.Location, Writable: writable})
			if err != nil {
				return nil, err
			}
			return &driver.Instance{API: in, RecordsBackups: writable, Close: func() error { return in.Term(ese.TermAbrupt) }}, nil
		},
		IdleTimeout: time.Minute,
	})
	t.Cleanup(func() { d.Close() })
	return d
}

func TestESEDriver(t *testing.T) {
	for _, writable := range []bool{false, true} {
		name := map[bool]string{false: "read-only", true: "writable"}[writable]
		t.Run(name, func(t *testing.T) {
			d := engineDriver(t, writable)
			conformancetest.Run(t, conformance.Target{
				Snapshotter: d,
				Source:      protocol.Source{Location: copySynthSmall(t)},
				Restart: func() (protocol.Snapshotter, error) {
					// Close is what the plugin process does when it dies
					// with its host: it aborts every session.
					d.Close()
					return engineDriver(t, writable), nil
				},
			})
		})
	}
}

func TestDirsnap(t *testing.T) {
	dir := t.TempDir()
	for name, size := range map[string]int{"big.bin": 3<<20 + 17, "small.txt": 10, "empty": 0} {
		data := make([]byte, size)
		rand.Read(data)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conformancetest.Run(t, conformance.Target{
		Snapshotter: dirsnap.New(nil),
		Source:      protocol.Source{Location: dir},
		Restart:     func() (protocol.Snapshotter, error) { return dirsnap.New(nil), nil },
	})
}

// TestESEDriverIncremental exercises the kinds that build on a recorded
// full backup: the source gets one, with log truncation, first.
func TestESEDriverIncremental(t *testing.T) {
	dir := copySynthSmall(t)
	d := engineDriver(t, true)
	ctx := t.Context()
	id, err := d.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: dir}})
	if err != nil {
		t.Fatal(err)
	}
	for {
		files, err := d.Files(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			break
		}
		for _, f := range files {
			if err := d.Read(ctx, id, f.Name, 0, protocol.ChunkWriterFunc(func(int64, []byte) error { return nil })); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, err := d.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeSucceeded, TruncateLogs: true})
	if err != nil || res.Recorded != "bkinfoFullPrev" {
		t.Fatalf("full backup with truncation: %+v, %v", res, err)
	}
	kinds := []protocol.Kind{protocol.KindIncremental, protocol.KindDifferential}
	failed := conformance.RunAll(ctx, conformance.Target{
		Snapshotter: d,
		Source:      protocol.Source{Location: dir},
		Kinds:       kinds,
	}, func(name string, err error, elapsed time.Duration) {
		switch {
		case err == nil:
		case errors.Is(err, conformance.ErrSkip):
			// Only the kinds not listed and the restart check may skip.
			if name == "backup-incremental" || name == "backup-differential" {
				t.Errorf("%s skipped: %v", name, err)
			}
		default:
			t.Errorf("%s: %v", name, err)
		}
	})
	if failed != 0 {
		t.Fatalf("%d checks failed", failed)
	}
}
