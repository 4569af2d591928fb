package engine

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

// TestAttachedDatabaseFailures breaks the database of real SRUM instances in
// the ways a copy or a disk breaks it: each must fail JetInit with a JET_err
// naming the operation and the file, before any backup could start.
func TestAttachedDatabaseFailures(t *testing.T) {
	const dirtySize = 3211264 // srum-win10-dirty's SRUDB.dat, checked below
	cases := []struct {
		name    string
		set     string
		breakIt func(t *testing.T, db string)
		code    ese.Code
		msg     string // part of the message
	}{
		{"empty", "srum-win10-dirty", func(t *testing.T, db string) { truncateFile(t, db, 0) },
			ese.ErrFileIOBeyondEOF, "empty (0 bytes)"},
		{"empty, attach info names it", "srum-win11-dirty", func(t *testing.T, db string) { truncateFile(t, db, 0) },
			ese.ErrFileIOBeyondEOF, "empty (0 bytes)"},
		{"cut at a page boundary", "srum-win10-dirty", func(t *testing.T, db string) { truncateFile(t, db, dirtySize/2) },
			ese.ErrFileIOBeyondEOF, "database file is 1605632 bytes, expected at least"},
		{"cut mid-page", "srum-win10-dirty", func(t *testing.T, db string) { truncateFile(t, db, dirtySize/2+1000) },
			ese.ErrFileIOBeyondEOF, "database file is 1606632 bytes, expected at least"},
		{"cut to the system pages", "srum-win10-clean", func(t *testing.T, db string) { truncateFile(t, db, 3*4096) },
			ese.ErrFileIOBeyondEOF, "expected at least 20480 bytes"},
		{"not whole pages", "srum-win10-dirty", func(t *testing.T, db string) { appendBytes(t, db, 100) },
			ese.ErrDatabaseCorrupted, "not a whole number of 4096-byte pages"},
		{"both header checksums bad", "srum-win10-dirty", func(t *testing.T, db string) {
			flipByte(t, db, 100)
			flipByte(t, db, 4096+100)
		}, ese.ErrReadVerifyFailure, "both fail their checksum"},
		{"both header magics gone, flush map beside", "srum-win10-dirty", func(t *testing.T, db string) {
			zeroBytes(t, db, format.OffMagic, 4)
			zeroBytes(t, db, 4096+format.OffMagic, 4)
		}, ese.ErrDatabaseCorrupted, "no ESE database header magic"},
		{"missing, attach info names it", "srum-win10-clean", func(t *testing.T, db string) {
			removeFile(t, db)
			removeFile(t, filepath.Join(filepath.Dir(db), "SRUDB.jfm"))
		}, ese.ErrFileNotFound, `C:\Windows\system32\SRU\SRUDB.dat is attached according to SRU.log`},
		{"missing, win11", "srum-win11-dirty", func(t *testing.T, db string) { removeFile(t, db) },
			ese.ErrFileNotFound, "is attached according to SRU.log"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copySample(t, tc.set)
			db := filepath.Join(dir, "SRUDB.dat")
			if tc.set == "srum-win10-dirty" {
				if st, err := os.Stat(db); err != nil || st.Size() != dirtySize {
					t.Fatalf("sample SRUDB.dat: %v, size %v", err, st)
				}
			}
			tc.breakIt(t, db)
			before := dirDigest(t, dir)
			_, err := Open(Config{LogDir: dir, Writable: true})
			var ee *ese.Error
			if !errors.As(err, &ee) {
				t.Fatalf("want an *ese.Error, got %v", err)
			}
			if ee.Code != tc.code || ee.Op != "JetAttachDatabase" || ee.File != db {
				t.Fatalf("got code %v op %q file %q, want %v JetAttachDatabase %s (%v)", ee.Code, ee.Op, ee.File, tc.code, db, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("message %q does not say %q", err, tc.msg)
			}
			if after := dirDigest(t, dir); !equalDigests(before, after) {
				t.Fatal("a failed JetInit changed the source")
			}
		})
	}
}

