package format

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/esesnap/esesnap/ese"
)

// A database streamed by an external backup (JetOpenFile/JetReadFile) is
// (pgnoLast+3) pages long: page 0 and page 1 are two identical copies of a
// header snapshot whose bkinfoFullCur records the backup in progress, pages
// 2 .. pgnoLast+1 are the data pages 1 .. pgnoLast exactly as they are on disk,
// and the last page is the backup trailer described below. Restoring such a
// copy (hard recovery) reads the trailer to learn the last log generation the
// copy needs, folds it into the header and zeroes the trailer page.
//
// Trailer page layout, as ESE declares it (struct PATCHHDR in
// dev/ese/src/inc/cpage.hxx of microsoft/Extensible-Storage-Engine; filled by
// BACKUP_CONTEXT::BKIMakeDbTrailer in dev/ese/src/ese/backup.cxx and checked by
// ErrDBCheckDBHeaderAndTrailer in dev/ese/src/ese/db.cxx). All offsets are
// from the start of the page, little-endian, packed:
//
//	  0  40  the header of an ordinary small page, left zero except for the
//	         checksum in bytes 0-3 (so dbtime, objidFDP and pgno read as 0)
//	 40  24  BKINFO: backup mark, mark time, genLow, genHigh
//	 64  28  signDb of the database
//	 92  28  signLog of the log stream
//	120   4  lGenMinRequired of the header when the trailer was made
//	124   4  lGenMaxRequired
//	128   4  lGenMaxCommitted
//	132   8  LOGTIME: creation time of log lGenMaxRequired
//	140   8  LOGTIME: creation time of log lGenMaxCommitted (the header's
//	         logtimeGenMaxCreate)
//	148      zero to the end of the page
//
// The checksum is the header-page one (plain XOR seeded with 0x89ABCDEF over
// the whole page, no page number), which is why esentutl recognises a trailer
// as the last page whose checksum high dword, dbtime and objidFDP are zero.
const (
	trailerOffBKInfo          = 40
	trailerOffSignDb          = 64
	trailerOffSignLog         = 92
	trailerOffGenMinRequired  = 120
	trailerOffGenMaxRequired  = 124
	trailerOffGenMaxCommitted = 128
	trailerOffLogtimeMaxReq   = 132
	trailerOffLogtimeMaxCommt = 140

	// TrailerSize is the number of meaningful bytes at the start of a
	// trailer page; the rest of the page is zero.
	TrailerSize = 148

	// StreamExtraPages is how many pages a streamed database has beyond its
	// data pages: two header snapshots and the trailer.
	StreamExtraPages = 3
)

// opVerifyStream is the Op of every error VerifyStreamedDatabase returns.
const opVerifyStream = "verify streamed database"

// StreamSize returns the length in bytes of the backup stream of a database
// whose logical size is pages pages of pageSize bytes: (pages+3)*pageSize.
func StreamSize(pages uint32, pageSize int) int64 {
	return (int64(pages) + StreamExtraPages) * int64(pageSize)
}

// StreamHeaderPage writes into dst the header snapshot that starts a backup
// stream: a copy of hdrPage (a whole database header page) with
// bkinfoFullCur replaced by bk and the header checksum recomputed. dst and
// hdrPage must both be one page long; they may be the same slice.
func StreamHeaderPage(dst, hdrPage []byte, bk BKInfo) {
	copy(dst, hdrPage)
	bk.Put(dst[OffBKInfoFullCur : OffBKInfoFullCur+BKInfoSize])
	SetHeaderChecksum(dst)
}

// Trailer is the last page of a streamed database (ESE's PATCHHDR): the
// backup's BKINFO with the final genHigh, the signatures the copy belongs to
// and the header's required-generation window when the trailer was made.
type Trailer struct {
	BKInfo                 BKInfo
	SignDb                 Signature
	SignLog                Signature
	GenMinRequired         uint32
	GenMaxRequired         uint32
	GenMaxCommitted        uint32
	LogtimeGenMaxRequired  LogTime // creation time of log GenMaxRequired
	LogtimeGenMaxCommitted LogTime // creation time of log GenMaxCommitted
}

