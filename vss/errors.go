package vss

import (
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
)

// Domain is the error domain of VSS and COM HRESULTs in the protocol's
// error model.
const Domain = "vss"

// HRESULT is a COM result code; negative (high bit set) is a failure.
type HRESULT uint32

// The HRESULTs the backend names (vsserror.h, winerror.h).
const (
	S_OK                                  HRESULT = 0x00000000
	E_UNEXPECTED                          HRESULT = 0x8000FFFF
	E_ACCESSDENIED                        HRESULT = 0x80070005
	E_OUTOFMEMORY                         HRESULT = 0x8007000E
	E_INVALIDARG                          HRESULT = 0x80070057
	VSS_E_BAD_STATE                       HRESULT = 0x80042301
	VSS_E_UNEXPECTED                      HRESULT = 0x80042302
	VSS_E_PROVIDER_VETO                   HRESULT = 0x80042306
	VSS_E_OBJECT_NOT_FOUND                HRESULT = 0x80042308
	VSS_S_ASYNC_PENDING                   HRESULT = 0x00042309
	VSS_S_ASYNC_FINISHED                  HRESULT = 0x0004230A
	VSS_S_ASYNC_CANCELLED                 HRESULT = 0x0004230B
	VSS_E_VOLUME_NOT_SUPPORTED            HRESULT = 0x8004230C
	VSS_E_UNEXPECTED_PROVIDER_ERROR       HRESULT = 0x8004230F
	VSS_E_FLUSH_WRITES_TIMEOUT            HRESULT = 0x80042313
	VSS_E_HOLD_WRITES_TIMEOUT             HRESULT = 0x80042314
	VSS_E_UNEXPECTED_WRITER_ERROR         HRESULT = 0x80042315
	VSS_E_SNAPSHOT_SET_IN_PROGRESS        HRESULT = 0x80042316
	VSS_E_MAXIMUM_NUMBER_OF_SNAPSHOTS     HRESULT = 0x80042317
	VSS_E_WRITER_INFRASTRUCTURE           HRESULT = 0x80042318
	VSS_E_WRITER_NOT_RESPONDING           HRESULT = 0x80042319
	VSS_E_INSUFFICIENT_STORAGE            HRESULT = 0x8004231F
	VSS_E_WRITERERROR_INCONSISTENT        HRESULT = 0x800423F0
	VSS_E_WRITERERROR_OUTOFRESOURCES      HRESULT = 0x800423F1
	VSS_E_WRITERERROR_TIMEOUT             HRESULT = 0x800423F2
	VSS_E_WRITERERROR_RETRYABLE           HRESULT = 0x800423F3
	VSS_E_WRITERERROR_NONRETRYABLE        HRESULT = 0x800423F4
	VSS_E_WRITERERROR_RECOVERY_FAILED     HRESULT = 0x800423F5
	VSS_E_WRITERERROR_PARTIAL_FAILURE     HRESULT = 0x80042336
	VSS_E_WRITER_STATUS_NOT_AVAILABLE     HRESULT = 0x80042409
	RPC_E_CHANGED_MODE                    HRESULT = 0x80010106
	HRESULT_FROM_WIN32_MOD_NOT_FOUND      HRESULT = 0x8007007E
	HRESULT_FROM_WIN32_PROC_NOT_FOUND     HRESULT = 0x8007007F
	HRESULT_FROM_WIN32_PRIVILEGE_NOT_HELD HRESULT = 0x80070522
)

// hresultInfo is a code's name as the SDK spells it, a short description,
// advice for a person, and whether retrying later may succeed.
type hresultInfo struct {
	name, desc, advice string
	grpc               codes.Code
	retry              bool
}

const adviceAdmin = "run esesnap elevated, as a member of Administrators or Backup Operators (VSS requesters need SeBackupPrivilege)"