// TestDatabaseSizeRule checks the size rule's inputs on every real database
// sample: each has space information, and its file holds every page the
// owned-extent tree gives it.
func TestDatabaseSizeRule(t *testing.T) {
	for _, p := range []string{"srum-win10-clean/SRUDB.dat", "srum-win10-dirty/SRUDB.dat", "srum-win11-dirty/SRUDB.dat",
		"bits-qmgr-win11-16k/qmgr.db", "dissect-large-32k/large.edb.gz", "dissect-basic-4k/basic.edb", "dissect-srudb-badtail/SRUDB.dat"} {
		t.Run(p, func(t *testing.T) {
			b := readSample(t, p)
			hr, err := format.ReadDBHeader(bytes.NewReader(b), int64(len(b)), p)
			if err != nil {
				t.Fatal(err)
			}
			last, ok := ownedLastPgno(bytes.NewReader(b), int64(len(b)), hr.PageSize)
			if !ok || last < 3 {
				t.Fatalf("no space information: last %d ok %v", last, ok)
			}
			need := (int64(last) + headerPages) * int64(hr.PageSize)
			if need > int64(len(b)) {
				t.Fatalf("space tree owns pages up to %d (%d bytes), file is %d bytes", last, need, len(b))
			}
			if err := checkDatabaseSize("test", p, bytes.NewReader(b), int64(len(b)), hr.PageSize); err != nil {
				t.Fatal(err)
			}
			// One page less than the space tree owns fails.
			short := b[:need-int64(hr.PageSize)]
			err = checkDatabaseSize("test", p, bytes.NewReader(short), int64(len(short)), hr.PageSize)
			if !errors.Is(err, ese.ErrFileIOBeyondEOF) {
				t.Fatalf("cut by one page: %v", err)
			}
		})
	}
}

// TestAttachInfoMapping maps the attach information of real instances to
// the files of the source: case differences and subdirectories included.
func TestAttachInfoMapping(t *testing.T) {
	t.Run("case-insensitive", func(t *testing.T) {
		dir := copySample(t, "srum-win10-clean")
		if err := os.Rename(filepath.Join(dir, "SRUDB.dat"), filepath.Join(dir, "srudb.DAT")); err != nil {
			t.Fatal(err)
		}
		removeFile(t, filepath.Join(dir, "SRUDB.jfm"))
		in := openInstance(t, Config{LogDir: dir})
		wantDatabases(t, in, filepath.Join(dir, "srudb.DAT"))
	})
	t.Run("subdirectory named by the attach path", func(t *testing.T) {
		dir, dbs := subdirInstance(t, "{6F2A7C1E-0B1D-4E55-9A57-3C2B8D1E0F01}")
		in := openInstance(t, Config{LogDir: dir})
		wantDatabases(t, in, dbs...)
		res := runBackup(t, in, 0, false, ese.BackupEndNormal)
		if len(res.dbs) != 1 || res.dbs[dbs[0]] == nil {
			t.Fatalf("backed up %v, want %s", keys(res.dbs), dbs[0])
		}
	})
	t.Run("two databases of one name", func(t *testing.T) {
		dir, dbs := subdirInstance(t, "{11111111-2222-3333-4444-555555555555}", "{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}")
		in := openInstance(t, Config{LogDir: dir})
		wantDatabases(t, in, dbs...)
		res := runBackup(t, in, 0, false, ese.BackupEndNormal)
		if len(res.dbs) != 2 {
			t.Fatalf("backed up %v, want %v", keys(res.dbs), dbs)
		}
	})
	t.Run("moved out of the recorded place", func(t *testing.T) {
		// The log names SRU\SRUDB.dat, the file sits in a subdirectory the
		// log does not name: that is a missing database, not a guess.
		dir := copySample(t, "srum-win10-clean")
		sub := filepath.Join(dir, "moved")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"SRUDB.dat", "SRUDB.jfm"} {
			if err := os.Rename(filepath.Join(dir, n), filepath.Join(sub, n)); err != nil {
				t.Fatal(err)
			}
		}
		_, err := Open(Config{LogDir: dir})
		var ee *ese.Error
		if !errors.As(err, &ee) || ee.Code != ese.ErrFileNotFound || ee.File != filepath.Join(dir, "SRUDB.dat") {
			t.Fatalf("want JET_errFileNotFound for %s, got %v", filepath.Join(dir, "SRUDB.dat"), err)
		}
	})
	t.Run("another database under the recorded name", func(t *testing.T) {
		dir := copySample(t, "srum-win10-clean")
		db := filepath.Join(dir, "SRUDB.dat")
		setSignDb(t, db, 0x5A)
		_, err := Open(Config{LogDir: dir})
		var ee *ese.Error
		if !errors.As(err, &ee) || ee.Code != ese.ErrBadDbSignature || ee.File != db {
			t.Fatalf("want JET_errBadDbSignature for %s, got %v", db, err)
		}
	})
}

