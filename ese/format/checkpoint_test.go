package format

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/esesnap/esesnap/ese"
)

// sampleCheckpoints are the checkpoint files of the samples with the
// lgposCheckpoint INVENTORY.md lists.
var sampleCheckpoints = []struct {
	set, file   string
	checkpoint  LGPos
	lcsecLGFile uint32
	staleAttach bool // the attach area holds stale bytes after a zeroed first byte
}{
	{"srum-win10-clean", "SRU.chk", LGPos{Gen: 9, ISec: 9}, 16, false},
	{"srum-win10-dirty", "SRU.chk", LGPos{Gen: 0x51, ISec: 9}, 16, false},
	{"srum-win11-dirty", "SRU.chk", LGPos{Gen: 0x5C, ISec: 8}, 16, true},
	{"ntds-2012r2-tempdb", "edb.chk", LGPos{Gen: 3, ISec: 0x2F3}, 2560, true},
}

func TestReadCheckpointSamples(t *testing.T) {
	for _, s := range sampleCheckpoints {
		t.Run(s.set, func(t *testing.T) {
			path := logSample(t, s.set, s.file)
			c, err := ReadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			if c.LgposCheckpoint != s.checkpoint || !c.PrimaryOK || !c.ShadowOK || c.FileType != CheckpointFileType {
				t.Errorf("checkpoint %s primary %v shadow %v type %d; want %s, both copies good, type 4",
					c.LgposCheckpoint, c.PrimaryOK, c.ShadowOK, c.FileType, s.checkpoint)
			}
			if c.LcsecLGFile != s.lcsecLGFile {
				t.Errorf("DBMS_PARAM lcsecLGFile %d, want %d", c.LcsecLGFile, s.lcsecLGFile)
			}
			if c.Version&CheckpointAttachPresent != 0 || len(c.Attach) != 0 || (c.AttachTail != nil) != s.staleAttach {
				t.Errorf("version %#x, attach %v, stale tail %d bytes", c.Version, c.Attach, len(c.AttachTail))
			}
			if s.set != "ntds-2012r2-tempdb" {
				if sign := readDBSignLog(t, s.set); c.SignLog != sign {
					t.Errorf("checkpoint signLog %s, database %s", c.SignLog, sign)
				}
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(c.Encode(), raw) {
				t.Error("Encode(ReadCheckpoint) differs from the file")
			}
		})
	}
}

func TestCheckpointElection(t *testing.T) {
	raw, err := os.ReadFile(logSample(t, "srum-win10-clean", "SRU.chk"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := ParseCheckpoint(raw)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("primary bad", func(t *testing.T) {
		b := bytes.Clone(raw)
		b[100] ^= 1
		c, err := ParseCheckpoint(b)
		if err != nil {
			t.Fatal(err)
		}
		if c.PrimaryOK || !c.ShadowOK || c.LgposCheckpoint != want.LgposCheckpoint || c.SignLog != want.SignLog {
			t.Errorf("got %+v", c)
		}
	})
	t.Run("shadow bad", func(t *testing.T) {
		b := bytes.Clone(raw)
		b[CheckpointCopySize+100] ^= 1
		c, err := ParseCheckpoint(b)
		if err != nil {
			t.Fatal(err)
		}
		if !c.PrimaryOK || c.ShadowOK || c.LgposCheckpoint != want.LgposCheckpoint {
			t.Errorf("got %+v", c)
		}
	})
	t.Run("shadow differs", func(t *testing.T) {
		// Both checksums good but different content: the primary wins and
		// the shadow counts as bad, as in ESE.
		other := *want
		other.LgposCheckpoint.ISec++
		b := bytes.Clone(raw)
		copy(b[CheckpointCopySize:], other.Encode()[:CheckpointCopySize])
		c, err := ParseCheckpoint(b)
		if err != nil {
			t.Fatal(err)
		}
		if !c.PrimaryOK || c.ShadowOK || c.LgposCheckpoint != want.LgposCheckpoint {
			t.Errorf("got %+v", c)
		}
	})
	t.Run("both bad", func(t *testing.T) {
		b := bytes.Clone(raw)
		b[100] ^= 1
		b[CheckpointCopySize+200] ^= 1
		_, err := ParseCheckpoint(b)
		wantCode(t, err, ese.ErrCheckpointCorrupt, "both copies")
	})
	t.Run("short", func(t *testing.T) {
		_, err := ParseCheckpoint(raw[:CheckpointCopySize])
		wantCode(t, err, ese.ErrCheckpointCorrupt, "4096 bytes")
	})
	t.Run("log header is not a checkpoint", func(t *testing.T) {
		lg, err := os.ReadFile(logSample(t, "srum-win10-clean", "SRU00003.log"))
		if err != nil {
			t.Fatal(err)
		}
		b := append(bytes.Clone(lg[:CheckpointCopySize]), lg[:CheckpointCopySize]...)
		_, err = ParseCheckpoint(b)
		wantCode(t, err, ese.ErrFileInvalidType, "file type 3")
	})
}

func TestReadCheckpointErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "SRU.chk")
	_, err := ReadCheckpoint(missing)
	wantCode(t, err, ese.ErrCheckpointFileNotFound, missing)

	if err := os.WriteFile(missing, make([]byte, 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadCheckpoint(missing)
	wantCode(t, err, ese.ErrCheckpointCorrupt, missing, "5000 bytes")

	if err := os.WriteFile(missing, make([]byte, CheckpointSize), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadCheckpoint(missing)
	wantCode(t, err, ese.ErrCheckpointCorrupt, missing, "both copies")
}

func TestCheckpointEncodeAttachList(t *testing.T) {
	c := &Checkpoint{
		LgposCheckpoint: LGPos{IB: 0x10, ISec: 3, Gen: 0x42},
		SignLog:         Signature{Random: 0x1234, Created: LogTime{1, 2, 3, 4, 5, 122, 1, 0}},
		DBMSParam:       DBMSParam{SystemPath: `C:\db\`, LogPath: `C:\logs\`, LcsecLGFile: 16, CacheSizeMax: 1000},
		Version:         CheckpointAttachPresent,
		FileType:        CheckpointFileType,
		Attach: []AttachInfo{
			{DBID: 1, Flags: AttachUnicodeNames | AttachSparseFile, DBTime: 99, Path: `C:\db\ünïcode.edb`},
			{DBID: 2, Path: `C:\db\ansi.edb`, LgposConsistent: LGPos{Gen: 0x41}},
		},
		AttachTail: []byte{7, 7, 7},
	}
	b := c.Encode()
	got, err := ParseCheckpoint(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Attach) != 2 || got.Attach[0] != c.Attach[0] || got.Attach[1] != c.Attach[1] ||
		!bytes.Equal(got.AttachTail, c.AttachTail) || got.DBMSParam != c.DBMSParam || got.LgposCheckpoint != c.LgposCheckpoint {
		t.Errorf("round trip: got %+v, want %+v", got, c)
	}
	if !bytes.Equal(got.Encode(), b) {
		t.Error("second Encode differs")
	}
}
