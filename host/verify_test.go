package host

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/backupset"
)

// dirSet writes a backup of the test double as a directory and returns it.
func dirSet(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "set")
	sink, err := backupset.NewDirSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	backupTo(t, newFake(t), sink)
	return dir
}

// editManifest decodes the manifest of dir, lets edit change it as a map and
// writes it back.
func editManifest(t testing.TB, dir string, edit func(m map[string]any)) {
	t.Helper()
	p := filepath.Join(dir, backupset.ManifestName)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func flipFileByte(t testing.TB, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x40
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyDirectoryDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		is     error
		text   string
	}{
		{"changed byte", func(t *testing.T, dir string) {
			flipFileByte(t, filepath.Join(dir, "SRUDB.dat"), 12345)
		}, backupset.ErrChecksumMismatch, "SRUDB.dat"},
		{"truncated file", func(t *testing.T, dir string) {
			os.Truncate(filepath.Join(dir, "SRU00001.log"), 100)
		}, backupset.ErrSizeMismatch, "SRU00001.log: size does not match the manifest: 100 bytes, manifest says 65536"},
		{"missing file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "SRU00002.log"))
		}, backupset.ErrMissingFile, "SRU00002.log"},
		{"missing manifest", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, backupset.ManifestName))
		}, backupset.ErrIncomplete, "has no manifest.json"},
		{"manifest not complete", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["complete"] = false })
		}, backupset.ErrIncomplete, "does not say complete"},
		{"extra file", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "extra.bin"), []byte("x"), 0o644)
		}, backupset.ErrExtraFile, "extra.bin"},
		{"leftover partial", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "SRU00004.log.partial"), []byte("x"), 0o644)
		}, backupset.ErrExtraFile, "SRU00004.log.partial"},
		{"subdirectory", func(t *testing.T, dir string) {
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
		}, backupset.ErrExtraFile, "sub"},
		{"newer format", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["format_version"] = 3 })
		}, nil, "format_version 3 is newer"},
		{"hostile name in manifest", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["files"].([]any)[0].(map[string]any)["name"] = "../../etc/passwd" })
		}, nil, "contains a path separator"},
		{"bad hash syntax", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["files"].([]any)[0].(map[string]any)["sha256"] = "XYZ" })
		}, nil, "not 64 lower-case hex"},
		{"garbage manifest", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, backupset.ManifestName), []byte("{not json"), 0o644)
		}, nil, "decode manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := dirSet(t)
			tt.damage(t, dir)
			_, err := backupset.Verify(context.Background(), dir)
			if err == nil {
				t.Fatal("verify passed a damaged set")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("error %v is not %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("error %q does not contain %q", err, tt.text)
			}
		})
	}
}

// tarEntry is one entry of a tar being rewritten by a test.
type tarEntry struct {
	hdr  *tar.Header
	data []byte
}

func readTar(t testing.TB, b []byte) []tarEntry {
	t.Helper()
	var out []tarEntry
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{h, data})
	}
}

func writeTar(t testing.TB, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := *e.hdr
		h.Size = int64(len(e.data))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestVerifyTarDamage(t *testing.T) {
	good := tarBackup(t, newFake(t))
	if _, err := backupset.VerifyTar(context.Background(), bytes.NewReader(good)); err != nil {
		t.Fatalf("good tar: %v", err)
	}
	entry := func(name string, data []byte) tarEntry {
		return tarEntry{&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, ModTime: fixedClock().UTC(), Format: tar.FormatPAX}, data}
	}
	tests := []struct {
		name string
		edit func(es []tarEntry) []tarEntry
		raw  func(b []byte) []byte
		is   error
		text string
	}{
		{name: "changed byte", edit: func(es []tarEntry) []tarEntry {
			es[1].data[7] ^= 1
			return es
		}, is: backupset.ErrChecksumMismatch, text: "other.edb"},
		{name: "missing entry", edit: func(es []tarEntry) []tarEntry {
			return append(es[:2], es[3:]...)
		}, is: backupset.ErrMissingFile, text: "SRU00001.log"},
		{name: "missing manifest", edit: func(es []tarEntry) []tarEntry {
			return es[:len(es)-1]
		}, is: backupset.ErrIncomplete, text: "no manifest.json"},
		{name: "extra entry", edit: func(es []tarEntry) []tarEntry {
			return append([]tarEntry{entry("extra.bin", []byte("x"))}, es...)
		}, is: backupset.ErrExtraFile, text: "extra.bin"},
		{name: "entry after the manifest", edit: func(es []tarEntry) []tarEntry {
			return append(es, entry("late.bin", []byte("x")))
		}, is: backupset.ErrExtraFile, text: "late.bin"},
		{name: "hostile entry name", edit: func(es []tarEntry) []tarEntry {
			return append([]tarEntry{entry("../../evil", []byte("x"))}, es...)
		}, is: backupset.ErrExtraFile, text: "path separator"},
		{name: "duplicate entry", edit: func(es []tarEntry) []tarEntry {
			return append([]tarEntry{entry("srudb.DAT", []byte("x"))}, es...)
		}, is: backupset.ErrExtraFile, text: "duplicate"},
		{name: "symlink entry", edit: func(es []tarEntry) []tarEntry {
			l := &tar.Header{Typeflag: tar.TypeSymlink, Name: "link", Linkname: "/etc/passwd", Format: tar.FormatPAX}
			return append([]tarEntry{{l, nil}}, es...)
		}, is: backupset.ErrExtraFile, text: "not a regular file"},
		{name: "cut short", raw: func(b []byte) []byte { return b[:len(b)/2] }, is: backupset.ErrIncomplete, text: "cut short"},
		{name: "empty stream", raw: func(b []byte) []byte { return nil }, is: backupset.ErrIncomplete, text: "no manifest.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b []byte
			if tt.edit != nil {
				b = writeTar(t, tt.edit(readTar(t, good)))
			} else {
				b = tt.raw(bytes.Clone(good))
			}
			_, err := backupset.VerifyTar(context.Background(), bytes.NewReader(b))
			if err == nil {
				t.Fatal("verify passed a damaged tar")
			}
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("error %q, want %v containing %q", err, tt.is, tt.text)
			}
		})
	}
}

func TestVerifyCancelled(t *testing.T) {
	dir := dirSet(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := backupset.Verify(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled verify: %v", err)
	}
}
