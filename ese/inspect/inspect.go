package inspect

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

// Options tune Inspect.
type Options struct {
	// NoVerify reads headers only: no database page pass, no log segment
	// check (the chain is then checked on header fields only).
	NoVerify bool
	// Pages records the status of every database page, as runs of equal
	// status (Database.PageRuns).
	Pages bool
	// TempDir is where .gz files are unpacked for inspection; "" means
	// os.TempDir(). The unpacked copy is removed before Inspect returns.
	TempDir string
}

// maxPageErrors is how many bad pages of one file become separate entries
// of Report.Errors; the rest are summed up in one more entry.
const maxPageErrors = 100

// headSize is how much of each file is read to classify it: two header
// pages of the largest page size.
const headSize = 2 * format.MaxPageSize

// inspector carries the state of one Inspect call.
type inspector struct {
	opts   Options
	rep    *Report
	isDir  bool
	head   []byte // reused buffer for the first headSize bytes of each file
	chunk  []byte // reused buffer for whole-file scans
	pgErrs int    // page errors reported for the current file
}

// Inspect examines path, a file or a directory (walked recursively), and
// returns the report. The error is non-nil only when path itself cannot be
// examined (it does not exist, cannot be read) or ctx is cancelled; every
// problem with a file found under path is recorded in the report instead.
func Inspect(ctx context.Context, path string, opts Options) (*Report, error) {
	st, err := os.Stat(path)
	if err != nil {
		code := ese.ErrDiskIO
		if errors.Is(err, fs.ErrNotExist) {
			code = ese.ErrFileNotFound
		}
		return nil, &ese.Error{Code: code, Op: "inspect", File: path, Err: err}
	}
	in := &inspector{opts: opts, rep: newReport(path, !opts.NoVerify), isDir: st.IsDir(),
		head: make([]byte, headSize)}
	if !st.IsDir() {
		if err := in.file(ctx, path); err != nil {
			return nil, err
		}
	} else {
		err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == path {
					return err
				}
				in.err(problemFrom(p, "read directory", ese.ErrDiskIO, err))
				return nil
			}
			if d.IsDir() {
				return nil
			}
			return in.file(ctx, p)
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &ese.Error{Code: ese.ErrDiskIO, Op: "inspect", File: path, Err: err}
		}
	}
	in.link()
	in.rep.OK = len(in.rep.Errors) == 0
	return in.rep, nil
}

// err records a verification error (or an I/O error, by its code).
func (in *inspector) err(p Problem) { in.rep.Errors = append(in.rep.Errors, p) }

// warn records a warning.
func (in *inspector) warn(p Problem) { in.rep.Warnings = append(in.rep.Warnings, p) }

// note builds a Problem from a code and a message.
func note(file, op string, code ese.Code, format string, args ...any) Problem {
	return problemFrom(file, op, code, fmt.Errorf(format, args...))
}

// file inspects one file; only a cancelled context is returned as error.
func (in *inspector) file(ctx context.Context, path string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st, err := os.Stat(path) // follows symlinks, unlike the walk's DirEntry
	if err != nil {
		in.err(problemFrom(path, "stat", ese.ErrDiskIO, err))
		return nil
	}
	if !st.Mode().IsRegular() {
		in.rep.Others = append(in.rep.Others, Other{File: path, Note: "not a regular file (" + st.Mode().Type().String() + ")"})
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		code := ese.ErrDiskIO
		if errors.Is(err, fs.ErrPermission) {
			code = ese.ErrFileAccessDenied
		}
		in.err(problemFrom(path, "open", code, err))
		return nil
	}
	defer f.Close()
	name := filepath.Base(path)
	if strings.EqualFold(filepath.Ext(name), ".gz") && isGzip(f) {
		return in.gunzipped(ctx, f, path, strings.TrimSuffix(name, filepath.Ext(name)))
	}
	return in.classify(ctx, f, st.Size(), path, name, false)
}

// isGzip reports whether r starts with the gzip magic bytes.
func isGzip(r io.ReaderAt) bool {
	var m [2]byte
	n, _ := r.ReadAt(m[:], 0)
	return n == 2 && m[0] == 0x1f && m[1] == 0x8b
}

