package format

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/esesnap/esesnap/ese"
)

// Checkpoint file layout (ese-format.md §6): two identical 4096-byte copies.
const (
	// CheckpointCopySize is the size of one copy of the checkpoint.
	CheckpointCopySize = 4096
	// CheckpointSize is the size of the file: primary and shadow copy.
	CheckpointSize = 2 * CheckpointCopySize
	// CheckpointFileType is the file type stored at offset 667 of each copy.
	CheckpointFileType = 4
	// CheckpointAttachPresent is the Version bit saying the attach list is valid.
	CheckpointAttachPresent byte = 0x1
)

// Offsets inside one checkpoint copy.
const (
	offChkLastFullBackup = 4
	offChkCheckpoint     = 12
	offChkSignLog        = 20
	offChkDBMS           = 48
	offChkFullBackup     = 615
	offChkFullBackupTime = 623
	offChkIncBackup      = 631
	offChkIncBackupTime  = 639
	offChkVersion        = 647
	offChkDbConsistency  = 648
	offChkAttach         = 679
)

// Checkpoint is a decoded checkpoint file (<base>.chk). LgposCheckpoint's
// generation is the first log generation soft recovery replays.
type Checkpoint struct {
	LgposLastFullBackupCheckpoint LGPos
	LgposCheckpoint               LGPos
	SignLog                       Signature
	DBMSParam
	LgposFullBackup    LGPos
	LogtimeFullBackup  LogTime
	LgposIncBackup     LGPos
	LogtimeIncBackup   LogTime
	Version            byte // CheckpointAttachPresent when Attach is valid
	LgposDbConsistency LGPos
	FileType           uint32 // CheckpointFileType
	// Attach is the attach list; it is only read when Version has
	// CheckpointAttachPresent, since at clean termination ESE clears that
	// bit and zeroes only the list's first byte.
	Attach []AttachInfo
	// AttachTail holds the non-zero bytes after the attach list's terminator
	// (or after the attach area's first byte when the list is absent),
	// trailing zeros trimmed, so Encode reproduces real files byte for byte.
	AttachTail []byte
	// PrimaryOK and ShadowOK report the two copies: checksum good, and for
	// the shadow also equal to the primary (ESE treats a differing shadow as
	// bad). The fields above come from the primary when it is good, else
	// from the shadow.
	PrimaryOK, ShadowOK bool
}

// checkpointError builds the *ese.Error for a checkpoint that cannot be used.
func checkpointError(code ese.Code, format string, args ...any) error {
	return &ese.Error{Code: code, Op: "read checkpoint", Err: fmt.Errorf(format, args...)}
}

// ParseCheckpoint decodes a checkpoint file's CheckpointSize bytes, electing
// a copy as ESE does for shadowed headers (fileu.cxx): the primary when its
// checksum is good, else the shadow. Both bad (or b too short) is
// JET_errCheckpointCorrupt; a good copy of another file type is
// JET_errFileInvalidType (log.cxx).
func ParseCheckpoint(b []byte) (*Checkpoint, error) {
	if len(b) < CheckpointSize {
		return nil, checkpointError(ese.ErrCheckpointCorrupt, "file is %d bytes, want %d", len(b), CheckpointSize)
	}
	p, s := b[:CheckpointCopySize], b[CheckpointCopySize:CheckpointSize]
	pOK := le.Uint32(p) == HeaderChecksum(p)
	sOK := le.Uint32(s) == HeaderChecksum(s)
	elected := p
	switch {
	case pOK:
		sOK = sOK && string(p) == string(s)
	case sOK:
		elected = s
	default:
		return nil, checkpointError(ese.ErrCheckpointCorrupt,
			"checksum mismatch in both copies: primary stored %#08x computed %#08x, shadow stored %#08x computed %#08x",
			le.Uint32(p), HeaderChecksum(p), le.Uint32(s), HeaderChecksum(s))
	}
	c, err := decodeCheckpointCopy(elected)
	if err != nil {
		return nil, err
	}
	c.PrimaryOK, c.ShadowOK = pOK, sOK
	return c, nil
}

