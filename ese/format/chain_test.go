package format

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/esesnap/esesnap/ese"
)

// sampleChains are the complete log streams of the SRUM sets.
var sampleChains = []struct {
	set        string
	archived   []uint32
	current    uint32
	tmp        int
	reserve    int
	checkpoint string
}{
	{"srum-win10-clean", []uint32{3, 4, 5, 6, 7, 8}, 9, 0, 2, "SRU.chk"},
	{"srum-win10-dirty", []uint32{0x4E, 0x4F, 0x50, 0x51}, 0x52, 1, 2, "SRU.chk"},
	{"srum-win11-dirty", []uint32{0x59, 0x5A, 0x5B}, 0x5C, 1, 1, "SRU.chk"},
}

func TestScanAndVerifyChainSamples(t *testing.T) {
	for _, s := range sampleChains {
		t.Run(s.set, func(t *testing.T) {
			dir := filepath.Join(samplesDir(t), s.set)
			d, err := ScanLogDir(dir, "SRU")
			if err != nil {
				t.Fatal(err)
			}
			var gens []uint32
			for _, f := range d.Archived {
				gens = append(gens, f.Gen)
			}
			if !slices.Equal(gens, s.archived) || d.Current == nil || d.CurrentGen != s.current || d.Ext != ".log" {
				t.Errorf("archived %x, current %v gen %#x, ext %q; want %x, SRU.log gen %#x", gens, d.Current, d.CurrentGen, d.Ext, s.archived, s.current)
			}
			if len(d.Tmp) != s.tmp || len(d.Reserve) != s.reserve || filepath.Base(d.Checkpoint) != s.checkpoint || len(d.Other) != 0 {
				t.Errorf("tmp %v, reserve %v, checkpoint %q, other %v", d.Tmp, d.Reserve, d.Checkpoint, d.Other)
			}
			chain := d.Chain()
			if len(chain) != len(s.archived)+1 || chain[len(chain)-1].Gen != s.current {
				t.Fatalf("chain %v", chain)
			}
			for _, f := range chain {
				if f.Kind == LogTmp || f.Kind == LogReserve {
					t.Errorf("chain contains %s", f.Path)
				}
			}
			sign := readDBSignLog(t, s.set)
			links, err := d.VerifyChain(&sign)
			if err != nil {
				t.Fatal(err)
			}
			if len(links) != len(chain) {
				t.Errorf("%d links for %d files", len(links), len(chain))
			}
			// Every link past the first carries the previous log's checksum.
			for i := 1; i < len(links); i++ {
				h := links[i].Check.Header
				if !h.HasPrevLogChecksum() || h.ChecksumPrevLogAllSegments != links[i-1].Check.AllSegmentsXOR {
					t.Errorf("%s: prev-log checksum %#x, previous XOR %#x", links[i].Name, h.ChecksumPrevLogAllSegments, links[i-1].Check.AllSegmentsXOR)
				}
			}
		})
	}
}

func TestTmpLogNeverInChain(t *testing.T) {
	d, err := ScanLogDir(filepath.Join(samplesDir(t), "srum-win11-dirty"), "SRU")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Tmp) != 1 || d.Tmp[0].Kind != LogTmp {
		t.Fatalf("tmp files %v", d.Tmp)
	}
	// The tmp log has a valid header of generation 0x50 ...
	c, err := VerifyLogFile(d.Tmp[0].Path)
	if err != nil || c.Header.Generation != 0x50 {
		t.Fatalf("SRUtmp.log: %v, %v", c, err)
	}
	// ... and its stream signature, yet it is not part of the chain.
	for _, f := range d.Chain() {
		if f.Path == d.Tmp[0].Path || f.Gen == 0x50 {
			t.Errorf("chain contains %s (gen %#x)", f.Path, f.Gen)
		}
	}
}

