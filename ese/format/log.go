package format

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/esesnap/esesnap/ese"
)

// Sizes and constants of transaction log files (ese-format.md §5).
const (
	// LogHeaderSize is the size of LGFILEHDR, whatever the sector size.
	LogHeaderSize = 4096
	// LogSegmentSize is the size of a v8 log segment; the header is segment 0.
	LogSegmentSize = 4096
	// LogFileType is the file type stored at offset 667 of a log header.
	LogFileType = 3
	// DBMSParamSize is the encoded size of DBMS_PARAM.
	DBMSParamSize = 567
	// SegmentFlagNewChecksum is set in every v8 segment header, at the same
	// place and with the same value as the page flag of XOR+ECC pages.
	SegmentFlagNewChecksum = 0x2000
)

// Log format majors: 7 is the legacy LRCHECKSUM body, 8 the segment body.
const (
	LogMajorLegacy   = 7
	LogMajorSegments = 8
)

// updateMinorAllSegmentChecksum is the first update-minor version whose log
// headers carry the XOR of all segment checksums of the previous generation
// (ulLGVersionUpdateMinorPrevGenAllSegmentChecksum in daedef.hxx).
const updateMinorAllSegmentChecksum = 13

// Log header flags (fLGFlags, offset 639).
const (
	LogFlagReserveLogInUse        byte = 0x01
	LogFlagCircularLogging        byte = 0x02
	LogFlagCircularLoggingHistory byte = 0x04
)

// Offsets inside LGFILEHDR.
const (
	offLogDBMS        = 72
	offLogFlags       = 639
	offLogCheckpoint  = 640
	offLogUpdateMinor = 648
	offLogDiskSec     = 652
	offLogPrevSegs    = 653
	offLogEFV         = 661
	offFileType       = 667 // same offset in DB, log and checkpoint headers
	offLogAttach      = 671
)

// DBMSParam is ESE's DBMS_PARAM: the engine settings in force when a log
// generation or checkpoint was written. The paths are for diagnosis only.
type DBMSParam struct {
	SystemPath    string // checkpoint/system directory (ANSI, at most 260 bytes)
	LogPath       string // log directory (ANSI, at most 260 bytes)
	ParamFlags    byte
	SessionsMax   uint32
	OpenTablesMax uint32
	VerPagesMax   uint32
	CursorsMax    uint32
	LogBuffers    uint32
	LcsecLGFile   uint32 // log file size in sectors as configured
	CacheSizeMax  uint32
}

const dbmsPathLen = 261

// parseDBMSParam decodes DBMSParamSize bytes.
func parseDBMSParam(b []byte) DBMSParam {
	var p DBMSParam
	p.SystemPath = cString(b[0:dbmsPathLen])
	p.LogPath = cString(b[dbmsPathLen : 2*dbmsPathLen])
	o := 2 * dbmsPathLen
	p.ParamFlags = b[o]
	o++
	for _, f := range p.counters() {
		*f = le.Uint32(b[o:])
		o += 4
	}
	return p
}

// put encodes the parameters into the zeroed b[0:DBMSParamSize].
func (p DBMSParam) put(b []byte) {
	copy(b[0:dbmsPathLen], p.SystemPath)
	copy(b[dbmsPathLen:2*dbmsPathLen], p.LogPath)
	o := 2 * dbmsPathLen
	b[o] = p.ParamFlags
	o++
	for _, f := range p.counters() {
		le.PutUint32(b[o:], *f)
		o += 4
	}
}

// counters lists the seven u32 fields in their on-disk order.
func (p *DBMSParam) counters() [7]*uint32 {
	return [7]*uint32{&p.SessionsMax, &p.OpenTablesMax, &p.VerPagesMax, &p.CursorsMax, &p.LogBuffers, &p.LcsecLGFile, &p.CacheSizeMax}
}