// TestDatabaseOption checks that Config.Databases adds to and narrows the
// scan but never hides a database the attach information names.
func TestDatabaseOption(t *testing.T) {
	t.Run("attested database is kept", func(t *testing.T) {
		dir := copySample(t, "srum-win10-clean")
		other := filepath.Join(dir, "other", "copy.dat")
		copyTestFile(t, filepath.Join(dir, "SRUDB.dat"), other)
		setSignDb(t, other, 0x33)
		in := openInstance(t, Config{LogDir: dir, Databases: []string{other}})
		wantDatabases(t, in, filepath.Join(dir, "SRUDB.dat"), other)
	})
	t.Run("scan finds subdirectories", func(t *testing.T) {
		// srum-win10-dirty's current log and checkpoint carry no attach
		// list: the scan is all there is.
		dir := copySample(t, "srum-win10-dirty")
		sub := filepath.Join(dir, "sub", "SRUDB.dat")
		copyTestFile(t, filepath.Join(dir, "SRUDB.dat"), sub)
		setSignDb(t, sub, 0x44)
		in := openInstance(t, Config{LogDir: dir})
		wantDatabases(t, in, filepath.Join(dir, "SRUDB.dat"), sub)
	})
	t.Run("copy below the instance is not a second database", func(t *testing.T) {
		// A backup set kept in a subdirectory holds the database under
		// its own signature: ESE would never attach both.
		dir := copySample(t, "srum-win10-dirty")
		for _, sub := range []string{"A-set", "zz"} {
			copyTestFile(t, filepath.Join(dir, "SRUDB.dat"), filepath.Join(dir, sub, "SRUDB.dat"))
		}
		in := openInstance(t, Config{LogDir: dir})
		wantDatabases(t, in, filepath.Join(dir, "SRUDB.dat"))
	})
	t.Run("scan is narrowed", func(t *testing.T) {
		dir := copySample(t, "srum-win10-dirty")
		sub := filepath.Join(dir, "sub", "SRUDB.dat")
		copyTestFile(t, filepath.Join(dir, "SRUDB.dat"), sub)
		truncateFile(t, sub, 0) // found by the scan only, and not asked for
		in := openInstance(t, Config{LogDir: dir, Databases: []string{filepath.Join(dir, "SRUDB.dat")}})
		wantDatabases(t, in, filepath.Join(dir, "SRUDB.dat"))
	})
	t.Run("scanned file that cannot be read fails", func(t *testing.T) {
		dir := copySample(t, "srum-win10-dirty")
		sub := filepath.Join(dir, "sub", "SRUDB.dat")
		copyTestFile(t, filepath.Join(dir, "SRUDB.dat"), sub)
		truncateFile(t, sub, 8192+4096)
		_, err := Open(Config{LogDir: dir})
		var ee *ese.Error
		if !errors.As(err, &ee) || ee.Code != ese.ErrFileIOBeyondEOF || ee.File != sub {
			t.Fatalf("want JET_errFileIOBeyondEOF for %s, got %v", sub, err)
		}
	})
	t.Run("primary header destroyed, shadow found", func(t *testing.T) {
		dir := copySample(t, "srum-win10-dirty")
		db := filepath.Join(dir, "SRUDB.dat")
		removeFile(t, filepath.Join(dir, "SRUDB.jfm"))
		zeroBytes(t, db, 0, 4096)
		in := openInstance(t, Config{LogDir: dir})
		wantDatabases(t, in, db)
	})
}

