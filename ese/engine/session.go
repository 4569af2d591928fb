package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

type phase int

const (
	phaseDatabases phase = iota + 1
	phaseLogs
)

// session is the state of one external backup (§5.2 of the API notes).
type session struct {
	full          bool
	phase         phase
	open          stream // the single file slot; nil when free
	prepared      bool
	logsTruncated bool
	copyMic       uint32
	copyMac       uint32
	deleteMic     uint32
	deleteMac     uint32
	genSumCopied  uint64
	mark          format.LGPos   // backup mark: the log tip at Begin
	markTime      format.LogTime // and its time
	prepMark      format.LGPos   // position of the "prepare logs" step (incremental mark)
	prepMarkTime  format.LogTime
	beginGen      uint32 // current generation at Begin
	signLog       format.Signature
	signFrom      string // the file signLog was taken from, for messages
	dbs           map[string]*dbSession
	logs          *logSet // as prepared
	prevLog       *format.ChainLink
	unlock        func()
}

// dbSession tracks one attached database during a session.
type dbSession struct {
	db        *database
	inSession bool
	copyDone  bool
}

func (s *session) release() {
	if s.open != nil {
		s.open.close()
		s.open = nil
	}
	if s.unlock != nil {
		s.unlock()
		s.unlock = nil
	}
}

// stream is an open backup file: a database stream or a log.
type stream interface {
	read(in *Instance, buf []byte) (int, error)
	close()
	done() bool
	name() string
}

// active returns the session or the error of the "None" and "stop" columns
// of the legality table. The caller holds in.mu.
func (in *Instance) active(op string, stopAllowed bool) (*session, error) {
	if in.sess == nil {
		return nil, &ese.Error{Code: ese.ErrNoBackup, Op: op}
	}
	if in.stopFlag && !stopAllowed {
		return nil, &ese.Error{Code: ese.ErrBackupAbortByServer, Op: op}
	}
	return in.sess, nil
}

// sessionCall performs API entry, takes both locks for the whole call and
// returns the active session; done releases everything. It is for calls
// that do their file work with the locks held (CloseFile, TruncateLog).
func (in *Instance) sessionCall(op string, stopAllowed bool) (s *session, done func(), err error) {
	release, err := in.enter(op)
	if err != nil {
		return nil, nil, err
	}
	in.ioMu.Lock()
	in.mu.Lock()
	done = func() {
		in.mu.Unlock()
		in.ioMu.Unlock()
		release()
	}
	if s, err = in.active(op, stopAllowed); err != nil {
		done()
		return nil, nil, err
	}
	return s, done, nil
}

// abort tears the session down after an error that ESE treats as fatal for
// the backup (the "+A" cells): the next End gets JET_errNoBackup.
func (in *Instance) abort(reason error) {
	if in.sess == nil {
		return
	}
	in.log.Warn("backup session aborted", "reason", reason)
	in.sess.release()
	in.sess = nil
}

