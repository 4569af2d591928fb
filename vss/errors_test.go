package vss

import (
	"errors"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/protocol"
	"google.golang.org/grpc/codes"
)

// TestErrorAcrossTheProtocol: a writer's failure travels as domain "vss"
// with the HRESULT, its name and gRPC code, and the writer, its state and
// the advice in the cause, so a host without this package shows them.
func TestErrorAcrossTheProtocol(t *testing.T) {
	err := &Error{Code: VSS_E_WRITERERROR_RETRYABLE, Op: "PrepareForBackup", Writer: "NTDS",
		State: 7, Failure: VSS_E_WRITERERROR_RETRYABLE}
	back := protocol.FromStatus(protocol.ToStatus(err))
	var pe *protocol.Error
	if !errors.As(back, &pe) {
		t.Fatalf("FromStatus: %T %v", back, back)
	}
	if pe.Domain != Domain || pe.Code != -2147212301 || pe.Name != "VSS_E_WRITERERROR_RETRYABLE" || pe.Status != codes.Unavailable || !pe.Retryable || pe.Op != "PrepareForBackup" {
		t.Fatalf("decoded %+v", pe)
	}
	for _, want := range []string{`writer "NTDS" is VSS_WS_FAILED_AT_PREPARE_BACKUP with VSS_E_WRITERERROR_RETRYABLE (0x800423F3)`, "retry the backup"} {
		if !strings.Contains(back.Error(), want) {
			t.Fatalf("%q lacks %q", back.Error(), want)
		}
	}
	if !errors.Is(back, err) {
		t.Fatal("errors.Is does not match the decoded error with its code")
	}
}

// TestAdvice: the common failures say what to do; an unknown HRESULT is
// named in hexadecimal.
func TestAdvice(t *testing.T) {
	for code, want := range map[HRESULT]string{
		E_ACCESSDENIED:                 "Backup Operators",
		VSS_E_INSUFFICIENT_STORAGE:     "vssadmin resize shadowstorage",
		VSS_E_SNAPSHOT_SET_IN_PROGRESS: "another backup is running",
		VSS_E_WRITERERROR_NONRETRYABLE: "event log",
	} {
		if got := (&Error{Code: code}).Error(); !strings.Contains(got, want) {
			t.Errorf("%s: %q lacks %q", code.Name(), got, want)
		}
	}
	if got := HRESULT(0x80041234).String(); got != "HRESULT 0x80041234 (0x80041234)" {
		t.Errorf("unknown code: %q", got)
	}
	// A writer in a failed state without a known code still gets advice.
	if got := (&Error{Code: 0x80041234, Writer: "W", State: 12}).Error(); !strings.Contains(got, "vssadmin list writers") {
		t.Errorf("failed writer: %q", got)
	}
}