// subdirInstance builds a legacy-style instance from srum-win10-clean whose
// databases live in subdirectories, as CatRoot2 keeps {GUID}\catdb: one copy
// of SRUDB.dat per guid (each but the first with a signature of its own), and
// a current log header whose attach list names them there.
func subdirInstance(t *testing.T, guids ...string) (string, []string) {
	t.Helper()
	dir := copySample(t, "srum-win10-clean")
	src := filepath.Join(dir, "SRUDB.dat")
	logPath := filepath.Join(dir, "SRU.log")
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	h, err := format.ParseLogHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := h.Attach[0]
	h.Attach = nil
	var dbs []string
	for i, g := range guids {
		db := filepath.Join(dir, g, "SRUDB.dat")
		copyTestFile(t, src, db)
		a := tmpl
		a.DBID = uint8(i + 1)
		a.Path = `C:\Windows\system32\SRU\` + g + `\SRUDB.dat`
		if i > 0 {
			a.SignDb = setSignDb(t, db, byte(0x70+i))
		}
		h.Attach = append(h.Attach, a)
		dbs = append(dbs, db)
	}
	removeFile(t, src)
	removeFile(t, filepath.Join(dir, "SRUDB.jfm"))
	h.AttachTail = nil
	h.Encode(b)
	if err := os.WriteFile(logPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, dbs
}

// setSignDb gives a copy of a database a signature of its own (a changed
// random byte), in both header copies with fresh checksums.
func setSignDb(t *testing.T, db string, seed byte) format.Signature {
	t.Helper()
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	hr, err := format.ReadDBHeader(bytes.NewReader(b), int64(len(b)), db)
	if err != nil {
		t.Fatal(err)
	}
	ps := hr.PageSize
	sig := hr.Header.SignDb
	sig.Random ^= uint32(seed)
	for _, off := range []int{0, ps} {
		sig.Put(b[off+24 : off+52])
		format.SetHeaderChecksum(b[off : off+ps])
	}
	if err := os.WriteFile(db, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return sig
}

func wantDatabases(t *testing.T, in *Instance, want ...string) {
	t.Helper()
	got := in.Databases()
	sort.Strings(got)
	want = append([]string(nil), want...)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("databases %q, want %q", got, want)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func truncateFile(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func appendBytes(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
}

func zeroBytes(t *testing.T, path string, off int64, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, n), off); err != nil {
		t.Fatal(err)
	}
}

func copyTestFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func equalDigests(a, b map[string][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestCheckpointAttachList: the checkpoint's attach list counts only when
// its fVersion bit 0x1 says it is valid. srum-win10-dirty's current log and
// checkpoint carry no list; the test gives the checkpoint one.
func TestCheckpointAttachList(t *testing.T) {
	for _, valid := range []bool{true, false} {
		t.Run(map[bool]string{true: "valid", false: "bit cleared"}[valid], func(t *testing.T) {
			dir := copySample(t, "srum-win10-dirty")
			chk := filepath.Join(dir, "SRU.chk")
			b, err := os.ReadFile(chk)
			if err != nil {
				t.Fatal(err)
			}
			c, err := format.ParseCheckpoint(b)
			if err != nil {
				t.Fatal(err)
			}
			c.Version |= format.CheckpointAttachPresent
			c.Attach = []format.AttachInfo{{DBID: 1, Flags: format.AttachUnicodeNames, Path: `C:\Windows\system32\SRU\Gone.edb`}}
			c.AttachTail = nil
			b = c.Encode()
			if !valid {
				// Clear the bit in both copies, leaving the list's bytes.
				for _, off := range []int{0, format.CheckpointCopySize} {
					b[off+647] &^= format.CheckpointAttachPresent
					format.SetHeaderChecksum(b[off : off+format.CheckpointCopySize])
				}
			}
			if err := os.WriteFile(chk, b, 0o644); err != nil {
				t.Fatal(err)
			}
			in, err := Open(Config{LogDir: dir})
			if !valid {
				if err != nil {
					t.Fatalf("a list whose fVersion bit is clear was used: %v", err)
				}
				wantDatabases(t, in, filepath.Join(dir, "SRUDB.dat"))
				return
			}
			var ee *ese.Error
			if !errors.As(err, &ee) || ee.Code != ese.ErrFileNotFound || ee.File != filepath.Join(dir, "Gone.edb") ||
				!strings.Contains(err.Error(), "attached according to SRU.chk") {
				t.Fatalf("want JET_errFileNotFound for Gone.edb from SRU.chk, got %v", err)
			}
		})
	}
}
