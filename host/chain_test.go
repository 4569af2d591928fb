package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese/synth"
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
		sink, err := NewDirSink(dir)
		if err != nil {
			t.Fatal(err)
		}
		req := BackupRequest{Kind: kind, Source: protocol.Source{Location: set.Dir, Options: map[string]string{"writable": "true"}}, TruncateLogs: true}
		if _, err := Backup(ctx, d, req, sink); err != nil {
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
	if _, err := Verify(ctx, sets[2]); err != nil {
		t.Fatal(err)
	}
	// Copied by default; hard-linked from scratch sets, with the same
	// result.
	db := ch.Databases[0]
	linked, err := AssembleChain(ctx, sets, filepath.Join(t.TempDir(), "linked"), Scratch())
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
		got, gerr := fileSHA256(filepath.Join(tt.chain.Dir, db), make([]byte, 1<<16))
		want, werr := fileSHA256(filepath.Join(sets[0], db), make([]byte, 1<<16))
		if tt.chain.Logs != ch.Logs || gerr != nil || werr != nil || got != want {
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
