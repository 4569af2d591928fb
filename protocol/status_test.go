package protocol

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/protocol/snapshotv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// detailOf returns the ErrorDetail of a status error, or nil.
func detailOf(t *testing.T, err error) *snapshotv1.ErrorDetail {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("%v is not a status", err)
	}
	for _, d := range st.Details() {
		if d, ok := d.(*snapshotv1.ErrorDetail); ok {
			return d
		}
	}
	return nil
}

// checkRebuilt checks that got is the *Error in was rebuilt on the host
// side: same domain, code, name, location, retryable flag, status code and
// text, matching errors.Is on the domain and code, with the cause's text as
// a *RemoteError.
func checkRebuilt(t *testing.T, got error, in *Error) {
	t.Helper()
	var e *Error
	if !errors.As(got, &e) {
		t.Fatalf("%v: rebuilt error %T is not an *Error", in, got)
	}
	if e.Domain != in.Domain || e.Code != in.Code || e.Name != in.Name || e.Description != in.Description ||
		e.Op != in.Op || e.File != in.File || e.Offset != in.Offset || e.Page != in.Page ||
		e.Retryable != in.Retryable || e.Status != in.GRPCCode() {
		t.Errorf("rebuilt %#v, want %#v", e, in)
	}
	if in.Domain != "" && !errors.Is(got, &Error{Domain: in.Domain, Code: in.Code}) {
		t.Errorf("%v: errors.Is(rebuilt, same domain and code) is false", in)
	}
	if errors.Is(got, &Error{Domain: in.Domain + ".other", Code: in.Code}) {
		t.Errorf("%v: errors.Is matches another domain", in)
	}
	if got.Error() != in.Error() {
		t.Errorf("rebuilt text\n %q\nwant\n %q", got.Error(), in.Error())
	}
	var remote *RemoteError
	if (in.Err != nil) != errors.As(got, &remote) {
		t.Errorf("%v: cause %v rebuilt as %v", in, in.Err, e.Err)
	}
}

// codedErrors are errors of several domains and of none, with and without
// location and cause, over every gRPC code a failure may use.
func codedErrors() []*Error {
	var errs []*Error
	for c := codes.Canceled; c <= codes.Unauthenticated; c++ {
		errs = append(errs,
			&Error{Domain: "example.db", Code: int64(c) * -7, Name: "DB_E" + c.String(), Description: "the example database said " + c.String(),
				Status: c, Op: "OpenTable", File: "/srv/db/main.db", Offset: 4096 * int64(c), Retryable: c == codes.Unavailable,
				Err: errors.New("cause of " + c.String())},
			&Error{Domain: DomainJET, Code: -1018, Name: "JET_errReadVerifyFailure", Status: c, Op: "JetReadFileInstance",
				File: `C:\Windows\NTDS\ntds.dit`, Page: 42},
			&Error{Status: c, Op: "open", File: "/srv/data/a", Err: errors.New("busy")},
		)
	}
	return errs
}

// TestStatusRoundTrip sends coded errors through ToStatus and FromStatus,
// alone and wrapped with context.
func TestStatusRoundTrip(t *testing.T) {
	for _, in := range codedErrors() {
		for _, sent := range []error{in, fmt.Errorf("session 3: %w", in)} {
			st := ToStatus(sent)
			if got := status.Code(st); got != in.Status {
				t.Errorf("%v: status code %v, want %v", in, got, in.Status)
			}
			if msg := status.Convert(st).Message(); msg != sent.Error() {
				t.Errorf("%v: status message %q, want %q", in, msg, sent.Error())
			}
			d := detailOf(t, st)
			if d == nil {
				t.Fatalf("%v: no ErrorDetail", in)
			}
			if d.GetDomain() != in.Domain || d.GetCode() != in.Code || d.GetName() != in.Name ||
				d.GetRetryable() != in.Retryable || d.GetOffset() != in.Offset || d.GetPage() != in.Page {
				t.Errorf("%v: detail %v", in, d)
			}
			// jet_err is filled for hosts that predate domains, and only for
			// domain "jet".
			if want := int32(0); in.Domain == DomainJET && d.GetJetErr() != int32(in.Code) || in.Domain != DomainJET && d.GetJetErr() != want {
				t.Errorf("%v: jet_err %d", in, d.GetJetErr())
			}
			checkRebuilt(t, FromStatus(st), in)
		}
	}
}

// bareCode is a Coded error with no location and no cause, as a domain's
// bare code value is (ese.Code): the context around it must still travel.
type bareCode int64

func (c bareCode) Error() string        { return fmt.Sprintf("bare error %d", int64(c)) }
func (c bareCode) ErrorDomain() string  { return "example.bare" }
func (c bareCode) ErrorCode() int64     { return int64(c) }
func (c bareCode) ErrorName() string    { return fmt.Sprintf("BARE_%d", int64(c)) }
func (c bareCode) GRPCCode() codes.Code { return codes.NotFound }

