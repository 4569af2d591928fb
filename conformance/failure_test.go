package conformance

import (
	"testing"

	"github.com/esesnap/esesnap/ese"
)

// TestFailuresAreESEs keeps the suite's copy of the JET_err numbers, names
// and gRPC codes it expects equal to package ese's, which the suite does
// not import (it is generic; only its tests know ESE).
func TestFailuresAreESEs(t *testing.T) {
	for _, tc := range []struct {
		f    failure
		code ese.Code
	}{
		{failNoBackup, ese.ErrNoBackup},
		{failInvalidParameter, ese.ErrInvalidParameter},
		{failInvalidBackupSequence, ese.ErrInvalidBackupSequence},
		{failMissingFullBackup, ese.ErrMissingFullBackup},
	} {
		if tc.f.jet != int64(tc.code) || tc.f.name != tc.code.Name() || tc.f.grpc != tc.code.GRPCCode() {
			t.Errorf("%+v, package ese says %d %s %s", tc.f, int64(tc.code), tc.code.Name(), tc.code.GRPCCode())
		}
	}
	if jetDomain != ese.Domain {
		t.Errorf("jet domain %q, package ese says %q", jetDomain, ese.Domain)
	}
	err := &ese.Error{Code: ese.ErrMissingFullBackup, Op: "Begin"}
	if !failMissingFullBackup.is(err) || failNoBackup.is(err) {
		t.Error("failure.is does not tell JET_errMissingFullBackup from JET_errNoBackup")
	}
}
