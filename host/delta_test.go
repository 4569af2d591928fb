package host

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/esesnap/esesnap/backupset"
)

// TestDeltaSinkBackup backs the fake plugin's set up whole through a
// DeltaSink (the base), changes a page of one database, backs it up again
// against the base's indexes, and checks the second tar: the changed
// database is a one-block delta, the unchanged one an empty delta, the logs
// are whole; ExtractTar accepts it, Verify refuses it as a delta set, and
// ResolveDeltas rebuilds a set identical to a whole backup of the same data.
func TestDeltaSinkBackup(t *testing.T) {
	f := newFake(t)
	var baseTar bytes.Buffer
	base := &backupset.DeltaSink{Sink: backupset.NewTarSink(&baseTar)}
	backupTo(t, f, base)
	if len(base.Indexes) != 2 || base.Indexes["SRUDB.dat"].BlockSize != 4096 || base.Indexes["other.edb"].BlockSize != backupset.DefaultBlockSize {
		t.Fatalf("base indexes: %+v", base.Indexes)
	}
	for name, idx := range base.Indexes {
		if len(idx.SHA256) != 64 {
			t.Fatalf("index of %s has no file hash after Commit", name)
		}
	}
	baseDir := t.TempDir()
	if _, err := backupset.ExtractTar(context.Background(), bytes.NewReader(baseTar.Bytes()), baseDir); err != nil {
		t.Fatal(err)
	}

	f.batches[0][0].data[5*4096+7] ^= 0xFF
	f.next = 0
	var deltaTar bytes.Buffer
	ds := &backupset.DeltaSink{Sink: backupset.NewTarSink(&deltaTar), Base: "base-1", Bases: base.Indexes}
	res := backupTo(t, f, ds)
	if res.Manifest.FormatVersion != backupset.DeltaFormatVersion {
		t.Fatalf("format_version %d", res.Manifest.FormatVersion)
	}
	want := map[string]int64{"SRUDB.dat": 1, "other.edb": 0}
	for _, mf := range res.Manifest.Files {
		n, isDB := want[mf.Name]
		switch {
		case isDB && (mf.Delta == nil || mf.Delta.Changed != n || mf.Delta.Base != "base-1"):
			t.Errorf("%s: delta %+v, want %d changed blocks", mf.Name, mf.Delta, n)
		case !isDB && mf.Delta != nil:
			t.Errorf("%s stored as a delta", mf.Name)
		}
	}
	if deltaTar.Len() > 200_000 {
		t.Errorf("the delta set is %d bytes, more than its logs and one page", deltaTar.Len())
	}

	dir := t.TempDir()
	m, err := backupset.ExtractTar(context.Background(), bytes.NewReader(deltaTar.Bytes()), dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backupset.Verify(context.Background(), dir); !errors.Is(err, backupset.ErrDeltaSet) {
		t.Fatalf("Verify of a delta set: %v", err)
	}
	if _, err := backupset.ResolveDeltas(dir, m, func(f backupset.ManifestFile) (string, error) { return filepath.Join(baseDir, f.Name), nil }); err != nil {
		t.Fatal(err)
	}
	wholeDir := t.TempDir()
	f.next = 0
	if _, err := backupset.ExtractTar(context.Background(), bytes.NewReader(tarBackup(t, f)), wholeDir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"SRUDB.dat", "other.edb", "SRU00001.log", backupset.ManifestName} {
		a, _ := os.ReadFile(filepath.Join(dir, name))
		b, _ := os.ReadFile(filepath.Join(wholeDir, name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: rebuilt set differs from a whole backup", name)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.delta")); len(left) != 0 {
		t.Errorf("delta entries left: %v", left)
	}
}
