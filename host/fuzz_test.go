package host

import (
	"bytes"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/internal/samples"
)

// FuzzReadManifest: arbitrary bytes never panic, and an accepted manifest
// survives a round trip and names only safe files.
func FuzzReadManifest(f *testing.F) {
	m := &backupset.Manifest{FormatVersion: 1, Kind: 1, Complete: true, Files: []backupset.ManifestFile{
		{Name: "a.edb", Role: 1, Size: 3, SHA256: strings.Repeat("ab", 32)},
	}}
	good, _ := m.Marshal()
	f.Add(good)
	backedUp, err := sampleManifest(f).Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(backedUp)
	f.Add([]byte(`{"format_version":1,"complete":true,"kind":"full","files":[{"name":"../x","role":"log","sha256":""}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"formAt_version":1,"Complete":true}`)) // no kind: must be refused

	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := backupset.ReadManifest(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, f := range m.Files {
			if backupset.ValidateName(f.Name) != nil {
				t.Fatalf("accepted unsafe name %q", f.Name)
			}
		}
		again, err := m.Marshal()
		if err != nil {
			t.Fatalf("accepted manifest does not marshal: %v", err)
		}
		if _, err := backupset.ReadManifest(bytes.NewReader(again)); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// sampleManifest is the manifest of a real backup of a copy of the clean
// SRUM sample through the engine.
func sampleManifest(tb testing.TB) *backupset.Manifest {
	tb.Helper()
	fs, _ := engineSnapshotter(tb, samples.CopySet(tb, "srum-win10-clean"))
	return backupTo(tb, fs, &backupset.NullSink{}).Manifest
}
