package ese

import "google.golang.org/grpc/codes"

// Domain is the name of ESE's error domain on the wire: an error whose
// ErrorDomain is Domain carries a JET_err as its code. The snapshot protocol
// knows nothing of ESE; it carries any error that names its domain and code
// (protocol.Coded), and Code and *Error do so with the methods below.
const Domain = "jet"

// ErrorDomain returns Domain, so that a bare Code crosses the plugin
// boundary as a JET_err.
func (c Code) ErrorDomain() string { return Domain }

// ErrorCode returns the JET_err number.
func (c Code) ErrorCode() int64 { return int64(c) }

// ErrorName returns the ESE name of the code, such as "JET_errNoBackup".
func (c Code) ErrorName() string { return c.Name() }

// ErrorDescription returns the code's short explanation.
func (c Code) ErrorDescription() string { return c.Description() }

// ErrorRetryable reports Retryable, for the wire's retryable flag.
func (c Code) ErrorRetryable() bool { return c.Retryable() }

// ErrorDomain returns Domain: an *Error crosses the plugin boundary as its
// JET_err together with its operation, file and page.
func (e *Error) ErrorDomain() string { return Domain }

// ErrorCode returns the JET_err number.
func (e *Error) ErrorCode() int64 { return int64(e.Code) }

// ErrorName returns the ESE name of the JET_err.
func (e *Error) ErrorName() string { return e.Code.Name() }

// ErrorDescription returns the JET_err's short explanation.
func (e *Error) ErrorDescription() string { return e.Code.Description() }

// GRPCCode returns the gRPC status code of the JET_err (Code.GRPCCode).
func (e *Error) GRPCCode() codes.Code { return e.Code.GRPCCode() }

// ErrorRetryable reports whether the JET_err is retryable (Code.Retryable).
func (e *Error) ErrorRetryable() bool { return e.Code.Retryable() }

// ErrorOp returns the operation that failed.
func (e *Error) ErrorOp() string { return e.Op }

// ErrorFile returns the file concerned.
func (e *Error) ErrorFile() string { return e.File }

// ErrorPage returns the page of a page-level failure, or 0.
func (e *Error) ErrorPage() int64 { return e.Page }

// ErrorOffset returns 0: an *Error locates a failure by page, not by byte.
func (e *Error) ErrorOffset() int64 { return 0 }

// remote is what FromRemote needs of an error rebuilt on the host side from
// the wire (protocol.Error has these methods); declared here so that ese
// does not import the protocol.
type remote interface {
	error
	ErrorDomain() string
	ErrorCode() int64
	ErrorName() string
	ErrorDescription() string
	ErrorOp() string
	ErrorFile() string
	ErrorPage() int64
	Unwrap() error
}

// FromRemote turns the host-side form of a plugin's JET_err (the
// *protocol.Error that the plugin client adapter rebuilds from the status)
// back into an *Error with the same Code, Op, File and Page, so that
// errors.As(err, **ese.Error) works across the process boundary; the cause
// stays the remote error's cause (its text). Hosts need not call it: package
// host registers it as the decoder of Domain (protocol.RegisterDecoder).
// Errors of other domains, errors that already are *Error, and nil come back
// unchanged. A code this build does not know keeps the plugin's name and
// description in front of the cause, so the error still says what it is.
func FromRemote(err error) error {
	if _, ok := err.(*Error); ok {
		return err
	}
	r, ok := err.(remote)
	if !ok || r.ErrorDomain() != Domain {
		return err
	}
	code := Code(r.ErrorCode())
	out := &Error{Code: code, Op: r.ErrorOp(), File: r.ErrorFile(), Page: r.ErrorPage(), Err: r.Unwrap()}
	if !code.Known() && r.ErrorName() != "" {
		about := r.ErrorName()
		if d := r.ErrorDescription(); d != "" {
			about += ": " + d
		}
		out.Err = &unknownCodeError{about: about, cause: out.Err}
	}
	return out
}

// unknownCodeError keeps the plugin's name and description of a JET_err
// this build does not know, in front of the cause.
type unknownCodeError struct {
	about string
	cause error
}

// Error returns the name and description, then the cause.
func (u *unknownCodeError) Error() string {
	if u.cause == nil {
		return u.about
	}
	return u.about + ": " + u.cause.Error()
}

// Unwrap returns the remote cause.
func (u *unknownCodeError) Unwrap() error { return u.cause }
