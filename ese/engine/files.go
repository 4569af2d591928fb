package engine

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

// logSet is what the log directory holds right now.
type logSet struct {
	archived    map[uint32]string // generation -> path of <base>XXXXX.log
	oldest      uint32            // lowest archived generation, 0 if none
	newest      uint32            // highest archived generation, 0 if none
	current     uint32            // generation in the header of <base>.log, 0 if absent
	currentPath string
	currentHdr  *format.LogHeader
	ext         string // ".log" or ".jtx", as the files use
	eightDigits bool   // archived names use 8 hex digits
}

// scanLogs lists the log directory. Temporary (<base>tmp.log) and reserve
// logs are never part of the stream and are ignored.
func (in *Instance) scanLogs(op string) (*logSet, error) {
	entries, err := in.fs.ReadDir(in.cfg.LogDir)
	if err != nil {
		return nil, &ese.Error{Code: ese.ErrInvalidPath, Op: op, File: in.cfg.LogDir, Err: err}
	}
	ls := &logSet{archived: map[uint32]string{}, ext: ".log"}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		ln, ok := format.ParseLogNameBase(e.Name(), in.base)
		if !ok {
			continue
		}
		p := filepath.Join(in.cfg.LogDir, e.Name())
		switch ln.Kind {
		case format.LogArchived:
			ls.archived[ln.Gen] = p
			if ls.oldest == 0 || ln.Gen < ls.oldest {
				ls.oldest = ln.Gen
			}
			if ln.Gen > ls.newest {
				ls.newest = ln.Gen
			}
			if ln.Digits == 8 {
				ls.eightDigits = true
			}
			ls.ext = strings.ToLower(ln.Ext)
		case format.LogCurrent:
			ls.currentPath = p
			ls.ext = strings.ToLower(ln.Ext)
		}
	}
	if ls.currentPath != "" {
		hdr, err := in.readLogHeader(ls.currentPath)
		if err != nil {
			return nil, &ese.Error{Code: ese.ErrLogReadVerifyFailure, Op: op, File: ls.currentPath, Err: err}
		}
		ls.current = hdr.Generation
		ls.currentHdr = hdr
	}
	return ls, nil
}

// logPath is where generation gen lives: its archived file, or the current
// log when gen is the current generation and no archived file exists (the
// virtual roll).
func (ls *logSet) logPath(gen uint32) (string, bool) {
	if p, ok := ls.archived[gen]; ok {
		return p, true
	}
	if gen != 0 && gen == ls.current {
		return ls.currentPath, true
	}
	return "", false
}

func (in *Instance) logName(ls *logSet, gen uint32) string {
	return filepath.Join(in.cfg.LogDir, format.LogFileName(in.base, gen, ls.ext, ls.eightDigits))
}

func (in *Instance) readLogHeader(path string) (*format.LogHeader, error) {
	f, err := in.fs.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 4096)
	if _, err := f.ReadAt(b, 0); err != nil {
		return nil, fmt.Errorf("read log header: %w", err)
	}
	return format.ParseLogHeader(b)
}

// readCheckpoint reads <base>.chk (or .jcp) from the system directory.
func (in *Instance) readCheckpoint(op string) (*format.Checkpoint, string, error) {
	var path string
	for _, ext := range []string{".chk", ".jcp"} {
		p := filepath.Join(in.cfg.SystemDir, in.base+ext)
		if _, err := in.fs.Stat(p); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		return nil, "", &ese.Error{Code: ese.ErrCheckpointFileNotFound, Op: op, File: filepath.Join(in.cfg.SystemDir, in.base+".chk")}
	}
	f, err := in.fs.Open(path)
	if err != nil {
		return nil, path, &ese.Error{Code: ese.ErrCheckpointFileNotFound, Op: op, File: path, Err: err}
	}
	defer f.Close()
	b := make([]byte, 8192)
	if n, err := f.ReadAt(b, 0); err != nil && !(errors.Is(err, io.EOF) && n > 0) {
		return nil, path, &ese.Error{Code: ese.ErrCheckpointCorrupt, Op: op, File: path, Err: err}
	}
	cp, err := format.ParseCheckpoint(b)
	if err != nil {
		var ee *ese.Error
		if errors.As(err, &ee) {
			return nil, path, &ese.Error{Code: ee.Code, Op: op, File: path, Err: ee}
		}
		return nil, path, &ese.Error{Code: ese.ErrCheckpointCorrupt, Op: op, File: path, Err: err}
	}
	return cp, path, nil
}