// BeginExternalBackup is JetBeginExternalBackupInstance.
func (in *Instance) BeginExternalBackup(grbit ese.Grbit) error {
	const op = "JetBeginExternalBackupInstance"
	release, err := in.enter(op)
	if err != nil {
		return err
	}
	defer release()
	in.ioMu.Lock()
	defer in.ioMu.Unlock()
	in.mu.Lock()
	defer in.mu.Unlock()

	if !in.backupAllowed {
		return &ese.Error{Code: ese.ErrBackupNotAllowedYet, Op: op}
	}
	if grbit&^ese.BeginAcceptedGrbits != 0 {
		return &ese.Error{Code: ese.ErrInvalidGrbit, Op: op, Err: fmt.Errorf("grbit 0x%x: only 0 (full) and JET_bitBackupIncremental are accepted", uint32(grbit))}
	}
	if grbit&(ese.BackupSurrogate|ese.BackupInternalCopy) != 0 {
		// Accepted by ESE's mask but reachable only through private entry
		// points that this engine does not offer.
		return &ese.Error{Code: ese.ErrInvalidGrbit, Op: op, Err: errors.New("surrogate and internal-copy backups are not available through the external API")}
	}
	incremental := grbit&ese.BackupIncremental != 0
	ls, err := in.scanLogs(op)
	if err != nil {
		return err
	}
	if incremental && ls.currentHdr != nil && ls.currentHdr.Flags&0x02 != 0 {
		return &ese.Error{Code: ese.ErrInvalidBackup, Op: op, Err: errors.New("circular logging is on: incremental backups need every log")}
	}
	if in.sess != nil {
		return &ese.Error{Code: ese.ErrBackupInProgress, Op: op}
	}
	unlock, err := in.lockInstance(op)
	if err != nil {
		return err
	}
	s := &session{full: !incremental, dbs: map[string]*dbSession{}, unlock: unlock, beginGen: ls.current}
	ok := false
	defer func() {
		if !ok {
			s.release()
		}
	}()
	// Re-read the headers: another backup (or the application) may have
	// changed them since Init.
	for _, db := range in.dbs {
		hr, err := in.readDBHeader(op, db.path)
		if err != nil {
			return err
		}
		db.hdr = hr.Header
		s.dbs[pathKey(db.path)] = &dbSession{db: db, inSession: incremental}
	}
	// The stream is the databases' (the logs and the checkpoint must
	// belong to it); without databases the current log names it.
	switch {
	case len(in.dbs) > 0:
		s.signLog, s.signFrom = in.dbs[0].hdr.SignLog, in.dbs[0].path
	case ls.currentHdr != nil:
		s.signLog, s.signFrom = ls.currentHdr.SignLog, ls.currentPath
	}
	now := format.LogTimeFrom(in.cfg.Now())
	if incremental {
		for _, d := range s.dbs {
			h := d.db.hdr
			if h.BKInfoFullPrev.GenLow == 0 || h.BKInfoTypeFullPrev != ese.BKInfoNormal {
				return &ese.Error{Code: ese.ErrMissingFullBackup, Op: op, File: d.db.path,
					Err: errors.New("no normal full backup is recorded in the database header; take a full backup with log truncation first")}
			}
		}
	} else {
		cp, err := in.streamCheckpoint(op, s)
		if err != nil {
			return err
		}
		s.copyMic = uint32(cp.LgposCheckpoint.Gen)
		s.mark = in.logTip(ls)
		s.markTime = now
	}
	s.phase = phaseDatabases
	if incremental {
		s.phase = phaseLogs
	}
	in.sess = s
	in.stopFlag = false
	ok = true
	in.log.Info("backup session started", "kind", map[bool]string{true: "full", false: "incremental"}[s.full], "copy_mic", s.copyMic)
	return nil
}

// lockInstance keeps a second process from backing up the same instance:
// an advisory lock on the checkpoint (or current log) file.
func (in *Instance) lockInstance(op string) (func(), error) {
	candidates := []string{
		filepath.Join(in.cfg.SystemDir, in.base+".chk"),
		filepath.Join(in.cfg.SystemDir, in.base+".jcp"),
		filepath.Join(in.cfg.LogDir, in.base+".log"),
		filepath.Join(in.cfg.LogDir, in.base+".jtx"),
	}
	for _, p := range candidates {
		if _, err := in.fs.Stat(p); err != nil {
			continue
		}
		unlock, err := lockFile(p)
		if errors.Is(err, errLocked) {
			return nil, &ese.Error{Code: ese.ErrBackupInProgress, Op: op, File: p, Err: err}
		}
		if err != nil {
			in.log.Warn("cannot lock the instance against concurrent backups", "file", p, "error", err)
			return func() {}, nil
		}
		return unlock, nil
	}
	return func() {}, nil
}

// logTip estimates the position of the end of the log: at rest, just after
// the last written segment of the current log.
func (in *Instance) logTip(ls *logSet) format.LGPos {
	path, gen := ls.currentPath, ls.current
	if path == "" {
		// No current log: the newest archived generation plays its part,
		// as in prepareLogs.
		path, gen = ls.archived[ls.newest], ls.newest
	}
	if path == "" {
		return format.LGPos{}
	}
	pos := format.LGPos{Gen: int32(gen)}
	f, err := in.fs.Open(path)
	if err != nil {
		return pos
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return pos
	}
	if lc, err := format.VerifyLog(f, st.Size(), path); err == nil && lc.LastSegment >= 0 {
		pos.ISec = uint16(lc.LastSegment + 1)
	}
	return pos
}

