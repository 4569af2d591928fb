package synth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/esesnap/esesnap/ese/format"
)

// chunkSize is the size of the one buffer pages are built in and written
// from; every page size divides it.
const chunkSize = 1 << 20

// Page header fields (ese-format.md §3) this package writes; the checksum,
// the checksum-format flag and the large-page pgno are left to
// format.SetPageChecksum.
const (
	offDBTime     = 8
	offPgnoPrev   = 16
	offPgnoNext   = 20
	offObjidFDP   = 24
	offCbFree     = 28
	offIbMicFree  = 32
	offItagState  = 34
	smallHdrSize  = 40
	largeHdrSize  = 80
	largePageSize = 16384 // from this size on pages have the 80-byte header
	tagSize       = 4
	maxTags       = 16
)

// Page flags (ese-format.md §3.3).
const (
	flagRoot       = 0x1
	flagLeaf       = 0x2
	flagParentLeaf = 0x4
	flagSpaceTree  = 0x20
	flagIndex      = 0x40
	flagLongValue  = 0x80
	flagNewRecord  = 0x800
)

// pageHeaderSize returns where the payload of a page of size cb starts.
func pageHeaderSize(cb int) int {
	if cb >= largePageSize {
		return largeHdrSize
	}
	return smallHdrSize
}

// usedInExtent returns how many leading pages of extent e (0-based) have
// content: the UsedPages are spread evenly over the extents, so the count is
// the difference of floor(end*used/pages) at the extent's two ends.
func usedInExtent(e, pages, used uint32) uint32 {
	lo := uint64(e) * extentPages
	hi := min(lo+extentPages, uint64(pages))
	return uint32(hi*uint64(used)/uint64(pages) - lo*uint64(used)/uint64(pages))
}

// extentInfo is what all pages of an extent share: the tree they belong to
// and the kind of page.
type extentInfo struct {
	objid uint32
	flags uint32
}

func extentFor(seed int64, e uint32) extentInfo {
	r := newRNG(seed, streamExtent, uint64(e))
	objid := objidFirstUser + uint32(r.intn(objidSpread))
	var flags uint32 = flagLeaf | flagNewRecord
	switch k := r.intn(10); {
	case k < 6: // table data
	case k < 8:
		flags |= flagIndex
	case k < 9:
		flags |= flagLongValue
	default:
		flags = flagLeaf | flagSpaceTree
	}
	return extentInfo{objid: objid, flags: flags}
}

// fillPage writes a complete, valid data page for pgno into page (which may
// hold anything) and returns its dbtime. i is the page's index in its
// extent's run of used pages, runLen the run's length.
func fillPage(page []byte, pgno uint32, o *Options, ext extentInfo, i, runLen uint32) uint64 {
	cb := len(page)
	clear(page)
	r := newRNG(o.Seed, streamPage, uint64(pgno))
	dbtime := dbBaseDBTime + r.next()%(4*uint64(o.Pages)+1)
	le.PutUint64(page[offDBTime:], dbtime)
	// The run is one small tree: a root over a chain of leaves, or a
	// single page that is root and leaf at once.
	flags := ext.flags
	switch {
	case runLen == 1:
		flags |= flagRoot
	case i == 0:
		flags = flags&^flagLeaf | flagRoot | flagParentLeaf
	default:
		if i > 1 {
			le.PutUint32(page[offPgnoPrev:], pgno-1)
		}
		if i+1 < runLen {
			le.PutUint32(page[offPgnoNext:], pgno+1)
		}
	}
	le.PutUint32(page[offObjidFDP:], ext.objid)
	le.PutUint32(page[format.OffPageFlags:], flags)

	// Records from the payload start, a tag array at the end, free space in
	// between: between half and all of the room is used.
	hdr := pageHeaderSize(cb)
	tags := 1 + r.intn(maxTags)
	room := cb - hdr - tags*tagSize
	used := room/2 + r.intn(room/2+1)
	r.fill(page[hdr : hdr+used])
	rec := used / tags
	for t := 0; t < tags; t++ {
		size := rec
		if t == tags-1 {
			size = used - rec*(tags-1)
		}
		off := cb - (t+1)*tagSize
		le.PutUint16(page[off:], uint16(size))
		le.PutUint16(page[off+2:], uint16(t*rec))
	}
	le.PutUint16(page[offCbFree:], uint16(room-used))
	le.PutUint16(page[offIbMicFree:], uint16(used))
	le.PutUint16(page[offItagState:], uint16(tags))
	format.SetPageChecksum(page, pgno)
	return dbtime
}

