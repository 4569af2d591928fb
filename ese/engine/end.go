package engine

import (
	"errors"
	"fmt"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

// EndExternalBackup is JetEndExternalBackupInstance2. Once a session exists
// it always succeeds, Abort included (§4.8 of the API notes).
//
// The Microsoft docs list JET_errBackupAbortByCaller and
// JET_errBackupAbortByServer as results of this call; ESE's source
// (backup.cxx) never returns them from End and only uses the distinction to
// choose an event. The engine follows the source: the abort is logged, End
// returns nil.
func (in *Instance) EndExternalBackup(grbit ese.Grbit) error {
	const op = "JetEndExternalBackupInstance2"
	release, err := in.enter(op)
	if err != nil {
		return err
	}
	defer release()
	normal, abort := grbit&ese.BackupEndNormal != 0, grbit&ese.BackupEndAbort != 0
	if normal == abort {
		return &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: fmt.Errorf("grbit 0x%x: set exactly one of JET_bitBackupEndNormal and JET_bitBackupEndAbort", uint32(grbit))}
	}
	// A read in flight finishes first: End closes the open file.
	in.ioMu.Lock()
	defer in.ioMu.Unlock()
	in.mu.Lock()
	s := in.sess
	if s == nil {
		in.mu.Unlock()
		return &ese.Error{Code: ese.ErrNoBackup, Op: op}
	}
	outcome := "normal"
	switch {
	case abort:
		outcome = "aborted by caller"
	case in.stopFlag:
		outcome = "aborted by server"
	case s.full && s.phase == phaseDatabases:
		outcome = "aborted by caller (ended before the log phase)"
	}
	in.sess = nil
	s.release()
	report := ese.EndReport{Outcome: ese.EndNormal}
	switch outcome {
	case "aborted by server":
		report.Outcome = ese.EndAbortedByServer
	case "normal":
	default:
		report.Outcome = ese.EndAbortedByCaller
	}
	in.lastEnd = report
	in.mu.Unlock()

	if outcome != "normal" {
		in.log.Warn("backup ended without being recorded", "outcome", outcome)
		return nil
	}
	if grbit&ese.BackupNoDbHeaderUpdate != 0 {
		in.log.Info("backup ended; header update skipped on request")
		return nil
	}
	truncated := s.logsTruncated || grbit&ese.BackupTruncateDone != 0
	recorded, err := in.recordBackup(s, truncated)
	if len(recorded) > 0 {
		report.Recorded = RecordField(s.full, truncated)
		report.Databases = recorded
	}
	if err != nil {
		// ESE only logs a failed header flush; End still succeeds. A header
		// that could not be written leaves the database in an unknown state,
		// so the instance stops serving (JET_errInstanceUnavailable).
		report.Err = err
		in.fail(err)
	}
	in.mu.Lock()
	in.lastEnd = report
	in.mu.Unlock()
	return nil
}

// LastEnd reports what the last successful EndExternalBackup did: how it
// classified the end, which header field and databases record the backup,
// and why recording failed. ESE's End returns success in all these cases,
// so this is how a driver tells its host the truth (ese.EndReporter).
func (in *Instance) LastEnd() ese.EndReport {
	in.mu.Lock()
	defer in.mu.Unlock()
	r := in.lastEnd
	r.Databases = append([]string(nil), r.Databases...)
	return r
}

// Field names of the BKINFO a backup is recorded in.
const (
	RecordFull         = "bkinfoFullPrev"
	RecordCopy         = "bkinfoCopyPrev"
	RecordIncremental  = "bkinfoIncPrev"
	RecordDifferential = "bkinfoDiffPrev"
)

// RecordField says which header field ESE writes at a normal End (§6).
func RecordField(full, truncated bool) string {
	switch {
	case full && truncated:
		return RecordFull
	case full:
		return RecordCopy
	case truncated:
		return RecordIncremental
	}
	return RecordDifferential
}

