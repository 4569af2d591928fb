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

// readDBHeader reads and elects the header of a database file.
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
	hr, err := format.ReadDBHeader(f, st.Size(), path)
	if err != nil {
		var ee *ese.Error
		if errors.As(err, &ee) {
			return nil, &ese.Error{Code: ee.Code, Op: op, File: path, Page: ee.Page, Err: ee.Err}
		}
		return nil, &ese.Error{Code: ese.ErrDatabaseCorrupted, Op: op, File: path, Err: err}
	}
	return hr, nil
}

// resolveDatabases reads the configured databases, or finds them: every ESE
// database file (not temp databases, flush maps or logs) in the log and
// system directories whose log signature matches the log stream's.
func (in *Instance) resolveDatabases() ([]*database, error) {
	const op = "JetAttachDatabase"
	paths := in.cfg.Databases
	discover := len(paths) == 0
	if discover {
		var err error
		if paths, err = in.discoverDatabases(); err != nil {
			return nil, err
		}
	}
	var streamSign *format.Signature
	if discover {
		if ls, err := in.scanLogs(op); err == nil && ls.currentHdr != nil {
			s := ls.currentHdr.SignLog
			streamSign = &s
		} else if cp, _, err := in.readCheckpoint(op); err == nil {
			s := cp.SignLog
			streamSign = &s
		}
	}
	var dbs []*database
	seen := map[string]bool{}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, &ese.Error{Code: ese.ErrInvalidPath, Op: op, File: p, Err: err}
		}
		key := pathKey(abs)
		if seen[key] {
			continue
		}
		seen[key] = true
		hr, err := in.readDBHeader(op, abs)
		if err != nil {
			if discover {
				in.log.Warn("skipping a file that looks like a database but cannot be read", "file", abs, "error", err)
				continue
			}
			return nil, err
		}
		if discover && streamSign != nil && hr.Header.SignLog != *streamSign {
			in.log.Info("skipping a database of another log stream", "file", abs)
			continue
		}
		if in.pageSize == 0 {
			in.pageSize = hr.PageSize
		} else if hr.PageSize != in.pageSize {
			return nil, &ese.Error{Code: ese.ErrPageSizeMismatch, Op: op, File: abs,
				Err: fmt.Errorf("page size %d, the instance uses %d", hr.PageSize, in.pageSize)}
		}
		dbs = append(dbs, &database{path: abs, hdr: hr.Header})
	}
	if in.pageSize == 0 {
		in.pageSize = 4096
		if ls, err := in.scanLogs(op); err == nil && ls.currentHdr != nil && ls.currentHdr.CbPageSize != 0 {
			in.pageSize = int(ls.currentHdr.CbPageSize)
		}
	}
	return dbs, nil
}

func (in *Instance) discoverDatabases() ([]string, error) {
	dirs := []string{in.cfg.LogDir}
	if pathKey(in.cfg.SystemDir) != pathKey(in.cfg.LogDir) {
		dirs = append(dirs, in.cfg.SystemDir)
	}
	var out []string
	for _, dir := range dirs {
		entries, err := in.fs.ReadDir(dir)
		if err != nil {
			return nil, &ese.Error{Code: ese.ErrInvalidPath, Op: "JetInit", File: dir, Err: err}
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			if _, ok := format.ParseLogName(e.Name()); ok {
				continue
			}
			p := filepath.Join(dir, e.Name())
			if in.looksLikeDatabase(p) {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// looksLikeDatabase checks the magic and the file type of the first header.
func (in *Instance) looksLikeDatabase(path string) bool {
	f, err := in.fs.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, 672)
	if _, err := f.ReadAt(b, 0); err != nil {
		return false
	}
	return le32(b[format.OffMagic:]) == format.DBMagic && le32(b[format.OffFileType:]) == uint32(format.FileTypeDatabase)
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
