package inspect

import (
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/esesnap/esesnap/internal/samples"
)

// samplesDir is shared/ese-samples beside the repository.
func samplesDir(t testing.TB) string { return samples.Dir(t) }

var (
	allOnce sync.Once
	allRep  *Report
	allErr  error
)

// allSamples inspects the whole sample directory once per test binary.
func allSamples(t *testing.T) *Report {
	t.Helper()
	dir := samplesDir(t)
	allOnce.Do(func() { allRep, allErr = Inspect(context.Background(), dir, Options{}) })
	if allErr != nil {
		t.Fatalf("Inspect(%s): %v", dir, allErr)
	}
	return allRep
}

// rel returns file relative to the samples directory, with forward slashes.
func rel(t *testing.T, file string) string {
	r, err := filepath.Rel(samplesDir(t), file)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.ToSlash(r)
}

func findDB(t *testing.T, r *Report, name string) *Database {
	t.Helper()
	for i := range r.Databases {
		if rel(t, r.Databases[i].File) == name {
			return &r.Databases[i]
		}
	}
	t.Fatalf("database %s not in the report", name)
	return nil
}

func findLog(t *testing.T, r *Report, name string) *Log {
	t.Helper()
	for i := range r.Logs {
		if rel(t, r.Logs[i].File) == name {
			return &r.Logs[i]
		}
	}
	t.Fatalf("log %s not in the report", name)
	return nil
}

// copyDir copies the regular files of a sample directory into a new
// temporary directory, so a test can damage them.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
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

// gunzipSample unpacks a .gz sample into dir and returns the new path.
func gunzipSample(t *testing.T, path, dir string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), ".gz"))
	w, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, zr); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}
