package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/protocol"
	"github.com/hashicorp/go-hclog"
)

func TestEngineConfig(t *testing.T) {
	cases := []struct {
		name     string
		src      protocol.Source
		readOnly bool
		want     ese.Code
		logDir   string
		sysDir   string
		writable bool
	}{
		{"defaults from the instance dir", protocol.Source{Location: "/i"}, false, 0, "/i", "/i", false},
		{"own log and system dirs", protocol.Source{Location: "/i", Options: map[string]string{"log-dir": "/l", "system-dir": "/s"}}, false, 0, "/l", "/s", false},
		{"log dir only", protocol.Source{Options: map[string]string{"log-dir": "/l"}}, false, 0, "/l", "/l", false},
		{"writable", protocol.Source{Location: "/i", Options: map[string]string{"writable": "true"}}, false, 0, "/i", "/i", true},
		{"writable false", protocol.Source{Location: "/i", Options: map[string]string{"writable": "false"}}, true, 0, "/i", "/i", false},
		{"writable on a read-only plugin", protocol.Source{Location: "/i", Options: map[string]string{"writable": "true"}}, true, ese.ErrFileAccessDenied, "", "", false},
		{"bad writable value", protocol.Source{Location: "/i", Options: map[string]string{"writable": "yes"}}, false, ese.ErrInvalidParameter, "", "", false},
		{"unknown option", protocol.Source{Location: "/i", Options: map[string]string{"instance": "NTDS"}}, false, ese.ErrInvalidParameter, "", "", false},
		{"no directory", protocol.Source{}, false, ese.ErrInvalidPath, "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := engineConfig(tc.src, tc.readOnly, hclog.NewNullLogger())
			if tc.want != 0 {
				if !errors.Is(err, tc.want) {
					t.Fatalf("error %v, want %s", err, tc.want.Name())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.LogDir != tc.logDir || cfg.SystemDir != tc.sysDir || cfg.Writable != tc.writable {
				t.Fatalf("config %+v", cfg)
			}
		})
	}
}

func TestRun(t *testing.T) {
	cases := []struct {
		args     []string
		code     int
		stdout   string
		inStderr string
	}{
		{nil, 1, "", "not meant to be\nrun by hand"},
		{[]string{"--version"}, 0, "esesnap-plugin dev", ""},
		{[]string{"--bogus"}, 2, "", "flag provided but not defined"},
		{[]string{"extra"}, 2, "", "unexpected argument"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb)
			if code != tc.code || !strings.HasPrefix(out.String(), tc.stdout) || !strings.Contains(errb.String(), tc.inStderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
			}
		})
	}
}
