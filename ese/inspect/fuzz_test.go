package inspect

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// fuzzNames are the file names a fuzzed file is given, one per role the
// classifier knows.
var fuzzNames = []string{"x.edb", "SRU.log", "SRU0000A.log", "SRUtmp.log", "SRUres00001.jrs", "SRU.chk", "x.jfm", "x.bin", "x.edb.gz"}

// FuzzInspectFile feeds arbitrary bytes, under each kind of name, through
// classification, header parsing, verification and the text and JSON
// output. Nothing may panic, and Inspect of an existing file never fails.
func FuzzInspectFile(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add(make([]byte, 8192), uint8(5))
	f.Add([]byte{0x1f, 0x8b, 8, 0}, uint8(8))
	if dir := samplesDir(f); dir != "" {
		for i, name := range []string{"srum-win10-clean/SRU.chk", "srum-win10-clean/SRUDB.jfm", "srum-win10-clean/SRU00004.log", "srum-win11-dirty/SRUtmp.log"} {
			if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
				f.Add(b, uint8([]int{5, 6, 2, 3}[i]))
			}
		}
		if b, err := os.ReadFile(filepath.Join(dir, "dissect-basic-4k/basic.edb")); err == nil {
			f.Add(b[:5*4096], uint8(0))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		name := fuzzNames[int(which)%len(fuzzNames)]
		dir := t.TempDir()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
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
