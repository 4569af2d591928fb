package restic

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/esesnap/esesnap/internal/samples"
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
	// A cache of real blob ids: the SHA-256 of each page of a real
	// database, as restic would name chunks of it.
	db := samples.Read(f, "dissect-basic-4k/basic.edb")
	pages := BlobSet{}
	for off := 0; off+4096 <= len(db) && len(pages) < 64; off += 4096 {
		pages[BlobID(sha256.Sum256(db[off:off+4096]))] = struct{}{}
	}
	bc.write(names, pages)
	if seed, err = os.ReadFile(bc.path); err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	// One directory per fuzzing process, its files overwritten by each
	// input: cheaper than a new temporary directory per execution.
	work := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(work, "x.blobs")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		set, err := readBlobCache(path, "c0nf", names)
		if err != nil {
			return
		}
		again := &blobCache{path: filepath.Join(work, "y.blobs"), configFile: "c0nf"}
		again.write(names, set)
		back, err := readBlobCache(again.path, "c0nf", names)
		if err != nil || len(back) != len(set) {
			t.Fatalf("rewritten cache read back as %d of %d blobs, %v", len(back), len(set), err)
		}
	})
}