// cString returns b up to its first NUL byte.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// LogHeader is a decoded log file header (LGFILEHDR, ese-format.md §5.2).
// It holds every field ESE writes, so that Encode(ParseLogHeader(b))
// reproduces a real header byte for byte.
type LogHeader struct {
	Checksum                   uint32 // stored header checksum; Encode computes a fresh one
	Generation                 uint32 // lGeneration, also the hex number in an archived log's name
	CbSec                      uint16 // sector size: 512 in v7 logs, 4096 in v8
	CsecHeader                 uint16 // header length in sectors
	CsecLGFile                 uint16 // file length in sectors
	CbPageSize                 uint16 // database page size, 0 meaning 4096 (see PageSize)
	Create                     LogTime
	PrevGen                    LogTime // tmCreate of the previous generation: the chain link
	Major                      uint32
	Minor                      uint32
	UpdateMajor                uint32
	SignLog                    Signature // shared by every generation of the stream and its databases
	DBMSParam                            // engine settings: SystemPath, LogPath, LcsecLGFile, ...
	Flags                      byte      // LogFlag* bits
	LgposCheckpoint            LGPos
	UpdateMinor                uint32
	DiskSecSizeMismatch        byte
	ChecksumPrevLogAllSegments uint64 // XOR of the segment checksums of the previous generation
	EngineFormatVersion        uint32 // efvEngineCurrentDiagnostic
	FileType                   uint32 // LogFileType
	Attach                     []AttachInfo
	// AttachTail holds the non-zero bytes found after the attach list's
	// terminator (stale entries), trailing zeros trimmed; nil when none.
	AttachTail []byte
}

// PageSize returns the database page size recorded in the header.
func (h *LogHeader) PageSize() int {
	if h.CbPageSize == 0 {
		return 4096
	}
	return int(h.CbPageSize)
}

// Version prints the log format as esentutl does, e.g. "8.4000.60.140".
func (h *LogHeader) Version() string {
	return fmt.Sprintf("%d.%d.%d.%d", h.Major, h.Minor, h.UpdateMajor, h.UpdateMinor)
}

// Legacy reports whether the log uses the v7 LRCHECKSUM body instead of
// v8 segments.
func (h *LogHeader) Legacy() bool { return h.Major <= LogMajorLegacy }

// HasPrevLogChecksum reports whether ChecksumPrevLogAllSegments is
// meaningful: v8 logs of update-minor 13 and later (ESE's recovery checks it
// under the same condition, logredo.cxx).
func (h *LogHeader) HasPrevLogChecksum() bool {
	return h.Major >= LogMajorSegments && h.UpdateMinor >= updateMinorAllSegmentChecksum
}

// FileSize is the size the file must have: CsecLGFile sectors of CbSec bytes.
func (h *LogHeader) FileSize() int64 { return int64(h.CsecLGFile) * int64(h.CbSec) }

// logHeaderError is what ParseLogHeader returns: a JET_err and its cause.
func logHeaderError(code ese.Code, format string, args ...any) error {
	return &ese.Error{Code: code, Op: "read log header", Err: fmt.Errorf(format, args...)}
}