// GetAttachInfo is JetGetAttachInfoInstanceW.
func (in *Instance) GetAttachInfo() ([]string, error) {
	const op = "JetGetAttachInfoInstance"
	release, err := in.enter(op)
	if err != nil {
		return nil, err
	}
	defer release()
	in.mu.Lock()
	defer in.mu.Unlock()
	s, err := in.active(op, false)
	if err != nil {
		return nil, err
	}
	if !s.full {
		return nil, &ese.Error{Code: ese.ErrInvalidBackupSequence, Op: op, Err: errors.New("an incremental backup streams logs only")}
	}
	return in.Databases(), nil
}

// OpenFile is JetOpenFileInstanceW.
func (in *Instance) OpenFile(name string) (ese.Handle, int64, error) {
	const op = "JetOpenFileInstance"
	release, err := in.enter(op)
	if err != nil {
		return 0, 0, err
	}
	defer release()
	in.ioMu.Lock()
	defer in.ioMu.Unlock()
	in.mu.Lock()
	s, err := in.active(op, false)
	if err != nil {
		in.mu.Unlock()
		return 0, 0, err
	}
	if name == "" {
		in.mu.Unlock()
		return 0, 0, &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: errors.New("empty file name")}
	}
	if s.open != nil {
		in.mu.Unlock()
		return 0, 0, &ese.Error{Code: ese.ErrOutOfMemory, Op: op, File: name, Err: fmt.Errorf("%s is still open: ESE has a single backup file slot", s.open.name())}
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		in.mu.Unlock()
		return 0, 0, &ese.Error{Code: ese.ErrInvalidPath, Op: op, File: name, Err: err}
	}
	if d, ok := s.dbs[pathKey(abs)]; ok {
		if !s.full || s.phase == phaseLogs {
			in.abort(errors.New("database opened outside the database phase"))
			in.mu.Unlock()
			return 0, 0, &ese.Error{Code: ese.ErrInvalidBackupSequence, Op: op, File: abs,
				Err: errors.New("databases can only be opened in a full backup before the log list is taken; the session was aborted")}
		}
		in.mu.Unlock()
		st, err := in.openDatabase(op, d)
		if err != nil {
			return 0, 0, err // the slot stays free; the session goes on
		}
		in.mu.Lock()
		defer in.mu.Unlock()
		if in.sess != s {
			st.close()
			return 0, 0, &ese.Error{Code: ese.ErrNoBackup, Op: op}
		}
		d.inSession = true
		s.open = st
		return 0, st.size, nil
	}
	if s.phase != phaseLogs {
		in.mu.Unlock()
		return 0, 0, &ese.Error{Code: ese.ErrDatabaseNotFound, Op: op, File: abs,
			Err: errors.New("not an attached database; logs can be opened only after JetGetLogInfo")}
	}
	base := filepath.Base(abs)
	if !strings.EqualFold(filepath.Ext(base), s.logs.ext) {
		in.mu.Unlock()
		return 0, 0, &ese.Error{Code: ese.ErrInvalidParameter, Op: op, File: abs, Err: errors.New("not a log file name of this instance (patch files are not supported)")}
	}
	ln, ok := format.ParseLogNameBase(base, in.base)
	if !ok || ln.Kind != format.LogArchived {
		in.abort(fmt.Errorf("bad log name %s", base))
		in.mu.Unlock()
		return 0, 0, &ese.Error{Code: ese.ErrInvalidParameter, Op: op, File: abs, Err: errors.New("not a log generation name; the session was aborted")}
	}
	path, ok := s.logs.logPath(ln.Gen)
	if !ok {
		in.abort(fmt.Errorf("log generation %d missing", ln.Gen))
		in.mu.Unlock()
		return 0, 0, &ese.Error{Code: ese.ErrMissingFileToBackup, Op: op, File: abs,
			Err: fmt.Errorf("log generation %d (0x%X) is not in %s; the session was aborted", ln.Gen, ln.Gen, in.cfg.LogDir)}
	}
	in.mu.Unlock()
	st, err := in.openLog(op, abs, path, ln.Gen)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.sess != s {
		if st != nil {
			st.close()
		}
		return 0, 0, &ese.Error{Code: ese.ErrNoBackup, Op: op}
	}
	if err != nil {
		in.abort(err)
		return 0, 0, err
	}
	s.open = st
	return 0, st.size, nil
}