var hresults = map[HRESULT]hresultInfo{
	S_OK:                                  {"S_OK", "success", "", codes.OK, false},
	E_UNEXPECTED:                          {"E_UNEXPECTED", "catastrophic failure", "see the Application and System event logs (source VSS)", codes.Internal, false},
	E_ACCESSDENIED:                        {"E_ACCESSDENIED", "access is denied", adviceAdmin, codes.PermissionDenied, false},
	E_OUTOFMEMORY:                         {"E_OUTOFMEMORY", "out of memory", "", codes.ResourceExhausted, true},
	E_INVALIDARG:                          {"E_INVALIDARG", "an argument is invalid", "", codes.InvalidArgument, false},
	VSS_E_BAD_STATE:                       {"VSS_E_BAD_STATE", "the call is not valid in the backup's current state", "", codes.FailedPrecondition, false},
	VSS_E_UNEXPECTED:                      {"VSS_E_UNEXPECTED", "an unexpected VSS error", "see the Application event log (source VSS); `vssadmin list writers` shows the writers' states", codes.Internal, false},
	VSS_E_PROVIDER_VETO:                   {"VSS_E_PROVIDER_VETO", "the shadow copy provider refused the shadow copy", "see the System event log for the provider's reason", codes.FailedPrecondition, true},
	VSS_E_OBJECT_NOT_FOUND:                {"VSS_E_OBJECT_NOT_FOUND", "the volume, writer or component was not found", "check the path, --option writer and --option component (`vssadmin list writers` lists writers)", codes.NotFound, false},
	VSS_S_ASYNC_CANCELLED:                 {"VSS_S_ASYNC_CANCELLED", "the asynchronous operation was cancelled", "", codes.Canceled, true},
	VSS_E_VOLUME_NOT_SUPPORTED:            {"VSS_E_VOLUME_NOT_SUPPORTED", "shadow copies are not supported on this volume", "the component's files must be on an NTFS or ReFS volume", codes.FailedPrecondition, false},
	VSS_E_UNEXPECTED_PROVIDER_ERROR:       {"VSS_E_UNEXPECTED_PROVIDER_ERROR", "the shadow copy provider failed", "see the System event log (source volsnap)", codes.Internal, true},
	VSS_E_FLUSH_WRITES_TIMEOUT:            {"VSS_E_FLUSH_WRITES_TIMEOUT", "the system could not flush I/O writes in time", "retry when the volume is less busy", codes.Unavailable, true},
	VSS_E_HOLD_WRITES_TIMEOUT:             {"VSS_E_HOLD_WRITES_TIMEOUT", "the system could not hold I/O writes in time", "retry when the volume is less busy", codes.Unavailable, true},
	VSS_E_UNEXPECTED_WRITER_ERROR:         {"VSS_E_UNEXPECTED_WRITER_ERROR", "a writer failed unexpectedly", "see the application's event log; restart the application's VSS writer service", codes.Internal, false},
	VSS_E_SNAPSHOT_SET_IN_PROGRESS:        {"VSS_E_SNAPSHOT_SET_IN_PROGRESS", "another shadow copy creation is in progress", "another backup is running: wait for it to finish and retry", codes.Unavailable, true},
	VSS_E_MAXIMUM_NUMBER_OF_SNAPSHOTS:     {"VSS_E_MAXIMUM_NUMBER_OF_SNAPSHOTS_REACHED", "the volume has the maximum number of shadow copies", "delete old shadow copies (vssadmin delete shadows)", codes.ResourceExhausted, false},
	VSS_E_WRITER_INFRASTRUCTURE:           {"VSS_E_WRITER_INFRASTRUCTURE", "the writer infrastructure is not working", "restart the Volume Shadow Copy service and the application's writer; `vssadmin list writers` shows their states", codes.Unavailable, true},
	VSS_E_WRITER_NOT_RESPONDING:           {"VSS_E_WRITER_NOT_RESPONDING", "a writer did not respond", "restart the application's service (its writer runs inside it)", codes.Unavailable, true},
	VSS_E_INSUFFICIENT_STORAGE:            {"VSS_E_INSUFFICIENT_STORAGE", "not enough shadow storage space", "raise the shadow storage limit (vssadmin resize shadowstorage) or free space on the volume", codes.ResourceExhausted, false},
	VSS_E_WRITERERROR_INCONSISTENT:        {"VSS_E_WRITERERROR_INCONSISTENTSNAPSHOT", "the shadow copy holds inconsistent data for the writer", "retry; if it persists, add every volume of the component (the backend does) and see the application's event log", codes.Aborted, true},
	VSS_E_WRITERERROR_OUTOFRESOURCES:      {"VSS_E_WRITERERROR_OUTOFRESOURCES", "the writer ran out of resources", "free memory or disk space and retry", codes.ResourceExhausted, true},
	VSS_E_WRITERERROR_TIMEOUT:             {"VSS_E_WRITERERROR_TIMEOUT", "the writer timed out between freeze and thaw", "retry when the system is less busy", codes.Unavailable, true},
	VSS_E_WRITERERROR_RETRYABLE:           {"VSS_E_WRITERERROR_RETRYABLE", "the writer failed with a transient error", "retry the backup", codes.Unavailable, true},
	VSS_E_WRITERERROR_NONRETRYABLE:        {"VSS_E_WRITERERROR_NONRETRYABLE", "the writer failed with an error that retrying does not fix", "see the application's event log; the writer stays failed until its service restarts", codes.FailedPrecondition, false},
	VSS_E_WRITERERROR_RECOVERY_FAILED:     {"VSS_E_WRITERERROR_RECOVERY_FAILED", "the writer failed to recover the shadow copy", "see the application's event log", codes.Internal, false},
	VSS_E_WRITERERROR_PARTIAL_FAILURE:     {"VSS_E_WRITERERROR_PARTIAL_FAILURE", "the writer failed on some components", "see the application's event log", codes.Internal, false},
	VSS_E_WRITER_STATUS_NOT_AVAILABLE:     {"VSS_E_WRITER_STATUS_NOT_AVAILABLE", "the writer's status is not available", "restart the Volume Shadow Copy service", codes.Unavailable, true},
	RPC_E_CHANGED_MODE:                    {"RPC_E_CHANGED_MODE", "COM was initialised in another threading model on this thread", "", codes.Internal, false},
	HRESULT_FROM_WIN32_MOD_NOT_FOUND:      {"ERROR_MOD_NOT_FOUND", "vssapi.dll was not found", "VSS needs Windows (Server) with the Volume Shadow Copy service", codes.Unimplemented, false},
	HRESULT_FROM_WIN32_PROC_NOT_FOUND:     {"ERROR_PROC_NOT_FOUND", "vssapi.dll lacks an export the backend calls", "VSS component mode needs Windows Server 2008 / Windows Vista or later", codes.Unimplemented, false},
	HRESULT_FROM_WIN32_PRIVILEGE_NOT_HELD: {"ERROR_PRIVILEGE_NOT_HELD", "a required privilege is not held", adviceAdmin, codes.PermissionDenied, false},
}