// ParseLogHeader decodes and checks a log file header; b holds at least the
// first LogHeaderSize bytes of the file. It verifies the header checksum
// (JET_errLogFileCorrupt on mismatch, as ESE's log.cxx does), the file type
// (3, or 0 for headers older than the field; otherwise JET_errFileInvalidType)
// and the attach list.
func ParseLogHeader(b []byte) (*LogHeader, error) {
	if len(b) < LogHeaderSize {
		return nil, logHeaderError(ese.ErrLogFileCorrupt, "header needs %d bytes, have %d", LogHeaderSize, len(b))
	}
	b = b[:LogHeaderSize]
	stored, sum := le.Uint32(b), HeaderChecksum(b)
	if stored != sum {
		return nil, logHeaderError(ese.ErrLogFileCorrupt, "header checksum mismatch: stored %#08x, computed %#08x", stored, sum)
	}
	h := &LogHeader{
		Checksum:    stored,
		Generation:  le.Uint32(b[4:]),
		CbSec:       le.Uint16(b[8:]),
		CsecHeader:  le.Uint16(b[10:]),
		CsecLGFile:  le.Uint16(b[12:]),
		CbPageSize:  le.Uint16(b[14:]),
		Major:       le.Uint32(b[32:]),
		Minor:       le.Uint32(b[36:]),
		UpdateMajor: le.Uint32(b[40:]),
		SignLog:     ParseSignature(b[44:72]),
		DBMSParam:   parseDBMSParam(b[offLogDBMS : offLogDBMS+DBMSParamSize]),
		Flags:       b[offLogFlags],

		LgposCheckpoint:            ParseLGPos(b[offLogCheckpoint:]),
		UpdateMinor:                le.Uint32(b[offLogUpdateMinor:]),
		DiskSecSizeMismatch:        b[offLogDiskSec],
		ChecksumPrevLogAllSegments: le.Uint64(b[offLogPrevSegs:]),
		EngineFormatVersion:        le.Uint32(b[offLogEFV:]),
		FileType:                   le.Uint32(b[offFileType:]),
	}
	copy(h.Create[:], b[16:24])
	copy(h.PrevGen[:], b[24:32])
	if h.FileType != LogFileType && h.FileType != 0 {
		return nil, logHeaderError(ese.ErrFileInvalidType, "file type %d, want %d (log)", h.FileType, LogFileType)
	}
	area := b[offLogAttach : offLogAttach+AttachAreaSize]
	list, term, err := parseAttachArea(area)
	if err != nil {
		return nil, logHeaderError(ese.ErrLogFileCorrupt, "%w", err)
	}
	h.Attach, h.AttachTail = list, attachTail(area, term)
	return h, nil
}

// Encode writes the header into b[0:LogHeaderSize] (zeroing the rest of
// those bytes) and stores a fresh checksum; h.Checksum is ignored. It panics
// if b is shorter than LogHeaderSize or the attach list does not fit in its
// 2048 bytes, both programming errors.
func (h *LogHeader) Encode(b []byte) {
	b = b[:LogHeaderSize]
	clear(b)
	le.PutUint32(b[4:], h.Generation)
	le.PutUint16(b[8:], h.CbSec)
	le.PutUint16(b[10:], h.CsecHeader)
	le.PutUint16(b[12:], h.CsecLGFile)
	le.PutUint16(b[14:], h.CbPageSize)
	copy(b[16:24], h.Create[:])
	copy(b[24:32], h.PrevGen[:])
	le.PutUint32(b[32:], h.Major)
	le.PutUint32(b[36:], h.Minor)
	le.PutUint32(b[40:], h.UpdateMajor)
	h.SignLog.Put(b[44:72])
	h.DBMSParam.put(b[offLogDBMS : offLogDBMS+DBMSParamSize])
	b[offLogFlags] = h.Flags
	h.LgposCheckpoint.Put(b[offLogCheckpoint:])
	le.PutUint32(b[offLogUpdateMinor:], h.UpdateMinor)
	b[offLogDiskSec] = h.DiskSecSizeMismatch
	le.PutUint64(b[offLogPrevSegs:], h.ChecksumPrevLogAllSegments)
	le.PutUint32(b[offLogEFV:], h.EngineFormatVersion)
	le.PutUint32(b[offFileType:], h.FileType)
	putAttachArea(b[offLogAttach:offLogAttach+AttachAreaSize], h.Attach, h.AttachTail)
	SetHeaderChecksum(b)
}

// SegmentHeader is LGSEGHDR, the first 40 bytes of every non-empty v8 log
// segment.
type SegmentHeader struct {
	Checksum uint64  // XOR+ECC checksum of the segment with pgno = segment index
	Pos      LGPos   // (ib 0, isec = segment index, generation)
	Start    LogTime // when the segment was started
	Flags    uint32  // SegmentFlagNewChecksum
}

// SegmentHeaderSize is the encoded size of a SegmentHeader; log records follow it.
const SegmentHeaderSize = 40

// ParseSegmentHeader decodes the header of a segment; seg must hold at least
// SegmentHeaderSize bytes.
func ParseSegmentHeader(seg []byte) SegmentHeader {
	var s SegmentHeader
	s.Checksum = le.Uint64(seg)
	s.Pos = ParseLGPos(seg[8:16])
	copy(s.Start[:], seg[16:24])
	s.Flags = le.Uint32(seg[36:])
	return s
}

