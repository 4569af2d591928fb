package protocol

import (
	"context"
	"errors"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/protocol/snapshotv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ToStatus turns the error of a Snapshotter call into the error a gRPC
// server method returns; the plugin adapter calls it on every error. The
// status message is always err.Error().
//   - An error carrying a JET_err (an *ese.Error or a bare ese.Code anywhere
//     in its chain) gets the code GRPCCode gives and an ErrorDetail with the
//     JET_err, its name and description, op, file, page, retryable and the
//     cause's text. A success or warning code returned as an error is a bug
//     of the plugin; it becomes Internal, detail included, because a
//     non-nil error must never turn into an OK status.
//   - An error that already is a gRPC status is returned unchanged.
//   - context.Canceled and context.DeadlineExceeded become Canceled and
//     DeadlineExceeded.
//   - Anything else becomes Internal.
//
// ToStatus(nil) is nil.
func ToStatus(err error) error {
	if err == nil {
		return nil
	}
	if code, ok := ese.CodeOf(err); ok {
		c := GRPCCode(code)
		if c == codes.OK {
			c = codes.Internal
		}
		st := status.New(c, err.Error())
		if withDetail, derr := st.WithDetails(errorDetail(err, code)); derr == nil {
			st = withDetail
		}
		return st.Err()
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

// FromStatus turns the error of a gRPC client call back into the error the
// plugin returned, so hosts handle a plugin in another process like one in
// their own; the host adapter calls it on every error.
//   - A status with an ErrorDetail becomes *ese.Error{Code, Op, File, Page}
//     with a *RemoteError holding the cause's text as Err (nil without a
//     cause), so errors.Is(err, ese.ErrBackupAbortByServer) and
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
			return errorFromDetail(detail)
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
