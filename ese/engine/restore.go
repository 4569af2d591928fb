package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/internal/durable"
	"github.com/hashicorp/go-hclog"
)

// maxRestoreMap is ESE's limit on restore-map entries (2 × dbidMax).
const maxRestoreMap = 14

// ExternalRestore is JetExternalRestore2 for this engine. Pure Go cannot
// replay log records, so it does everything up to the replay: it checks the
// backup set the way ESE does (every log genLow..genHigh present, one log
// signature, contiguous generations; every database a streamed backup copy
// whose trailer matches its header and whose log range lies inside
// genLow..genHigh; every page verified), then stages it: each database is
// copied to its new path and the logs to req.LogDir. Recovery is finished on
// Windows by ESE itself (JetExternalRestore2 over the staged files), which
// replays genLow..genHigh.
//
// While it runs the instance is locked for restore: other calls get
// JET_errRestoreInProgress.
func (in *Instance) ExternalRestore(req ese.RestoreRequest) error {
	const op = "JetExternalRestore2"
	if err := in.rt.switchToMulti(op); err != nil {
		return err
	}
	in.mu.Lock()
	switch in.state {
	case StateRunning:
	case StateRestoring:
		in.mu.Unlock()
		return &ese.Error{Code: ese.ErrRestoreInProgress, Op: op}
	default:
		in.mu.Unlock()
		release, err := in.enter(op)
		if err == nil {
			release()
		}
		return err
	}
	if in.sess != nil {
		in.mu.Unlock()
		return &ese.Error{Code: ese.ErrBackupInProgress, Op: op}
	}
	in.state = StateRestoring
	in.mu.Unlock()
	defer func() {
		in.mu.Lock()
		if in.state == StateRestoring {
			in.state = StateRunning
		}
		in.mu.Unlock()
	}()
	return restore(in.fs, req, in.log)
}

// ExternalRestore is JetExternalRestore2 without an instance, as ESE offers
// it: it checks and stages a backup set like Instance.ExternalRestore, on
// the operating system's file system.
func ExternalRestore(req ese.RestoreRequest, log hclog.Logger) error {
	return restore(OSFS{}, req, log)
}