// TrailerFor builds the trailer ESE appends to the stream of the database
// whose current header is h, for the backup described by bk (the same BKINFO
// as in the header snapshots). genHigh becomes currentGen, the log generation
// being written when the trailer is produced, raised to h.GenMaxCommitted if
// that is higher (ESE's guard against a log roll it has not seen yet). The
// required-generation fields are always filled, as ESE does for every
// database format that records them (older formats leave them zero, which
// restore tolerates).
func TrailerFor(h *DBHeader, bk BKInfo, currentGen uint32) Trailer {
	bk.GenHigh = currentGen
	if h.GenMaxCommitted > bk.GenHigh {
		bk.GenHigh = h.GenMaxCommitted
	}
	return Trailer{
		BKInfo:                 bk,
		SignDb:                 h.SignDb,
		SignLog:                h.SignLog,
		GenMinRequired:         h.GenMinRequired,
		GenMaxRequired:         h.GenMaxRequired,
		GenMaxCommitted:        h.GenMaxCommitted,
		LogtimeGenMaxRequired:  h.LogtimeGenMaxRequired,
		LogtimeGenMaxCommitted: h.LogtimeGenMaxCreate,
	}
}

// Encode zeroes page (one database page, at least TrailerSize bytes) and
// writes the trailer into it with its header-style checksum.
func (t *Trailer) Encode(page []byte) {
	clear(page)
	t.BKInfo.Put(page[trailerOffBKInfo:])
	t.SignDb.Put(page[trailerOffSignDb:])
	t.SignLog.Put(page[trailerOffSignLog:])
	le.PutUint32(page[trailerOffGenMinRequired:], t.GenMinRequired)
	le.PutUint32(page[trailerOffGenMaxRequired:], t.GenMaxRequired)
	le.PutUint32(page[trailerOffGenMaxCommitted:], t.GenMaxCommitted)
	copy(page[trailerOffLogtimeMaxReq:], t.LogtimeGenMaxRequired[:])
	copy(page[trailerOffLogtimeMaxCommt:], t.LogtimeGenMaxCommitted[:])
	SetHeaderChecksum(page)
}

// IsTrailerPage reports whether page has the shape esentutl uses to spot a
// backup trailer at the end of a database: not all zero, with the checksum's
// high dword, the dbtime and objidFDP all zero. It does not check the
// checksum; ParseTrailer does.
func IsTrailerPage(page []byte) bool {
	if len(page) < TrailerSize || isZero(page) {
		return false
	}
	return le.Uint32(page[4:]) == 0 && // high dword of a data-page checksum
		le.Uint64(page[8:]) == 0 && // dbtimeDirtied
		le.Uint32(page[24:]) == 0 // objidFDP
}

// ParseTrailer decodes a trailer page after checking its shape and checksum.
// A page that is not a trailer or fails its checksum gives an *ese.Error with
// JET_errBadPatchPage, as ESE's restore does.
func ParseTrailer(page []byte) (*Trailer, error) {
	if !ValidPageSize(len(page)) {
		return nil, ese.NewError(ese.ErrBadPatchPage, "parse trailer", "",
			fmt.Errorf("trailer page is %d bytes, not a database page size", len(page)))
	}
	if !IsTrailerPage(page) {
		return nil, ese.NewError(ese.ErrBadPatchPage, "parse trailer", "",
			errors.New("page is not a backup trailer (zero, or has a dbtime, objid or data-page checksum)"))
	}
	if got, want := le.Uint32(page), HeaderChecksum(page); got != want {
		return nil, ese.NewError(ese.ErrBadPatchPage, "parse trailer", "",
			fmt.Errorf("trailer checksum %08X, computed %08X", got, want))
	}
	t := &Trailer{
		BKInfo:          ParseBKInfo(page[trailerOffBKInfo:]),
		SignDb:          ParseSignature(page[trailerOffSignDb:]),
		SignLog:         ParseSignature(page[trailerOffSignLog:]),
		GenMinRequired:  le.Uint32(page[trailerOffGenMinRequired:]),
		GenMaxRequired:  le.Uint32(page[trailerOffGenMaxRequired:]),
		GenMaxCommitted: le.Uint32(page[trailerOffGenMaxCommitted:]),
	}
	copy(t.LogtimeGenMaxRequired[:], page[trailerOffLogtimeMaxReq:])
	copy(t.LogtimeGenMaxCommitted[:], page[trailerOffLogtimeMaxCommt:])
	return t, nil
}