// ReadFile is JetReadFileInstance.
func (in *Instance) ReadFile(h ese.Handle, buf []byte) (int, error) {
	const op = "JetReadFileInstance"
	release, err := in.enter(op)
	if err != nil {
		return 0, err
	}
	defer release()
	in.ioMu.Lock()
	defer in.ioMu.Unlock()
	in.mu.Lock()
	s, err := in.active(op, false)
	if err != nil {
		in.mu.Unlock()
		return 0, err
	}
	if !ese.Aligned(buf) {
		in.mu.Unlock()
		return 0, &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: errors.New("buffer is not 4 KiB-aligned")}
	}
	if len(buf)%in.pageSize != 0 {
		in.mu.Unlock()
		return 0, &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: fmt.Errorf("buffer of %d bytes is not a multiple of the page size %d", len(buf), in.pageSize)}
	}
	if h != 0 || s.open == nil {
		in.mu.Unlock()
		return 0, &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: fmt.Errorf("handle %d is not open", h)}
	}
	st := s.open
	in.mu.Unlock()

	n, rerr := st.read(in, buf)

	in.mu.Lock()
	defer in.mu.Unlock()
	if in.sess != s {
		return 0, &ese.Error{Code: ese.ErrNoBackup, Op: op, Err: errors.New("the session ended during the read")}
	}
	if in.stopFlag {
		return 0, &ese.Error{Code: ese.ErrBackupAbortByServer, Op: op}
	}
	if rerr != nil {
		var ee *ese.Error
		if errors.As(rerr, &ee) && ee.Code == ese.ErrInvalidParameter {
			return 0, rerr // buffer rules change no state
		}
		switch st.(type) {
		case *dbStream:
			// A database read error closes the handle implicitly and drops
			// the database from the session; the backup goes on.
			st.close()
			s.open = nil
			if d := s.dbs[pathKey(st.name())]; d != nil {
				d.inSession = false
			}
			in.log.Error("database read failed; the database leaves the backup", "file", st.name(), "error", rerr)
		default:
			in.abort(rerr)
		}
		return 0, rerr
	}
	return n, nil
}

// CloseFile is JetCloseFileInstance. It is allowed after StopBackup.
func (in *Instance) CloseFile(h ese.Handle) error {
	const op = "JetCloseFileInstance"
	s, done, err := in.sessionCall(op, true)
	if err != nil {
		return err
	}
	defer done()
	if h != 0 || s.open == nil {
		return &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: fmt.Errorf("handle %d is not open", h)}
	}
	st := s.open
	s.open = nil
	st.close()
	if !st.done() {
		in.log.Debug("backup file closed before it was read completely", "file", st.name())
		return nil
	}
	switch st := st.(type) {
	case *dbStream:
		if d := s.dbs[pathKey(st.db.path)]; d != nil {
			d.copyDone = true
		}
	case *logStream:
		if st.gen >= s.copyMic && st.gen < s.copyMac {
			s.genSumCopied += uint64(st.gen)
		}
	}
	return nil
}

// GetLogInfo is JetGetLogInfoInstance2W.
func (in *Instance) GetLogInfo() ([]string, ese.LogInfo, error) {
	const op = "JetGetLogInfoInstance2"
	s, err := in.prepareCall(op)
	if err != nil {
		return nil, ese.LogInfo{}, err
	}
	defer in.mu.Unlock()
	var names []string
	for g := s.copyMic; g < s.copyMac; g++ {
		names = append(names, in.logName(s.logs, g))
	}
	li := ese.LogInfo{GenLow: s.copyMic, GenHigh: s.copyMac - 1, BaseName: in.base}
	return names, li, nil
}

