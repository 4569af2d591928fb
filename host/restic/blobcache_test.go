package restic

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadBlobCache: a cache file of any content is either refused or read
// as exactly what write stores; a written cache reads back whole.
func FuzzReadBlobCache(f *testing.F) {
	dir := f.TempDir()
	names := []string{"0a1b", "ffee"}
	bc := &blobCache{path: filepath.Join(dir, "seed.blobs"), configFile: "c0nf"}
	bc.write(names, BlobSet{{1}: {}, {2}: {}, {3}: {}})
	seed, err := os.ReadFile(bc.path)
	if err != nil {
		f.Fatal(err)
	}
	if set, err := readBlobCache(bc.path, "c0nf", names); err != nil || len(set) != 3 {
		f.Fatalf("written cache read back as %d blobs, %v", len(set), err)
	}
	f.Add(seed)
	f.Add([]byte(blobCacheMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "x.blobs")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		set, err := readBlobCache(path, "c0nf", names)
		if err != nil {
			return
		}
		again := &blobCache{path: filepath.Join(t.TempDir(), "y.blobs"), configFile: "c0nf"}
		again.write(names, set)
		back, err := readBlobCache(again.path, "c0nf", names)
		if err != nil || len(back) != len(set) {
			t.Fatalf("rewritten cache read back as %d of %d blobs, %v", len(back), len(set), err)
		}
	})
}
