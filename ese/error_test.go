package ese_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese"
)

func TestErrorIs(t *testing.T) {
	base := &ese.Error{Code: ese.ErrNoBackup, Op: "JetEndExternalBackupInstance2", File: `C:\db\x.edb`}
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"direct", base, ese.ErrNoBackup, true},
		{"wrapped once", fmt.Errorf("end backup: %w", base), ese.ErrNoBackup, true},
		{"wrapped twice", fmt.Errorf("job 7: %w", fmt.Errorf("end backup: %w", base)), ese.ErrNoBackup, true},
		{"other code", base, ese.ErrBackupInProgress, false},
		{"other code wrapped", fmt.Errorf("end backup: %w", base), ese.ErrInvalidBackupSequence, false},
		{"same value through alias", &ese.Error{Code: ese.ErrDatabaseDirtyShutdown}, ese.ErrDatabaseInconsistent, true},
		{"target *Error same code", base, &ese.Error{Code: ese.ErrNoBackup, Op: "other"}, true},
		{"target *Error other code", base, &ese.Error{Code: ese.ErrOutOfMemory}, false},
		{"target nil *Error", base, (*ese.Error)(nil), false},
		{"cause reached through Unwrap", ese.NewError(ese.ErrDiskIO, "read", "x.edb", io.ErrUnexpectedEOF), io.ErrUnexpectedEOF, true},
		{"bare code wrapped", fmt.Errorf("begin: %w", ese.ErrBackupInProgress), ese.ErrBackupInProgress, true},
		{"plain error", errors.New("JET_errNoBackup"), ese.ErrNoBackup, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, tt.target, got, tt.want)
			}
		})
	}
}

func TestErrorAs(t *testing.T) {
	orig := &ese.Error{Code: ese.ErrReadVerifyFailure, Op: "JetReadFileInstance", File: "x.edb", Page: 42, Err: io.ErrUnexpectedEOF}
	var got *ese.Error
	if !errors.As(fmt.Errorf("stream: %w", orig), &got) {
		t.Fatal("errors.As found no *ese.Error in the chain")
	}
	if got != orig {
		t.Fatalf("errors.As gave %+v, want the original %+v", got, orig)
	}
	if errors.As(errors.New("plain"), &got) {
		t.Fatal("errors.As found an *ese.Error in a plain error")
	}
}

func TestCodeOf(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		want   ese.Code
		wantOK bool
	}{
		{"nil", nil, ese.ErrSuccess, true},
		{"*Error", ese.NewError(ese.ErrMissingFileToBackup, "JetOpenFileInstance", "edb00042.log", nil), ese.ErrMissingFileToBackup, true},
		{"wrapped *Error", fmt.Errorf("open: %w", &ese.Error{Code: ese.ErrDatabaseNotFound}), ese.ErrDatabaseNotFound, true},
		{"bare Code", ese.ErrLogFileNotCopied, ese.ErrLogFileNotCopied, true},
		{"wrapped warning", fmt.Errorf("restore: %w", ese.WrnTargetInstanceRunning), ese.WrnTargetInstanceRunning, true},
		{"outer *Error wins over inner Code", &ese.Error{Code: ese.ErrDiskIO, Err: ese.ErrOutOfMemory}, ese.ErrDiskIO, true},
		{"no code", io.EOF, ese.ErrSuccess, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ese.CodeOf(tt.err)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("CodeOf(%v) = %v, %v; want %v, %v", tt.err, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		name    string
		err     *ese.Error
		want    []string // substrings, in this order
		exclude []string
	}{
		{
			name: "all fields",
			err:  &ese.Error{Code: ese.ErrReadVerifyFailure, Op: "verify page", File: `D:\data\x.edb`, Page: 1234, Err: errors.New("checksum 0x1 != 0x2")},
			want: []string{"verify page", `D:\data\x.edb`, "page 1234", "JET_errReadVerifyFailure", "(-1018)", ese.ErrReadVerifyFailure.Description(), "checksum 0x1 != 0x2"},
		},
		{
			name:    "no page, no cause",
			err:     ese.NewError(ese.ErrNoBackup, "JetReadFileInstance", "x.edb", nil),
			want:    []string{"JetReadFileInstance x.edb: ", "JET_errNoBackup (-520)", "no external backup session"},
			exclude: []string{"page"},
		},
		{
			name: "code only",
			err:  &ese.Error{Code: ese.ErrInvalidBackupSequence},
			want: []string{"JET_errInvalidBackupSequence (-521): "},
		},
		{
			name: "unknown code",
			err:  &ese.Error{Code: -31337, Op: "open"},
			want: []string{"open: JET_err(-31337) (-31337)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := tt.err.Error()
			rest := msg
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("Error() = %q: missing %q (or out of order)", msg, w)
				}
				rest = rest[i+len(w):]
			}
			for _, x := range tt.exclude {
				if strings.Contains(msg, x) {
					t.Errorf("Error() = %q contains %q", msg, x)
				}
			}
		})
	}
	if msg := (&ese.Error{Code: ese.ErrNoBackup}).Error(); strings.HasPrefix(msg, ":") || strings.HasPrefix(msg, " ") {
		t.Errorf("Error() without op or file starts with a separator: %q", msg)
	}
}