func TestStatusBareCodes(t *testing.T) {
	const c = bareCode(-5)
	for _, tc := range []struct {
		name   string
		err    error
		wantOp string
		cause  string
	}{
		{name: "bare code", err: c},
		{name: "code wrapped with context", err: fmt.Errorf("open %s: %w", "edb.chk", c), wantOp: "open edb.chk"},
		{name: "code in the middle of the text", err: fmt.Errorf("%w while opening edb.chk", c), cause: c.Error() + " while opening edb.chk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := ToStatus(tc.err)
			if got := status.Code(st); got != codes.NotFound {
				t.Errorf("status code %v, want NotFound", got)
			}
			got := FromStatus(st)
			var e *Error
			if !errors.As(got, &e) || e.Domain != "example.bare" || e.Code != -5 || e.Name != "BARE_-5" || e.Op != tc.wantOp {
				t.Fatalf("rebuilt %#v, want code -5 op %q", got, tc.wantOp)
			}
			if !errors.Is(got, c) {
				t.Error("errors.Is(rebuilt, code) is false")
			}
			if errors.Is(got, bareCode(-6)) {
				t.Error("errors.Is(rebuilt, another code) is true")
			}
			if tc.cause == "" && e.Err != nil {
				t.Errorf("cause = %v, want none", e.Err)
			}
			if tc.cause != "" && (e.Err == nil || e.Err.Error() != tc.cause) {
				t.Errorf("cause = %v, want %q", e.Err, tc.cause)
			}
		})
	}
}