// GetTruncateLogInfo is JetGetTruncateLogInfoInstanceW.
func (in *Instance) GetTruncateLogInfo() ([]string, error) {
	const op = "JetGetTruncateLogInfoInstance"
	s, err := in.prepareCall(op)
	if err != nil {
		return nil, err
	}
	defer in.mu.Unlock()
	var names []string
	for g := s.deleteMic; g < s.deleteMac; g++ {
		names = append(names, in.logName(s.logs, g))
	}
	return names, nil
}

// prepareCall runs the common preconditions of the Get*LogInfo calls and
// the one-time "prepare logs" step. On success it returns with in.mu held.
func (in *Instance) prepareCall(op string) (*session, error) {
	release, err := in.enter(op)
	if err != nil {
		return nil, err
	}
	defer release()
	in.mu.Lock()
	s, err := in.active(op, false)
	if err != nil {
		in.mu.Unlock()
		return nil, err
	}
	if s.open != nil {
		in.mu.Unlock()
		return nil, &ese.Error{Code: ese.ErrInvalidBackupSequence, Op: op, Err: fmt.Errorf("%s is still open", s.open.name())}
	}
	if !s.prepared {
		if err := in.prepareLogs(op, s); err != nil {
			in.mu.Unlock()
			return nil, err // not aborted: ESE leaves the session as it is
		}
	}
	s.phase = phaseLogs
	return s, nil
}

// prepareLogs is ESE's first-GetLogInfo step: roll the log (virtually: see
// the package comment), compute the copy range [copyMic, copyMac-1] and the
// truncation range [deleteMic, deleteMac-1].
func (in *Instance) prepareLogs(op string, s *session) error {
	ls, err := in.scanLogs(op)
	if err != nil {
		return err
	}
	if ls.current == 0 && ls.oldest == 0 {
		return &ese.Error{Code: ese.ErrFileNotFound, Op: op, File: in.cfg.LogDir, Err: fmt.Errorf("no log files with base name %q", in.base)}
	}
	cur := ls.current
	if cur == 0 {
		// No current log: the newest archived generation plays its part.
		cur = ls.newest
	}
	copyMac := cur + 1
	deleteMic := ls.oldest
	if deleteMic == 0 {
		deleteMic = cur
	}
	if !s.full {
		s.copyMic = deleteMic
		for _, d := range s.dbs {
			h := d.db.hdr
			need := max(h.BKInfoFullPrev.GenHigh, h.BKInfoIncPrev.GenHigh) + 1
			if deleteMic > need {
				return &ese.Error{Code: ese.ErrMissingFileToBackup, Op: op, File: d.db.path,
					Err: fmt.Errorf("the oldest log on disk is generation %d but the last backup ended at %d: logs %d..%d are gone; take a full backup", deleteMic, need-1, need, deleteMic-1)}
			}
		}
		s.prepMark = format.LGPos{Gen: int32(copyMac)}
		s.prepMarkTime = format.LogTimeFrom(in.cfg.Now())
	}
	cp, err := in.streamCheckpoint(op, s)
	if err != nil {
		return err
	}
	if err := in.checkCopyRange(op, s, ls, cur); err != nil {
		return err
	}
	deleteMac := min(uint32(cp.LgposCheckpoint.Gen), copyMac)
	if s.full {
		for _, d := range s.dbs {
			if !(d.inSession && d.copyDone) {
				deleteMac = min(deleteMac, d.db.hdr.BKInfoFullPrev.GenHigh)
			}
		}
	}
	deleteMic = min(deleteMic, deleteMac)
	s.copyMac, s.deleteMic, s.deleteMac = copyMac, deleteMic, deleteMac
	s.logs = ls
	s.prepared = true
	in.log.Debug("logs prepared", "copy", fmt.Sprintf("%d..%d", s.copyMic, copyMac-1), "truncate", fmt.Sprintf("%d..%d", deleteMic, int64(deleteMac)-1))
	return nil
}

