package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/protocol"
)

// TestBackupRestoreTwoDatabasesOfOneName: two databases named SRUDB.dat in
// two subdirectories get distinct set names, verify, and go back each into
// its own subdirectory.
func TestBackupRestoreTwoDatabasesOfOneName(t *testing.T) {
	guids := []string{"{11111111-2222-3333-4444-555555555555}", "{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}"}
	src := samples.CopySet(t, "srum-win10-clean")
	orig, err := os.ReadFile(filepath.Join(src, "SRUDB.dat"))
	if err != nil {
		t.Fatal(err)
	}
	editCurrentLog(t, src, func(h *format.LogHeader) {
		tmpl := h.Attach[0]
		h.Attach = nil
		for i, g := range guids {
			db := append([]byte(nil), orig...)
			a := tmpl
			a.DBID = uint8(i + 1)
			a.Path = h.LogPath + g + `\SRUDB.dat`
			if i > 0 { // a signature of its own, in both header copies
				a.SignDb.Random ^= 0x5A5A
				for _, off := range []int{0, 4096} {
					a.SignDb.Put(db[off+24 : off+52])
					format.SetHeaderChecksum(db[off : off+4096])
				}
			}
			h.Attach = append(h.Attach, a)
			if err := os.MkdirAll(filepath.Join(src, g), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(src, g, "SRUDB.dat"), db, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
	for _, n := range []string{"SRUDB.dat", "SRUDB.jfm"} {
		if err := os.Remove(filepath.Join(src, n)); err != nil {
			t.Fatal(err)
		}
	}

	out, m := backupWithManifest(t, src)
	names := map[string]string{} // original -> set name
	for _, f := range m.Files {
		if f.Role == protocol.RoleDatabase {
			names[f.OriginalName] = f.Name
		}
	}
	n0, n1 := names[filepath.Join(src, guids[0], "SRUDB.dat")], names[filepath.Join(src, guids[1], "SRUDB.dat")]
	if len(names) != 2 || n0 == "" || n1 == "" || n0 == n1 || (n0 != "SRUDB.dat" && n1 != "SRUDB.dat") {
		t.Fatalf("set names %v: want two distinct names, one of them SRUDB.dat", names)
	}
	if stdout, stderr, code := cli(t, "verify", out); code != ExitOK {
		t.Fatalf("verify: exit %d\n%s\n%s", code, stdout, stderr)
	}
	to := t.TempDir()
	stdout, stderr, code := cli(t, "restore", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--set", out, "--to", to)
	if code != ExitOK {
		t.Fatalf("restore: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for orig, name := range names {
		rel, _ := filepath.Rel(src, orig)
		got, err := os.ReadFile(filepath.Join(to, rel))
		if err != nil {
			t.Fatalf("restore did not put %s back: %v\n%s", rel, err, stdout)
		}
		want, _ := os.ReadFile(filepath.Join(out, name))
		if !bytes.Equal(got, want) || !strings.Contains(stdout, filepath.Join(to, rel)) {
			t.Fatalf("%s: restored file differs from set file %s, or is not listed", rel, name)
		}
	}
}
