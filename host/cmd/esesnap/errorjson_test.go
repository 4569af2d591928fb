package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/protocol"
	"google.golang.org/grpc/codes"
)

// TestErrorsFromTheWire classifies errors as they come out of the plugin
// client adapter: a JET_err (decoded into *ese.Error by package host's
// decoder), an error of another plugin's domain, and a plugin's error
// without a domain, by exit code and --json fields.
func TestErrorsFromTheWire(t *testing.T) {
	wire := func(err error) error { return protocol.FromStatus(protocol.ToStatus(err)) }
	for _, tc := range []struct {
		name     string
		err      error
		exit     int
		want     errorJSON // Message and Hint are not compared
		wantHint bool
	}{
		{
			name:     "damaged page, ESE",
			err:      wire(&ese.Error{Code: ese.ErrReadVerifyFailure, Op: "JetReadFileInstance", File: "SRUDB.dat", Page: 9}),
			exit:     ExitVerifyFailed,
			want:     errorJSON{JetErr: -1018, Name: "JET_errReadVerifyFailure", Op: "JetReadFileInstance", File: "SRUDB.dat", Page: 9},
			wantHint: true,
		},
		{
			name: "stopped by the application, ESE", err: wire(fmt.Errorf("end: %w", &ese.Error{Code: ese.ErrBackupAbortByServer, Op: "JetEndExternalBackupInstance2"})),
			exit: ExitError, want: errorJSON{JetErr: -801, Name: "JET_errBackupAbortByServer", Op: "JetEndExternalBackupInstance2"}, wantHint: true,
		},
		{
			name: "another domain",
			err:  wire(&protocol.Error{Domain: "example.db", Code: 17, Name: "DB_TORN", Status: codes.DataLoss, Op: "read", File: "a.db", Offset: 8192}),
			exit: ExitVerifyFailed,
			want: errorJSON{Domain: "example.db", Code: 17, Name: "DB_TORN", Op: "read", File: "a.db", Offset: 8192},
		},
		{
			name: "no domain, busy",
			err:  wire(&protocol.Error{Status: codes.AlreadyExists, Op: "Begin", File: "/srv/data", Err: errors.New("busy")}),
			exit: ExitError,
			want: errorJSON{Op: "Begin", File: "/srv/data"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitFor(tc.err); got != tc.exit {
				t.Errorf("exit %d, want %d (%v)", got, tc.exit, tc.err)
			}
			got := *toErrorJSON(tc.err)
			if got.Message != tc.err.Error() || (got.Hint != "") != tc.wantHint {
				t.Errorf("message %q hint %q", got.Message, got.Hint)
			}
			got.Message, got.Hint = "", ""
			if got != tc.want {
				t.Errorf("json %+v, want %+v", got, tc.want)
			}
		})
	}
	var ee *ese.Error
	if err := protocol.FromStatus(protocol.ToStatus(ese.NewError(ese.ErrNoBackup, "JetReadFileInstance", "x.edb", nil))); !errors.As(err, &ee) || !errors.Is(err, ese.ErrNoBackup) {
		t.Errorf("host's decoder is not registered: got %T %v", err, err)
	}
}
