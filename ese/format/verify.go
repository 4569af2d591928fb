package format

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/esesnap/esesnap/ese"
)

// MaxBadPages is how many bad page numbers a Tally keeps.
const MaxBadPages = 1000

// verifyChunk is how many bytes VerifyDatabase reads at a time; a multiple
// of every page size.
const verifyChunk = 1 << 20

// Tally counts the verdicts of a database scan.
type Tally struct {
	OK, Bad, Uninitialized int64
	BadPages               []uint32 // the first MaxBadPages bad pgnos, ascending
}

// Pages returns the number of pages counted.
func (t Tally) Pages() int64 { return t.OK + t.Bad + t.Uninitialized }

// VerifyDatabase checks the checksum of every data page of a database file
// of size bytes with pages of pageSize bytes: logical pages 1 to
// size/pageSize-2 (the two header pages are not data pages). It reads 1 MiB
// at a time into one reused buffer and calls fn, if not nil, for every page
// that is not OK (bad or uninitialised); an error from fn stops the scan and
// is returned. ctx is checked between chunks. Read failures are
// *ese.Error with JET_errDiskIO.
func VerifyDatabase(ctx context.Context, r io.ReaderAt, size int64, pageSize int, fn func(pgno uint32, c PageCheck) error) (Tally, error) {
	const op = "verify database"
	var t Tally
	if !ValidPageSize(pageSize) {
		return t, fmt.Errorf("%s: invalid page size %d", op, pageSize)
	}
	ps := int64(pageSize)
	npages := size/ps - 2
	if npages <= 0 {
		return t, nil
	}
	if npages > 1<<32-1 {
		return t, fmt.Errorf("%s: %d pages exceed the 32-bit page number range", op, npages)
	}
	chunk := int64(verifyChunk)
	if rest := npages * ps; rest < chunk {
		chunk = rest
	}
	buf := make([]byte, chunk)
	pgno := uint32(1)
	for off, end := 2*ps, (npages+2)*ps; off < end; {
		if err := ctx.Err(); err != nil {
			return t, fmt.Errorf("%s: %w", op, err)
		}
		n := chunk
		if end-off < n {
			n = end - off
		}
		b := buf[:n]
		if got, err := r.ReadAt(b, off); got < len(b) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return t, &ese.Error{Code: ese.ErrDiskIO, Op: op, Page: int64(pgno),
				Err: fmt.Errorf("read %d bytes at offset %d: %w", len(b), off, err)}
		}
		for len(b) >= pageSize {
			c := VerifyPage(b[:pageSize], pgno)
			switch c.Status {
			case PageOK:
				t.OK++
			case PageUninitialized:
				t.Uninitialized++
			default:
				t.Bad++
				if len(t.BadPages) < MaxBadPages {
					t.BadPages = append(t.BadPages, pgno)
				}
			}
			if c.Status != PageOK && fn != nil {
				if err := fn(pgno, c); err != nil {
					return t, err
				}
			}
			b = b[pageSize:]
			pgno++
		}
		off += n
	}
	return t, nil
}
