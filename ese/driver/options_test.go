package driver

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/protocol"
)

func TestParseSource(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  protocol.Source
		want SourceConfig
		code ese.Code
		msg  string
	}{
		{"location only", protocol.Source{Location: "/i"}, SourceConfig{InstanceDir: "/i", LogDir: "/i", SystemDir: "/i"}, 0, ""},
		{"every option", protocol.Source{Location: "/i", Options: map[string]string{
			"log-dir": "/l", "system-dir": "/s", "base-name": "edb", "database": protocol.JoinList([]string{"/i/a.edb", "/d/b.edb"}), "writable": "true"}},
			SourceConfig{InstanceDir: "/i", LogDir: "/l", SystemDir: "/s", BaseName: "edb", Databases: []string{"/i/a.edb", "/d/b.edb"}, Writable: true}, 0, ""},
		{"log dir without location", protocol.Source{Options: map[string]string{"log-dir": "/l"}}, SourceConfig{LogDir: "/l", SystemDir: "/l"}, 0, ""},
		{"writable false", protocol.Source{Location: "/i", Options: map[string]string{"writable": "false"}}, SourceConfig{InstanceDir: "/i", LogDir: "/i", SystemDir: "/i"}, 0, ""},
		{"unknown key", protocol.Source{Location: "/i", Options: map[string]string{"instance": "NTDS"}}, SourceConfig{}, ese.ErrInvalidParameter,
			`unknown option "instance": the plugin knows log-dir, system-dir, base-name, database, writable`},
		{"bad bool", protocol.Source{Location: "/i", Options: map[string]string{"writable": "yes"}}, SourceConfig{}, ese.ErrInvalidParameter, `option writable="yes": want true or false`},
		{"nothing", protocol.Source{}, SourceConfig{}, ese.ErrInvalidPath, "no instance or log directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSource(tc.src)
			if tc.code != 0 {
				if !errors.Is(err, tc.code) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("error %v, want %s with %q", err, tc.code.Name(), tc.msg)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseSource = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// TestOptionsAcrossDriver checks that Info describes the ESE options and
// that Begin and Restore refuse other keys before opening or staging
// anything, with JET_errInvalidParameter naming the key and the options.
func TestOptionsAcrossDriver(t *testing.T) {
	d := engineDriver(t, false)
	ctx := context.Background()
	info, err := d.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := protocol.OptionNames(info.Options); !reflect.DeepEqual(got, []string{"log-dir", "system-dir", "base-name", "database", "writable"}) {
		t.Fatalf("Info options %v", got)
	}
	if o, _ := info.Option("database"); !o.Repeatable || o.Type != protocol.OptionList || o.Help == "" {
		t.Fatalf("database option %+v", o)
	}
	dir := samples.CopySet(t, "srum-win10-clean")
	_, err = d.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindCopy, Source: protocol.Source{Location: dir, Options: map[string]string{"instance": "x"}}})
	if !errors.Is(err, ese.ErrInvalidParameter) || !strings.Contains(err.Error(), `unknown option "instance": the plugin knows log-dir, system-dir, base-name, database, writable`) {
		t.Fatalf("Begin with an unknown option: %v", err)
	}
	// Nothing was opened: a Begin with known options works right after.
	id, err := d.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindCopy, Source: protocol.Source{Location: dir, Options: map[string]string{"log-dir": dir}}})
	if err != nil {
		t.Fatal(err)
	}
	backupAll(t, d, id)
	res, err := d.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeSucceeded})
	if err != nil {
		t.Fatal(err)
	}
	li, err := LogInfo(res.Metadata)
	if err != nil || li.GenHigh == 0 || li.GenLow > li.GenHigh || li.BaseName != "SRU" {
		t.Fatalf("End's log range %+v, %v (metadata %v)", li, err, res.Metadata)
	}

	rd := New(Config{Open: d.cfg.Open, Restore: func(context.Context, ese.RestoreRequest) error { return errors.New("must not be reached") }})
	t.Cleanup(func() { rd.Close() })
	one := []protocol.RestoreMap{{DatabaseName: "a.edb", NewDatabaseName: "/r/a.edb"}}
	for _, tc := range []struct {
		name string
		req  protocol.RestoreRequest
		msg  string
	}{
		{"a Begin option", protocol.RestoreRequest{Databases: one, Metadata: res.Metadata, Options: map[string]string{"writable": "true"}},
			`unknown option "writable": the plugin knows log-dir, system-dir`},
		{"no log range", protocol.RestoreRequest{Databases: one}, "no log range"},
		{"damaged log range", protocol.RestoreRequest{Databases: one, Metadata: []protocol.Metadata{{Type: protocol.MetadataLogRange, Data: []byte("[")}}}, "esesnap.log-range.v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rd.Restore(ctx, tc.req)
			if !errors.Is(err, ese.ErrInvalidParameter) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Restore: %v, want JET_errInvalidParameter with %q", err, tc.msg)
			}
		})
	}
}

// TestRestoreLocation checks where Restore sends the instance's logs and
// checkpoint: under the request's location when no option says (logs in
// its "logs" directory, the checkpoint in it), and where the options say
// when they do. The engine's restore is replaced by a recording test double.
func TestRestoreLocation(t *testing.T) {
	d := engineDriver(t, false)
	ctx := context.Background()
	id, err := d.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindCopy, Source: protocol.Source{Location: samples.CopySet(t, "srum-win10-clean")}})
	if err != nil {
		t.Fatal(err)
	}
	backupAll(t, d, id)
	res, err := d.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeSucceeded})
	if err != nil {
		t.Fatal(err)
	}
	var got ese.RestoreRequest
	recording := New(Config{Open: d.cfg.Open, Restore: func(_ context.Context, r ese.RestoreRequest) error { got = r; return nil }})
	t.Cleanup(func() { recording.Close() })
	to := t.TempDir()
	for _, tc := range []struct {
		name              string
		opts              map[string]string
		logDir, systemDir string
	}{
		{"location alone", nil, filepath.Join(to, "logs"), to},
		{"options win", map[string]string{"log-dir": "/elsewhere/logs", "system-dir": "/elsewhere"}, "/elsewhere/logs", "/elsewhere"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got = ese.RestoreRequest{}
			req := protocol.RestoreRequest{Location: to, BackupSetDir: t.TempDir(), Metadata: res.Metadata, Options: tc.opts,
				Databases: []protocol.RestoreMap{{DatabaseName: "SRUDB.dat", NewDatabaseName: filepath.Join(to, "SRUDB.dat")}}}
			if _, err := recording.Restore(ctx, req); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if got.LogDir != tc.logDir || got.CheckpointDir != tc.systemDir {
				t.Fatalf("restore went to logs %q, checkpoint %q; want %q, %q", got.LogDir, got.CheckpointDir, tc.logDir, tc.systemDir)
			}
		})
	}
}
