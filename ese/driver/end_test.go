package driver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/engine"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/protocol"
)

// endFaultDouble is a test double around a real, writable engine instance
// that acts at End: before JetEndExternalBackupInstance2 it can make the
// application stop the backup, and it can make End itself fail the way
// ESENT's End may (the session is then released aborted, as a failed End
// records nothing).
type endFaultDouble struct {
	*engine.Instance
	stopBeforeEnd bool
	endFails      ese.Code
}

func (f *endFaultDouble) EndExternalBackup(grbit ese.Grbit) error {
	if grbit&ese.BackupEndNormal != 0 {
		if f.stopBeforeEnd {
			f.Instance.StopBackup()
		}
		if f.endFails != 0 {
			f.Instance.EndExternalBackup(ese.BackupEndAbort)
			return &ese.Error{Code: f.endFails, Op: "JetEndExternalBackupInstance2"}
		}
	}
	return f.Instance.EndExternalBackup(grbit)
}

// faultDriver serves the engine through a double that wrap builds.
func faultDriver(t *testing.T, wrap func(*engine.Instance) ese.BackupAPI) *Driver {
	t.Helper()
	d := New(Config{
		Name: "test", Version: "0",
		Open: func(ctx context.Context, src protocol.Source) (*Instance, error) {
			in, err := engine.Open(engine.Config{LogDir: src.Location, Writable: true})
			if err != nil {
				return nil, err
			}
			return &Instance{API: wrap(in), RecordsBackups: true, Close: func() error { return in.Term(ese.TermAbrupt) }}, nil
		},
		IdleTimeout: time.Minute,
	})
	t.Cleanup(func() { d.Close() })
	return d
}

func dbHeader(t *testing.T, path string) *format.DBHeader {
	t.Helper()
	hr, err := format.ReadDBHeaderFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return hr.Header
}

// TestEndTellsTheTruth: whatever End does, its result says which logs were
// truncated and whether the headers record the backup, also when it fails.
func TestEndTellsTheTruth(t *testing.T) {
	for _, tc := range []struct {
		name         string
		double       endFaultDouble
		truncate     bool
		want         ese.Code
		wantRecorded string
	}{
		{name: "normal", truncate: true, wantRecorded: engine.RecordFull},
		{name: "normal-no-truncation", wantRecorded: engine.RecordCopy},
		{name: "stopped-before-end", double: endFaultDouble{stopBeforeEnd: true}, truncate: true, want: ese.ErrBackupAbortByServer},
		{name: "end-fails-after-truncation", double: endFaultDouble{endFails: ese.ErrTermInProgress}, truncate: true, want: ese.ErrTermInProgress},
		{name: "end-fails-without-truncation", double: endFaultDouble{endFails: ese.ErrClientRequestToStopJetService}, want: ese.ErrClientRequestToStopJetService},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := samples.CopySet(t, "srum-win10-dirty")
			d := faultDriver(t, func(in *engine.Instance) ese.BackupAPI {
				dbl := tc.double
				dbl.Instance = in
				return &dbl
			})
			ctx := context.Background()
			id, err := d.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: dir}})
			wantCode(t, err, ese.ErrSuccess)
			backupAll(t, d, id)
			res, err := d.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeSucceeded, TruncateLogs: tc.truncate})
			wantCode(t, err, tc.want)
			if res.Recorded != tc.wantRecorded {
				t.Fatalf("Recorded = %q, want %q (%v)", res.Recorded, tc.wantRecorded, err)
			}
			hdr := dbHeader(t, filepath.Join(dir, "SRUDB.dat"))
			recorded := hdr.BKInfoFullPrev.GenLow != 0 || hdr.BKInfoCopyPrev.GenLow != 0
			if recorded != (tc.wantRecorded != "") {
				t.Fatalf("header full %+v copy %+v; End said recorded %q", hdr.BKInfoFullPrev, hdr.BKInfoCopyPrev, res.Recorded)
			}
			// The result lists exactly the logs that are gone.
			for _, l := range res.Truncated {
				if _, err := os.Stat(l); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("%s reported truncated but still there: %v", l, err)
				}
			}
			if tc.truncate && len(res.Truncated) == 0 {
				t.Fatal("no truncated log reported, but TruncateLog ran before End")
			}
			if !tc.truncate && len(res.Truncated) != 0 {
				t.Fatalf("truncated %v without being asked", res.Truncated)
			}
			if res.LogRange().GenHigh == 0 {
				t.Fatalf("the log range is lost: %+v", res)
			}
			// A retried End gets the same answer.
			again, err2 := d.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeSucceeded, TruncateLogs: tc.truncate})
			c1, _ := ese.CodeOf(err)
			c2, _ := ese.CodeOf(err2)
			if c1 != c2 || again.Recorded != res.Recorded || len(again.Truncated) != len(res.Truncated) {
				t.Fatalf("retried End: %+v %v, first %+v %v", again, err2, res, err)
			}
		})
	}
}

