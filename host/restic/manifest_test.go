package restic

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/protocol"
)

// countingDouble writes a test double of restic that appends each command
// line to a log file and runs the real restic.
func countingDouble(t *testing.T, o Options) (Options, func() string) {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "calls")
	double := filepath.Join(dir, "restic-counting")
	script := "#!/bin/sh\necho \"$*\" >> \"" + log + "\"\nexec \"" + o.Binary + "\" \"$@\"\n"
	if err := os.WriteFile(double, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	d := o
	d.Binary = double
	return d, func() string { b, _ := os.ReadFile(log); return string(b) }
}

// backupTar streams a tar set of two random files (8 MiB in all, several
// restic blobs) and its manifest into restic and returns the snapshot and
// the manifest.
func backupTar(t *testing.T, o Options) (Snapshot, *backupset.Manifest) {
	t.Helper()
	ctx := context.Background()
	b, err := StartBackup(ctx, o, BackupOptions{Filename: "NTDS.tar", Tags: []string{"esesnap"}})
	if err != nil {
		t.Fatal(err)
	}
	started := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	sink := backupset.NewTarSink(b.Writer())
	m := &backupset.Manifest{FormatVersion: backupset.FormatVersion, Kind: protocol.KindFull, Started: started, Finished: started,
		Complete: true, Files: []backupset.ManifestFile{}, Source: backupset.SourceInfo{Location: "/srv/NTDS"}}
	for i, name := range []string{"ntds.dit", "edb00001.log"} {
		data := randomBytes(uint64(i+7), 4<<20)
		w, err := sink.Create(backupset.Entry{Name: name, Size: int64(len(data)), ModTime: started, Role: protocol.RoleDatabase})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		m.Files = append(m.Files, backupset.ManifestFile{Name: name, OriginalName: "/srv/NTDS/" + name, Role: protocol.RoleDatabase,
			Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
	}
	mb, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Commit(ctx, mb, started); err != nil {
		t.Fatal(err)
	}
	sum, err := b.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snaps, err := Snapshots(ctx, o)
	if err != nil || len(snaps) == 0 || snaps[len(snaps)-1].ID != sum.SnapshotID {
		t.Fatalf("snapshots %+v, %v", snaps, err)
	}
	return snaps[len(snaps)-1], m
}

// TestReadManifestFromTail: the manifest of a set in restic is read from
// the last blobs of the tar (not the whole set), equals the one written,
// and is then served from the cache with restic refusing cat; a snapshot
// of something else is ErrNoManifest.
func TestReadManifestFromTail(t *testing.T) {
	o := testRepo(t)
	snap, want := backupTar(t, o)
	ctx := context.Background()

	counting, calls := countingDouble(t, o)
	got, err := ReadManifest(ctx, counting, snap)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("manifest read back %+v, want %+v", got, want)
	}
	var tree bytes.Buffer
	if err := o.run(ctx, "cat tree", &tree, "cat", "tree", snap.ID); err != nil {
		t.Fatal(err)
	}
	var parsed struct{ Nodes []treeNode }
	if err := json.Unmarshal(tree.Bytes(), &parsed); err != nil || len(parsed.Nodes) != 1 {
		t.Fatalf("tree %s: %v", tree.String(), err)
	}
	blobs := len(parsed.Nodes[0].Content)
	if n := strings.Count(calls(), "cat blob"); n == 0 || n > 2 || blobs < 4 {
		t.Fatalf("read %d blobs of a file whose tree lists about %d; want 1 or 2 of at least 4", n, blobs)
	}

	cached, err := ReadManifest(ctx, refusingDouble(t, o), snap)
	if err != nil || !reflect.DeepEqual(cached, want) {
		t.Fatalf("from the cache: %+v, %v", cached, err)
	}

	b, err := StartBackup(ctx, o, BackupOptions{Filename: "other.tar"})
	if err != nil {
		t.Fatal(err)
	}
	b.Writer().Write(randomBytes(3, 100000))
	if _, err := b.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	snaps, err := Snapshots(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadManifest(ctx, o, snaps[len(snaps)-1]); !errors.Is(err, ErrNoManifest) {
		t.Fatalf("a snapshot of random bytes: %v, want ErrNoManifest", err)
	}
	// The verdict is cached too: restic is not asked again.
	if _, err := ReadManifest(ctx, refusingDouble(t, o), snaps[len(snaps)-1]); !errors.Is(err, ErrNoManifest) {
		t.Fatalf("a snapshot of random bytes, from the cache: %v, want ErrNoManifest", err)
	}
}