// decodeCheckpointCopy decodes one copy whose checksum is known good.
func decodeCheckpointCopy(b []byte) (*Checkpoint, error) {
	c := &Checkpoint{
		LgposLastFullBackupCheckpoint: ParseLGPos(b[offChkLastFullBackup:]),
		LgposCheckpoint:               ParseLGPos(b[offChkCheckpoint:]),
		SignLog:                       ParseSignature(b[offChkSignLog:]),
		DBMSParam:                     parseDBMSParam(b[offChkDBMS : offChkDBMS+DBMSParamSize]),
		LgposFullBackup:               ParseLGPos(b[offChkFullBackup:]),
		LgposIncBackup:                ParseLGPos(b[offChkIncBackup:]),
		Version:                       b[offChkVersion],
		LgposDbConsistency:            ParseLGPos(b[offChkDbConsistency:]),
		FileType:                      le.Uint32(b[offFileType:]),
	}
	copy(c.LogtimeFullBackup[:], b[offChkFullBackupTime:])
	copy(c.LogtimeIncBackup[:], b[offChkIncBackupTime:])
	if c.FileType != CheckpointFileType && c.FileType != 0 {
		return nil, checkpointError(ese.ErrFileInvalidType, "file type %d, want %d (checkpoint)", c.FileType, CheckpointFileType)
	}
	area := b[offChkAttach : offChkAttach+AttachAreaSize]
	term := 0
	if c.Version&CheckpointAttachPresent != 0 {
		list, t, err := parseAttachArea(area)
		if err != nil {
			return nil, checkpointError(ese.ErrCheckpointCorrupt, "%w", err)
		}
		c.Attach, term = list, t
	}
	c.AttachTail = attachTail(area, term)
	return c, nil
}

// Encode returns the CheckpointSize bytes of a checkpoint file: the copy
// with its checksum, twice. It panics if the attach list does not fit in
// its 2048 bytes, a programming error.
func (c *Checkpoint) Encode() []byte {
	out := make([]byte, CheckpointSize)
	b := out[:CheckpointCopySize]
	c.LgposLastFullBackupCheckpoint.Put(b[offChkLastFullBackup:])
	c.LgposCheckpoint.Put(b[offChkCheckpoint:])
	c.SignLog.Put(b[offChkSignLog:])
	c.DBMSParam.put(b[offChkDBMS : offChkDBMS+DBMSParamSize])
	c.LgposFullBackup.Put(b[offChkFullBackup:])
	copy(b[offChkFullBackupTime:], c.LogtimeFullBackup[:])
	c.LgposIncBackup.Put(b[offChkIncBackup:])
	copy(b[offChkIncBackupTime:], c.LogtimeIncBackup[:])
	b[offChkVersion] = c.Version
	c.LgposDbConsistency.Put(b[offChkDbConsistency:])
	le.PutUint32(b[offFileType:], c.FileType)
	area := b[offChkAttach : offChkAttach+AttachAreaSize]
	if c.Version&CheckpointAttachPresent != 0 || len(c.Attach) > 0 {
		putAttachArea(area, c.Attach, c.AttachTail)
	} else {
		copy(area[1:], c.AttachTail)
	}
	SetHeaderChecksum(b)
	copy(out[CheckpointCopySize:], b)
	return out
}

// ReadCheckpoint reads and parses the checkpoint file at path. A missing
// file is JET_errCheckpointFileNotFound, a short or unusable one
// JET_errCheckpointCorrupt; the error names the file.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &ese.Error{Code: ese.ErrCheckpointFileNotFound, Op: "read checkpoint", File: path, Err: err}
		}
		return nil, &ese.Error{Code: ese.ErrDiskIO, Op: "read checkpoint", File: path, Err: err}
	}
	defer f.Close()
	buf := make([]byte, CheckpointSize)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, &ese.Error{Code: ese.ErrDiskIO, Op: "read checkpoint", File: path, Err: err}
	}
	c, err := ParseCheckpoint(buf[:n])
	if err != nil {
		var e *ese.Error
		if errors.As(err, &e) {
			e.File = path
		}
		return nil, err
	}
	return c, nil
}
