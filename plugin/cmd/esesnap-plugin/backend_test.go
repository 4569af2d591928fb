package main

import (
	"errors"
	"runtime"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/driver"
	"github.com/esesnap/esesnap/ese/esent"
	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/protocol"
	"github.com/hashicorp/go-hclog"
)

// TestBackendReadOnly: the esent backend refuses a source that must stay
// untouched before it calls ESENT.DLL, on every platform; the engine
// backend backs the same source up read-only.
func TestBackendReadOnly(t *testing.T) {
	type test struct {
		backend  string
		writable bool
		code     ese.Code // ErrSuccess: Begin succeeds
		readOnly bool     // the error is the read-only refusal
	}
	tests := []test{
		{"esent", false, ese.ErrFileAccessDenied, true},
		{"engine", false, ese.ErrSuccess, false},
		{"engine", true, ese.ErrSuccess, false},
	}
	if runtime.GOOS != "windows" {
		// Past the check, outside Windows, Open fails for want of ESENT.DLL.
		tests = append(tests, test{"esent", true, ese.ErrInvalidParameter, false})
	}
	for _, tt := range tests {
		src := protocol.Source{Location: samples.CopySet(t, "srum-win10-clean")}
		if tt.writable {
			src.Options = map[string]string{driver.OptWritable: "true"}
		}
		d := newSnapshotter(tt.backend, false, hclog.NewNullLogger())
		id, err := d.Begin(t.Context(), protocol.BeginRequest{Kind: protocol.KindCopy, Source: src})
		if tt.code == ese.ErrSuccess {
			if err != nil {
				t.Fatalf("%s, writable %t: Begin: %v", tt.backend, tt.writable, err)
			}
			if _, err := d.End(t.Context(), id, protocol.EndRequest{Outcome: protocol.OutcomeAborted}); err != nil {
				t.Fatalf("%s: End: %v", tt.backend, err)
			}
			continue
		}
		if !errors.Is(err, tt.code) || errors.Is(err, esent.ErrNeedsWritable) != tt.readOnly {
			t.Fatalf("%s, writable %t: Begin: %v, want %s (read-only refusal %t)", tt.backend, tt.writable, err, tt.code.Name(), tt.readOnly)
		}
	}
}
