package format

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/esesnap/esesnap/ese"
)

func TestVerifyDatabaseSamples(t *testing.T) {
	for _, s := range dbSamples {
		t.Run(s.path, func(t *testing.T) {
			b := loadSample(t, s.path)
			var calls, uninit int64
			var bad []uint32
			tally, err := VerifyDatabase(context.Background(), bytes.NewReader(b), int64(len(b)), s.pageSize,
				func(pgno uint32, c PageCheck) error {
					calls++
					switch c.Status {
					case PageBad:
						bad = append(bad, pgno)
						if c.Err(s.path, pgno) == nil {
							t.Errorf("page %d: bad page without error", pgno)
						}
					case PageUninitialized:
						uninit++
					default:
						t.Errorf("page %d: fn called for status %v", pgno, c.Status)
					}
					return nil
				})
			if err != nil {
				t.Fatal(err)
			}
			if tally.OK != s.ok || tally.Bad != s.bad || tally.Uninitialized != s.uninit {
				t.Errorf("tally ok %d bad %d uninit %d, want %d/%d/%d", tally.OK, tally.Bad, tally.Uninitialized, s.ok, s.bad, s.uninit)
			}
			if tally.Pages() != int64(len(b)/s.pageSize-2) {
				t.Errorf("counted %d pages", tally.Pages())
			}
			if calls != s.bad+s.uninit || uninit != s.uninit || len(bad) != int(s.bad) {
				t.Errorf("fn calls %d (uninit %d, bad %d)", calls, uninit, len(bad))
			}
			if len(tally.BadPages) != int(s.bad) {
				t.Fatalf("BadPages %v", tally.BadPages)
			}
			for i, p := range tally.BadPages {
				if s.badFirst != 0 && p != s.badFirst+uint32(i) {
					t.Errorf("bad page %d is %d, want range %d..%d", i, p, s.badFirst, s.badEnd)
				}
				if bad[i] != p {
					t.Errorf("fn saw bad page %d, tally %d", bad[i], p)
				}
			}
			if s.badFirst != 0 && tally.BadPages[len(tally.BadPages)-1] != s.badEnd {
				t.Errorf("last bad page %d want %d", tally.BadPages[len(tally.BadPages)-1], s.badEnd)
			}
		})
	}
}

func TestVerifyDatabaseNilCallbackAndBadPageCap(t *testing.T) {
	// 1100 garbage pages: all bad, only MaxBadPages remembered.
	const ps = 2048
	b := bytes.Repeat([]byte{0x5A}, (1100+2)*ps)
	tally, err := VerifyDatabase(context.Background(), bytes.NewReader(b), int64(len(b)), ps, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tally.Bad != 1100 || len(tally.BadPages) != MaxBadPages || tally.BadPages[MaxBadPages-1] != MaxBadPages {
		t.Errorf("bad %d, kept %d", tally.Bad, len(tally.BadPages))
	}
}

func TestVerifyDatabaseStops(t *testing.T) {
	b := loadSample(t, "dissect-large-32k/large.edb.gz") // 24 MiB: many chunks
	r := bytes.NewReader(b)
	size := int64(len(b))

	stop := errors.New("stop")
	var seen uint32
	tally, err := VerifyDatabase(context.Background(), r, size, 32768, func(pgno uint32, c PageCheck) error {
		seen = pgno
		return stop
	})
	if !errors.Is(err, stop) || tally.Pages() != int64(seen) {
		t.Errorf("callback error: %v after %d pages (stopped at %d)", err, tally.Pages(), seen)
	}

	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	tally, err = VerifyDatabase(ctx, r, size, 32768, func(uint32, PageCheck) error {
		calls++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: %v", err)
	}
	if tally.Pages() >= int64(len(b)/32768-2) || tally.Pages()%32 != 0 {
		t.Errorf("cancel: counted %d pages, want a whole number of 1 MiB chunks short of the end", tally.Pages())
	}
}

func TestVerifyDatabaseErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := VerifyDatabase(ctx, bytes.NewReader(nil), 1<<20, 3000, nil); err == nil {
		t.Error("page size 3000 accepted")
	}
	tally, err := VerifyDatabase(ctx, bytes.NewReader(make([]byte, 8192)), 8192, 4096, nil)
	if err != nil || tally.Pages() != 0 {
		t.Errorf("headers only: %v %+v", err, tally)
	}
	_, err = VerifyDatabase(ctx, errReaderAt{}, 1<<20, 4096, nil)
	var ee *ese.Error
	if !errors.As(err, &ee) || ee.Code != ese.ErrDiskIO || ee.Page != 1 {
		t.Errorf("read error: %v", err)
	}
	// The file is shorter than the size we were told.
	b := make([]byte, 10*4096)
	_, err = VerifyDatabase(ctx, bytes.NewReader(b), 20*4096, 4096, nil)
	if !errors.Is(err, ese.ErrDiskIO) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short file: %v", err)
	}
}
