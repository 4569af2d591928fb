package protocol

import (
	"errors"
	"strings"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/protocol/snapshotv1"
)

// RemoteError is the cause of an *ese.Error that FromStatus rebuilt from a
// plugin's status: the text of the plugin-side cause, whose Go type cannot
// cross the process boundary. Hosts match on the *ese.Error's Code
// (errors.Is(err, ese.ErrReadVerifyFailure)), not on this text.
type RemoteError struct {
	Message string
}

// Error returns the plugin-side text.
func (e *RemoteError) Error() string { return e.Message }

// errorDetail builds the ErrorDetail of err, which carries code (found by
// ese.CodeOf). Op, File, Page and the cause's text come from the first
// *ese.Error in the chain. A bare Code wrapped with context
// (fmt.Errorf("open %s: %w", name, ese.ErrFileNotFound)) has no *ese.Error;
// its context then travels as Op when the text ends with the code, so the
// rebuilt error prints as the original did, and as the cause otherwise.
func errorDetail(err error, code ese.Code) *snapshotv1.ErrorDetail {
	d := &snapshotv1.ErrorDetail{
		JetErr:      int32(code),
		Name:        code.Name(),
		Description: code.Description(),
		Retryable:   Retryable(code),
	}
	var e *ese.Error
	switch {
	case errors.As(err, &e):
		d.Op, d.File, d.Page = e.Op, e.File, e.Page
		if e.Err != nil {
			d.Cause = e.Err.Error()
		}
	case err != error(code):
		msg := err.Error()
		if op, ok := strings.CutSuffix(msg, ": "+code.Error()); ok {
			d.Op = op
		} else {
			d.Cause = msg
		}
	}
	return d
}

// errorFromDetail rebuilds the plugin-side *ese.Error from its detail. When
// this build's code table lacks the code (a newer plugin), the plugin's name
// and description are kept in the cause so that the error still says what
// it is.
func errorFromDetail(d *snapshotv1.ErrorDetail) *ese.Error {
	code := ese.Code(d.GetJetErr())
	e := &ese.Error{Code: code, Op: d.GetOp(), File: d.GetFile(), Page: d.GetPage()}
	msg := d.GetCause()
	if !code.Known() && d.GetName() != "" {
		about := d.GetName()
		if d.GetDescription() != "" {
			about += ": " + d.GetDescription()
		}
		if msg != "" {
			about += ": " + msg
		}
		msg = about
	}
	if msg != "" {
		e.Err = &RemoteError{Message: msg}
	}
	return e
}