// Name returns the SDK's name of the code, or its hexadecimal form.
func (h HRESULT) Name() string {
	if i, ok := hresults[h]; ok {
		return i.name
	}
	return fmt.Sprintf("HRESULT 0x%08X", uint32(h))
}

// Failed reports whether h is a failure (its severity bit is set).
func (h HRESULT) Failed() bool { return h&0x80000000 != 0 }

// String is the name and the code in hexadecimal, as Windows tools print it.
func (h HRESULT) String() string { return fmt.Sprintf("%s (0x%08X)", h.Name(), uint32(h)) }

// WriterState is VSS_WRITER_STATE.
type WriterState int32

var writerStates = []string{"VSS_WS_UNKNOWN", "VSS_WS_STABLE", "VSS_WS_WAITING_FOR_FREEZE", "VSS_WS_WAITING_FOR_THAW",
	"VSS_WS_WAITING_FOR_POST_SNAPSHOT", "VSS_WS_WAITING_FOR_BACKUP_COMPLETE", "VSS_WS_FAILED_AT_IDENTIFY",
	"VSS_WS_FAILED_AT_PREPARE_BACKUP", "VSS_WS_FAILED_AT_PREPARE_SNAPSHOT", "VSS_WS_FAILED_AT_FREEZE", "VSS_WS_FAILED_AT_THAW",
	"VSS_WS_FAILED_AT_POST_SNAPSHOT", "VSS_WS_FAILED_AT_BACKUP_COMPLETE", "VSS_WS_FAILED_AT_PRE_RESTORE",
	"VSS_WS_FAILED_AT_POST_RESTORE", "VSS_WS_FAILED_AT_BACKUPSHUTDOWN"}

// String returns the SDK's name of the state.
func (s WriterState) String() string {
	if s >= 0 && int(s) < len(writerStates) {
		return writerStates[s]
	}
	return fmt.Sprintf("VSS_WRITER_STATE(%d)", int32(s))
}

// Failed reports whether the writer is in one of the VSS_WS_FAILED_AT_*
// states.
func (s WriterState) Failed() bool { return s >= 6 && s <= 15 }

