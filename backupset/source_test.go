package backupset

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/protocol"
)

// TestRecordedSource checks that a manifest records the location and only
// the options the plugin describes as not secret.
func TestRecordedSource(t *testing.T) {
	info := protocol.Info{Options: []protocol.OptionSpec{{Name: "log-dir"}, {Name: "writable"}, {Name: "password", Secret: true}}}
	src := protocol.Source{Location: "/i", Options: map[string]string{"log-dir": "/l", "writable": "true", "password": "hunter2", "undescribed": "x"}}
	got := RecordSource("nightly", "dc1", src, info)
	want := SourceInfo{Description: "nightly", Host: "dc1", Location: "/i", Options: map[string]string{"log-dir": "/l", "writable": "true"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("recorded %+v, want %+v", got, want)
	}
	if got := RecordSource("", "", protocol.Source{Location: "/i", Options: map[string]string{"password": "p"}}, info); got.Options != nil {
		t.Fatalf("a secret-only source recorded options %v", got.Options)
	}
}

// TestManifestSourceForms checks that a manifest of a set written before
// options existed (instance_dir, log_dir, ...) still decodes, reads as
// location and options, and that strict decoding still refuses unknown
// keys in the source.
func TestManifestSourceForms(t *testing.T) {
	m := &Manifest{FormatVersion: FormatVersion, Kind: protocol.KindFull, Complete: true,
		Started: time.Unix(1700000000, 0).UTC(), Finished: time.Unix(1700000001, 0).UTC(),
		Files: []ManifestFile{{Name: "a.edb", OriginalName: "/i/a.edb", Role: protocol.RoleDatabase, Size: 0,
			SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}}
	m.Source = SourceInfo{Location: "/i", Options: map[string]string{"log-dir": "/l"}}
	encode := func(edit func(src map[string]any)) []byte {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		edit(raw["source"].(map[string]any))
		b, err = json.Marshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	nm, err := ReadManifest(bytes.NewReader(encode(func(map[string]any) {})))
	if err != nil || !reflect.DeepEqual(nm.Source, m.Source) {
		t.Fatalf("new-form manifest: %+v, %v", nm.Source, err)
	}
	old := encode(func(src map[string]any) {
		delete(src, "location")
		delete(src, "options")
		src["instance_dir"], src["log_dir"], src["system_dir"], src["base_name"] = "/i", "/l", "/s", "edb"
		src["databases"] = []string{"/i/a.edb", "/i/b.edb"}
	})
	om, err := ReadManifest(bytes.NewReader(old))
	if err != nil {
		t.Fatalf("old-form manifest: %v", err)
	}
	want := protocol.Source{Location: "/i", Options: map[string]string{"log-dir": "/l", "system-dir": "/s", "base-name": "edb",
		"database": protocol.JoinList([]string{"/i/a.edb", "/i/b.edb"})}}
	if got := om.Source.Source(); !reflect.DeepEqual(got, want) {
		t.Fatalf("old-form source reads as %+v, want %+v", got, want)
	}
	bad := encode(func(src map[string]any) { src["password"] = "x" })
	if _, err := ReadManifest(bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), `unknown key "password"`) {
		t.Fatalf("unknown source key: %v", err)
	}
}