// recordBackup writes the BKINFO of a normal End into both header copies of
// each database that took part and returns the databases it wrote to.
// Read-only instances only log what would have been recorded.
func (in *Instance) recordBackup(s *session, truncated bool) ([]string, error) {
	var recorded []string
	field := RecordField(s.full, truncated)
	bk := format.BKInfo{Mark: s.mark, MarkTime: s.markTime, GenLow: s.copyMic, GenHigh: s.copyMac - 1}
	if !s.full {
		bk.Mark, bk.MarkTime = s.prepMark, s.prepMarkTime
	}
	for _, d := range s.dbs {
		if !d.inSession || (s.full && !d.copyDone) {
			continue
		}
		if !in.cfg.Writable {
			in.log.Info("read-only instance: backup not recorded in the header", "file", d.db.path, "field", field, "gen_low", bk.GenLow, "gen_high", bk.GenHigh)
			continue
		}
		written, err := in.updateHeader(d.db, field, bk, truncated)
		if err != nil {
			return recorded, err
		}
		if !written {
			continue // the header keeps a newer record: this backup is not it
		}
		recorded = append(recorded, d.db.path)
		in.log.Info("backup recorded", "file", d.db.path, "field", field, "gen_low", bk.GenLow, "gen_high", bk.GenHigh)
	}
	return recorded, nil
}

// updateHeader rewrites both header pages of a database with the new
// BKINFO and recomputed checksums: the primary copy, an fsync, then the
// shadow copy and another fsync. It writes nothing, and says so, when the
// header already records a newer backup in that field.
func (in *Instance) updateHeader(db *database, field string, bk format.BKInfo, truncated bool) (written bool, err error) {
	const op = "update database header"
	f, err := in.fs.OpenRW(db.path)
	if err != nil {
		return false, &ese.Error{Code: ioCode(err), Op: op, File: db.path, Err: err}
	}
	defer f.Close()
	hr, err := in.readDBHeader(op, db.path)
	if err != nil {
		return false, err
	}
	h := hr.Header
	cur := map[string]*format.BKInfo{RecordFull: &h.BKInfoFullPrev, RecordCopy: &h.BKInfoCopyPrev, RecordIncremental: &h.BKInfoIncPrev, RecordDifferential: &h.BKInfoDiffPrev}[field]
	if bk.Mark.Compare(cur.Mark) < 0 {
		in.log.Warn("header keeps a newer backup record", "file", db.path, "field", field)
		return false, nil
	}
	*cur = bk
	switch field {
	case RecordFull:
		h.BKInfoTypeFullPrev = ese.BKInfoNormal
	case RecordIncremental:
		h.BKInfoTypeIncPrev = ese.BKInfoNormal
	case RecordCopy:
		h.BKInfoTypeCopyPrev = ese.BKInfoNormal
	case RecordDifferential:
		h.BKInfoTypeDiffPrev = ese.BKInfoNormal
	}
	if truncated {
		if field == RecordFull {
			h.BKInfoIncPrev, h.BKInfoDiffPrev = format.BKInfo{}, format.BKInfo{}
		}
		h.BKInfoSnapshotCur = format.BKInfo{}
	}
	page := hr.Page
	h.Encode(page)
	format.SetHeaderChecksum(page)
	// The primary copy is written and flushed before the shadow is
	// touched, so a crash or an I/O error at any point leaves at least one
	// good copy: the old shadow, or the new primary.
	for i, copyName := range []string{"primary", "shadow"} {
		if _, err := f.WriteAt(page, int64(i)*int64(hr.PageSize)); err != nil {
			return false, &ese.Error{Code: ioCode(err), Op: op, File: db.path, Err: fmt.Errorf("write %s header copy: %w", copyName, err)}
		}
		if err := f.Sync(); err != nil {
			return false, &ese.Error{Code: ese.ErrDiskIO, Op: op, File: db.path, Err: fmt.Errorf("flush %s header copy: %w", copyName, err)}
		}
	}
	db.hdr = h
	return true, nil
}

var errShortFile = errors.New("file is shorter than its header says")
