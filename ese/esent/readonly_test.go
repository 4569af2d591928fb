package esent

import (
	"errors"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese"
)

func TestRequireWritable(t *testing.T) {
	tests := []struct {
		writable bool
		code     ese.Code // ErrSuccess: allowed
	}{
		{writable: true, code: ese.ErrSuccess},
		{writable: false, code: ese.ErrFileAccessDenied},
	}
	for _, tt := range tests {
		err := RequireWritable(tt.writable, `C:\srum`)
		if tt.code == ese.ErrSuccess {
			if err != nil {
				t.Fatalf("writable %t: %v", tt.writable, err)
			}
			continue
		}
		var e *ese.Error
		if !errors.As(err, &e) || e.Code != tt.code || e.File != `C:\srum` || !errors.Is(err, ErrNeedsWritable) {
			t.Fatalf("writable %t: %#v, want %v naming the log directory", tt.writable, err, tt.code)
		}
		for _, want := range []string{"--writable", "--backend=engine", "JET_errFileAccessDenied (-1032)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the refusal %q does not mention %q", err, want)
			}
		}
	}
}