// streamCheckpoint reads the checkpoint and checks that it belongs to the
// session's log stream: a checkpoint of another instance would set the copy
// range from generations of a foreign stream (JET_errBadCheckpointSignature),
// and a checkpoint at generation 0 points at no log (JET_errCheckpointCorrupt).
func (in *Instance) streamCheckpoint(op string, s *session) (*format.Checkpoint, error) {
	cp, path, err := in.readCheckpoint(op)
	if err != nil {
		return nil, err
	}
	if !s.signLog.IsZero() && cp.SignLog != s.signLog {
		return nil, &ese.Error{Code: ese.ErrBadCheckpointSignature, Op: op, File: path,
			Err: fmt.Errorf("the checkpoint has log signature %s, %s has %s: one of them belongs to another instance", cp.SignLog, filepath.Base(s.signFrom), s.signLog)}
	}
	if cp.LgposCheckpoint.Gen <= 0 {
		return nil, &ese.Error{Code: ese.ErrCheckpointCorrupt, Op: op, File: path,
			Err: fmt.Errorf("the checkpoint is at generation %d, which no log has", cp.LgposCheckpoint.Gen)}
	}
	return cp, nil
}

// checkCopyRange makes sure, before any log is listed, that every generation
// the backup copies (s.copyMic through cur) is on disk under its own name and
// belongs to the session's log stream. A damaged instance thus fails
// GetLogInfo with a data error naming the file (JET_errMissingFileToBackup,
// JET_errLogGenerationMismatch, JET_errBadLogSignature) instead of a set
// with a hole or a log of another stream.
func (in *Instance) checkCopyRange(op string, s *session, ls *logSet, cur uint32) error {
	check := func(path string, gen uint32, hdr *format.LogHeader) error {
		if hdr == nil {
			h, err := in.readLogHeader(path)
			if err != nil {
				return &ese.Error{Code: ese.ErrLogFileCorrupt, Op: op, File: path, Err: err}
			}
			hdr = h
		}
		if gen != 0 && hdr.Generation != gen {
			return &ese.Error{Code: ese.ErrLogGenerationMismatch, Op: op, File: path,
				Err: fmt.Errorf("the file name says generation %d (0x%X), its header %d (0x%X): log files were renamed or exchanged", gen, gen, hdr.Generation, hdr.Generation)}
		}
		if !s.signLog.IsZero() && hdr.SignLog != s.signLog {
			return &ese.Error{Code: ese.ErrBadLogSignature, Op: op, File: path,
				Err: fmt.Errorf("generation %d (0x%X) has log signature %s, %s has %s: the log belongs to another instance", hdr.Generation, hdr.Generation, hdr.SignLog, filepath.Base(s.signFrom), s.signLog)}
		}
		return nil
	}
	if ls.currentHdr != nil {
		if err := check(ls.currentPath, 0, ls.currentHdr); err != nil {
			return err
		}
		// An archived log newer than the current one is out of place:
		// renamed, of another stream, or the current log is an old copy.
		if p, ok := ls.archived[ls.newest]; ok && ls.newest > ls.current {
			if err := check(p, ls.newest, nil); err != nil {
				return err
			}
			return &ese.Error{Code: ese.ErrInvalidLogSequence, Op: op, File: p,
				Err: fmt.Errorf("archived generation %d (0x%X) is newer than the current log %s (generation %d, 0x%X): the current log is not the last of the stream", ls.newest, ls.newest, filepath.Base(ls.currentPath), ls.current, ls.current)}
		}
	}
	if s.copyMic > cur {
		// The checkpoint is beyond the newest log: a log file named as the
		// newest generation may hold another one (exchanged files) ...
		if p, ok := ls.archived[cur]; ok {
			if err := check(p, cur, nil); err != nil {
				return err
			}
		}
		// ... or the generations up to the checkpoint are gone.
		return &ese.Error{Code: ese.ErrMissingFileToBackup, Op: op, File: in.logName(ls, cur+1),
			Err: fmt.Errorf("the checkpoint is at generation %d (0x%X) but the newest log in %s is generation %d (0x%X): %s missing; the instance cannot be backed up or recovered without them",
				s.copyMic, s.copyMic, in.cfg.LogDir, cur, cur, in.genList(ls, cur+1, s.copyMic))}
	}
	var missing []uint32
	for g := s.copyMic; g <= cur; g++ {
		p, ok := ls.archived[g]
		if !ok {
			if _, ok := ls.logPath(g); !ok {
				missing = append(missing, g)
			}
			continue
		}
		if err := check(p, g, nil); err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		return &ese.Error{Code: ese.ErrMissingFileToBackup, Op: op, File: in.logName(ls, missing[0]),
			Err: fmt.Errorf("the backup needs generations %d..%d (0x%X..0x%X); %d of them are not in %s: %s",
				s.copyMic, cur, s.copyMic, cur, len(missing), in.cfg.LogDir, in.genNames(ls, missing))}
	}
	return nil
}

