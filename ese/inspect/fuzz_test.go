package inspect

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/esesnap/esesnap/internal/samples"
)

// fuzzNames are the file names a fuzzed file is given, one per role the
// classifier knows.
var fuzzNames = []string{"x.edb", "SRU.log", "SRU0000A.log", "SRUtmp.log", "SRUres00001.jrs", "SRU.chk", "x.jfm", "x.bin", "x.edb.gz"}

// FuzzInspectFile feeds arbitrary bytes, under each kind of name, through
// classification, header parsing, verification and the text and JSON
// output. Nothing may panic, and Inspect of an existing file never fails.
func FuzzInspectFile(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add([]byte{0x1f, 0x8b, 8, 0}, uint8(8))
	// Real files under their own kind of name; databases cut to their first
	// pages so that an execution stays fast.
	for _, seed := range []struct {
		name  string
		which uint8
		n     int
	}{
		{"srum-win10-clean/SRU.chk", 5, 0},
		{"srum-win10-clean/SRUDB.jfm", 6, 0},
		{"srum-win10-clean/SRU00004.log", 2, 0},
		{"srum-win10-dirty/SRU.log", 1, 0},
		{"srum-win11-dirty/SRUtmp.log", 3, 0},
		{"srum-win10-clean/SRUres00001.jrs", 4, 0},
		{"dissect-basic-4k/basic.edb", 0, 5 * 4096},
		{"bits-qmgr-win11-16k/qmgr.db", 0, 4 * 16384},
	} {
		b := samples.Read(f, seed.name)
		if seed.n > 0 {
			b = b[:seed.n]
		}
		f.Add(b, seed.which)
	}
	// One directory per fuzzing process, emptied after each input: cheaper
	// than a new temporary directory per execution.
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		name := fuzzNames[int(which)%len(fuzzNames)]
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(path)
		for _, opts := range []Options{{}, {NoVerify: true}, {Pages: true}} {
			r, err := Inspect(context.Background(), dir, opts)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if r.OK != (len(r.Errors) == 0) {
				t.Fatalf("ok %t with %d errors", r.OK, len(r.Errors))
			}
			if err := WriteText(io.Discard, r); err != nil {
				t.Fatal(err)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Fatal(err)
			}
		}
	})
}
