package protocol

import (
	"context"
	"errors"
	"strings"

	"github.com/esesnap/esesnap/protocol/snapshotv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// DomainJET is the error domain of the wire's legacy jet_err field: ToStatus
// fills jet_err for an error of this domain so that hosts that predate
// domains still read it, and FromStatus reads a detail with only jet_err set
// as this domain. The protocol knows nothing else of it.
const DomainJET = "jet"

// ToStatus turns the error of a Snapshotter call into the error a gRPC
// server method returns; the plugin adapter calls it on every error. The
// status message is always err.Error().
//   - An error with a Coded error in its chain gets the code the Coded error
//     names (GRPCCode; OK becomes Internal, because a non-nil error must
//     never turn into an OK status) and an ErrorDetail with its domain, code,
//     name, description, op, file, offset, page, retryable and the cause's
//     text. A Coded error that is wrapped with context but has no location
//     (fmt.Errorf("open %s: %w", name, ese.ErrFileNotFound)) sends the
//     context as op when the text ends with the Coded error's text, and the
//     whole text as cause otherwise.
//   - An error that already is a gRPC status is returned unchanged.
//   - Any other error gets the code CodeOf gives (context, fs and OS errors
//     have codes of their own; the rest is Internal) and no detail.
//
// ToStatus(nil) is nil.
func ToStatus(err error) error {
	if err == nil {
		return nil
	}
	var c Coded
	if errors.As(err, &c) {
		st := status.New(CodeOf(err), err.Error())
		if withDetail, derr := st.WithDetails(errorDetail(err, c)); derr == nil {
			st = withDetail
		}
		return st.Err()
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(plainCode(err), err.Error())
}

// FromStatus turns the error of a gRPC client call back into the error the
// plugin returned, so hosts handle a plugin in another process like one in
// their own; the host adapter calls it on every error.
//   - A status with an ErrorDetail becomes an *Error with the detail's
//     domain, code, name, description, location and retryable flag, the
//     status code as Status and a *RemoteError holding the cause's text as
//     Err (nil without a cause). When a decoder is registered for the
//     domain (RegisterDecoder), the host gets what the decoder makes of it
//     instead: with package host linked in, a JET_err comes back as
//     *ese.Error, so errors.Is(err, ese.ErrBackupAbortByServer) and
//     errors.As(err, **ese.Error) work across the process boundary.
//   - Canceled and DeadlineExceeded statuses match context.Canceled and
//     context.DeadlineExceeded with errors.Is and remain statuses for
//     status.Code.
//   - Other statuses (transport failures, Unimplemented, ...) and errors
//     that are not statuses are returned unchanged.
//
// FromStatus(nil) is nil.
func FromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		if detail, ok := d.(*snapshotv1.ErrorDetail); ok {
			return decode(errorFromDetail(detail, st.Code()))
		}
	}
	switch st.Code() {
	case codes.Canceled:
		return &contextStatusError{st: st, ctxErr: context.Canceled}
	case codes.DeadlineExceeded:
		return &contextStatusError{st: st, ctxErr: context.DeadlineExceeded}
	}
	return err
}

// statusOf is status.FromError, named for CodeOf.
func statusOf(err error) (*status.Status, bool) { return status.FromError(err) }

// errorDetail builds the ErrorDetail of err, whose first Coded error is c.
func errorDetail(err error, c Coded) *snapshotv1.ErrorDetail {
	d := &snapshotv1.ErrorDetail{Domain: c.ErrorDomain(), Code: c.ErrorCode(), Name: c.ErrorName()}
	if d.Domain == DomainJET && d.Code == int64(int32(d.Code)) {
		d.JetErr = int32(d.Code)
	}
	if x, ok := c.(Described); ok {
		d.Description = x.ErrorDescription()
	}
	if x, ok := c.(RetryHinter); ok {
		d.Retryable = x.ErrorRetryable()
	}
	if x, ok := c.(Located); ok {
		d.Op, d.File, d.Offset, d.Page = x.ErrorOp(), x.ErrorFile(), x.ErrorOffset(), x.ErrorPage()
		if cause := errors.Unwrap(c); cause != nil {
			d.Cause = cause.Error()
		}
		return d
	}
	if cause := errors.Unwrap(c); cause != nil {
		d.Cause = cause.Error()
	}
	if err != error(c) && d.Cause == "" {
		msg := err.Error()
		if op, ok := strings.CutSuffix(msg, ": "+c.Error()); ok {
			d.Op = op
		} else {
			d.Cause = msg
		}
	}
	return d
}

// errorFromDetail rebuilds the plugin's error from its detail and the
// status code it came with. A detail from a plugin that predates domains
// has only jet_err: it is domain DomainJET.
func errorFromDetail(d *snapshotv1.ErrorDetail, code codes.Code) *Error {
	e := &Error{
		Domain: d.GetDomain(), Code: d.GetCode(), Name: d.GetName(), Description: d.GetDescription(),
		Status: code, Op: d.GetOp(), File: d.GetFile(), Offset: d.GetOffset(), Page: d.GetPage(),
		Retryable: d.GetRetryable(),
	}
	if e.Domain == "" && d.GetJetErr() != 0 {
		e.Domain, e.Code = DomainJET, int64(d.GetJetErr())
	}
	if e.Status == codes.OK {
		e.Status = codes.Internal
	}
	if c := d.GetCause(); c != "" {
		e.Err = &RemoteError{Message: c}
	}
	return e
}

// contextStatusError is a Canceled or DeadlineExceeded status that also
// unwraps to the matching context error, so that both errors.Is(err,
// context.Canceled) and status.Code(err) see what happened.
type contextStatusError struct {
	st     *status.Status
	ctxErr error
}

// Error returns the status text, as a plain status error would.
func (e *contextStatusError) Error() string { return e.st.Err().Error() }

// Unwrap returns context.Canceled or context.DeadlineExceeded.
func (e *contextStatusError) Unwrap() error { return e.ctxErr }

// GRPCStatus returns the status, for status.Code and status.FromError.
func (e *contextStatusError) GRPCStatus() *status.Status { return e.st }
