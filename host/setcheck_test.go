package host

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/internal/samples"
)

// realSampleSet backs up the real sample set name (copied first) through
// the engine into a directory set and returns the set's directory.
func realSampleSet(t *testing.T, name string) string {
	t.Helper()
	f, _ := engineSnapshotter(t, samples.CopySet(t, name))
	dir := filepath.Join(t.TempDir(), "set")
	sink, err := backupset.NewDirSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	backupTo(t, f, sink)
	return dir
}

// TestReadManifestStrict: a manifest must be exactly the JSON this package
// writes. encoding/json alone would accept every one of these.
func TestReadManifestStrict(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(realSampleSet(t, "srum-win10-dirty"), backupset.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backupset.ReadManifest(bytes.NewReader(good)); err != nil {
		t.Fatalf("the manifest Backup wrote: %v", err)
	}
	// replace swaps the first occurrence of old, which must be there.
	replace := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte {
			if !bytes.Contains(b, []byte(old)) {
				t.Fatalf("manifest has no %q", old)
			}
			return bytes.Replace(b, []byte(old), []byte(new), 1)
		}
	}
	tests := []struct {
		name string
		edit func([]byte) []byte
		text string
	}{
		{"unknown top-level key", replace(`"kind":`, `"truncate": true, "kind":`), `manifest: unknown key "truncate"`},
		{"unknown key in a file", replace(`"sha256":`, `"sha512": "x", "sha256":`), `manifest.files[0]: unknown key "sha512"`},
		{"unknown key in ese.databases", replace(`"sign_db":`, `"signDb": {}, "sign_db":`), `unknown key "signDb"`},
		{"key in other case", replace(`"kind":`, `"Kind":`), `manifest: key "Kind" is spelled "kind"`},
		{"nested key in other case", replace(`"generation":`, `"GENERATION":`), `key "GENERATION" is spelled "generation"`},
		{"duplicate key", replace(`"kind":`, `"kind": "incremental", "kind":`), `manifest: key "kind" appears twice`},
		{"duplicate nested key", replace(`"size":`, `"size": 1, "size":`), `manifest.files[0]: key "size" appears twice`},
		{"trailing value", func(b []byte) []byte { return append(b, "{}\n"...) }, "data after the manifest's JSON value"},
		{"trailing garbage", func(b []byte) []byte { return append(b, "x"...) }, "data after the manifest's JSON value"},
		{"two manifests", func(b []byte) []byte { return append(bytes.Clone(b), b...) }, "data after the manifest's JSON value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := backupset.ReadManifest(bytes.NewReader(tt.edit(bytes.Clone(good))))
			if !errors.Is(err, backupset.ErrBadManifest) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("error %v, want %v containing %q", err, backupset.ErrBadManifest, tt.text)
			}
		})
	}
	// White space after the value is not data.
	if _, err := backupset.ReadManifest(bytes.NewReader(append(bytes.Clone(good), " \n\t\n"...))); err != nil {
		t.Fatalf("trailing white space: %v", err)
	}
}

// TestVerifyManifestStrictNamesTheSet: through Verify, a bad manifest is
// an error that names the set, for both forms.
func TestVerifyManifestStrictNamesTheSet(t *testing.T) {
	dir := realSampleSet(t, "srum-win10-clean")
	p := filepath.Join(dir, backupset.ManifestName)
	b, _ := os.ReadFile(p)
	os.WriteFile(p, bytes.Replace(b, []byte(`"complete":`), []byte(`"Complete":`), 1), 0o644)
	_, err := backupset.Verify(context.Background(), dir)
	if !errors.Is(err, backupset.ErrBadManifest) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), `key "Complete" is spelled "complete"`) {
		t.Fatalf("directory: %v", err)
	}
	tarPath := filepath.Join(t.TempDir(), "set.tar")
	es := readTar(t, tarBackup(t, newFake(t)))
	last := &es[len(es)-1]
	last.data = append(last.data, "[]"...)
	os.WriteFile(tarPath, writeTar(t, es), 0o644)
	_, err = backupset.Verify(context.Background(), tarPath)
	if !errors.Is(err, backupset.ErrBadManifest) || !strings.Contains(err.Error(), tarPath) || !strings.Contains(err.Error(), "data after the manifest's JSON value") {
		t.Fatalf("tar: %v", err)
	}
}

