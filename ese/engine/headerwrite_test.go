package engine

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

// TestHeaderCopiesWrittenInTurn records a full backup on a writable copy of
// a real set while the fault double fails the header writes from a given
// offset: the primary copy must be written and flushed before the shadow is
// touched, so that a failure between the two leaves the old shadow intact
// and the header readable.
func TestHeaderCopiesWrittenInTurn(t *testing.T) {
	const never = int64(1) << 62
	tests := []struct {
		name        string
		failFrom    func(ps int64) int64
		ops         func(ps int64) []string
		primaryNew  bool // the primary copy holds the new record
		shadowNew   bool
		unavailable bool
	}{
		{"no failure", func(int64) int64 { return never },
			func(ps int64) []string {
				return []string{"write 0", "sync", "write " + strconv.FormatInt(ps, 10), "sync"}
			}, true, true, false},
		{"shadow write fails", func(ps int64) int64 { return ps },
			func(ps int64) []string {
				return []string{"write 0", "sync", "write " + strconv.FormatInt(ps, 10) + " failed"}
			}, true, false, true},
		{"primary write fails", func(int64) int64 { return 0 },
			func(int64) []string { return []string{"write 0 failed"} }, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copySample(t, "srum-win10-dirty")
			db := filepath.Join(dir, "SRUDB.dat")
			before, err := os.ReadFile(db)
			if err != nil {
				t.Fatal(err)
			}
			old, err := format.ReadDBHeader(bytes.NewReader(before), int64(len(before)), db)
			if err != nil {
				t.Fatal(err)
			}
			ps := int64(old.PageSize)
			fsys := &faultFS{failWrite: "SRUDB.dat", failFrom: tt.failFrom(ps)}
			in := openInstance(t, Config{LogDir: dir, Writable: true, FS: fsys})
			runBackup(t, in, 0, false, ese.BackupEndNormal) // End succeeds even when the write fails, as in ESE

			if want := tt.ops(ps); !slices.Equal(fsys.ops, want) {
				t.Fatalf("header I/O %q, want %q", fsys.ops, want)
			}
			after, err := os.ReadFile(db)
			if err != nil {
				t.Fatal(err)
			}
			hr, err := format.ReadDBHeader(bytes.NewReader(after), int64(len(after)), db)
			if err != nil {
				t.Fatalf("the header is unreadable after the failure: %v", err)
			}
			if !hr.PrimaryOK || !hr.ShadowOK {
				t.Fatalf("a header copy is damaged: %+v", hr)
			}
			for i, isNew := range []bool{tt.primaryNew, tt.shadowNew} {
				page := after[int64(i)*ps : int64(i+1)*ps]
				unchanged := bytes.Equal(page, before[int64(i)*ps:int64(i+1)*ps])
				if unchanged == isNew {
					t.Errorf("header copy %d: unchanged %t, want new record %t", i, unchanged, isNew)
				}
			}
			if got := hr.Header.BKInfoCopyPrev.GenHigh != 0; got != tt.primaryNew {
				t.Errorf("the elected header records the copy backup: %t, want %t", got, tt.primaryNew)
			}
			want := ese.ErrSuccess
			if tt.unavailable {
				want = ese.ErrInstanceUnavailable
			}
			err = in.BeginExternalBackup(0)
			wantCode(t, err, want)
			if err == nil {
				wantCode(t, in.EndExternalBackup(ese.BackupEndAbort), ese.ErrSuccess)
			}
		})
	}
}
