package dirsnap_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/examples/dirsnap"
	"github.com/esesnap/esesnap/host"
	"github.com/esesnap/esesnap/protocol"
	"github.com/hashicorp/go-hclog"
)

// TestHostVerifiesByHashesAlone backs a dirsnap source up through
// host.Backup and verifies the set with backupset.Verify in a binary that
// registers no set format (this test links no ESE code): the set has no
// format section and verifies by sizes and hashes, and a changed byte is
// a checksum mismatch.
func TestHostVerifiesByHashesAlone(t *testing.T) {
	if f, ok := backupset.LookupFormat("ese"); ok {
		t.Fatalf("the ESE format %T is registered in a test that must not link it", f)
	}
	src, want := sourceDir(t, map[string]int{"notes.txt": 5000, "photo.jpg": 70000, "empty": 0})
	setDir := filepath.Join(t.TempDir(), "set")
	sink, err := backupset.NewDirSink(setDir)
	if err != nil {
		t.Fatal(err)
	}
	req := host.BackupRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: src}}
	res, err := host.Backup(t.Context(), dirsnap.New(hclog.NewNullLogger()), req, sink)
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if len(res.Manifest.Sections) != 0 || backupset.SetFormat(res.Manifest) != "" {
		t.Fatalf("a dirsnap set names format %q: %+v", backupset.SetFormat(res.Manifest), res.Manifest.Sections)
	}
	rep, err := backupset.Verify(t.Context(), setDir)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if len(rep.Files) != len(want) || rep.Details != nil {
		t.Fatalf("report %+v, want %d files checked by hash and no format details", rep, len(want))
	}
	for _, fr := range rep.Files {
		if !fr.OK || fr.Size != int64(len(want[fr.Name])) {
			t.Fatalf("file %+v, want OK with %d bytes", fr, len(want[fr.Name]))
		}
	}

	path := filepath.Join(setDir, "notes.txt")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[100] ^= 0x01
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := backupset.Verify(t.Context(), setDir); !errors.Is(err, backupset.ErrChecksumMismatch) {
		t.Fatalf("Verify of a changed file: %v, want ErrChecksumMismatch", err)
	}
}