// genList names generations lo..hi (at most a few of them) for a message.
func (in *Instance) genList(ls *logSet, lo, hi uint32) string {
	var gens []uint32
	for g := lo; g <= hi && len(gens) < 10; g++ {
		gens = append(gens, g)
	}
	out := in.genNames(ls, gens)
	if n := uint64(hi) - uint64(lo) + 1; n > uint64(len(gens)) {
		out += fmt.Sprintf(" and %d more", n-uint64(len(gens)))
	}
	if hi == lo {
		return "generation " + out + " is"
	}
	return "generations " + out + " are"
}

// genNames lists generations with the file names they would have.
func (in *Instance) genNames(ls *logSet, gens []uint32) string {
	var b strings.Builder
	for i, g := range gens {
		if i == 10 {
			fmt.Fprintf(&b, " and %d more", len(gens)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "0x%X (%s)", g, filepath.Base(in.logName(ls, g)))
	}
	return b.String()
}

// TruncateLog is JetTruncateLogInstance.
func (in *Instance) TruncateLog() error {
	const op = "JetTruncateLogInstance"
	s, done, err := in.sessionCall(op, false)
	if err != nil {
		return err
	}
	defer done()
	if s.open != nil {
		return &ese.Error{Code: ese.ErrInvalidBackupSequence, Op: op, Err: fmt.Errorf("%s is still open", s.open.name())}
	}
	if !s.prepared {
		return &ese.Error{Code: ese.ErrInvalidBackupSequence, Op: op, Err: errors.New("call JetGetLogInfo and copy the logs before truncating")}
	}
	s.phase = phaseLogs
	want := uint64(s.copyMic+s.copyMac-1) * uint64(s.copyMac-s.copyMic) / 2
	if s.genSumCopied < want {
		in.log.Warn("log truncation refused: not every listed log was copied", "copied_sum", s.genSumCopied, "needed_sum", want)
		return &ese.Error{Code: ese.ErrLogFileNotCopied, Op: op,
			Err: fmt.Errorf("logs %d..%d were not all read to the end and closed; nothing was deleted", s.copyMic, s.copyMac-1)}
	}
	if !in.cfg.Writable {
		return &ese.Error{Code: ese.ErrFileAccessDenied, Op: op, File: in.cfg.LogDir, Err: errReadOnly}
	}
	s.logsTruncated = true
	var missing int
	for g := s.deleteMic; g < s.deleteMac; g++ {
		p, ok := s.logs.archived[g]
		if !ok {
			missing++
			continue
		}
		if err := in.fs.Remove(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				missing++
				continue
			}
			return &ese.Error{Code: ioCode(err), Op: op, File: p, Err: err}
		}
		delete(s.logs.archived, g)
	}
	if missing > 0 {
		in.log.Warn("some logs to truncate were already gone", "count", missing)
	}
	in.log.Info("logs truncated", "generations", fmt.Sprintf("%d..%d", s.deleteMic, int64(s.deleteMac)-1))
	return nil
}

// StopBackup is JetStopBackupInstance: it only sets the stop flag, even with
// no session; Begin clears it.
func (in *Instance) StopBackup() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	switch in.state {
	case StateCreated, StateTerminated:
		return &ese.Error{Code: ese.ErrNotInitialized, Op: "JetStopBackupInstance"}
	}
	in.stopFlag = true
	if in.sess != nil {
		in.log.Warn("backup stop requested by the application")
	}
	return nil
}
