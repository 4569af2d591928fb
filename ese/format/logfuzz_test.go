package format

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	"github.com/esesnap/esesnap/internal/samples"
)

// addSampleSeeds adds the first n bytes (n 0: all) of each real sample
// file as a seed; extra is appended to every seed's arguments. A missing
// sample fails the fuzz test: without it the corpus is trivial.
func addSampleSeeds(f *testing.F, n int, files []string, extra ...any) {
	f.Helper()
	for _, name := range files {
		b := samples.Read(f, name)
		if n > 0 && len(b) > n {
			b = b[:n]
		}
		f.Add(append([]any{b}, extra...)...)
	}
}

// sampleFileNames returns the names of the files of every sample set, as
// ESE named them on Windows.
func sampleFileNames(f *testing.F) []string {
	f.Helper()
	sets, err := os.ReadDir(samples.Dir(f))
	if err != nil {
		f.Fatal(err)
	}
	var names []string
	for _, set := range sets {
		if !set.IsDir() {
			continue
		}
		entries, err := os.ReadDir(samples.Path(f, set.Name()))
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries {
			names = append(names, e.Name())
		}
	}
	return names
}

var fuzzLogSeeds = []string{
	"srum-win10-clean/SRU.log", "srum-win10-clean/SRU00005.log",
	"srum-win10-dirty/SRU0004E.log", "srum-win11-dirty/SRUtmp.log",
	"srum-win10-clean/srures00002.jrs",
}

func FuzzParseLogName(f *testing.F) {
	for _, s := range append(sampleFileNames(f), "E0000100000.log", "res1.log", "edb.jcp", "", "a.b.log") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		ln, ok := ParseLogName(name)
		if !ok {
			if ln != (LogName{}) {
				t.Fatalf("rejected name %q returned %+v", name, ln)
			}
			return
		}
		if ln.Kind == LogNotLog {
			t.Fatalf("accepted %q as not-a-log", name)
		}
		// The canonical spelling parses back to the same name.
		again, ok := ParseLogName(ln.String())
		if !ok || again != ln {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", name, ln, ln.String(), again, ok)
		}
		if ln.Base != "" {
			if b, ok := ParseLogNameBase(name, ln.Base); !ok || b != ln {
				t.Fatalf("ParseLogNameBase(%q, %q) = %+v, %v; want %+v", name, ln.Base, b, ok, ln)
			}
		}
	})
}

func FuzzParseLogHeader(f *testing.F) {
	addSampleSeeds(f, LogHeaderSize, fuzzLogSeeds, true)
	f.Add(make([]byte, LogHeaderSize), true)
	f.Fuzz(func(t *testing.T, b []byte, fixChecksum bool) {
		if fixChecksum && len(b) >= LogHeaderSize {
			b = bytes.Clone(b)
			SetHeaderChecksum(b[:LogHeaderSize])
		}
		h, err := ParseLogHeader(b)
		if err != nil {
			return
		}
		out := make([]byte, LogHeaderSize)
		h.Encode(out)
		h2, err := ParseLogHeader(out)
		if err != nil {
			t.Fatalf("re-parse of an encoded header: %v", err)
		}
		h.Checksum, h2.Checksum = 0, 0
		if !reflect.DeepEqual(h, h2) {
			t.Fatalf("round trip differs:\n%+v\n%+v", h, h2)
		}
	})
}

func FuzzVerifyLog(f *testing.F) {
	addSampleSeeds(f, 0, fuzzLogSeeds, false)
	addSampleSeeds(f, 0, fuzzLogSeeds, true)
	legacy, _ := legacyLog(5, 16, false)
	f.Add(legacy, false)
	f.Fuzz(func(t *testing.T, b []byte, fixHeader bool) {
		// Re-signing the header lets mutations reach the body checks.
		if fixHeader && len(b) >= LogHeaderSize {
			b = bytes.Clone(b)
			SetHeaderChecksum(b[:LogHeaderSize])
		}
		c, err := VerifyLog(bytes.NewReader(b), int64(len(b)), "fuzz.log")
		if err != nil {
			return
		}
		h := c.Header
		if int64(len(b)) != h.FileSize() {
			t.Fatalf("accepted a %d-byte file whose header says %d", len(b), h.FileSize())
		}
		if h.Legacy() {
			if c.Records == 0 {
				t.Fatal("v7 log accepted without LRCHECKSUM records")
			}
			return
		}
		if total := c.Segments + c.SegmentsEmpty + c.SegmentsShadow + c.SegmentsStale; total != int(h.CsecLGFile)-1 {
			t.Fatalf("tally %+v covers %d segments of %d", c, total, h.CsecLGFile-1)
		}
	})
}

// fuzzCheckpointSeeds are the real checkpoints of the samples.
var fuzzCheckpointSeeds = []string{"srum-win10-clean/SRU.chk", "srum-win10-dirty/SRU.chk", "srum-win11-dirty/SRU.chk", "ntds-2012r2-tempdb/edb.chk"}

func FuzzParseCheckpoint(f *testing.F) {
	addSampleSeeds(f, 0, fuzzCheckpointSeeds, false)
	addSampleSeeds(f, 0, fuzzCheckpointSeeds, true)
	f.Add(make([]byte, CheckpointSize), true)
	f.Fuzz(func(t *testing.T, b []byte, fixChecksums bool) {
		if fixChecksums && len(b) >= CheckpointSize {
			b = bytes.Clone(b)
			SetHeaderChecksum(b[:CheckpointCopySize])
			SetHeaderChecksum(b[CheckpointCopySize:CheckpointSize])
		}
		c, err := ParseCheckpoint(b)
		if err != nil {
			return
		}
		if !c.PrimaryOK && !c.ShadowOK {
			t.Fatal("accepted with both copies bad")
		}
		out := c.Encode()
		c2, err := ParseCheckpoint(out)
		if err != nil {
			t.Fatalf("re-parse of an encoded checkpoint: %v", err)
		}
		if !c2.PrimaryOK || !c2.ShadowOK {
			t.Fatal("encoded checkpoint has a bad copy")
		}
		c.PrimaryOK, c.ShadowOK, c2.PrimaryOK, c2.ShadowOK = true, true, true, true
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip differs:\n%+v\n%+v", c, c2)
		}
	})
}

func FuzzParseAttachList(f *testing.F) {
	area := make([]byte, AttachAreaSize)
	if _, err := EncodeAttachList(area, []AttachInfo{
		{DBID: 1, Flags: AttachUnicodeNames, Path: `C:\Windows\system32\SRU\SRUDB.dat`},
		{DBID: 2, Path: `D:\x.edb`},
	}); err != nil {
		f.Fatal(err)
	}
	f.Add(area)
	// The attach lists of the real checkpoints (offset 679 of a copy).
	for _, name := range fuzzCheckpointSeeds {
		b := samples.Read(f, name)
		f.Add(bytes.Clone(b[offChkAttach : offChkAttach+AttachAreaSize]))
	}
	f.Add([]byte{0})
	f.Add([]byte{1, 0x20, 3, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := ParseAttachList(b)
		if err != nil {
			return
		}
		out := make([]byte, len(b))
		n, err := EncodeAttachList(out, list)
		if err != nil {
			t.Fatalf("re-encode of a parsed list: %v", err)
		}
		if n > len(b) {
			t.Fatalf("encoded %d bytes into %d", n, len(b))
		}
		again, err := ParseAttachList(out)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !reflect.DeepEqual(list, again) {
			t.Fatalf("round trip differs:\n%+v\n%+v", list, again)
		}
	})
}
