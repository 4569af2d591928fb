package engine

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/esesnap/esesnap/ese"
)

// streamUntilError streams one database and returns the first read error.
func streamUntilError(t *testing.T, in *Instance, db string, buf []byte) error {
	t.Helper()
	wantCode(t, in.BeginExternalBackup(0), ese.ErrSuccess)
	defer in.EndExternalBackup(ese.BackupEndAbort)
	h, _, err := in.OpenFile(db)
	if err != nil {
		return err
	}
	for {
		n, err := in.ReadFile(h, buf)
		if err != nil {
			return err
		}
		if n == 0 {
			return in.CloseFile(h)
		}
	}
}

// TestEveryUsedPageBitFlip flips one random bit of every used page of the
// real sample databases, one page at a time, and expects the backup to fail
// with JET_errReadVerifyFailure naming exactly that page.
func TestEveryUsedPageBitFlip(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the full page sweep runs in the normal test suite")
	}
	for _, set := range []string{"srum-win10-clean", "srum-win10-dirty", "srum-win11-dirty"} {
		t.Run(set, func(t *testing.T) {
			dir := copySample(t, set)
			db := filepath.Join(dir, "SRUDB.dat")
			in := openInstance(t, Config{LogDir: dir})
			ps := int64(in.PageSize())
			data, err := os.ReadFile(db)
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(db, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rng := rand.New(rand.NewPCG(1, uint64(len(set))))
			buf := ese.AlignedBuffer(256 << 10)
			used := 0
			for pgno := int64(1); (pgno+2)*ps <= int64(len(data)); pgno++ {
				page := data[(pgno+1)*ps : (pgno+2)*ps]
				if isZeroPage(page) {
					continue
				}
				used++
				bit := rng.Int64N(ps * 8)
				off := (pgno+1)*ps + bit/8
				orig := data[off]
				if _, err := f.WriteAt([]byte{orig ^ 1<<(bit%8)}, off); err != nil {
					t.Fatal(err)
				}
				err := streamUntilError(t, in, db, buf)
				var ee *ese.Error
				if !errors.As(err, &ee) || ee.Code != ese.ErrReadVerifyFailure || ee.Page != pgno || ee.File != db {
					t.Fatalf("page %d bit %d flipped: got %v, want JET_errReadVerifyFailure naming %s page %d", pgno, bit, err, db, pgno)
				}
				if _, err := f.WriteAt([]byte{orig}, off); err != nil {
					t.Fatal(err)
				}
			}
			if used == 0 {
				t.Fatal("no used page found")
			}
			t.Logf("%s: %d used pages, every flip detected", set, used)
			// Undamaged again: the stream goes through.
			wantCode(t, streamUntilError(t, in, db, buf), ese.ErrSuccess)
		})
	}
}

func isZeroPage(p []byte) bool {
	for _, b := range p {
		if b != 0 {
			return false
		}
	}
	return true
}
