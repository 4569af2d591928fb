package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/protocol"
)

// TestBackupRefusesBrokenDatabase: a database the instance has that is
// empty, cut short, unreadable or missing fails `esesnap backup --writable
// --truncate-logs` through the real plugin before anything is recorded or
// truncated: non-zero exit, the file and the JET_err named, the source
// byte for byte as it was, no set left.
func TestBackupRefusesBrokenDatabase(t *testing.T) {
	const dirtySize = 3211264
	cases := []struct {
		name    string
		set     string
		breakIt func(t *testing.T, db string)
		code    ese.Code
		exit    int
	}{
		{"empty", "srum-win10-dirty", func(t *testing.T, db string) { truncate(t, db, 0) }, ese.ErrFileIOBeyondEOF, ExitError},
		{"cut at a page boundary", "srum-win10-dirty", func(t *testing.T, db string) { truncate(t, db, dirtySize/2) }, ese.ErrFileIOBeyondEOF, ExitError},
		{"cut mid-page", "srum-win10-dirty", func(t *testing.T, db string) { truncate(t, db, dirtySize/2+777) }, ese.ErrFileIOBeyondEOF, ExitError},
		{"both header copies damaged", "srum-win10-dirty", func(t *testing.T, db string) {
			flipBit(t, db, 200)
			flipBit(t, db, 4096+200)
		}, ese.ErrReadVerifyFailure, ExitVerifyFailed},
		{"missing while the attach info names it", "srum-win10-clean", func(t *testing.T, db string) {
			if err := os.Remove(db); err != nil {
				t.Fatal(err)
			}
		}, ese.ErrFileNotFound, ExitError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := samples.CopySet(t, tc.set)
			db := filepath.Join(src, "SRUDB.dat")
			tc.breakIt(t, db)
			before := treeDigest(t, src)
			out := filepath.Join(t.TempDir(), "set")
			_, stderr, code := cli(t, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1",
				"--source", src, "--writable", "--truncate-logs", "--out", out)
			if code != tc.exit {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.exit, stderr)
			}
			for _, want := range []string{db, tc.code.String(), "JetAttachDatabase", "no log was truncated"} {
				if !strings.Contains(stderr, want) {
					t.Fatalf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			noSetLeft(t, out)
			after := treeDigest(t, src)
			if len(after) != len(before) {
				t.Fatalf("source had %d files, now %d", len(before), len(after))
			}
			for name, sum := range before {
				if after[name] != sum {
					t.Fatalf("%s changed or was deleted by a failed backup", name)
				}
			}
		})
	}
}

// TestBackupRestoreSubdirectoryDatabase: an instance whose database lives in
// a subdirectory, as legacy instances keep {GUID}\catdb, named there by the
// current log's attach list. It is backed up under its file name, the
// manifest keeps its original path, the set verifies, and a restore puts it
// back into its subdirectory.
func TestBackupRestoreSubdirectoryDatabase(t *testing.T) {
	const guid = "{F750E6C3-38EE-11D1-85E5-00C04FC295EE}"
	src := samples.CopySet(t, "srum-win10-clean")
	sub := filepath.Join(src, guid)
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"SRUDB.dat", "SRUDB.jfm"} {
		if err := os.Rename(filepath.Join(src, n), filepath.Join(sub, n)); err != nil {
			t.Fatal(err)
		}
	}
	editCurrentLog(t, src, func(h *format.LogHeader) {
		if len(h.Attach) != 1 {
			t.Fatalf("sample's current log attaches %d databases, want 1", len(h.Attach))
		}
		h.Attach[0].Path = h.LogPath + guid + `\SRUDB.dat`
	})

	out, m := backupWithManifest(t, src)
	var dbFile *backupset.ManifestFile
	for i := range m.Files {
		if m.Files[i].Role == protocol.RoleDatabase {
			dbFile = &m.Files[i]
		}
	}
	if dbFile == nil || dbFile.Name != "SRUDB.dat" || dbFile.OriginalName != filepath.Join(sub, "SRUDB.dat") {
		t.Fatalf("manifest database entry %+v, want SRUDB.dat from %s", dbFile, filepath.Join(sub, "SRUDB.dat"))
	}
	if stdout, stderr, code := cli(t, "verify", out); code != ExitOK {
		t.Fatalf("verify: exit %d\n%s\n%s", code, stdout, stderr)
	}
	to := t.TempDir()
	stdout, stderr, code := cli(t, "restore", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--set", out, "--to", to)
	if code != ExitOK {
		t.Fatalf("restore: exit %d\n%s\n%s", code, stdout, stderr)
	}
	restored := filepath.Join(to, guid, "SRUDB.dat")
	if !strings.Contains(stdout, restored) {
		t.Fatalf("restore output does not list %s:\n%s", restored, stdout)
	}
	got, err := os.ReadFile(restored)
	if err != nil {
		t.Fatalf("restore did not put the database back into its subdirectory: %v", err)
	}
	want, err := os.ReadFile(filepath.Join(out, "SRUDB.dat"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("restored database differs from the set's copy")
	}
	if _, err := os.Stat(filepath.Join(to, "SRUDB.dat")); err == nil {
		t.Fatal("restore also put a copy at the top of the restore directory")
	}
}

// treeDigest maps every file under dir (relative path) to its SHA-256.
func treeDigest(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	m := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		m[rel] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

// editCurrentLog rewrites the header of the current log SRU.log of src
// after edit changed it (the attach list, mostly), checksum included.
func editCurrentLog(t *testing.T, src string, edit func(h *format.LogHeader)) {
	t.Helper()
	logPath := filepath.Join(src, "SRU.log")
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	h, err := format.ParseLogHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	edit(h)
	h.AttachTail = nil
	h.Encode(b)
	if err := os.WriteFile(logPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// backupWithManifest backs src up through the plugin double into a new
// directory set, which must succeed, and returns the set and its manifest.
func backupWithManifest(t *testing.T, src string) (string, backupset.Manifest) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "set")
	_, stderr, code := cli(t, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--source", src, "--out", out)
	if code != ExitOK {
		t.Fatalf("backup: exit %d:\n%s", code, stderr)
	}
	mb, err := os.ReadFile(filepath.Join(out, backupset.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var m backupset.Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		t.Fatal(err)
	}
	return out, m
}
