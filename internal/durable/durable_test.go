package durable

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/esesnap/esesnap/internal/samples"
)

// sampleBytes is a real ESE file the tests copy around.
func sampleBytes(t *testing.T) []byte {
	t.Helper()
	return samples.Read(t, "srum-win10-clean/SRU.chk")
}

func TestWriteFileAtomic(t *testing.T) {
	data := sampleBytes(t)
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "f")
	for _, content := range [][]byte{data, []byte("second version")} {
		if err := WriteFileAtomic(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("read back %d bytes, %v; want %d", len(got), err, len(content))
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("the directory holds %d entries, want only f (no temporary file left)", len(entries))
	}
	// A path whose directory is a file fails and creates nothing.
	if err := WriteFileAtomic(filepath.Join(path, "x"), data, 0o600); err == nil {
		t.Fatal("write below a regular file succeeded")
	}
}

func TestCopyFile(t *testing.T) {
	data := sampleBytes(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "SRU.chk")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		src     string
		prepare func(dst string)
		fails   bool
		is      error  // what a failure wraps, when it matters
		left    []byte // what dst holds afterwards; nil: no dst
	}{
		{name: "new file", src: src, left: data},
		{name: "existing destination is kept", src: src, prepare: func(dst string) { os.WriteFile(dst, []byte("keep"), 0o644) }, fails: true, is: fs.ErrExist, left: []byte("keep")},
		{name: "missing source creates nothing", src: filepath.Join(dir, "missing"), fails: true, is: fs.ErrNotExist},
		// Reading a directory fails after the destination was created:
		// the partial destination must go.
		{name: "failed read removes the partial copy", src: t.TempDir(), fails: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := filepath.Join(dir, "dst", tt.name)
			os.MkdirAll(filepath.Dir(dst), 0o755)
			if tt.prepare != nil {
				tt.prepare(dst)
			}
			err := CopyFile(tt.src, dst)
			switch {
			case (err != nil) != tt.fails:
				t.Fatalf("copy %d: error %v, want failure %t", i, err, tt.fails)
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Fatalf("copy %d: %v, want %v", i, err, tt.is)
			}
			got, rerr := os.ReadFile(dst)
			if tt.left == nil {
				if rerr == nil {
					t.Fatalf("a failed copy left %s (%d bytes)", dst, len(got))
				}
				return
			}
			if !bytes.Equal(got, tt.left) {
				t.Fatalf("destination holds %d bytes, want %d", len(got), len(tt.left))
			}
		})
	}
}

func TestMove(t *testing.T) {
	data := sampleBytes(t)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	moved, err := Move(src, dst)
	if err != nil || !moved {
		t.Fatalf("Move = %v, %v", moved, err)
	}
	if _, err := os.Stat(src); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("source still there: %v", err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Fatal("moved file differs")
	}
	// Moving onto an existing file overwrites nothing.
	if err := os.WriteFile(src, []byte("other"), 0o644); err != nil {
		t.Fatal(err)
	}
	moved, err = Move(src, dst)
	if moved || !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Move onto an existing file = %v, %v; want fs.ErrExist", moved, err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Fatal("Move overwrote the destination")
	}
	if got, _ := os.ReadFile(src); string(got) != "other" {
		t.Fatal("a refused Move changed the source")
	}
}

func TestMkdirAll(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "a", "b", "c")
	if err := MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("%s not created: %v", dir, err)
	}
	if err := MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("MkdirAll of an existing directory: %v", err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := MkdirAll(filepath.Join(file, "x"), 0o755); err == nil {
		t.Fatal("MkdirAll below a regular file succeeded")
	}
}

func TestSyncDir(t *testing.T) {
	if err := SyncDir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if err := SyncDir(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("SyncDir of a missing directory: %v, want fs.ErrNotExist", err)
	}
}
