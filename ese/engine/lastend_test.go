package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

// TestLastEndTellsWhatWasWritten: LastEnd names the header field and the
// databases only when End wrote them; a header that already records a
// newer backup keeps it, and then nothing is reported as recorded.
func TestLastEndTellsWhatWasWritten(t *testing.T) {
	for _, tc := range []struct {
		name      string
		newerMark bool
		want      string
	}{
		{"recorded", false, RecordFull},
		{"header keeps a newer record", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copySample(t, "srum-win10-dirty")
			db := filepath.Join(dir, "SRUDB.dat")
			if tc.newerMark {
				b, err := os.ReadFile(db)
				if err != nil {
					t.Fatal(err)
				}
				hr, err := format.ReadDBHeaderFile(db)
				if err != nil {
					t.Fatal(err)
				}
				h := hr.Header
				h.BKInfoFullPrev = format.BKInfo{Mark: format.LGPos{Gen: 0x7FFFFFFF}, GenLow: 1, GenHigh: 2}
				for _, off := range []int{0, hr.PageSize} {
					h.Encode(b[off : off+hr.PageSize])
					format.SetHeaderChecksum(b[off : off+hr.PageSize])
				}
				if err := os.WriteFile(db, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			in := openInstance(t, Config{LogDir: dir, Writable: true, Now: fixedNow})
			runBackup(t, in, 0, true, ese.BackupEndNormal)
			rep := in.LastEnd()
			if rep.Outcome != ese.EndNormal || rep.Recorded != tc.want || (tc.want == "") != (len(rep.Databases) == 0) || rep.Err != nil {
				t.Fatalf("LastEnd = %+v, want recorded %q", rep, tc.want)
			}
		})
	}
}
