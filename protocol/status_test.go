package protocol

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/protocol/snapshotv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// wantStatusCode is the gRPC code ToStatus gives an error carrying c: the
// table's, except that a success or warning returned as an error is Internal.
func wantStatusCode(c ese.Code) codes.Code {
	if g := GRPCCode(c); g != codes.OK {
		return g
	}
	return codes.Internal
}

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

// checkRebuilt checks that got is the *ese.Error in was rebuilt: same code,
// op, file, page and text, matching errors.Is on the code.
func checkRebuilt(t *testing.T, got error, in *ese.Error) {
	t.Helper()
	var e *ese.Error
	if !errors.As(got, &e) {
		t.Fatalf("%v: rebuilt error %T is not an *ese.Error", in.Code, got)
	}
	if e.Code != in.Code || e.Op != in.Op || e.File != in.File || e.Page != in.Page {
		t.Errorf("%v: rebuilt {%v %q %q %d}, want {%v %q %q %d}",
			in.Code, e.Code, e.Op, e.File, e.Page, in.Code, in.Op, in.File, in.Page)
	}
	if !errors.Is(got, in.Code) {
		t.Errorf("%v: errors.Is(rebuilt, code) is false", in.Code)
	}
	if got.Error() != in.Error() {
		t.Errorf("%v: rebuilt text\n %q\nwant\n %q", in.Code, got.Error(), in.Error())
	}
	var remote *RemoteError
	if (in.Err != nil) != errors.As(got, &remote) {
		t.Errorf("%v: cause %v rebuilt as %v", in.Code, in.Err, e.Err)
	}
}

// TestStatusRoundTripEveryCode sends every known code through ToStatus and
// FromStatus, with and without context around the *ese.Error.
func TestStatusRoundTripEveryCode(t *testing.T) {
	all := ese.Codes()
	if len(all) < 400 {
		t.Fatalf("ese.Codes() has only %d codes", len(all))
	}
	for _, c := range all {
		in := &ese.Error{Code: c, Op: "JetReadFileInstance", File: `C:\Windows\NTDS\ntds.dit`, Page: 42,
			Err: errors.New("checksum mismatch: stored 0x1, computed 0x2")}
		for _, sent := range []error{in, fmt.Errorf("session 3: %w", in)} {
			st := ToStatus(sent)
			if got := status.Code(st); got != wantStatusCode(c) {
				t.Errorf("%v: status code %v, want %v", c, got, wantStatusCode(c))
			}
			if msg := status.Convert(st).Message(); msg != sent.Error() {
				t.Errorf("%v: status message %q, want %q", c, msg, sent.Error())
			}
			d := detailOf(t, st)
			if d == nil {
				t.Fatalf("%v: no ErrorDetail", c)
			}
			if d.GetJetErr() != int32(c) || d.GetName() != c.Name() || d.GetDescription() != c.Description() ||
				d.GetRetryable() != Retryable(c) || d.GetCause() != in.Err.Error() {
				t.Errorf("%v: detail %v", c, d)
			}
			checkRebuilt(t, FromStatus(st), in)
		}
	}
}

func TestStatusBareCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		code   ese.Code
		wantOp string
		cause  string
	}{
		{name: "bare code", err: ese.ErrNoBackup, code: ese.ErrNoBackup},
		{
			name: "code wrapped with context", err: fmt.Errorf("open %s: %w", "edb.chk", ese.ErrFileNotFound),
			code: ese.ErrFileNotFound, wantOp: "open edb.chk",
		},
		{
			name: "code in the middle of the text", err: fmt.Errorf("%w while opening edb.chk", ese.ErrFileNotFound),
			code: ese.ErrFileNotFound, cause: ese.ErrFileNotFound.Error() + " while opening edb.chk",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := ToStatus(tc.err)
			if got := status.Code(st); got != GRPCCode(tc.code) {
				t.Errorf("status code %v, want %v", got, GRPCCode(tc.code))
			}
			got := FromStatus(st)
			var e *ese.Error
			if !errors.As(got, &e) || e.Code != tc.code || e.Op != tc.wantOp {
				t.Fatalf("rebuilt %#v, want code %v op %q", got, tc.code, tc.wantOp)
			}
			if !errors.Is(got, tc.code) {
				t.Error("errors.Is(rebuilt, code) is false")
			}
			if tc.cause == "" {
				if e.Err != nil {
					t.Errorf("cause = %v, want none", e.Err)
				}
				if got.Error() != tc.err.Error() {
					t.Errorf("text %q, want %q", got.Error(), tc.err.Error())
				}
			} else if e.Err == nil || e.Err.Error() != tc.cause {
				t.Errorf("cause = %v, want %q", e.Err, tc.cause)
			}
		})
	}
}

// TestStatusNonESE covers errors without a JET_err on both sides.
func TestStatusNonESE(t *testing.T) {
	existing := status.Error(codes.NotFound, "unknown session")
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
	} {
		t.Run(tc.name, func(t *testing.T) {
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
				t.Error("a non-ESE error got an ErrorDetail")
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
			if _, ok := ese.CodeOf(got); ok {
				t.Errorf("host-side error %v claims a JET_err", got)
			}
		})
	}
	if got := ToStatus(existing); got != existing {
		t.Errorf("ToStatus changed an existing status: %v", got)
	}
}

func TestStatusNil(t *testing.T) {
	if ToStatus(nil) != nil || FromStatus(nil) != nil {
		t.Fatal("nil did not stay nil")
	}
}

func TestFromStatusLeavesOtherErrorsAlone(t *testing.T) {
	local := &ese.Error{Code: ese.ErrDiskIO, Op: "write tar"}
	if got := FromStatus(local); got != error(local) {
		t.Errorf("FromStatus(non-status) = %v, want it unchanged", got)
	}
	plain := errors.New("pipe broken")
	if got := FromStatus(plain); got != plain {
		t.Errorf("FromStatus(plain) = %v, want it unchanged", got)
	}
}

// TestFromStatusUnknownCode is a plugin newer than the host: the host's
// table lacks the code, so the plugin's name and description must survive.
func TestFromStatusUnknownCode(t *testing.T) {
	const future = ese.Code(-12345)
	if future.Known() {
		t.Skip("code -12345 became known; pick another")
	}
	st, err := status.New(codes.Internal, "whatever the plugin said").WithDetails(&snapshotv1.ErrorDetail{
		JetErr: int32(future), Name: "JET_errFutureThing", Description: "a thing from the future failed",
		Op: "JetFuture", Cause: "boom",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := FromStatus(st.Err())
	if !errors.Is(got, future) {
		t.Errorf("errors.Is(%v, %d) is false", got, future)
	}
	for _, want := range []string{"JetFuture", "JET_errFutureThing", "a thing from the future failed", "boom"} {
		if !strings.Contains(got.Error(), want) {
			t.Errorf("text %q lacks %q", got.Error(), want)
		}
	}
}