// TestVerifyManifestMeaning: a manifest whose every hash matches but which
// says something its files' headers contradict is refused, naming the file
// and both values.
func TestVerifyManifestMeaning(t *testing.T) {
	file := func(m map[string]any, i int) map[string]any { return m["files"].([]any)[i].(map[string]any) }
	db := func(m map[string]any) map[string]any {
		return m["ese"].(map[string]any)["databases"].([]any)[0].(map[string]any)
	}
	flipHex := func(s map[string]any) {
		h := []byte(s["hex"].(string))
		h[3] ^= 1
		s["hex"] = string(h)
	}
	// srum-win10-dirty: SRUDB.dat (page size 4096), then logs 0x51, 0x52.
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		text   string
	}{
		{"log generation", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { file(m, 1)["generation"] = 0x50 })
		}, "SRU00051.log: the manifest does not match the files: the manifest says generation 0x50, the log header 0x51"},
		{"log named for another generation", func(t *testing.T, dir string) {
			os.Rename(filepath.Join(dir, "SRU00052.log"), filepath.Join(dir, "SRU00053.log"))
			editManifest(t, dir, func(m map[string]any) {
				f := file(m, 2)
				f["name"], f["original_name"], f["generation"] = "SRU00053.log", "SRU00053.log", 0x52
			})
		}, "SRU00053.log: the manifest does not match the files: the name says generation 0x53, the log header 0x52"},
		{"log not named for a generation", func(t *testing.T, dir string) {
			os.Rename(filepath.Join(dir, "SRU00052.log"), filepath.Join(dir, "SRU.log"))
			editManifest(t, dir, func(m map[string]any) {
				f := file(m, 2)
				f["name"], f["original_name"] = "SRU.log", "SRU.log"
			})
		}, "SRU.log: the manifest does not match the files: a log of a backup set is named for its generation"},
		{"database page size", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { file(m, 0)["page_size"] = 8192 })
		}, "SRUDB.dat: the manifest does not match the files: the manifest says page size 8192, the database header 4096"},
		{"log page size", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { file(m, 1)["page_size"] = 32768 })
		}, "the manifest says page size 32768, the log header 4096"},
		{"ese page size", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["ese"].(map[string]any)["page_size"] = 8192 })
		}, "ese.page_size is 8192, the files' headers say 4096"},
		{"base name", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["ese"].(map[string]any)["base_name"] = "edb" })
		}, `the manifest says log base name "edb"`},
		{"original name", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { file(m, 0)["original_name"] = `C:\Windows\System32\sru\Other.dat` })
		}, `SRUDB.dat: the manifest does not match the files: the original name "C:\\Windows\\System32\\sru\\Other.dat" has the base name "Other.dat"`},
		{"kind", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["kind"] = "incremental" })
		}, "an incremental backup streams logs only, the set holds 1 database(s)"},
		{"database signature", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { flipHex(db(m)["sign_db"].(map[string]any)) })
		}, "SRUDB.dat: the manifest does not match the files: the manifest says sign_db"},
		{"database log signature", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { flipHex(db(m)["sign_log"].(map[string]any)) })
		}, "the manifest says sign_log"},
		{"signature syntax", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { db(m)["sign_db"].(map[string]any)["hex"] = "zz" })
		}, `ese.databases sign_db: signature "zz" is not 28 hex-encoded bytes`},
		{"database state", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { db(m)["state"] = "CleanShutdown" })
		}, `the manifest says state "CleanShutdown", the database header "DirtyShutdown"`},
		{"backup generation", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { db(m)["backup_gen_low"] = 0x40 })
		}, "the manifest says backup_gen_low 0x40, the database header 0x51"},
		{"database missing from the ESE section", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["ese"].(map[string]any)["databases"] = []any{} })
		}, `ese.databases lists [], the set's databases are ["SRUDB.dat"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := realSampleSet(t, "srum-win10-dirty")
			if _, err := backupset.Verify(context.Background(), dir); err != nil {
				t.Fatalf("the untouched set: %v", err)
			}
			tt.damage(t, dir)
			_, err := backupset.Verify(context.Background(), dir)
			if !errors.Is(err, backupset.ErrManifestMismatch) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("error %v\nwant %v containing %q", err, backupset.ErrManifestMismatch, tt.text)
			}
		})
	}
}

// TestVerifyTarEnd: archive/tar reads a stream that stops right after an
// entry as a complete archive; Verify and ExtractTar must not.
func TestVerifyTarEnd(t *testing.T) {
	good := tarBackup(t, newFake(t))
	if !bytes.Equal(good[len(good)-1024:], make([]byte, 1024)) {
		t.Fatal("the tar sink did not end the archive with two zero blocks")
	}
	tests := []struct {
		name string
		b    []byte
		is   error
		text string
	}{
		{"cut after the manifest entry", good[:len(good)-1024], backupset.ErrTarTruncated, "the tar archive is truncated: it ends after"},
		{"cut after one zero block", good[:len(good)-512], backupset.ErrTarTruncated, "without the two 512-byte zero blocks"},
		{"data after the end", append(bytes.Clone(good), "extra"...), backupset.ErrExtraFile, "data follows the end-of-archive blocks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := backupset.VerifyTar(context.Background(), bytes.NewReader(tt.b))
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("verify: %v, want %v containing %q", err, tt.is, tt.text)
			}
			p := filepath.Join(t.TempDir(), "set.tar")
			os.WriteFile(p, tt.b, 0o644)
			if _, err := backupset.Verify(context.Background(), p); !strings.Contains(err.Error(), p+": ") && tt.is == backupset.ErrTarTruncated {
				t.Fatalf("verify %s does not name the file: %v", p, err)
			}
			dir := t.TempDir()
			if _, err := backupset.ExtractTar(context.Background(), bytes.NewReader(tt.b), dir); !errors.Is(err, tt.is) {
				t.Fatalf("extract: %v, want %v", err, tt.is)
			}
			if es, _ := os.ReadDir(dir); len(es) != 0 {
				t.Fatalf("a refused extraction left %d file(s)", len(es))
			}
		})
	}
	// Record padding (zeros after the end blocks, as GNU tar writes) is fine.
	padded := append(bytes.Clone(good), make([]byte, 10240)...)
	if _, err := backupset.VerifyTar(context.Background(), bytes.NewReader(padded)); err != nil {
		t.Fatalf("padded archive: %v", err)
	}
}