// TestStatusLegacyJetErr is a plugin that predates domains: its detail has
// only jet_err, which is domain "jet".
func TestStatusLegacyJetErr(t *testing.T) {
	st, err := status.New(codes.FailedPrecondition, "JetEndExternalBackupInstance2: JET_errNoBackup (-520)").WithDetails(&snapshotv1.ErrorDetail{
		JetErr: -520, Name: "JET_errNoBackup", Description: "no backup", Op: "JetEndExternalBackupInstance2", Cause: "ended",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := FromStatus(st.Err())
	var e *Error
	if !errors.As(got, &e) || e.Domain != DomainJET || e.Code != -520 || e.Status != codes.FailedPrecondition || e.Op != "JetEndExternalBackupInstance2" {
		t.Fatalf("legacy detail became %#v", got)
	}
	for _, want := range []string{"JetEndExternalBackupInstance2", "JET_errNoBackup (-520)", "no backup", "ended"} {
		if !strings.Contains(got.Error(), want) {
			t.Errorf("text %q lacks %q", got.Error(), want)
		}
	}
}

// TestStatusUncoded covers errors without a Coded error on both sides: the
// code comes from the error's kind, and no detail is sent.
func TestStatusUncoded(t *testing.T) {
	existing := status.Error(codes.NotFound, "unknown session")
	_, statErr := os.Stat("/nonexistent/esesnap/x")
	for _, tc := range []struct {
		name      string
		err       error
		want      codes.Code
		wantIs    error // what the host-side error must match, if anything
		unchanged bool  // FromStatus returns the status error itself
	}{
		{name: "canceled", err: context.Canceled, want: codes.Canceled, wantIs: context.Canceled},
		{name: "wrapped canceled", err: fmt.Errorf("read db: %w", context.Canceled), want: codes.Canceled, wantIs: context.Canceled},
		{name: "deadline", err: fmt.Errorf("end: %w", context.DeadlineExceeded), want: codes.DeadlineExceeded, wantIs: context.DeadlineExceeded},
		{name: "plain error", err: errors.New("sink is full"), want: codes.Internal, unchanged: true},
		{name: "existing status", err: existing, want: codes.NotFound, unchanged: true},
		{name: "missing file", err: fmt.Errorf("list: %w", statErr), want: codes.NotFound, unchanged: true},
		{name: "permission", err: &fs.PathError{Op: "open", Path: "/root/x", Err: fs.ErrPermission}, want: codes.PermissionDenied, unchanged: true},
		{name: "exists", err: &fs.PathError{Op: "mkdir", Path: "/tmp", Err: fs.ErrExist}, want: codes.AlreadyExists, unchanged: true},
		{name: "other I/O error", err: &fs.PathError{Op: "read", Path: "/dev/sdz", Err: errors.New("input/output error")}, want: codes.Unavailable, unchanged: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CodeOf(tc.err); got != tc.want {
				t.Errorf("CodeOf = %v, want %v", got, tc.want)
			}
			st := ToStatus(tc.err)
			if got := status.Code(st); got != tc.want {
				t.Fatalf("status code %v, want %v", got, tc.want)
			}
			// A status keeps its own message; any other error's text becomes
			// the message.
			if msg, want := status.Convert(st).Message(), status.Convert(tc.err).Message(); msg != want {
				t.Errorf("message %q, want %q", msg, want)
			}
			if detailOf(t, st) != nil {
				t.Error("an uncoded error got an ErrorDetail")
			}
			got := FromStatus(st)
			if tc.wantIs != nil && !errors.Is(got, tc.wantIs) {
				t.Errorf("errors.Is(%v, %v) is false", got, tc.wantIs)
			}
			if status.Code(got) != tc.want {
				t.Errorf("host-side status code %v, want %v", status.Code(got), tc.want)
			}
			if got.Error() != st.Error() {
				t.Errorf("host-side text %q, want the status text %q", got.Error(), st.Error())
			}
			if tc.unchanged && got != st {
				t.Errorf("FromStatus changed %v into %v", st, got)
			}
			var e *Error
			if errors.As(got, &e) {
				t.Errorf("host-side error %v claims a code", got)
			}
		})
	}
	if got := ToStatus(existing); got != existing {
		t.Errorf("ToStatus changed an existing status: %v", got)
	}
}

// TestErrorGRPCCode covers the gRPC code of an *Error without a domain:
// its Status, else the code of its cause, and never OK.
func TestErrorGRPCCode(t *testing.T) {
	_, statErr := os.Stat("/nonexistent/esesnap/x")
	for _, tc := range []struct {
		name string
		err  *Error
		want codes.Code
	}{
		{"status set", &Error{Status: codes.FailedPrecondition, Op: "Files"}, codes.FailedPrecondition},
		{"from an fs error", &Error{Op: "Begin", File: "/nonexistent/esesnap/x", Err: statErr}, codes.NotFound},
		{"from a context error", &Error{Op: "Read", Err: context.Canceled}, codes.Canceled},
		{"nothing to go by", &Error{Op: "Read", Err: errors.New("bad")}, codes.Internal},
		{"no cause", &Error{Domain: "example.db", Code: 3}, codes.Internal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.GRPCCode(); got != tc.want {
				t.Errorf("GRPCCode = %v, want %v", got, tc.want)
			}
			if got := status.Code(ToStatus(fmt.Errorf("ctx: %w", tc.err))); got != tc.want {
				t.Errorf("status code %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRegisterDecoder checks that FromStatus hands an error of a
// registered domain to its decoder, and leaves other domains alone.
func TestRegisterDecoder(t *testing.T) {
	type decoded struct{ error }
	RegisterDecoder("example.decoded", func(err error) error { return decoded{err} })
	in := &Error{Domain: "example.decoded", Code: 9, Name: "NINE", Status: codes.Aborted, Op: "End"}
	got := FromStatus(ToStatus(in))
	var d decoded
	if !errors.As(got, &d) {
		t.Fatalf("FromStatus gave %T %v, want the decoder's result", got, got)
	}
	var e *Error
	if !errors.As(d.error, &e) || e.Code != 9 || e.Op != "End" || e.Status != codes.Aborted {
		t.Errorf("the decoder got %#v", d.error)
	}
	other := FromStatus(ToStatus(&Error{Domain: "example.other", Code: 9, Status: codes.Aborted}))
	if errors.As(other, &d) {
		t.Errorf("an error of another domain went to the decoder: %v", other)
	}
}

func TestStatusNil(t *testing.T) {
	if ToStatus(nil) != nil || FromStatus(nil) != nil || CodeOf(nil) != codes.OK {
		t.Fatal("nil did not stay nil")
	}
}

func TestFromStatusLeavesOtherErrorsAlone(t *testing.T) {
	local := &Error{Domain: "example.db", Code: -1, Op: "write tar"}
	if got := FromStatus(local); got != error(local) {
		t.Errorf("FromStatus(non-status) = %v, want it unchanged", got)
	}
	plain := errors.New("pipe broken")
	if got := FromStatus(plain); got != plain {
		t.Errorf("FromStatus(plain) = %v, want it unchanged", got)
	}
}

// TestFromStatusUnknownDomain is a plugin of a domain the host has no
// decoder for: the name and description must survive in the text.
func TestFromStatusUnknownDomain(t *testing.T) {
	st, err := status.New(codes.Internal, "whatever the plugin said").WithDetails(&snapshotv1.ErrorDetail{
		Domain: "example.future", Code: -12345, Name: "FUTURE_THING", Description: "a thing from the future failed",
		Op: "Future", Cause: "boom",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := FromStatus(st.Err())
	if !errors.Is(got, &Error{Domain: "example.future", Code: -12345}) {
		t.Errorf("errors.Is(%v, its own code) is false", got)
	}
	for _, want := range []string{"Future", "FUTURE_THING (-12345)", "a thing from the future failed", "boom"} {
		if !strings.Contains(got.Error(), want) {
			t.Errorf("text %q lacks %q", got.Error(), want)
		}
	}
}
