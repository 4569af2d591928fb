package ese

import (
	"errors"
	"strconv"
	"strings"
)

// Error is the one error type of esesnap for anything ESE reports: a JET_err
// code together with the operation, the file and, for page-level failures,
// the page that caused it. It crosses the plugin boundary intact.
type Error struct {
	Code Code   // the JET_err; never JET_errSuccess
	Op   string // the ESE call or step, e.g. "JetReadFileInstance" or "verify page"
	File string // the file concerned, if any
	Page int64  // logical page number (pgno, 1-based) for page errors; 0 when not about a page
	Err  error  // the underlying cause (an I/O error, a checksum mismatch), may be nil
}

// NewError builds an *Error; Page stays 0 (not about a page).
func NewError(code Code, op, file string, cause error) *Error {
	return &Error{Code: code, Op: op, File: file, Err: cause}
}

// Error formats the failure for a person: operation, file, page, the JET_err
// with its number and meaning, then the cause.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
	}
	if e.File != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(e.File)
	}
	if e.Page != 0 {
		b.WriteString(" page ")
		b.WriteString(strconv.FormatInt(e.Page, 10))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Code.Error())
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the same JET_err: a Code, or an *Error with the
// same Code. This is what makes errors.Is(err, ese.ErrNoBackup) work.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case Code:
		return e.Code == t
	case *Error:
		return t != nil && e.Code == t.Code
	}
	return false
}

// CodeOf returns the JET_err carried by err: the Code of the first *Error or
// bare Code in its chain, ErrSuccess for nil, and ok=false when err carries
// no JET_err at all.
func CodeOf(err error) (code Code, ok bool) {
	if err == nil {
		return 0, true
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code, true
	}
	var c Code
	if errors.As(err, &c) {
		return c, true
	}
	return 0, false
}