// StreamedDB describes a verified backup stream of one database.
type StreamedDB struct {
	Header   *DBHeader // the header snapshot (both copies are identical)
	Trailer  *Trailer
	PageSize int
	Pages    uint32 // data pages, i.e. the database's pgnoLast
	Tally    Tally  // verification result of the data pages
}

// VerifyStreamedDatabase checks that r (size bytes, named name in errors)
// is a complete database backup stream as JetReadFile produces it: two
// identical, valid header snapshots marking a backup copy (bkinfoFullCur with
// genLow set and genHigh still 0), data pages that all verify (zero pages are
// allowed), a trailer that belongs to the header, and a size of exactly
// (pages+3) pages. Data pages are read 1 MiB at a time into one reused
// buffer; ctx is checked between chunks.
//
// Errors are *ese.Error with Op "verify streamed database" and File name:
// JET_errRestoreOfNonBackupDatabase when the header does not mark a backup
// copy (what hard recovery says of such a file), JET_errReadVerifyFailure or
// JET_errReadPgnoVerifyFailure with Page set for a bad data page,
// JET_errMissingPatchPage when the last page is not a trailer,
// JET_errBadPatchPage when the trailer fails its checksum,
// JET_errDatabasePatchFileMismatch when the trailer belongs to another
// database, log stream or backup, JET_errDatabaseCorrupted for a bad header
// or size, JET_errDiskIO for read failures. Cancellation returns ctx.Err()
// wrapped.
func VerifyStreamedDatabase(ctx context.Context, r io.ReaderAt, size int64, name string) (*StreamedDB, error) {
	fail := func(code ese.Code, cause error) error {
		return &ese.Error{Code: code, Op: opVerifyStream, File: name, Err: cause}
	}
	// rewrap gives an *ese.Error from a helper this function's Op and File.
	rewrap := func(err error, pgno uint32) error {
		var e *ese.Error
		if !errors.As(err, &e) {
			return fmt.Errorf("%s %s: %w", opVerifyStream, name, err)
		}
		out := &ese.Error{Code: e.Code, Op: opVerifyStream, File: name, Page: e.Page, Err: e.Err}
		if pgno != 0 {
			out.Page = int64(pgno)
		}
		if out.Err == nil {
			out.Err = errors.New(e.Op)
		}
		return out
	}

	hr, err := ReadDBHeader(r, size, name)
	if err != nil {
		return nil, rewrap(err, 0)
	}
	cb := hr.PageSize
	if !hr.Identical {
		return nil, fail(ese.ErrDatabaseCorrupted, fmt.Errorf(
			"the two header snapshots are not identical valid copies (first ok %v, second ok %v)", hr.PrimaryOK, hr.ShadowOK))
	}
	h := hr.Header
	if h.Attrib != 0 || (h.FileType != FileTypeUnknown && h.FileType != FileTypeDatabase) {
		return nil, fail(ese.ErrDatabaseCorrupted, fmt.Errorf("header is not a database header (attrib %d, file type %s)", h.Attrib, h.FileType))
	}
	bk := h.BKInfoFullCur
	if bk.GenLow == 0 {
		return nil, fail(ese.ErrRestoreOfNonBackupDatabase,
			errors.New("bkinfoFullCur.genLow is 0: the header is not a backup snapshot"))
	}
	if bk.GenHigh != 0 {
		return nil, fail(ese.ErrDatabaseCorrupted, fmt.Errorf(
			"bkinfoFullCur.genHigh is %d: the trailer was already folded into the header, this is not a raw backup stream", bk.GenHigh))
	}
	if size%int64(cb) != 0 {
		return nil, fail(ese.ErrDatabaseCorrupted, fmt.Errorf("stream size %d is not a multiple of the page size %d", size, cb))
	}
	total := size / int64(cb)
	if total < StreamExtraPages+1 {
		return nil, fail(ese.ErrDatabaseCorrupted, fmt.Errorf("stream has %d pages, no room for a data page", total))
	}
	if total-StreamExtraPages > int64(^uint32(0)) {
		return nil, fail(ese.ErrDatabaseCorrupted, fmt.Errorf("stream has %d pages, more than 32-bit page numbers reach", total))
	}
	pages := uint32(total - StreamExtraPages)

	// Data pages: the stream without its trailer has the layout of a
	// database file, so the ordinary page scan applies.
	tally, err := VerifyDatabase(ctx, r, size-int64(cb), cb, func(pgno uint32, c PageCheck) error {
		if c.Status == PageBad {
			return rewrap(c.Err(name, pgno), pgno)
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, fmt.Errorf("%s %s: %w", opVerifyStream, name, err)
		}
		return nil, rewrap(err, 0)
	}

	// Trailer: the last page.
	tp := make([]byte, cb)
	if err := readAt(r, tp, size-int64(cb)); err != nil {
		return nil, fail(ese.ErrDiskIO, fmt.Errorf("read trailer: %w", err))
	}
	if !IsTrailerPage(tp) {
		return nil, fail(ese.ErrMissingPatchPage, errors.New("the last page is not a backup trailer"))
	}
	t, err := ParseTrailer(tp)
	if err != nil {
		return nil, rewrap(err, 0)
	}
	if err := matchTrailer(h, t); err != nil {
		return nil, fail(ese.ErrDatabasePatchFileMismatch, err)
	}
	return &StreamedDB{Header: h, Trailer: t, PageSize: cb, Pages: pages, Tally: tally}, nil
}

// matchTrailer applies the checks ESE's restore makes before it trusts a
// trailer (ErrDBCheckDBHeaderAndTrailer in db.cxx, ErrLGCheckDBFiles in
// _log/logutil.cxx): same database and log signatures, same backup mark, a
// genHigh, and the header's genLow at the bottom of the trailer's range.
func matchTrailer(h *DBHeader, t *Trailer) error {
	switch {
	case t.SignDb != h.SignDb:
		return fmt.Errorf("trailer signDb %s, header %s", t.SignDb, h.SignDb)
	case t.SignLog != h.SignLog:
		return fmt.Errorf("trailer signLog %s, header %s", t.SignLog, h.SignLog)
	case t.BKInfo.Mark != h.BKInfoFullCur.Mark:
		return fmt.Errorf("trailer backup mark %s, header %s", t.BKInfo.Mark, h.BKInfoFullCur.Mark)
	case t.BKInfo.GenHigh == 0:
		return errors.New("trailer genHigh is 0")
	case t.BKInfo.GenLow != h.BKInfoFullCur.GenLow:
		return fmt.Errorf("trailer genLow %d, header %d", t.BKInfo.GenLow, h.BKInfoFullCur.GenLow)
	case t.BKInfo.GenHigh < t.BKInfo.GenLow:
		return fmt.Errorf("trailer genHigh %d below genLow %d", t.BKInfo.GenHigh, t.BKInfo.GenLow)
	}
	return nil
}