func restore(fsys FS, req ese.RestoreRequest, log hclog.Logger) error {
	const op = "JetExternalRestore2"
	if log == nil {
		log = hclog.NewNullLogger()
	}
	li := req.LogInfo
	switch {
	case req.BackupLogDir == "":
		return &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: errors.New("no backup log directory")}
	case len(li.BaseName) != ese.BaseNameLength:
		return &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: fmt.Errorf("base name %q: must have %d characters", li.BaseName, ese.BaseNameLength)}
	case li.GenHigh < li.GenLow:
		return &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: fmt.Errorf("genHigh %d is below genLow %d", li.GenHigh, li.GenLow)}
	case len(req.Map) > maxRestoreMap:
		return &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: fmt.Errorf("%d restore-map entries; ESE takes at most %d", len(req.Map), maxRestoreMap)}
	}
	progress := func(done uint32) {
		if req.Progress != nil {
			req.Progress(done, 100)
		}
	}
	progress(0)

	// Logs genLow..genHigh: present, one signature, contiguous.
	logs := make([]string, 0, li.GenHigh-li.GenLow+1)
	var prev *format.LogCheck
	for gen := li.GenLow; gen <= li.GenHigh; gen++ {
		p, err := findBackupLog(fsys, req.BackupLogDir, li.BaseName, gen)
		if err != nil {
			return err
		}
		lc, err := verifyLogFile(fsys, p)
		if err != nil {
			return &ese.Error{Code: ese.ErrLogReadVerifyFailure, Op: op, File: p, Err: err}
		}
		if lc.Header.Generation != gen {
			return &ese.Error{Code: ese.ErrGivenLogFileIsNotContiguous, Op: op, File: p, Err: fmt.Errorf("holds generation %d, expected %d", lc.Header.Generation, gen)}
		}
		if prev != nil {
			if lc.Header.SignLog != prev.Header.SignLog {
				return &ese.Error{Code: ese.ErrGivenLogFileHasBadSignature, Op: op, File: p, Err: errors.New("its log signature differs from the previous generation's")}
			}
			if lc.Header.PrevGen != prev.Header.Create {
				return &ese.Error{Code: ese.ErrGivenLogFileIsNotContiguous, Op: op, File: p, Err: fmt.Errorf("does not continue generation %d (previous-generation time %s, that log was created %s)", gen-1, lc.Header.PrevGen, prev.Header.Create)}
			}
		}
		prev = lc
		logs = append(logs, p)
	}
	signLog := prev.Header.SignLog
	progress(20)

	// Databases: streamed backup copies that fit the log range. Everything
	// is checked before anything is staged, so a refused restore leaves the
	// target as it was.
	type placement struct{ src, dst string }
	var place []placement
	for _, m := range req.Map {
		src := m.DatabaseName
		if _, err := fsys.Stat(src); err != nil {
			src = m.NewDatabaseName // already placed by the caller, as ESE expects
		}
		if err := checkRestoreCopy(fsys, src, signLog, li); err != nil {
			return err
		}
		place = append(place, placement{src, m.NewDatabaseName})
	}
	// Nothing in the way: a file at any destination refuses the restore
	// before anything is written.
	var logDst []string
	stageLogs := req.LogDir != "" && pathKey(req.LogDir) != pathKey(req.BackupLogDir)
	if stageLogs {
		for _, p := range logs {
			logDst = append(logDst, filepath.Join(req.LogDir, filepath.Base(p)))
		}
	}
	var dsts []string
	for _, p := range place {
		if pathKey(p.src) != pathKey(p.dst) {
			dsts = append(dsts, p.dst)
		}
	}
	for _, dst := range append(dsts, logDst...) {
		if _, err := fsys.Stat(dst); err == nil {
			return &ese.Error{Code: ese.ErrFileAlreadyExists, Op: op, File: dst, Err: fmt.Errorf("%w; restore never overwrites files", fs.ErrExist)}
		}
	}
	progress(50)

	// Staging: whatever fails, the files and directories made so far are
	// removed again, so a failed restore can simply be run again.
	st := &stager{fsys: fsys}
	for _, p := range place {
		if pathKey(p.src) == pathKey(p.dst) {
			continue
		}
		if err := st.copy(p.src, p.dst); err != nil {
			st.undo()
			return &ese.Error{Code: ioCode(err), Op: op, File: p.dst, Err: err}
		}
		log.Info("database staged for recovery", "file", p.dst)
	}
	progress(70)

	if stageLogs {
		if err := st.mkdirAll(req.LogDir); err != nil {
			st.undo()
			return &ese.Error{Code: ioCode(err), Op: op, File: req.LogDir, Err: err}
		}
		for i, p := range logs {
			if err := st.copy(p, logDst[i]); err != nil {
				st.undo()
				return &ese.Error{Code: ioCode(err), Op: op, File: logDst[i], Err: err}
			}
		}
	}
	progress(100)
	log.Info("backup set staged; finish recovery with ESE on Windows", "gen_low", li.GenLow, "gen_high", li.GenHigh, "base", li.BaseName)
	return nil
}

