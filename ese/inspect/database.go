package inspect

import (
	"context"
	"fmt"
	"io"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

// database inspects a database file: header election, header fields,
// streamed-copy detection and (unless NoVerify) the checksum of every page.
func (in *inspector) database(ctx context.Context, r io.ReaderAt, size int64, file string, gz bool) error {
	d := Database{File: file, Gunzipped: gz, Size: size, BadPages: []BadPage{}}
	hr, err := format.ReadDBHeader(r, size, file)
	if err != nil {
		in.err(problemFrom(file, "read database header", ese.ErrDatabaseCorrupted, err))
		in.rep.Databases = append(in.rep.Databases, d)
		return nil
	}
	h := hr.Header
	fillDBHeader(&d, hr)
	switch {
	case !hr.PrimaryOK:
		in.warn(note(file, "read database header", ese.ErrReadVerifyFailure,
			"primary header copy (file page 0) fails its checksum; the shadow copy is used"))
	case !hr.ShadowOK:
		in.warn(note(file, "read database header", ese.ErrReadVerifyFailure,
			"shadow header copy (file page 1) fails its checksum or is missing"))
	case !hr.Identical:
		in.warn(note(file, "read database header", ese.ErrDatabaseCorrupted,
			"primary and shadow header copies are both valid but differ; the primary is used"))
	}
	ps := int64(hr.PageSize)
	if rest := size % ps; rest != 0 {
		in.warn(note(file, "read database header", ese.ErrDatabaseCorrupted,
			"file size %d is not a multiple of the page size %d; the last %d bytes are ignored", size, ps, rest))
	}

	// A backup stream: the header snapshot marks a backup in progress and
	// the last page is a trailer (ese-format.md §2).
	limit := size - size%ps
	var trailerPage []byte
	if h.BKInfoFullCur.GenLow != 0 && h.BKInfoFullCur.GenHigh == 0 && limit >= 4*ps {
		last := make([]byte, ps)
		if n, _ := r.ReadAt(last, limit-ps); n == len(last) && format.IsTrailerPage(last) {
			d.StreamedCopy = true
			trailerPage = last
			limit -= ps
		} else {
			in.warn(note(file, "read database header", ese.ErrMissingPatchPage,
				"header marks a backup copy (bkinfoFullCur genLow %d, genHigh 0) but the last page is not a backup trailer", h.BKInfoFullCur.GenLow))
		}
	}
	if d.StreamedCopy {
		in.checkTrailer(&d, h, hr.Identical, trailerPage)
	}

	if !in.opts.NoVerify {
		if err := in.verifyPages(ctx, r, limit, &d); err != nil {
			return err
		}
	}
	in.rep.Databases = append(in.rep.Databases, d)
	return nil
}

// fillDBHeader copies the header fields into the report entry.
func fillDBHeader(d *Database, hr *format.HeaderRead) {
	h := hr.Header
	d.Header = h
	d.FileType = uint32(h.FileType)
	d.FileTypeName = h.FileType.String()
	d.Temp = h.FileType == format.FileTypeTempDatabase
	d.PageSize = hr.PageSize
	d.State = uint32(h.State)
	d.StateName = h.State.String()
	d.Consistent = h.State.Consistent()
	d.Format = h.FormatString()
	d.FormatVersion = h.Version
	d.FormatRevision = h.UpdateMajor
	d.FormatUpdateMinor = h.UpdateMinor
	d.CreatedFormat = fmt.Sprintf("%#x,%d", h.CreateVersion, h.CreateUpdate)
	d.DBTime = h.DBTime
	d.DBID = h.DBID
	d.OSVersion = fmt.Sprintf("%d.%d.%d SP%d", h.OSMajor, h.OSMinor, h.OSBuild, h.OSSP)
	d.RepairCount = h.RepairCount
	d.SignDb = sig(h.SignDb)
	d.SignLog = sig(h.SignLog)
	d.GenMinRequired = h.GenMinRequired
	d.GenMaxRequired = h.GenMaxRequired
	d.GenMaxCommitted = h.GenMaxCommitted
	d.GenMinConsistent = h.GenMinConsistent
	d.LogtimeGenMaxRequired = h.LogtimeGenMaxRequired.String()
	d.LogtimeGenMaxCommitted = h.LogtimeGenMaxCreate.String()
	d.LgposConsistent = pos(h.LgposConsistent)
	d.LogtimeConsistent = h.LogtimeConsistent.String()
	d.LgposAttach = pos(h.LgposAttach)
	d.LogtimeAttach = h.LogtimeAttach.String()
	d.LgposDetach = pos(h.LgposDetach)
	d.LogtimeDetach = h.LogtimeDetach.String()
	d.BKInfoFullPrev = bk(h.BKInfoFullPrev, h.BKInfoTypeFullPrev)
	d.BKInfoIncPrev = bk(h.BKInfoIncPrev, h.BKInfoTypeIncPrev)
	d.BKInfoDiffPrev = bk(h.BKInfoDiffPrev, h.BKInfoTypeDiffPrev)
	d.BKInfoCopyPrev = bk(h.BKInfoCopyPrev, h.BKInfoTypeCopyPrev)
	d.BKInfoFullCur = bk(h.BKInfoFullCur, 0)
	d.BKInfoSnapshotCur = bk(h.BKInfoSnapshotCur, 0)
	d.HeaderPrimaryOK = hr.PrimaryOK
	d.HeaderShadowOK = hr.ShadowOK
	d.HeaderIdentical = hr.Identical
	d.HeaderUsedShadow = hr.UsedShadow
}

// checkTrailer decodes the trailer of a streamed copy and applies the
// checks a restore makes before trusting it (same database, log stream and
// backup, both header snapshots identical).
func (in *inspector) checkTrailer(d *Database, h *format.DBHeader, identical bool, page []byte) {
	const op = "verify streamed database"
	t, err := format.ParseTrailer(page)
	if err != nil {
		in.err(problemFrom(d.File, op, ese.ErrBadPatchPage, err))
		d.Trailer = &TrailerInfo{}
		return
	}
	ti := &TrailerInfo{GenLow: t.BKInfo.GenLow, GenHigh: t.BKInfo.GenHigh, Mark: pos(t.BKInfo.Mark),
		GenMinRequired: t.GenMinRequired, GenMaxRequired: t.GenMaxRequired, GenMaxCommitted: t.GenMaxCommitted}
	d.Trailer = ti
	var why string
	switch {
	case !identical:
		why = "the two header snapshots are not identical"
	case t.SignDb != h.SignDb:
		why = fmt.Sprintf("trailer signDb %s, header %s", t.SignDb, h.SignDb)
	case t.SignLog != h.SignLog:
		why = fmt.Sprintf("trailer signLog %s, header %s", t.SignLog, h.SignLog)
	case t.BKInfo.Mark != h.BKInfoFullCur.Mark:
		why = fmt.Sprintf("trailer backup mark %s, header %s", t.BKInfo.Mark, h.BKInfoFullCur.Mark)
	case t.BKInfo.GenLow != h.BKInfoFullCur.GenLow:
		why = fmt.Sprintf("trailer genLow %d, header %d", t.BKInfo.GenLow, h.BKInfoFullCur.GenLow)
	case t.BKInfo.GenHigh < t.BKInfo.GenLow:
		why = fmt.Sprintf("trailer genHigh %d is below genLow %d", t.BKInfo.GenHigh, t.BKInfo.GenLow)
	}
	if why != "" {
		in.err(note(d.File, op, ese.ErrDatabasePatchFileMismatch, "%s", why))
		return
	}
	ti.OK = true
}

// verifyPages runs the checksum pass over the data pages in the first
// limit bytes of r and records tallies, bad pages and errors in d.
func (in *inspector) verifyPages(ctx context.Context, r io.ReaderAt, limit int64, d *Database) error {
	in.pgErrs = 0
	var runs runBuilder
	fn := func(pgno uint32, c format.PageCheck) error {
		if in.opts.Pages {
			runs.add(pgno, c.Status)
		}
		if c.Status != format.PageBad {
			return nil
		}
		perr := c.Err(d.File, pgno)
		code := ese.ErrReadVerifyFailure
		if cc, ok := ese.CodeOf(perr); ok && cc != 0 {
			code = cc
		}
		if len(d.BadPages) < format.MaxBadPages {
			d.BadPages = append(d.BadPages, BadPage{Page: pgno, JetErr: int32(code), Name: code.Name(),
				Reason: c.Reason, Block: c.Block, Bit: c.Bit, ActualPgno: c.ActualPgno})
		}
		if !d.Temp && in.pgErrs < maxPageErrors {
			in.err(problemFrom(d.File, "verify page", code, perr))
			in.pgErrs++
		}
		return nil
	}
	t, err := format.VerifyDatabase(ctx, r, limit, d.PageSize, fn)
	d.PagesVerified = err == nil
	d.PagesTotal, d.PagesOK, d.PagesBad, d.PagesUninitialized = t.Pages(), t.OK, t.Bad, t.Uninitialized
	if in.opts.Pages {
		d.PageRuns = runs.finish(uint32(max(limit/int64(d.PageSize)-2, 0)))
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		in.err(problemFrom(d.File, "verify database", ese.ErrDiskIO, err))
		return nil
	}
	switch {
	case d.Temp && t.Bad > 0:
		in.warn(note(d.File, "verify database", ese.ErrReadVerifyFailure,
			"temp database: %d pages carry no valid checksum; ESE does not checksum temp database pages, so they are not counted as failures", t.Bad))
	case t.Bad > int64(in.pgErrs):
		in.err(note(d.File, "verify database", ese.ErrReadVerifyFailure,
			"%d more bad pages not listed here (%d bad pages in all)", t.Bad-int64(in.pgErrs), t.Bad))
	}
	return nil
}

// runBuilder turns the callbacks of VerifyDatabase (which report only pages
// that are not OK) into runs covering every page.
type runBuilder struct {
	runs []PageRun
	next uint32 // first page not yet covered
}

func (b *runBuilder) push(first, last uint32, status string) {
	if n := len(b.runs); n > 0 && b.runs[n-1].Status == status && b.runs[n-1].Last+1 == first {
		b.runs[n-1].Last = last
		return
	}
	b.runs = append(b.runs, PageRun{First: first, Last: last, Status: status})
}

func (b *runBuilder) add(pgno uint32, s format.PageStatus) {
	if b.next == 0 {
		b.next = 1
	}
	if pgno > b.next {
		b.push(b.next, pgno-1, format.PageOK.String())
	}
	b.push(pgno, pgno, s.String())
	b.next = pgno + 1
}

// finish covers the pages after the last callback up to last.
func (b *runBuilder) finish(last uint32) []PageRun {
	if b.next == 0 {
		b.next = 1
	}
	if last >= b.next {
		b.push(b.next, last, format.PageOK.String())
	}
	if b.runs == nil {
		return []PageRun{}
	}
	return b.runs
}
