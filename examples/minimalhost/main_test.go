package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/protocol"
)

// TestRunWithDirsnap backs a directory up through the dirsnap example
// plugin, as the package comment shows.
func TestRunWithDirsnap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and launches a plugin binary")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the plugin with")
	}
	bin := filepath.Join(t.TempDir(), "dirsnap-plugin")
	if filepath.Separator == '\\' {
		bin += ".exe"
	}
	if out, err := exec.Command(gobin, "build", "-o", bin, "github.com/esesnap/esesnap/examples/dirsnap/cmd/dirsnap-plugin").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	src := t.TempDir()
	files := map[string][]byte{"a.txt": []byte("hello"), "b.bin": bytes.Repeat([]byte{7}, 3<<20)}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(src, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set := filepath.Join(t.TempDir(), "set")
	if err := run(bin, src, set, protocol.KindCopy); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		got, err := os.ReadFile(filepath.Join(set, name))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s in the set: %d bytes, %v; want %d bytes", name, len(got), err, len(data))
		}
	}
	if _, err := os.Stat(filepath.Join(set, backupset.ManifestName)); err != nil {
		t.Fatalf("the set has no manifest: %v", err)
	}
	// An incremental backup is refused before a session begins.
	if err := run(bin, src, filepath.Join(t.TempDir(), "set2"), protocol.KindIncremental); err == nil {
		t.Fatal("dirsnap took an incremental backup")
	}
}