// Error is a failed VSS or COM call, or a writer that failed a phase of
// the backup: the error domain "vss". Code is the HRESULT the call
// returned, or the writer's failure when the call succeeded but the writer
// did not.
type Error struct {
	Code HRESULT
	Op   string // the call or phase, such as "PrepareForBackup"
	// Writer names the writer concerned, State its state and Failure its
	// own HRESULT (the writer's failure as GetWriterStatus reports it).
	Writer  string
	State   WriterState
	Failure HRESULT
	File    string // a file or volume concerned, if any
	Err     error  // further detail, if any
}

// Error formats the failure for a person: the call, the code, then the
// writer with its state and failure, the detail, and what to do.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.File != "" {
		fmt.Fprintf(&b, ": %s", e.File)
	}
	fmt.Fprintf(&b, ": %s", e.Code)
	if i, ok := hresults[e.Code]; ok && i.desc != "" {
		fmt.Fprintf(&b, ", %s", i.desc)
	}
	if d := e.Unwrap(); d != nil {
		fmt.Fprintf(&b, ": %v", d)
	}
	return b.String()
}

// Advice says what a person can do about the error, or "".
func (e *Error) Advice() string {
	if i, ok := hresults[e.Code]; ok && i.advice != "" {
		return i.advice
	}
	if e.State.Failed() {
		return "the writer stays failed until the application's service is restarted; `vssadmin list writers` shows its state"
	}
	return ""
}

// Unwrap returns the detail: the writer, its state and failure, Err and
// the advice, as one error wrapping Err (nil when there is none). The
// protocol sends its text as the error's cause, so a host without this
// package still shows the writer and the advice.
func (e *Error) Unwrap() error {
	var parts []string
	if e.Writer != "" {
		w := fmt.Sprintf("writer %q is %s", e.Writer, e.State)
		if e.Failure != S_OK {
			w += fmt.Sprintf(" with %s", e.Failure)
		}
		parts = append(parts, w)
	}
	if e.Err != nil {
		parts = append(parts, e.Err.Error())
	}
	if a := e.Advice(); a != "" {
		parts = append(parts, a)
	}
	if len(parts) == 0 {
		return nil
	}
	return &detailError{msg: strings.Join(parts, "; "), err: e.Err}
}

// detailError is Error's detail; it wraps Error.Err.
type detailError struct {
	msg string
	err error
}

func (d *detailError) Error() string { return d.msg }
func (d *detailError) Unwrap() error { return d.err }

// Is matches another *Error of the same code, so errors.Is(err,
// &Error{Code: VSS_E_INSUFFICIENT_STORAGE}) holds.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// ErrorDomain returns Domain (protocol.Coded).
func (e *Error) ErrorDomain() string { return Domain }

// ErrorCode returns the HRESULT as a signed 32-bit number, as COM defines it.
func (e *Error) ErrorCode() int64 { return int64(int32(e.Code)) }

// ErrorName returns the SDK's name of the code.
func (e *Error) ErrorName() string { return e.Code.Name() }

// ErrorDescription returns a short description of the code.
func (e *Error) ErrorDescription() string {
	if i, ok := hresults[e.Code]; ok {
		return i.desc
	}
	return ""
}

// GRPCCode returns the gRPC code that carries the error: PermissionDenied
// for missing rights, Unavailable for transient writer and service
// failures, ResourceExhausted for shadow storage, FailedPrecondition for a
// writer in a failed state.
func (e *Error) GRPCCode() codes.Code {
	if i, ok := hresults[e.Code]; ok {
		return i.grpc
	}
	if e.State.Failed() {
		return codes.FailedPrecondition
	}
	return codes.Internal
}

// ErrorOp returns Op (protocol.Located).
func (e *Error) ErrorOp() string { return e.Op }

// ErrorFile returns File (protocol.Located).
func (e *Error) ErrorFile() string { return e.File }

// ErrorOffset returns 0: a VSS error has no position in a file.
func (e *Error) ErrorOffset() int64 { return 0 }

// ErrorPage returns 0: a VSS error has no page.
func (e *Error) ErrorPage() int64 { return 0 }

// ErrorRetryable reports whether retrying later may succeed
// (protocol.RetryHinter).
func (e *Error) ErrorRetryable() bool {
	if i, ok := hresults[e.Code]; ok {
		return i.retry
	}
	return false
}
