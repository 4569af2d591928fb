package backupset

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/internal/samples"
)

// FuzzSetName: whatever a plugin reports, an accepted name is a single,
// clean path component that stays inside the set directory.
func FuzzSetName(f *testing.F) {
	// What plugins report: the real sample files under the paths Windows
	// gives them and under their own path here, as the engine reports them.
	for _, set := range []string{"srum-win10-clean", "ntds-2012r2-tempdb"} {
		entries, err := os.ReadDir(samples.Path(f, set))
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries {
			f.Add(`C:\Windows\System32\sru\` + e.Name())
			f.Add(e.Name())
			f.Add(filepath.Join(samples.Path(f, set), e.Name()))
		}
	}
	for _, s := range []string{"/a/b.log", "../../etc/passwd", "..", "", "a/b", "manifest.json", "CON.edb", "x\x00y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reported string) {
		name, err := SetName(reported)
		if err != nil {
			return
		}
		dir := filepath.Join("set", "dir")
		joined := filepath.Join(dir, name)
		if filepath.Dir(joined) != dir || filepath.Base(joined) != name || strings.ContainsAny(name, `/\:`) || name == ".." {
			t.Fatalf("SetName(%q) = %q escapes or is not one component (%s)", reported, name, joined)
		}
		if strings.EqualFold(name, ManifestName) {
			t.Fatalf("SetName(%q) accepted the manifest's name", reported)
		}
	})
}

// FuzzApplyDelta: a delta entry read back from a backup is untrusted; any
// bytes either rebuild exactly the file the manifest names or fail, and a
// failure leaves no output file. The base is the first pages of a real
// database, the new file the same pages with one replaced by another real
// page, at the database's page size.
func FuzzApplyDelta(f *testing.F) {
	const bs = 4096
	db := samples.Read(f, "dissect-basic-4k/basic.edb")
	base := bytes.Clone(db[:8*bs])
	idx := indexOf(base, bs)
	next := bytes.Clone(base)
	copy(next[3*bs:4*bs], db[20*bs:21*bs])
	var spool bytes.Buffer
	dw := NewDeltaWriter(&spool, idx)
	dw.Write(next)
	dw.Close()
	good := spool.Bytes()
	PatchDeltaSize(writerAtBuffer(good), int64(len(next)))
	f.Add(good)
	f.Add(good[:30])
	f.Add([]byte("ESDELTA1"))
	sum := sha256.Sum256(next)
	want := hex.EncodeToString(sum[:])
	// One directory per fuzzing process, holding the base; each input's
	// delta overwrites the last, and its output is removed after it.
	dir := f.TempDir()
	bp, dp, out := filepath.Join(dir, "base"), filepath.Join(dir, "delta"), filepath.Join(dir, "out")
	if err := os.WriteFile(bp, base, 0o644); err != nil {
		f.Fatal(err)
	}
	apply := func(delta []byte) error {
		if err := os.WriteFile(dp, delta, 0o644); err != nil {
			return err
		}
		return ApplyDelta(bp, dp, out, &FileDelta{BaseSHA256: idx.SHA256, BlockSize: bs, Changed: 1}, int64(len(next)), want)
	}
	if err := apply(good); err != nil {
		f.Fatalf("the seed delta does not rebuild the file: %v", err)
	}
	os.Remove(out)
	f.Fuzz(func(t *testing.T, delta []byte) {
		defer os.Remove(out)
		err := apply(delta)
		got, rerr := os.ReadFile(out)
		if err != nil {
			if rerr == nil {
				t.Fatalf("failed (%v) but left %s", err, out)
			}
			return
		}
		if !bytes.Equal(got, next) {
			t.Fatal("accepted a delta that rebuilds other bytes")
		}
	})
}
