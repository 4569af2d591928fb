// Package samples gives tests the real ESE files of ../shared/ese-samples:
// where they are, and private copies for tests that write.
package samples

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir returns the absolute path of shared/ese-samples beside the repository
// and fails the test with instructions when it is missing.
func Dir(tb testing.TB) string {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "ese-samples")
	if _, err := os.Stat(filepath.Join(dir, "INVENTORY.md")); err != nil {
		tb.Fatalf("the real ESE samples are missing: check the repository out beside shared/ (expected %s): %v", dir, err)
	}
	return dir
}

// Path returns the path of one sample file or set, relative to Dir.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	return filepath.Join(Dir(tb), rel)
}

// Read returns the bytes of one sample file, gunzipped when it ends in .gz.
func Read(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(Path(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	if filepath.Ext(rel) != ".gz" {
		return b
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("gunzip %s: %v", rel, err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatalf("gunzip %s: %v", rel, err)
	}
	return out
}

// CopySet copies one sample set (a folder of Dir) into a fresh temporary
// directory, since shared/ is read-only and tests lock, truncate and
// rewrite. Files are made writable.
func CopySet(tb testing.TB, set string) string {
	tb.Helper()
	return CopyDir(tb, Path(tb, set))
}

// SynthSmall copies the bundled synthetic set testdata/synth-small into a
// fresh temporary directory.
func SynthSmall(tb testing.TB) string {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	return CopyDir(tb, filepath.Join(filepath.Dir(file), "..", "..", "testdata", "synth-small"))
}

// CopyDir copies the regular files of src into a fresh temporary
// directory, writable.
func CopyDir(tb testing.TB, src string) string {
	tb.Helper()
	dst := tb.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dst
}

// FlipBits XORs the byte at off in the file at path with mask, in place:
// the damage tests make to a private copy of a sample.
func FlipBits(tb testing.TB, path string, off int64, mask byte) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		tb.Fatalf("damage %s at %d: %v", path, off, err)
	}
	b[0] ^= mask
	if _, err := f.WriteAt(b, off); err != nil {
		tb.Fatalf("damage %s at %d: %v", path, off, err)
	}
}

// DirSHA256 is the SHA-256 of every file directly in dir, by name: what
// tests compare to show that a failed operation left a source unchanged.
func DirSHA256(tb testing.TB, dir string) map[string][32]byte {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	sums := map[string][32]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		sums[e.Name()] = sha256.Sum256(b)
	}
	return sums
}