// gunzipped unpacks the gzip file f into a temporary file and inspects that
// under the original path, using name (without .gz) to classify it.
func (in *inspector) gunzipped(ctx context.Context, f *os.File, path, name string) error {
	tmp, err := os.CreateTemp(in.opts.TempDir, "esesnap-inspect-*")
	if err != nil {
		in.err(problemFrom(path, "gunzip", ese.ErrDiskIO, fmt.Errorf("create temporary file: %w", err)))
		return nil
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	zr, err := gzip.NewReader(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		in.err(problemFrom(path, "gunzip", ese.ErrDiskIO, err))
		return nil
	}
	size, err := io.Copy(tmp, ctxReader{ctx, zr})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		in.err(problemFrom(path, "gunzip", ese.ErrDiskIO, fmt.Errorf("unpack to %s: %w", tmp.Name(), err)))
		return nil
	}
	return in.classify(ctx, tmp, size, path, name, true)
}

// ctxReader stops a copy when the context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// readHead reads up to headSize bytes from the start of r.
func (in *inspector) readHead(r io.ReaderAt, size int64) ([]byte, error) {
	n := min(size, int64(len(in.head)))
	b := in.head[:n]
	got, err := r.ReadAt(b, 0)
	if got == len(b) {
		return b, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return nil, err
}

// hasDBMagic reports whether one of the candidate header positions carries
// the database magic: page 0, or the shadow copy at any page size.
func hasDBMagic(head []byte) bool {
	for _, off := range []int{0, 2048, 4096, 8192, 16384, 32768} {
		if len(head) >= off+8 && le32(head[off+format.OffMagic:]) == format.DBMagic {
			return true
		}
	}
	return false
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// headerType returns the file type at offset 667 of a header copy of cb
// bytes at the start of head when that copy's plain XOR checksum is good,
// else -1.
func headerType(head []byte, cb int) int {
	if len(head) < cb || le32(head) != format.HeaderChecksum(head[:cb]) {
		return -1
	}
	return int(le32(head[format.OffFileType:]))
}

// Database file extensions that make a file without a readable header a
// damaged database rather than an unknown file.
var dbExts = map[string]bool{".edb": true, ".dit": true, ".mdb": true, ".sdb": true}

// classify decides what the file is and dispatches to its inspector.
func (in *inspector) classify(ctx context.Context, r io.ReaderAt, size int64, file, name string, gz bool) error {
	head, err := in.readHead(r, size)
	if err != nil {
		in.err(problemFrom(file, "read", ese.ErrDiskIO, err))
		return nil
	}
	ln, named := format.ParseLogName(name)
	ext := strings.ToLower(filepath.Ext(name))
	// A header with a good checksum says what it is; a database header
	// (file type 1 or 5) falls through to the magic test.
	switch {
	case headerType(head, format.LogHeaderSize) == format.LogFileType:
		in.log(ctx, r, size, file, name, gz, head)
	case headerType(head, format.CheckpointCopySize) == format.CheckpointFileType:
		in.checkpoint(file, size, gz, head, ln)
	case headerType(head, flushMapPageSize) == int(format.FileTypeFlushMap):
		return in.flushMap(ctx, r, size, file, gz)
	case hasDBMagic(head):
		return in.database(ctx, r, size, file, gz)
	case named && ln.Kind == format.LogCheckpoint:
		in.checkpoint(file, size, gz, head, ln)
	case named && ln.Kind != format.LogNotLog:
		in.log(ctx, r, size, file, name, gz, head)
	case ext == ".jfm":
		return in.flushMap(ctx, r, size, file, gz)
	case dbExts[ext]:
		return in.database(ctx, r, size, file, gz)
	default:
		o := Other{File: file, Size: size, Note: "not an ESE file"}
		if size == 0 {
			o.Note = "empty file"
		} else if int64(len(head)) == size && isZero(head) {
			o.Note = "all zero bytes"
		}
		in.rep.Others = append(in.rep.Others, o)
	}
	return nil
}

// allZero reports whether the size bytes of r are all zero.
func (in *inspector) allZero(r io.ReaderAt, size int64) (bool, error) {
	if in.chunk == nil {
		in.chunk = make([]byte, 1<<20)
	}
	for off := int64(0); off < size; {
		b := in.chunk[:min(int64(len(in.chunk)), size-off)]
		if n, err := r.ReadAt(b, off); n < len(b) {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return false, err
		}
		if !isZero(b) {
			return false, nil
		}
		off += int64(len(b))
	}
	return true, nil
}

// isZero reports whether b is all zero bytes.
func isZero(b []byte) bool {
	for len(b) >= 8 {
		if b[0]|b[1]|b[2]|b[3]|b[4]|b[5]|b[6]|b[7] != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
