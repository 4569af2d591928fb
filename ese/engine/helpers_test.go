package engine

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/esesnap/esesnap/internal/samples"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

// samplesDir is shared/ese-samples beside the repository.
func samplesDir(t testing.TB) string { return samples.Dir(t) }

// sampleCopy copies a real sample set into a temporary directory. A backup
// locks the instance's checkpoint, and test packages run in parallel: on
// ../shared itself two packages backing up the same set would meet
// JET_errBackupInProgress. (host/cmd/esesnap's TestBackupVerifyEverySample
// is the one test that backs up ../shared as it is, read-only.)
func sampleCopy(t testing.TB, set string) string { return samples.CopySet(t, set) }

// copySample copies one sample set into a temporary directory.
func copySample(t testing.TB, name string) string { return samples.CopySet(t, name) }

func openInstance(t testing.TB, cfg Config) *Instance {
	t.Helper()
	in, err := Open(cfg)
	if err != nil {
		t.Fatalf("open instance %s: %v", cfg.LogDir, err)
	}
	return in
}

// wantCode fails unless err carries the JET_err want.
func wantCode(t testing.TB, err error, want ese.Code) {
	t.Helper()
	if want == ese.ErrSuccess {
		if err != nil {
			t.Fatalf("want success, got %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("want %v, got %v", want, err)
	}
}

// backupFile streams one file with an aligned buffer of bufPages pages.
func backupFile(t testing.TB, api ese.BackupAPI, name string, bufBytes int) []byte {
	t.Helper()
	h, size, err := api.OpenFile(name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	buf := ese.AlignedBuffer(bufBytes)
	var out bytes.Buffer
	for {
		n, err := api.ReadFile(h, buf)
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		if n == 0 {
			break
		}
		out.Write(buf[:n])
	}
	if err := api.CloseFile(h); err != nil {
		t.Fatalf("close %s: %v", name, err)
	}
	if int64(out.Len()) != size {
		t.Fatalf("%s: streamed %d bytes, OpenFile said %d", name, out.Len(), size)
	}
	return out.Bytes()
}

// backupResult is what a test backup produced.
type backupResult struct {
	dbs     map[string][]byte
	logs    map[string][]byte
	logInfo ese.LogInfo
	trunc   []string
}

// runBackup performs the whole ESE sequence of §7 of the API notes.
func runBackup(t testing.TB, api ese.BackupAPI, grbit ese.Grbit, truncate bool, end ese.Grbit) backupResult {
	t.Helper()
	res := backupResult{dbs: map[string][]byte{}, logs: map[string][]byte{}}
	wantCode(t, api.BeginExternalBackup(grbit), ese.ErrSuccess)
	if grbit&ese.BackupIncremental == 0 {
		dbs, err := api.GetAttachInfo()
		wantCode(t, err, ese.ErrSuccess)
		for _, db := range dbs {
			res.dbs[db] = backupFile(t, api, db, 256<<10)
		}
	}
	logs, li, err := api.GetLogInfo()
	wantCode(t, err, ese.ErrSuccess)
	res.logInfo = li
	for _, l := range logs {
		res.logs[l] = backupFile(t, api, l, 256<<10)
	}
	if truncate {
		res.trunc, err = api.GetTruncateLogInfo()
		wantCode(t, err, ese.ErrSuccess)
		wantCode(t, api.TruncateLog(), ese.ErrSuccess)
	}
	wantCode(t, api.EndExternalBackup(end), ese.ErrSuccess)
	return res
}

func fileSHA(t testing.TB, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

// dirDigest maps every file name in dir to its sha256, to prove a read-only
// backup changed nothing.
func dirDigest(t testing.TB, dir string) map[string][32]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][32]byte{}
	for _, e := range entries {
		m[e.Name()] = fileSHA(t, filepath.Join(dir, e.Name()))
	}
	return m
}

func removeFile(t testing.TB, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// flipByte inverts one bit of the byte at off.
func flipByte(t testing.TB, path string, off int64) { samples.FlipBits(t, path, off, 0x10) }

// rewriteLogHeader edits a log header and fixes its checksum, to build
// chains that are valid file by file but broken between files.
func rewriteLogHeader(t testing.TB, path string, edit func([]byte)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edit(b[:4096])
	format.SetHeaderChecksum(b[:4096])
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// rewriteAttach edits every attach entry of the given logs' headers and of
// the checkpoint (when chk is not empty), re-encoding each header with a
// fresh checksum, to build instances whose attach information names other
// files than the ones they were generated with.
func rewriteAttach(t testing.TB, logs []string, chk string, edit func(*format.AttachInfo)) {
	t.Helper()
	for _, p := range logs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		h, err := format.ParseLogHeader(b)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for i := range h.Attach {
			edit(&h.Attach[i])
		}
		h.AttachTail = nil
		h.Encode(b)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if chk == "" {
		return
	}
	b, err := os.ReadFile(chk)
	if err != nil {
		t.Fatal(err)
	}
	c, err := format.ParseCheckpoint(b)
	if err != nil {
		t.Fatalf("%s: %v", chk, err)
	}
	for i := range c.Attach {
		edit(&c.Attach[i])
	}
	c.AttachTail = nil
	if err := os.WriteFile(chk, c.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
}