// readDBHeader reads and elects the header of a database file and checks
// the file's size against what the database says it owns (checkDatabaseSize):
// an empty or cut-short file fails here, at JetInit, Begin and OpenFile,
// never later than the first call that names it.
func (in *Instance) readDBHeader(op, path string) (*format.HeaderRead, error) {
	f, err := in.fs.Open(path)
	if err != nil {
		code := ese.ErrDiskIO
		if errors.Is(err, fs.ErrNotExist) {
			code = ese.ErrFileNotFound
		} else if errors.Is(err, fs.ErrPermission) {
			code = ese.ErrFileAccessDenied
		}
		return nil, &ese.Error{Code: code, Op: op, File: path, Err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &ese.Error{Code: ese.ErrDiskIO, Op: op, File: path, Err: err}
	}
	if st.Size() == 0 {
		return nil, &ese.Error{Code: ese.ErrFileIOBeyondEOF, Op: op, File: path,
			Err: fmt.Errorf("database file is empty (0 bytes): a database has at least its 2 header pages and pages 1-3")}
	}
	hr, err := format.ReadDBHeader(f, st.Size(), path)
	if err != nil {
		var ee *ese.Error
		if errors.As(err, &ee) {
			return nil, &ese.Error{Code: ee.Code, Op: op, File: path, Page: ee.Page, Err: ee.Err}
		}
		return nil, &ese.Error{Code: ese.ErrDatabaseCorrupted, Op: op, File: path, Err: err}
	}
	if err := checkDatabaseSize(op, path, f, st.Size(), hr.PageSize); err != nil {
		return nil, err
	}
	return hr, nil
}

// dbCandidate is a file the instance backs up, and why.
type dbCandidate struct {
	path     string
	attested *attested // named by the instance's attach information
	named    bool      // named by Config.Databases
	scanned  bool      // found by the fallback scan only
}

// resolveDatabases decides which databases the instance has (ese-format.md
// §5.6, §6):
//
//  1. every database the attach lists of the checkpoint (when its fVersion
//     says the list is valid) and of the current log header name, mapped to
//     a file under LogDir/SystemDir (mapRecordedPath). Such a database is
//     always backed up: missing, empty, cut short or unreadable, it fails
//     JetInit with the JET_err naming the file.
//  2. the databases of Config.Databases: they add to the attested ones and
//     narrow the scan below, never hide an attested database.
//  3. without Config.Databases, a scan of LogDir and SystemDir (and their
//     subdirectories, maxScanDepth deep) for files that are databases by
//     their header magic (either copy, at every page size) or by a flush map
//     <stem>.jfm beside them. One whose log signature is another stream's
//     is skipped; one that cannot be read fails JetInit.
func (in *Instance) resolveDatabases() ([]*database, error) {
	const op = "JetAttachDatabase"
	var streamSign *format.Signature
	ls, lsErr := in.scanLogs(op)
	if lsErr != nil {
		ls = nil
	}
	cp, cpPath, cpErr := in.readCheckpoint(op)
	if cpErr != nil {
		cp = nil
	}
	if ls != nil && ls.currentHdr != nil {
		s := ls.currentHdr.SignLog
		streamSign = &s
	} else if cp != nil {
		s := cp.SignLog
		streamSign = &s
	}

	var cands []*dbCandidate
	byKey := map[string]*dbCandidate{}
	add := func(path string) *dbCandidate {
		k := pathKey(path)
		if c, ok := byKey[k]; ok {
			return c
		}
		c := &dbCandidate{path: path}
		byKey[k] = c
		cands = append(cands, c)
		return c
	}
	for _, a := range in.attestedDatabases(ls, cp, cpPath) {
		if !a.found {
			return nil, &ese.Error{Code: ese.ErrFileNotFound, Op: op, File: a.path,
				Err: fmt.Errorf("database %s is attached according to %s but is not in the source (looked for it under %s)", a.recorded, a.source, in.searchedDirs())}
		}
		abs, err := filepath.Abs(a.path)
		if err != nil {
			return nil, &ese.Error{Code: ese.ErrInvalidPath, Op: op, File: a.path, Err: err}
		}
		a := a
		add(abs).attested = &a
	}
	for _, p := range in.cfg.Databases {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, &ese.Error{Code: ese.ErrInvalidPath, Op: op, File: p, Err: err}
		}
		add(abs).named = true
	}
	if len(in.cfg.Databases) == 0 {
		found, err := in.discoverDatabases()
		if err != nil {
			return nil, err
		}
		for _, p := range found {
			abs, err := filepath.Abs(p)
			if err != nil {
				return nil, &ese.Error{Code: ese.ErrInvalidPath, Op: op, File: p, Err: err}
			}
			if c := add(abs); c.attested == nil {
				c.scanned = true
			}
		}
	}

	var dbs []*database
	for _, c := range cands {
		hr, err := in.readDBHeader(op, c.path)
		if err != nil {
			return nil, err
		}
		switch {
		case c.attested != nil:
			if hr.Header.SignDb != c.attested.signDb {
				return nil, &ese.Error{Code: ese.ErrBadDbSignature, Op: op, File: c.path,
					Err: fmt.Errorf("database signature %v, but %s names %s with signature %v: this file is another database", hr.Header.SignDb, c.attested.source, c.attested.recorded, c.attested.signDb)}
			}
			if len(in.cfg.Databases) > 0 && !c.named {
				in.log.Info("backing up a database the instance's attach information names although --database does not", "file", c.path, "recorded", c.attested.recorded, "attached_by", c.attested.source)
			}
		case c.scanned:
			if streamSign != nil && hr.Header.SignLog != *streamSign {
				in.log.Info("skipping a database of another log stream", "file", c.path)
				continue
			}
			// ESE never attaches two databases of one signature
			// (JET_errDatabaseSignInUse): a second one is a copy, such as
			// a backup set kept below the instance directory.
			if prev := sameSignDb(dbs, hr.Header.SignDb); prev != "" {
				in.log.Info("skipping a copy of an attached database (same database signature)", "file", c.path, "database", prev)
				continue
			}
		}
		if in.pageSize == 0 {
			in.pageSize = hr.PageSize
		} else if hr.PageSize != in.pageSize {
			return nil, &ese.Error{Code: ese.ErrPageSizeMismatch, Op: op, File: c.path,
				Err: fmt.Errorf("page size %d, the instance uses %d", hr.PageSize, in.pageSize)}
		}
		dbs = append(dbs, &database{path: c.path, hdr: hr.Header})
	}
	if in.pageSize == 0 {
		in.pageSize = 4096
		if ls != nil && ls.currentHdr != nil && ls.currentHdr.CbPageSize != 0 {
			in.pageSize = int(ls.currentHdr.CbPageSize)
		}
	}
	return dbs, nil
}