// copySet copies the log files (and checkpoint) of a sample set into a new
// temporary directory, leaving out the names in skip.
func copySet(t *testing.T, set string, skip ...string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(samplesDir(t), set)
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if slices.Contains(skip, e.Name()) || filepath.Ext(e.Name()) == ".dat" {
			continue
		}
		copySample(t, dir, set, e.Name())
	}
	return dir
}

func TestChainMissingLog(t *testing.T) {
	dir := copySet(t, "srum-win10-clean", "SRU00005.log")
	d, err := ScanLogDir(dir, "SRU")
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.VerifyChain(nil)
	wantCode(t, err, ese.ErrMissingLogFile, "generation 0x5 (SRU00005.log)", "SRU00006.log")

	dir = copySet(t, "srum-win10-clean", "SRU00005.log", "SRU00006.log")
	d, err = ScanLogDir(dir, "SRU")
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.VerifyChain(nil)
	wantCode(t, err, ese.ErrMissingLogFile, "generations 0x5 (SRU00005.log) to 0x6 (SRU00006.log)")
}

func TestChainBrokenPrevGenOnDisk(t *testing.T) {
	dir := copySet(t, "srum-win10-clean")
	p := filepath.Join(dir, "SRU00007.log")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseLogHeader(raw)
	if err != nil {
		t.Fatal(err)
	}
	h.PrevGen, h.Create = h.Create, h.PrevGen // swapped link times
	h.Encode(raw)
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := ScanLogDir(dir, "SRU")
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.VerifyChain(nil)
	wantCode(t, err, ese.ErrInvalidLogSequence, "SRU00007.log", "tmPrevGen", "generation 0x6")
}

// sampleLinks verifies the chain of a sample set and returns its links.
func sampleLinks(t *testing.T, set string) []ChainLink {
	t.Helper()
	d, err := ScanLogDir(filepath.Join(samplesDir(t), set), "SRU")
	if err != nil {
		t.Fatal(err)
	}
	links, err := d.VerifyChain(nil)
	if err != nil {
		t.Fatal(err)
	}
	return links
}

// withHeader returns a copy of links whose link i has a modified header.
func withHeader(links []ChainLink, i int, mod func(h *LogHeader)) []ChainLink {
	out := slices.Clone(links)
	c := *out[i].Check
	h := *c.Header
	mod(&h)
	c.Header = &h
	out[i].Check = &c
	return out
}

func TestCheckChainFaults(t *testing.T) {
	links := sampleLinks(t, "srum-win10-dirty")
	if err := CheckChain(links, nil); err != nil {
		t.Fatal(err)
	}
	other := links[0].Check.Header.SignLog
	other.Random++
	swapped := slices.Clone(links)
	swapped[1], swapped[2] = swapped[2], swapped[1]
	renamed := slices.Clone(links)
	renamed[1].Name = filepath.Join(filepath.Dir(renamed[1].Name), "SRU00060.log")
	unverified := slices.Clone(links)
	unverified[2].Check = nil

	tests := []struct {
		name  string
		links []ChainLink
		sign  *Signature
		code  ese.Code
		frags []string
	}{
		{"expected signature", links, &other, ese.ErrBadLogSignature, []string{"SRU0004E.log", "want"}},
		{"mixed signatures", withHeader(links, 2, func(h *LogHeader) { h.SignLog = other }), nil, ese.ErrBadLogSignature, []string{"SRU00050.log"}},
		{"name mismatch", renamed, nil, ese.ErrLogGenerationMismatch, []string{"SRU00060.log", "0x60", "0x4f"}},
		{"unsorted", swapped, nil, ese.ErrInvalidLogSequence, []string{"not sorted"}},
		{"repeated", append(slices.Clone(links[:2]), links[1]), nil, ese.ErrInvalidLogSequence, []string{"repeated"}},
		{"gap", append(slices.Clone(links[:1]), links[2:]...), nil, ese.ErrMissingLogFile, []string{"generation 0x4f (SRU0004F.log)"}},
		{"prevGen", withHeader(links, 3, func(h *LogHeader) { h.PrevGen[0]++ }), nil, ese.ErrInvalidLogSequence, []string{"SRU00051.log", "tmPrevGen"}},
		{"segment checksum", withHeader(links, 4, func(h *LogHeader) { h.ChecksumPrevLogAllSegments ^= 1 }), nil, ese.ErrLogSequenceChecksumMismatch, []string{"SRU.log", "SRU00051.log"}},
		{"sector size", withHeader(links, 1, func(h *LogHeader) { h.CbSec = 512 }), nil, ese.ErrLogSectorSizeMismatch, []string{"512"}},
		{"file size", withHeader(links, 1, func(h *LogHeader) { h.CsecLGFile = 32 }), nil, ese.ErrLogFileSizeMismatch, []string{"32 sectors"}},
		{"page size", withHeader(links, 1, func(h *LogHeader) { h.CbPageSize = 8192 }), nil, ese.ErrPageSizeMismatch, []string{"8192"}},
		{"unverified", unverified, nil, ese.ErrLogFileCorrupt, []string{"not been verified"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, CheckChain(tt.links, tt.sign), tt.code, tt.frags...)
		})
	}

	// Before update-minor 13 the accumulated checksum is not checked.
	old := withHeader(links, 4, func(h *LogHeader) { h.ChecksumPrevLogAllSegments ^= 1; h.UpdateMinor = 12 })
	if err := CheckChain(old, nil); err != nil {
		t.Errorf("8.4000.x.12 log: %v", err)
	}
	if err := CheckChain(nil, nil); err != nil {
		t.Errorf("empty chain: %v", err)
	}
}

