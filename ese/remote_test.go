package ese_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/protocol"
	"github.com/esesnap/esesnap/protocol/snapshotv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// wantStatusCode is the gRPC code ToStatus gives an error carrying c: the
// table's, except that a success or warning returned as an error is Internal.
func wantStatusCode(c ese.Code) codes.Code {
	if g := c.GRPCCode(); g != codes.OK {
		return g
	}
	return codes.Internal
}

// detailOf returns the ErrorDetail of a status error, or nil.
func detailOf(t *testing.T, err error) *snapshotv1.ErrorDetail {
	t.Helper()
	for _, d := range status.Convert(err).Details() {
		if d, ok := d.(*snapshotv1.ErrorDetail); ok {
			return d
		}
	}
	return nil
}

// checkRebuilt checks that got is the *ese.Error in rebuilt: same code, op,
// file, page and text, matching errors.Is on the code, the cause's text
// kept as a *protocol.RemoteError.
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
	var remote *protocol.RemoteError
	if (in.Err != nil) != errors.As(got, &remote) {
		t.Errorf("%v: cause %v rebuilt as %v", in.Code, in.Err, e.Err)
	}
}

// TestRemoteRoundTripEveryCode sends every JET_err of the table through
// protocol.ToStatus and protocol.FromStatus, alone and wrapped with context:
// first without a decoder (the host gets a *protocol.Error of domain "jet"
// that errors.Is matches against the code, and ese.FromRemote rebuilds the
// *ese.Error), then with ese.FromRemote registered as the decoder of the
// domain, as package host does (the host gets the *ese.Error directly).
func TestRemoteRoundTripEveryCode(t *testing.T) {
	all := ese.Codes()
	if len(all) < 400 {
		t.Fatalf("ese.Codes() has only %d codes", len(all))
	}
	for _, decoded := range []bool{false, true} {
		if decoded {
			protocol.RegisterDecoder(ese.Domain, ese.FromRemote)
		}
		for _, c := range all {
			in := &ese.Error{Code: c, Op: "JetReadFileInstance", File: `C:\Windows\NTDS\ntds.dit`, Page: 42,
				Err: errors.New("checksum mismatch: stored 0x1, computed 0x2")}
			for _, sent := range []error{in, fmt.Errorf("session 3: %w", in)} {
				st := protocol.ToStatus(sent)
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
				if d.GetDomain() != ese.Domain || d.GetCode() != int64(c) || d.GetJetErr() != int32(c) ||
					d.GetName() != c.Name() || d.GetDescription() != c.Description() ||
					d.GetRetryable() != c.Retryable() || d.GetCause() != in.Err.Error() {
					t.Errorf("%v: detail %v", c, d)
				}
				got := protocol.FromStatus(st)
				var pe *protocol.Error
				if isProto := errors.As(got, &pe); isProto == decoded {
					t.Fatalf("%v: decoded=%v, but the host got %T", c, decoded, got)
				}
				if !errors.Is(got, c) {
					t.Errorf("%v: errors.Is(host-side error, code) is false", c)
				}
				checkRebuilt(t, ese.FromRemote(got), in)
			}
		}
	}
}

// TestRemoteBareCodes covers a bare Code, alone and wrapped with context:
// the context travels as Op when the text ends with the code's text.
func TestRemoteBareCodes(t *testing.T) {
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
			st := protocol.ToStatus(tc.err)
			if got := status.Code(st); got != tc.code.GRPCCode() {
				t.Errorf("status code %v, want %v", got, tc.code.GRPCCode())
			}
			got := ese.FromRemote(protocol.FromStatus(st))
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

// TestRemoteUnknownCode is a plugin newer than the host, and one that
// predates domains (only jet_err): the host's table lacks the code, so the
// plugin's name and description must survive.
func TestRemoteUnknownCode(t *testing.T) {
	const future = ese.Code(-12345)
	if future.Known() {
		t.Fatal("code -12345 became known; pick another")
	}
	st, err := status.New(codes.Internal, "whatever the plugin said").WithDetails(&snapshotv1.ErrorDetail{
		JetErr: int32(future), Name: "JET_errFutureThing", Description: "a thing from the future failed",
		Op: "JetFuture", Cause: "boom",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := ese.FromRemote(protocol.FromStatus(st.Err()))
	var e *ese.Error
	if !errors.As(got, &e) || e.Code != future || e.Op != "JetFuture" {
		t.Fatalf("rebuilt %#v", got)
	}
	for _, want := range []string{"JetFuture", "JET_errFutureThing", "a thing from the future failed", "boom"} {
		if !strings.Contains(got.Error(), want) {
			t.Errorf("text %q lacks %q", got.Error(), want)
		}
	}
}

// TestFromRemoteLeavesOthersAlone checks that FromRemote converts only a
// remote error of domain "jet".
func TestFromRemoteLeavesOthersAlone(t *testing.T) {
	local := &ese.Error{Code: ese.ErrDiskIO, Op: "write tar"}
	other := &protocol.Error{Domain: "example.db", Code: -520, Status: codes.FailedPrecondition}
	plain := errors.New("pipe broken")
	for _, err := range []error{nil, local, other, plain} {
		if got := ese.FromRemote(err); got != err {
			t.Errorf("FromRemote(%v) = %v, want it unchanged", err, got)
		}
	}
	if errors.Is(other, ese.ErrNoBackup) {
		t.Error("an error of another domain with the same number matches a JET_err")
	}
}

// TestDomainIsTheWiresJetDomain pins that ese's domain is the one whose
// codes the wire also carries in the legacy jet_err field.
func TestDomainIsTheWiresJetDomain(t *testing.T) {
	if ese.Domain != protocol.DomainJET {
		t.Fatalf("ese.Domain %q, protocol.DomainJET %q", ese.Domain, protocol.DomainJET)
	}
	var _ protocol.Coded = ese.ErrNoBackup
	var _ protocol.Coded = &ese.Error{}
	var _ protocol.Located = &ese.Error{}
	var _ protocol.Described = ese.ErrNoBackup
	var _ protocol.RetryHinter = &ese.Error{}
}