// Put writes the header into seg[0:SegmentHeaderSize], leaving the reserved
// bytes zero. The checksum is written as given; call SetSegmentChecksum once
// the segment's records are in place.
func (s SegmentHeader) Put(seg []byte) {
	le.PutUint64(seg, s.Checksum)
	s.Pos.Put(seg[8:16])
	copy(seg[16:24], s.Start[:])
	clear(seg[24:36])
	le.PutUint32(seg[36:], s.Flags)
}

// SetSegmentChecksum stores the XOR+ECC checksum of a 4096-byte v8 segment
// at its offset 0; index is the segment's position in the file (the header
// is segment 0), which the checksum mixes in as the page number.
func SetSegmentChecksum(seg []byte, index uint32) {
	seg = seg[:LogSegmentSize]
	le.PutUint64(seg, XEChecksum(seg, index, true))
}

// LogCheck is the result of VerifyLog.
type LogCheck struct {
	Header *LogHeader
	// Segments counts v8 segments that verify with their own index and
	// carry this generation and position, SegmentsEmpty the all-zero ones,
	// SegmentsShadow the shadow copies of a previous, partly filled segment
	// (which may be stale), and SegmentsStale the segments that verify but
	// belong to an older generation of a recycled file. v7 logs leave them
	// zero.
	Segments, SegmentsEmpty, SegmentsShadow, SegmentsStale int
	// LastSegment is the index of the last segment that verifies with its
	// own index (the log tip), 0 if none; for v7 logs the sector holding the
	// last LRCHECKSUM record.
	LastSegment int
	// AllSegmentsXOR is the XOR of the stored checksums of the segments
	// counted in Segments; the next generation's header must carry it in
	// ChecksumPrevLogAllSegments (chain rule 5).
	AllSegmentsXOR uint64
	// Records counts the LRCHECKSUM records verified in a v7 log.
	Records int
}

// maxLogReadChunk bounds the buffer VerifyLog reads v8 segments into.
const maxLogReadChunk = 64 << 10

// maxLegacyLogSize bounds the v7 log VerifyLog reads into memory at once.
const maxLegacyLogSize = 64 << 20