// reReadDouble is a test double whose log list names the newest generation
// once per generation of the range, in different spellings of one path:
// ESE's own check (the sum of the copied generations) accepts that, since
// a re-read of a higher generation outweighs the unread lower one.
type reReadDouble struct {
	*engine.Instance
}

func (r reReadDouble) GetLogInfo() ([]string, ese.LogInfo, error) {
	names, li, err := r.Instance.GetLogInfo()
	if err != nil || len(names) < 2 {
		return names, li, err
	}
	last := names[len(names)-1]
	dir, base := filepath.Dir(last), filepath.Base(last)
	out := []string{last}
	for i := 1; i < len(names); i++ {
		out = append(out, dir+strings.Repeat("/.", i)+"/"+base)
	}
	return out, li, nil
}

// TestTruncationNeedsEveryGeneration: the driver truncates only when every
// generation of the range was read, by the generation in each log's own
// header, whatever the engine's sum says.
func TestTruncationNeedsEveryGeneration(t *testing.T) {
	dir := samples.CopySet(t, "srum-win10-dirty")
	before := listDir(t, dir)
	d := faultDriver(t, func(in *engine.Instance) ese.BackupAPI { return reReadDouble{in} })
	ctx := context.Background()
	id, err := d.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: dir}})
	wantCode(t, err, ese.ErrSuccess)
	backupAll(t, d, id)
	res, err := d.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeSucceeded, TruncateLogs: true})
	wantCode(t, err, ese.ErrLogFileNotCopied)
	if res.Recorded != "" || len(res.Truncated) != 0 || !strings.Contains(err.Error(), "0x51") {
		t.Fatalf("End = %+v, %v: want nothing recorded or truncated and generation 0x51 named", res, err)
	}
	if after := listDir(t, dir); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Fatalf("files changed: before %v, after %v", before, after)
	}
	if h := dbHeader(t, filepath.Join(dir, "SRUDB.dat")); h.BKInfoFullPrev.GenLow != 0 {
		t.Fatalf("the header records the backup: %+v", h.BKInfoFullPrev)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// partialTruncateDouble is a test double whose JetTruncateLogInstance
// deletes the first log it would truncate and then fails, as an access
// denied on the second file would make it.
type partialTruncateDouble struct {
	*engine.Instance
}

func (p partialTruncateDouble) TruncateLog() error {
	names, err := p.Instance.GetTruncateLogInfo()
	if err != nil || len(names) < 2 {
		return &ese.Error{Code: ese.ErrInvalidParameter, Op: "test double", Err: errors.New("want at least two logs to truncate")}
	}
	if err := os.Remove(names[0]); err != nil {
		return err
	}
	return &ese.Error{Code: ese.ErrFileAccessDenied, Op: "JetTruncateLogInstance", File: names[1], Err: errors.New("injected by the test double")}
}

// TestTruncationFailingMidwayIsReported: a truncation that deleted some
// logs before it failed reports exactly those, with the error, so the host
// does not say that nothing was truncated.
func TestTruncationFailingMidwayIsReported(t *testing.T) {
	dir := samples.CopySet(t, "srum-win10-dirty")
	d := faultDriver(t, func(in *engine.Instance) ese.BackupAPI { return partialTruncateDouble{in} })
	ctx := context.Background()
	id, err := d.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: dir}})
	wantCode(t, err, ese.ErrSuccess)
	backupAll(t, d, id)
	res, err := d.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeSucceeded, TruncateLogs: true})
	wantCode(t, err, ese.ErrFileAccessDenied)
	if len(res.Truncated) != 1 || filepath.Base(res.Truncated[0]) != "SRU0004E.log" {
		t.Fatalf("Truncated = %v, want exactly the deleted SRU0004E.log", res.Truncated)
	}
	for _, n := range []string{"SRU0004F.log", "SRU00050.log"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Fatalf("%s should still be there: %v", n, err)
		}
	}
}