func TestScanLogDirEdgeCases(t *testing.T) {
	_, err := ScanLogDir(filepath.Join(t.TempDir(), "nope"), "SRU")
	wantCode(t, err, ese.ErrInvalidLogDirectory)

	// Same generation under a 5- and an 8-digit name.
	dir := copySet(t, "srum-win10-clean")
	raw, err := os.ReadFile(filepath.Join(dir, "SRU00004.log"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "SRU00000004.log"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ScanLogDir(dir, "SRU")
	wantCode(t, err, ese.ErrLogGenerationMismatch, "generation 0x4")

	// A corrupt current log cannot give its generation.
	dir = copySet(t, "srum-win10-clean")
	cur := filepath.Join(dir, "SRU.log")
	raw, err = os.ReadFile(cur)
	if err != nil {
		t.Fatal(err)
	}
	raw[100] ^= 1
	if err := os.WriteFile(cur, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ScanLogDir(dir, "SRU")
	wantCode(t, err, ese.ErrLogFileCorrupt, cur, "checksum")

	// .jtx logs are used when no .log exists; other files are ignored.
	dir = t.TempDir()
	for _, n := range []string{"edb.jtx", "edb00001.jtx", "edb00002.jtx", "edbtmp.jtx", "edb.jcp", "edbres00001.jrs", "other.txt", "SRU00001.log"} {
		src := "SRU00003.log"
		switch n {
		case "edb.jtx":
			src = "SRU.log"
		case "edb.jcp":
			src = "SRU.chk"
		}
		b, err := os.ReadFile(logSample(t, "srum-win10-clean", src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := ScanLogDir(dir, "EDB")
	if err != nil {
		t.Fatal(err)
	}
	if d.Ext != ".jtx" || len(d.Archived) != 2 || d.Current == nil || d.CurrentGen != 9 || len(d.Tmp) != 1 || len(d.Reserve) != 1 ||
		filepath.Base(d.Checkpoint) != "edb.jcp" {
		t.Errorf("jtx directory scanned as %+v", d)
	}
	// Verification then finds the file whose header is another generation.
	_, err = d.VerifyChain(nil)
	wantCode(t, err, ese.ErrLogGenerationMismatch, "edb00001.jtx")
}

func TestVerifyLogFileMissing(t *testing.T) {
	_, err := VerifyLogFile(filepath.Join(t.TempDir(), "SRU00001.log"))
	wantCode(t, err, ese.ErrMissingLogFile, "SRU00001.log")
}
