package protocol

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/grpc/codes"
)

// Coded is an error that names its code in an error domain of the plugin's
// own (ESE's *ese.Error and ese.Code are domain "jet") and says which gRPC
// status code carries it. ToStatus sends the first Coded error of a chain as
// a status with an ErrorDetail; the protocol holds no table of any domain's
// codes. A Coded error may also have the methods of Described, Located and
// RetryHinter, whose results go into the detail too.
type Coded interface {
	error
	// ErrorDomain names the code space, such as "jet"; empty for an error
	// classified only by its gRPC code.
	ErrorDomain() string
	// ErrorCode is the number of the error in its domain.
	ErrorCode() int64
	// ErrorName is the domain's name for the code, such as
	// "JET_errNoBackup".
	ErrorName() string
	// GRPCCode is the status code the error travels with; OK is treated as
	// Internal, because a failure must never look like a success.
	GRPCCode() codes.Code
}

// Described is a Coded error that explains its code in a short sentence.
type Described interface {
	ErrorDescription() string
}

// Located is a Coded error that says where it happened: the operation, the
// file, and a byte offset or a page within the file (0 when not known).
type Located interface {
	ErrorOp() string
	ErrorFile() string
	ErrorOffset() int64
	ErrorPage() int64
}

// RetryHinter is a Coded error that says whether retrying later may
// succeed without anyone fixing anything.
type RetryHinter interface {
	ErrorRetryable() bool
}

// Error is the protocol's own error: what a host gets back for a plugin's
// coded error when no decoder is registered for its domain, and what a
// plugin without a domain of its own returns to give a failure a gRPC code
// and a location (Domain empty, Status set, or left OK to take the code of
// Err: fs.ErrNotExist is NotFound, fs.ErrPermission PermissionDenied, ...).
// errors.Is matches another Coded error of the same domain and code, so
// errors.Is(err, ese.ErrNoBackup) holds for a JET_err even undecoded.
type Error struct {
	Domain      string     // the code space, such as "jet"; empty when the error has no code of its own
	Code        int64      // the error's number in Domain
	Name        string     // the domain's name for Code
	Description string     // a short explanation of Code
	Status      codes.Code // the gRPC code; OK means "from Err" (GRPCCode)
	Op          string     // the call or step that failed
	File        string     // the file concerned, if any
	Offset      int64      // byte offset in File of the failure, or 0
	Page        int64      // 1-based page of a page-level failure, or 0
	Retryable   bool       // retrying later may succeed
	Err         error      // the cause; on the host side a *RemoteError with its text
}

// Error formats the failure for a person: operation, file and position,
// then the code's name, number and description, then the cause.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.File != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(e.File)
	}
	if e.Page != 0 {
		b.WriteString(" page " + strconv.FormatInt(e.Page, 10))
	}
	if e.Offset != 0 {
		b.WriteString(" offset " + strconv.FormatInt(e.Offset, 10))
	}
	var what []string
	if e.Domain != "" {
		name := e.Name
		if name == "" {
			name = e.Domain + " error"
		}
		what = append(what, name+" ("+strconv.FormatInt(e.Code, 10)+")")
		if e.Description != "" {
			what = append(what, e.Description)
		}
	}
	if e.Err != nil {
		what = append(what, e.Err.Error())
	}
	if len(what) == 0 {
		what = append(what, strings.ToLower(e.GRPCCode().String()))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(strings.Join(what, ": "))
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an error of the same domain and code (a
// Coded error, such as ese.ErrNoBackup), or, for an error that travelled
// as Canceled or DeadlineExceeded, the matching context error.
func (e *Error) Is(target error) bool {
	switch target {
	case context.Canceled:
		return e.Status == codes.Canceled
	case context.DeadlineExceeded:
		return e.Status == codes.DeadlineExceeded
	}
	t, ok := target.(Coded)
	return ok && e.Domain != "" && t.ErrorDomain() == e.Domain && t.ErrorCode() == e.Code
}

// ErrorDomain returns Domain.
func (e *Error) ErrorDomain() string { return e.Domain }

// ErrorCode returns Code.
func (e *Error) ErrorCode() int64 { return e.Code }

// ErrorName returns Name.
func (e *Error) ErrorName() string { return e.Name }

// ErrorDescription returns Description.
func (e *Error) ErrorDescription() string { return e.Description }

// GRPCCode returns Status, or when Status is OK the code of Err as
// CodeOf gives it (Internal without Err).
func (e *Error) GRPCCode() codes.Code {
	if e.Status != codes.OK {
		return e.Status
	}
	if e.Err == nil {
		return codes.Internal
	}
	return CodeOf(e.Err)
}

// ErrorOp returns Op.
func (e *Error) ErrorOp() string { return e.Op }

// ErrorFile returns File.
func (e *Error) ErrorFile() string { return e.File }

// ErrorOffset returns Offset.
func (e *Error) ErrorOffset() int64 { return e.Offset }

// ErrorPage returns Page.
func (e *Error) ErrorPage() int64 { return e.Page }

// ErrorRetryable returns Retryable.
func (e *Error) ErrorRetryable() bool { return e.Retryable }

// RemoteError is the cause of an error that FromStatus rebuilt from a
// plugin's status: the text of the plugin-side cause, whose Go type cannot
// cross the process boundary. Hosts match on the error's domain and code
// (errors.Is(err, ese.ErrReadVerifyFailure)), not on this text.
type RemoteError struct {
	Message string
}

// Error returns the plugin-side text.
func (e *RemoteError) Error() string { return e.Message }

// CodeOf returns the gRPC status code that ToStatus gives err: the code a
// Coded error in its chain names (Internal for OK), the code of a status
// error, Canceled and DeadlineExceeded for context errors, NotFound,
// PermissionDenied and AlreadyExists for the matching fs errors, Unavailable
// for other operating-system errors (*fs.PathError, *os.LinkError,
// *os.SyscallError), and Internal for anything else. CodeOf(nil) is OK.
func CodeOf(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	var c Coded
	if errors.As(err, &c) {
		if g := c.GRPCCode(); g != codes.OK {
			return g
		}
		return codes.Internal
	}
	if st, ok := statusOf(err); ok {
		return st.Code()
	}
	return plainCode(err)
}

// plainCode is CodeOf for an error that is neither Coded nor a status.
func plainCode(err error) codes.Code {
	var (
		pathErr *fs.PathError
		linkErr *os.LinkError
		sysErr  *os.SyscallError
	)
	switch {
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, fs.ErrNotExist):
		return codes.NotFound
	case errors.Is(err, fs.ErrPermission):
		return codes.PermissionDenied
	case errors.Is(err, fs.ErrExist):
		return codes.AlreadyExists
	case errors.As(err, &pathErr), errors.As(err, &linkErr), errors.As(err, &sysErr):
		return codes.Unavailable
	}
	return codes.Internal
}

// decoders holds the registered decoders by domain.
var decoders sync.Map // string → func(error) error

// RegisterDecoder makes FromStatus hand every rebuilt *Error of domain to
// decode, whose result the host gets instead; a host that knows a domain
// registers it once at start-up (package host registers ese.FromRemote for
// "jet", so hosts get *ese.Error back). A later registration for the same
// domain replaces the earlier one.
func RegisterDecoder(domain string, decode func(error) error) {
	decoders.Store(domain, decode)
}

// decode passes e to the decoder of its domain, if any.
func decode(e *Error) error {
	if e.Domain == "" {
		return e
	}
	d, ok := decoders.Load(e.Domain)
	if !ok {
		return e
	}
	if out := d.(func(error) error)(e); out != nil {
		return out
	}
	return e
}
