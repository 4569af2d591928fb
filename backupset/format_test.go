package backupset

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/protocol"
)

// writeSet stores the real sample database basic.edb as a one-file set
// through DirSink, with the manifest's section of kind (none for "").
func writeSet(t *testing.T, kind string, section any) string {
	t.Helper()
	data := samples.Read(t, "dissect-basic-4k/basic.edb")
	dir := filepath.Join(t.TempDir(), "set")
	sink, err := NewDirSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := sink.Create(Entry{Name: "basic.edb", Size: int64(len(data)), Role: protocol.RoleDatabase})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	started := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	m := &Manifest{FormatVersion: FormatVersion, Kind: protocol.KindFull, Started: started, Finished: started, Complete: true,
		Files: []ManifestFile{{Name: "basic.edb", OriginalName: "/i/basic.edb", Role: protocol.RoleDatabase,
			Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}}}
	if kind != "" {
		m.SetSection(kind, section)
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Commit(context.Background(), b, started); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestUnregisteredFormatFailsVerify: this test binary registers no
// format, as a program that does not import ese/eseset. A set whose
// manifest has the "ese" section must then fail with ErrUnknownFormat
// naming the kind rather than pass on hashes; the same files without a
// section pass on hashes, with no format details.
func TestUnregisteredFormatFailsVerify(t *testing.T) {
	if _, ok := LookupFormat("ese"); ok {
		t.Fatal("the backupset test binary registers the ese format; it must not")
	}
	dir := writeSet(t, "ese", json.RawMessage(`{"page_size":4096,"gen_low":0,"gen_high":0}`))
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil || !strings.Contains(string(b), `"ese": {`) {
		t.Fatalf("the manifest does not hold the section: %v\n%s", err, b)
	}
	_, err = Verify(context.Background(), dir)
	if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), `format "ese"`) {
		t.Fatalf("Verify of an ese set without the format: %v, want ErrUnknownFormat naming \"ese\"", err)
	}

	rep, err := Verify(context.Background(), writeSet(t, "", nil))
	if err != nil || rep.Details != nil || len(rep.Files) != 1 || !rep.Files[0].OK {
		t.Fatalf("Verify of a set of no format: %v, report %+v", err, rep)
	}
}

// testSection is the section of the test double format "test-kind".
type testSection struct {
	Pages int `json:"pages"`
}

// testFormat is a test double of a set format: it has a section and
// accepts every set.
type testFormat struct{}

func (testFormat) NewSection() any         { return new(testSection) }
func (testFormat) NewCollector() Collector { return nil }
func (testFormat) HeadSize() int           { return 0 }
func (testFormat) Sniff(string, []byte) (bool, any) {
	return false, nil
}
func (testFormat) CheckFile(context.Context, io.ReaderAt, int64, string, protocol.Role) (any, error) {
	return nil, nil
}
func (testFormat) CheckSet(_ context.Context, rep *VerifyReport, _ map[string]any) []error {
	rep.Details = "checked"
	return nil
}

// TestManifestSection: a registered format's section round-trips through
// the manifest into its own type, is decoded strictly (an unknown key in
// it is refused), a second section is refused, and a key that cannot be a
// kind is an unknown key.
func TestManifestSection(t *testing.T) {
	RegisterFormat("test-kind", testFormat{})
	defer func() {
		formats.Lock()
		delete(formats.m, "test-kind")
		formats.Unlock()
	}()
	dir := writeSet(t, "test-kind", &testSection{Pages: 7})
	rep, err := Verify(context.Background(), dir)
	if err != nil || rep.Details != "checked" || SetFormat(rep.Manifest) != "test-kind" {
		t.Fatalf("Verify: %v, report %+v", err, rep)
	}
	if s, ok := rep.Manifest.Section("test-kind").(*testSection); !ok || s.Pages != 7 {
		t.Fatalf("section read back as %#v", rep.Manifest.Section("test-kind"))
	}
	good, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, old, new, want string }{
		{"unknown key in the section", `"pages": 7`, `"pages": 7, "extra": 1`, `unknown key "extra"`},
		{"second section", `"complete"`, `"other-kind": {}, "complete"`, "a set has one format"},
		{"not a kind", `"complete"`, `"Not_A_Kind": {}, "complete"`, `unknown key "Not_A_Kind"`},
		{"field in another case", `"complete"`, `"Files": [], "complete"`, "keys are case-sensitive"},
	} {
		bad := strings.Replace(string(good), tt.old, tt.new, 1)
		if bad == string(good) {
			t.Fatalf("%s: the edit did not apply", tt.name)
		}
		if _, err := ReadManifest(strings.NewReader(bad)); !errors.Is(err, ErrBadManifest) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrBadManifest saying %q", tt.name, err, tt.want)
		}
	}
}