// sameSignDb returns the path of a database in dbs whose signature is sig.
func sameSignDb(dbs []*database, sig format.Signature) string {
	for _, db := range dbs {
		if db.hdr.SignDb == sig {
			return db.path
		}
	}
	return ""
}

// searchedDirs names the directories attached databases are looked for in.
func (in *Instance) searchedDirs() string {
	if pathKey(in.cfg.SystemDir) == pathKey(in.cfg.LogDir) {
		return in.cfg.LogDir
	}
	return in.cfg.LogDir + " and " + in.cfg.SystemDir
}

// maxScanDepth bounds how deep the fallback scan looks below LogDir and
// SystemDir: legacy instances keep databases one level down (CatRoot2's
// {GUID}\catdb), deeper trees are not an instance's.
const maxScanDepth = 2

// discoverDatabases is the fallback scan: files in LogDir, SystemDir and
// their subdirectories (maxScanDepth levels) that are databases by
// isDatabaseFile.
func (in *Instance) discoverDatabases() ([]string, error) {
	dirs := []string{in.cfg.LogDir}
	if pathKey(in.cfg.SystemDir) != pathKey(in.cfg.LogDir) {
		dirs = append(dirs, in.cfg.SystemDir)
	}
	var out []string
	seen := map[string]bool{}
	// A directory's files come before its subdirectories', so that a
	// database is met before copies of it kept further down.
	var walk func(dir string, depth int, top bool) error
	walk = func(dir string, depth int, top bool) error {
		if seen[pathKey(dir)] {
			return nil
		}
		seen[pathKey(dir)] = true
		entries, err := in.fs.ReadDir(dir)
		if err != nil {
			if top {
				return &ese.Error{Code: ese.ErrInvalidPath, Op: "JetInit", File: dir, Err: err}
			}
			in.log.Warn("cannot list a subdirectory of the instance", "dir", dir, "error", err)
			return nil
		}
		names := map[string]bool{}
		stems := map[string]bool{} // stems of files other than flush maps
		for _, e := range entries {
			names[strings.ToLower(e.Name())] = true
			if n := strings.ToLower(e.Name()); e.Type().IsRegular() && filepath.Ext(n) != ".jfm" {
				stems[strings.TrimSuffix(n, filepath.Ext(n))] = true
			}
		}
		// ESE keeps a flush map <stem>.jfm beside each database it has
		// attached (Windows 10 1607 on): one without its database means the
		// database is gone, which a scan must not take for "no database".
		for _, e := range entries {
			n := e.Name()
			if e.Type().IsRegular() && strings.EqualFold(filepath.Ext(n), ".jfm") && !stems[strings.ToLower(strings.TrimSuffix(n, filepath.Ext(n)))] {
				return &ese.Error{Code: ese.ErrFileNotFound, Op: "JetAttachDatabase", File: filepath.Join(dir, n),
					Err: fmt.Errorf("the flush map %s has no database beside it: the database %s.* is missing (if it was removed on purpose, remove its flush map too, or name the databases with --database)", n, strings.TrimSuffix(n, filepath.Ext(n)))}
			}
		}
		var subdirs []string
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			if e.IsDir() {
				subdirs = append(subdirs, p)
				continue
			}
			if !e.Type().IsRegular() {
				continue
			}
			if _, ok := format.ParseLogName(e.Name()); ok {
				continue
			}
			if in.isDatabaseFile(p, names) {
				out = append(out, p)
			}
		}
		if depth < maxScanDepth {
			sort.Strings(subdirs)
			for _, p := range subdirs {
				if err := walk(p, depth+1, false); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, dir := range dirs {
		if err := walk(dir, 0, true); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// isDatabaseFile reports whether a file found by the scan is a database the
// instance owns: a flush map <stem>.jfm sits beside it (siblings holds the
// directory's lower-case names), or either header copy carries the database
// magic with the database file type (the shadow is tried at every page size,
// so a file whose primary header is destroyed still counts). Flush maps and
// temporary databases carry the magic with another file type and are not
// databases to back up.
func (in *Instance) isDatabaseFile(path string, siblings map[string]bool) bool {
	name := filepath.Base(path)
	ext := strings.ToLower(filepath.Ext(name))
	if ext == ".jfm" {
		return false
	}
	if stem := strings.TrimSuffix(name, filepath.Ext(name)); stem != "" && siblings[strings.ToLower(stem)+".jfm"] {
		return true
	}
	f, err := in.fs.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, 2*format.MaxPageSize)
	n, _ := f.ReadAt(b, 0)
	b = b[:n]
	isDB := func(h []byte) (magic, db bool) {
		if len(h) < format.OffFileType+4 || le32(h[format.OffMagic:]) != format.DBMagic {
			return false, false
		}
		return true, le32(h[format.OffFileType:]) == uint32(format.FileTypeDatabase)
	}
	if magic, db := isDB(b); magic {
		return db
	}
	for ps := format.MinPageSize; ps <= format.MaxPageSize; ps *= 2 {
		if len(b) > ps {
			if _, db := isDB(b[ps:]); db {
				return true
			}
		}
	}
	return false
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// pathKey compares paths the way the platform does: case-insensitively on
// Windows, exactly elsewhere.
func pathKey(p string) string {
	p = filepath.Clean(p)
	if os.PathSeparator == '\\' {
		return strings.ToLower(p)
	}
	return p
}

// ioCode maps an I/O error to the JET_err ESE reports for it.
func ioCode(err error) ese.Code {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ese.ErrFileNotFound
	case errors.Is(err, fs.ErrPermission):
		return ese.ErrFileAccessDenied
	case errors.Is(err, fs.ErrExist):
		return ese.ErrFileAlreadyExists
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ese.ErrFileIOBeyondEOF
	}
	return ese.ErrDiskIO
}