// VerifyLog checks a whole log file of size bytes read through r; name is
// used in errors. It verifies the header, that the file size equals
// CsecLGFile*CbSec, and then the body: for v8 logs every 4 KiB segment must
// be all zero (unused), verify with its own index, or verify with the
// previous index (a shadow copy of the previous, partly filled segment).
// Segments that verify but name another generation are stale leftovers of a
// recycled file: accepted, as ESE does, but not counted as data. For v7
// logs the LRCHECKSUM records must chain from the end of the header to a
// record with cbNext 0, each checksum matching. Every
// verification failure is an *ese.Error with JET_errLogReadVerifyFailure
// naming the segment or offset; read errors carry JET_errDiskIO.
//
// A segment with one flipped bit is reported (with the bit) although ESE's
// reader would repair it in memory: a backup should not copy it silently.
func VerifyLog(r io.ReaderAt, size int64, name string) (*LogCheck, error) {
	fail := func(format string, args ...any) error {
		return &ese.Error{Code: ese.ErrLogReadVerifyFailure, Op: "verify log", File: name, Err: fmt.Errorf(format, args...)}
	}
	if size < LogHeaderSize {
		return nil, fail("file is %d bytes, smaller than the %d-byte log header", size, LogHeaderSize)
	}
	bufSize := int64(maxLogReadChunk)
	if size < bufSize {
		bufSize = size
	}
	buf := make([]byte, bufSize)
	if err := readAt(r, buf[:LogHeaderSize], 0); err != nil {
		return nil, readFailure(name, 0, err)
	}
	h, err := ParseLogHeader(buf[:LogHeaderSize])
	if err != nil {
		var e *ese.Error
		if errors.As(err, &e) && e.Err != nil {
			err = e.Err
		}
		return nil, fail("header: %w", err)
	}
	switch {
	case h.Major < LogMajorLegacy || h.Major > LogMajorSegments:
		return nil, fail("unsupported log format %s", h.Version())
	case h.CbSec < 512 || h.CbSec > LogSegmentSize || h.CbSec&(h.CbSec-1) != 0:
		return nil, fail("header: sector size %d is not a power of two from 512 to 4096", h.CbSec)
	case !h.Legacy() && h.CbSec != LogSegmentSize:
		return nil, fail("header: v8 log with sector size %d, want %d", h.CbSec, LogSegmentSize)
	case int(h.CsecHeader)*int(h.CbSec) != LogHeaderSize:
		return nil, fail("header: %d header sectors of %d bytes, want %d bytes", h.CsecHeader, h.CbSec, LogHeaderSize)
	case h.CsecLGFile <= h.CsecHeader:
		return nil, fail("header: file of %d sectors leaves no room after the %d header sectors", h.CsecLGFile, h.CsecHeader)
	case size != h.FileSize():
		return nil, fail("file is %d bytes, header says %d sectors of %d bytes = %d", size, h.CsecLGFile, h.CbSec, h.FileSize())
	}
	c := &LogCheck{Header: h}
	if h.Legacy() {
		if size > maxLegacyLogSize {
			return nil, fail("v7 log of %d bytes is larger than %d", size, maxLegacyLogSize)
		}
		err = verifyLRCK(r, size, name, c, fail)
	} else {
		err = verifySegments(r, size, name, c, buf, fail)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// readAt reads len(b) bytes at off; a short file is io.ErrUnexpectedEOF.
func readAt(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// readFailure classifies a read error: a file shorter than its size is a
// verification failure, anything else an I/O error.
func readFailure(name string, off int64, err error) error {
	code := ese.ErrDiskIO
	if errors.Is(err, io.ErrUnexpectedEOF) {
		code = ese.ErrLogReadVerifyFailure
	}
	return &ese.Error{Code: code, Op: "verify log", File: name, Err: fmt.Errorf("read at offset %d: %w", off, err)}
}

// verifySegments checks the 4 KiB segments of a v8 log, reading them in
// chunks into buf (no allocation per segment).
func verifySegments(r io.ReaderAt, size int64, name string, c *LogCheck, buf []byte, fail func(string, ...any) error) error {
	gen := int32(c.Header.Generation)
	perChunk := int64(len(buf) / LogSegmentSize)
	for off := int64(LogHeaderSize); off < size; {
		n := (size - off) / LogSegmentSize
		if n > perChunk {
			n = perChunk
		}
		chunk := buf[:n*LogSegmentSize]
		if err := readAt(r, chunk, off); err != nil {
			return readFailure(name, off, err)
		}
		for len(chunk) > 0 {
			seg := chunk[:LogSegmentSize]
			chunk = chunk[LogSegmentSize:]
			i := uint32(off / LogSegmentSize)
			if err := checkSegment(seg, i, gen, c, fail); err != nil {
				return err
			}
			off += LogSegmentSize
		}
	}
	return nil
}

// checkSegment classifies one segment and updates the tallies in c.
func checkSegment(seg []byte, i uint32, gen int32, c *LogCheck, fail func(string, ...any) error) error {
	if isZero(seg) {
		c.SegmentsEmpty++
		return nil
	}
	stored := le.Uint64(seg)
	sum := XEChecksum(seg, i, true)
	if stored == sum {
		if ParseSegmentHeader(seg).Pos != (LGPos{ISec: uint16(i), Gen: gen}) {
			// Left over from an earlier use of a recycled file: valid data
			// of another generation, which ESE's reader accepts and its
			// writer never counted in this generation.
			c.SegmentsStale++
			return nil
		}
		c.Segments++
		c.LastSegment = int(i)
		c.AllSegmentsXOR ^= stored
		return nil
	}
	if i > 1 && stored == XEChecksum(seg, i-1, true) {
		// A shadow: ESE rewrites a partly filled segment at the next index
		// before filling it, so a crash can leave the copy behind. Real
		// logs also keep stale shadows of earlier generations.
		c.SegmentsShadow++
		return nil
	}
	off := int64(i) * LogSegmentSize
	d := diagnose(stored, sum, 0, 0, LogSegmentSize, i)
	switch {
	case d.eccMatch && d.bit >= 0:
		return fail("segment %d (offset %d): checksum mismatch, stored %#016x, computed %#016x: data intact but the checksum names segment %d (or has one flipped bit)", i, off, stored, sum, d.actualPgno)
	case d.eccMatch:
		return fail("segment %d (offset %d): checksum mismatch, stored %#016x, computed %#016x: data intact but the checksum names segment %d", i, off, stored, sum, d.actualPgno)
	case d.bit >= 0:
		return fail("segment %d (offset %d): checksum mismatch, stored %#016x, computed %#016x: single-bit error at byte %d bit %d of the segment", i, off, stored, sum, d.bit/8, d.bit%8)
	}
	return fail("segment %d (offset %d): checksum mismatch, stored %#016x, computed %#016x", i, off, stored, sum)
}

// LRCHECKSUM record layout (v7 logs, ese-format.md §5.5).
const (
	lrtypChecksum      = 42
	lrckSize           = 22
	lrckSeed           = 0xFEEDBEAF
	lrckShadowChecksum = 0x5AD05EC7
)

// verifyLRCK walks the LRCHECKSUM chain of a v7 log, which must start right
// after the header and end (cbNext = 0) inside the file.
func verifyLRCK(r io.ReaderAt, size int64, name string, c *LogCheck, fail func(string, ...any) error) error {
	data := make([]byte, size)
	if err := readAt(r, data, 0); err != nil {
		return readFailure(name, 0, err)
	}
	gen := c.Header.Generation
	start := int64(LogHeaderSize)
	for o := start; ; {
		if o+lrckSize > size {
			return fail("LRCHECKSUM record %d at offset %d runs past the end of the file", c.Records, o)
		}
		rec := data[o : o+lrckSize]
		if rec[0] != lrtypChecksum {
			return fail("offset %d: record type %d, want an LRCHECKSUM (%d)", o, rec[0], lrtypChecksum)
		}
		cbBack := int64(le.Uint32(rec[1:]))
		cbFwd := int64(le.Uint32(rec[5:]))
		cbNext := int64(le.Uint32(rec[9:]))
		stored := le.Uint32(rec[13:])
		useShort := rec[21]
		if cbBack > o-start {
			return fail("LRCHECKSUM at offset %d: backward range of %d bytes reaches into the header", o, cbBack)
		}
		if o+lrckSize+cbFwd > size {
			return fail("LRCHECKSUM at offset %d: forward range of %d bytes runs past the end of the file", o, cbFwd)
		}
		sum := uint32(lrckSeed)
		sum = xorLanes(sum, data[o-cbBack:o])
		sum = xorLanes(sum, data[o+lrckSize:o+lrckSize+cbFwd])
		sum ^= uint32(cbBack) ^ uint32(cbFwd) ^ uint32(cbNext) ^ uint32(useShort) ^ gen
		if stored != sum && stored != sum^lrckShadowChecksum {
			return fail("LRCHECKSUM at offset %d (sector %d): checksum mismatch, stored %#08x, computed %#08x", o, o/int64(c.Header.CbSec), stored, sum)
		}
		c.Records++
		c.LastSegment = int(o / int64(c.Header.CbSec))
		if cbNext == 0 {
			return nil
		}
		o += lrckSize + cbNext
	}
}

// xorLanes XORs b into sum as consecutive little-endian dwords from b[0],
// with the 1-3 trailing bytes in their byte lanes (LGChecksum's rule).
func xorLanes(sum uint32, b []byte) uint32 {
	n := len(b) &^ 3
	if n > 0 {
		sum ^= xorDwords(b[:n])
	}
	for i, x := range b[n:] {
		sum ^= uint32(x) << (8 * i)
	}
	return sum
}