// checkRestoreCopy checks that src is a streamed backup copy whose every
// page verifies, whose trailer matches its header, which belongs to the log
// stream signLog and whose log range lies inside li.
func checkRestoreCopy(fsys FS, src string, signLog format.Signature, li ese.LogInfo) error {
	const op = "JetExternalRestore2"
	f, err := fsys.Open(src)
	if err != nil {
		return &ese.Error{Code: ioCode(err), Op: op, File: src, Err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return &ese.Error{Code: ese.ErrDiskIO, Op: op, File: src, Err: err}
	}
	sdb, err := format.VerifyStreamedDatabase(context.Background(), f, st.Size(), src)
	if err != nil {
		return err
	}
	if sdb.Header.SignLog != signLog {
		return &ese.Error{Code: ese.ErrGivenLogFileHasBadSignature, Op: op, File: src, Err: errors.New("the database belongs to another log stream than the backup logs")}
	}
	if sdb.Header.BKInfoFullCur.GenLow < li.GenLow {
		return &ese.Error{Code: ese.ErrStartingRestoreLogTooHigh, Op: op, File: src,
			Err: fmt.Errorf("the copy needs logs from generation %d, the restore starts at %d", sdb.Header.BKInfoFullCur.GenLow, li.GenLow)}
	}
	if sdb.Trailer.BKInfo.GenHigh > li.GenHigh {
		return &ese.Error{Code: ese.ErrEndingRestoreLogTooLow, Op: op, File: src,
			Err: fmt.Errorf("the copy needs logs up to generation %d, the restore ends at %d", sdb.Trailer.BKInfo.GenHigh, li.GenHigh)}
	}
	return nil
}

// findBackupLog finds generation gen in dir under its 5- or 8-digit name,
// with the .log or .jtx extension.
func findBackupLog(fsys FS, dir, base string, gen uint32) (string, error) {
	for _, eight := range []bool{false, true} {
		for _, ext := range []string{".log", ".jtx"} {
			p := filepath.Join(dir, format.LogFileName(base, gen, ext, eight))
			if _, err := fsys.Stat(p); err == nil {
				return p, nil
			}
		}
	}
	return "", &ese.Error{Code: ese.ErrFileNotFound, Op: "JetExternalRestore2", File: filepath.Join(dir, format.LogFileName(base, gen, ".log", false)),
		Err: fmt.Errorf("log generation %d (0x%X) of the backup set is missing", gen, gen)}
}

func verifyLogFile(fsys FS, path string) (*format.LogCheck, error) {
	f, err := fsys.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return format.VerifyLog(f, st.Size(), path)
}

// stager copies files for a restore and remembers what it made, so that
// undo can take a failed restore back.
type stager struct {
	fsys  FS
	files []string // files created
	dirs  []string // directories created, parents first
}

// mkdirAll creates dir and its missing parents, recording each one made.
func (s *stager) mkdirAll(dir string) error {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := s.fsys.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := s.fsys.MkdirAll(dir); err != nil {
		return err
	}
	for i := len(missing) - 1; i >= 0; i-- {
		s.dirs = append(s.dirs, missing[i])
	}
	return nil
}

// copy copies src to the new file dst (creating its directory), recording
// dst as soon as it exists.
func (s *stager) copy(src, dst string) error {
	if err := s.mkdirAll(filepath.Dir(dst)); err != nil {
		return err
	}
	return copyFile(s.fsys, src, dst, func() { s.files = append(s.files, dst) })
}

// undo removes the files and then the directories the stager made.
func (s *stager) undo() {
	for _, f := range s.files {
		s.fsys.Remove(f)
	}
	for i := len(s.dirs) - 1; i >= 0; i-- {
		s.fsys.Remove(s.dirs[i])
	}
}

// copyFile copies src to a new file dst on fsys (durable.CopyFileFS:
// synced, never overwriting, no partial dst left on failure). created, if
// not nil, is called once dst exists, so that the caller can remove it
// again if a later step fails.
func copyFile(fsys FS, src, dst string, created func()) error {
	if err := fsys.MkdirAll(filepath.Dir(dst)); err != nil {
		return err
	}
	err := durable.CopyFileFS(durableFS{fsys}, src, dst, created)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w; restore never overwrites files", err)
	}
	return err
}

// durableFS is the engine's file system as durable.CopyFileFS sees it.
type durableFS struct{ fsys FS }

func (d durableFS) Open(name string) (File, error)      { return d.fsys.Open(name) }
func (d durableFS) CreateNew(name string) (File, error) { return d.fsys.Create(name) }
func (d durableFS) Remove(name string) error            { return d.fsys.Remove(name) }
func (d durableFS) SyncDir(dir string) error            { return durable.SyncDir(dir) }