// writeDatabase writes the database file: it sizes the file first, so zero
// pages stay holes, builds used pages in a reused buffer and writes each
// run of them, then writes the header and its shadow.
func (p *plan) writeDatabase(ctx context.Context, path string) (st dbStats, err error) {
	o := &p.o
	cb := o.PageSize
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return st, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	if err := f.Truncate((int64(o.Pages) + 2) * int64(cb)); err != nil {
		return st, err
	}
	buf := make([]byte, min(int64(chunkSize), (int64(o.Pages)+1)*int64(cb)))
	st.objidLast = objidFirstUser
	st.dbtime = dbBaseDBTime

	// Pages are produced extent by extent; a run of used pages is flushed
	// when the buffer is full or the run ends.
	nbuf := 0          // bytes in buf
	var runPgno uint32 // pgno of the first page in buf
	flush := func() error {
		if nbuf == 0 {
			return nil
		}
		_, err := f.WriteAt(buf[:nbuf], (int64(runPgno)+1)*int64(cb))
		nbuf = 0
		return err
	}
	extents := uint32((uint64(o.Pages) + extentPages - 1) / extentPages)
	for e := uint32(0); e < extents; e++ {
		if e%256 == 0 {
			if err := ctx.Err(); err != nil {
				return st, err
			}
		}
		n := usedInExtent(e, o.Pages, o.UsedPages)
		if n == 0 {
			continue
		}
		ext := extentFor(o.Seed, e)
		st.objidLast = max(st.objidLast, ext.objid)
		first := e*extentPages + 1
		for i := uint32(0); i < n; i++ {
			pgno := first + i
			if nbuf == len(buf) || (nbuf > 0 && runPgno+uint32(nbuf/cb) != pgno) {
				if err := flush(); err != nil {
					return st, err
				}
			}
			if nbuf == 0 {
				runPgno = pgno
			}
			st.dbtime = max(st.dbtime, fillPage(buf[nbuf:nbuf+cb], pgno, o, ext, i, n))
			nbuf += cb
		}
	}
	if err := flush(); err != nil {
		return st, err
	}

	hdr := buf[:cb]
	clear(hdr)
	p.dbHeader(st).Encode(hdr)
	format.SetHeaderChecksum(hdr)
	if _, err := f.WriteAt(hdr, 0); err != nil {
		return st, err
	}
	if _, err := f.WriteAt(hdr, int64(cb)); err != nil {
		return st, err
	}
	return st, nil
}

// writeHeader stores an updated database header (both copies) of the file
// f whose elected header page is page.
func writeHeader(f *os.File, h *format.DBHeader, page []byte) error {
	h.Encode(page)
	format.SetHeaderChecksum(page)
	if _, err := f.WriteAt(page, 0); err != nil {
		return err
	}
	_, err := f.WriteAt(page, int64(len(page)))
	return err
}

// TouchPages simulates changes to a database at rest, for incremental and
// dedup tests: every non-zero data page of the database at path is chosen
// with probability fraction (drawn from seed, so runs repeat) and gets new
// payload bytes, a new dbtime above the header's and a valid checksum; the
// header's dbtime is raised to match. Zero pages stay zero. It returns the
// number of pages rewritten.
func TouchPages(path string, fraction float64, seed int64) (int, error) {
	if math.IsNaN(fraction) {
		return 0, errors.New("synth: touch pages: fraction is NaN")
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("synth: touch pages: %w", err)
	}
	n, err := touchPages(f, path, fraction, seed)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("synth: touch pages of %s: %w", path, err)
	}
	return n, nil
}

func touchPages(f *os.File, path string, fraction float64, seed int64) (int, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := fi.Size()
	hr, err := format.ReadDBHeader(f, size, path)
	if err != nil {
		return 0, err
	}
	cb := hr.PageSize
	pages := size/int64(cb) - 2
	if pages <= 0 {
		return 0, nil
	}
	// threshold compares with 53 random bits: fraction 1 takes every page.
	threshold := uint64(min(max(fraction, 0), 1) * (1 << 53))
	dbtime := hr.Header.DBTime
	hdr := pageHeaderSize(cb)
	buf := make([]byte, min(int64(chunkSize), pages*int64(cb)))
	perChunk := int64(len(buf) / cb)
	changed := 0
	for first := int64(1); first <= pages; first += perChunk {
		cnt := min(perChunk, pages-first+1)
		chunk := buf[:cnt*int64(cb)]
		if got, err := f.ReadAt(chunk, (first+1)*int64(cb)); got < len(chunk) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return changed, err
		}
		runStart := int64(-1) // index in chunk of the first page of a run of changed pages
		writeRun := func(end int64) error {
			if runStart < 0 {
				return nil
			}
			_, err := f.WriteAt(chunk[runStart*int64(cb):end*int64(cb)], (first+runStart+1)*int64(cb))
			runStart = -1
			return err
		}
		for i := int64(0); i < cnt; i++ {
			pgno := uint32(first + i)
			page := chunk[i*int64(cb) : (i+1)*int64(cb)]
			r := newRNG(seed, streamTouch, uint64(pgno))
			if isZeroPage(page) || r.next()>>11 >= threshold {
				if err := writeRun(i); err != nil {
					return changed, err
				}
				continue
			}
			dbtime++
			le.PutUint64(page[offDBTime:], dbtime)
			used := int(le.Uint16(page[offIbMicFree:]))
			if used <= 0 || used > cb-hdr {
				used = (cb - hdr) / 2
			}
			r.fill(page[hdr : hdr+used])
			format.SetPageChecksum(page, pgno)
			changed++
			if runStart < 0 {
				runStart = i
			}
		}
		if err := writeRun(cnt); err != nil {
			return changed, err
		}
	}
	if changed == 0 {
		return 0, nil
	}
	hr.Header.DBTime = dbtime
	return changed, writeHeader(f, hr.Header, hr.Page)
}

// isZeroPage reports whether page holds only zero bytes.
func isZeroPage(page []byte) bool {
	for len(page) >= 8 {
		if le.Uint64(page) != 0 {
			return false
		}
		page = page[8:]
	}
	for _, c := range page {
		if c != 0 {
			return false
		}
	}
	return true
}
