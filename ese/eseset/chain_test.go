package eseset

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/driver"
	"github.com/esesnap/esesnap/ese/engine"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/ese/synth"
	"github.com/esesnap/esesnap/host"
	"github.com/esesnap/esesnap/protocol"
)

// TestAssembleChain backs up full → incremental → incremental of a
// generated instance that keeps writing logs, assembles the chain, and
// checks that leaving out the middle sets is a gap naming the generations.
func TestAssembleChain(t *testing.T) {
	set := dirtySet(t)
	d := engineDriver(t)
	ctx := context.Background()
	var sets []string
	backup := func(kind protocol.Kind) {
		t.Helper()
		dir := filepath.Join(t.TempDir(), "set")
		sink, err := backupset.NewDirSink(dir)
		if err != nil {
			t.Fatal(err)
		}
		req := host.BackupRequest{Kind: kind, Source: protocol.Source{Location: set.Dir, Options: map[string]string{"writable": "true"}}, TruncateLogs: true}
		if _, err := host.Backup(ctx, d, req, sink); err != nil {
			t.Fatalf("%s backup: %v", kind, err)
		}
		sets = append(sets, dir)
	}
	backup(protocol.KindFull)
	if err := synth.Roll(set, 3); err != nil {
		t.Fatal(err)
	}
	backup(protocol.KindIncremental)
	if err := synth.Roll(set, 3); err != nil {
		t.Fatal(err)
	}
	backup(protocol.KindIncremental)
	if err := synth.Roll(set, 3); err != nil {
		t.Fatal(err)
	}
	backup(protocol.KindIncremental)

	ch, err := AssembleChain(ctx, sets, filepath.Join(t.TempDir(), "chain"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Sets) != 4 || ch.Logs.GenHigh != set.CurrentGen || len(ch.Databases) != 1 {
		t.Fatalf("chain %+v, want 4 sets ending at generation %d", ch.Logs, set.CurrentGen)
	}
	if _, err := backupset.Verify(ctx, sets[2]); err != nil {
		t.Fatal(err)
	}
	// Copied by default; hard-linked from scratch sets, with the same
	// result.
	db := ch.Databases[0]
	linked, err := AssembleChain(ctx, sets, filepath.Join(t.TempDir(), "linked"), backupset.Scratch())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		chain *Chain
		same  bool
	}{{ch, false}, {linked, true}} {
		a, _ := os.Stat(filepath.Join(sets[0], db))
		b, _ := os.Stat(filepath.Join(tt.chain.Dir, db))
		if a == nil || b == nil || os.SameFile(a, b) != tt.same {
			t.Fatalf("%s: the database is the set's own file: %v, want %v", tt.chain.Dir, !tt.same, tt.same)
		}
		got, gerr := os.ReadFile(filepath.Join(tt.chain.Dir, db))
		want, werr := os.ReadFile(filepath.Join(sets[0], db))
		if tt.chain.Logs != ch.Logs || gerr != nil || werr != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: logs %+v or database differ", tt.chain.Dir, tt.chain.Logs)
		}
	}

	_, err = AssembleChain(ctx, []string{sets[0], sets[3]}, filepath.Join(t.TempDir(), "gap"))
	if !errors.Is(err, ErrChainGap) {
		t.Fatalf("a chain without its middle sets: %v, want ErrChainGap", err)
	}
	if !strings.Contains(err.Error(), "generation(s) ") {
		t.Fatalf("the gap error does not name the generations: %v", err)
	}
	t.Logf("gap: %v", err)

	if _, err := AssembleChain(ctx, []string{sets[1], sets[2]}, filepath.Join(t.TempDir(), "nofull")); err == nil {
		t.Fatal("a chain without its full backup was assembled")
	}
}

// engineDriver is the real ESE driver over a writable engine, so that End
// records backups and truncates logs in the source set.
func engineDriver(t testing.TB) *driver.Driver {
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
		IdleTimeout: time.Minute,
	})
	t.Cleanup(func() { d.Close() })
	return d
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
