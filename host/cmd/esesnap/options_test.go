package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/protocol"
)

// TestSourceFlags checks that the ESE flags become the options of the same
// name (directories made absolute, databases a list) and --option adds any
// other, and that a key given twice or an --option without "=" is refused.
func TestSourceFlags(t *testing.T) {
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, tc := range []struct {
		name string
		f    sourceFlags
		want protocol.Source
		err  string
	}{
		{"location only", sourceFlags{location: "inst"}, protocol.Source{Location: abs("inst")}, ""},
		{"ESE flags", sourceFlags{location: "/i", logDir: "logs", systemDir: "/s", baseName: "edb", databases: []string{"/i/a.edb", "/i/b.edb"}, writable: true},
			protocol.Source{Location: "/i", Options: map[string]string{"log-dir": abs("logs"), "system-dir": "/s", "base-name": "edb",
				"database": "/i/a.edb\x00/i/b.edb", "writable": "true"}}, ""},
		{"generic options", sourceFlags{location: "/i", options: []string{"instance=NTDS", "database=/a", "database=/b", "empty="}},
			protocol.Source{Location: "/i", Options: map[string]string{"instance": "NTDS", "database": "/a\x00/b", "empty": ""}}, ""},
		{"both ways", sourceFlags{location: "/i", logDir: "/l", options: []string{"log-dir=/m"}}, protocol.Source{}, "option log-dir is given twice (--log-dir and --option log-dir=…)"},
		{"no equals sign", sourceFlags{location: "/i", options: []string{"writable"}}, protocol.Source{}, `--option "writable": want KEY=VALUE`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.f.source()
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("source() = %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
}

func TestCheckSourceOptions(t *testing.T) {
	info := protocol.Info{Name: "p", Options: []protocol.OptionSpec{{Name: "log-dir", Type: protocol.OptionPath}, {Name: "database", Type: protocol.OptionList, Repeatable: true}, {Name: "tag"}}}
	src := protocol.Source{Location: "/i", Options: map[string]string{"log-dir": "rel", "database": "/a\x00/b"}}
	f := sourceFlags{options: []string{"database=/a", "database=/b", "log-dir=rel"}}
	if err := checkSourceOptions(info, &src, f.repeatedKeys()); err != nil {
		t.Fatal(err)
	}
	if want, _ := filepath.Abs("rel"); src.Options["log-dir"] != want {
		t.Fatalf("path option %q, want %q", src.Options["log-dir"], want)
	}
	bad := protocol.Source{Options: map[string]string{"tag": "a\x00b"}}
	f = sourceFlags{options: []string{"tag=a", "tag=b"}}
	if err := checkSourceOptions(info, &bad, f.repeatedKeys()); err == nil || err.Error() != "plugin p: option tag is not repeatable" {
		t.Fatalf("repeated tag: %v", err)
	}
	unknown := protocol.Source{Options: map[string]string{"instance": "x"}}
	if err := checkSourceOptions(info, &unknown, f.repeatedKeys()); err == nil || !strings.Contains(err.Error(), `plugin p: unknown option "instance": the plugin knows log-dir, database, tag`) {
		t.Fatalf("unknown option: %v", err)
	}
}

// TestBackupOptions runs backup through the plugin double (the ESE driver):
// an option the plugin does not describe is a usage error naming the
// plugin's options before anything is backed up, and --option log-dir and
// --option writable work as --log-dir and --writable, recorded in the
// manifest.
func TestBackupOptions(t *testing.T) {
	src := samples.CopySet(t, "srum-win10-clean")
	out := filepath.Join(t.TempDir(), "set")
	_, stderr, code := cli(t, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--source", src, "--out", out, "--option", "instance=NTDS")
	if code != ExitUsage || !strings.Contains(stderr, `unknown option "instance": the plugin knows log-dir, system-dir, base-name, database, writable`) {
		t.Fatalf("unknown option: exit %d, stderr %s", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a refused backup left %s: %v", out, err)
	}
	stdout, stderr, code := cli(t, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--source", src, "--out", out,
		"--option", "log-dir="+src, "--option", "writable=false", "--json")
	if code != ExitOK {
		t.Fatalf("backup with options: exit %d, stderr %s", code, stderr)
	}
	var sum backupSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || !sum.OK || sum.GenHigh == 0 {
		t.Fatalf("summary %s: %v", stdout, err)
	}
	f, err := os.Open(filepath.Join(out, backupset.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := backupset.ReadManifest(f)
	if err != nil {
		t.Fatal(err)
	}
	hostName, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	if want := (backupset.SourceInfo{Host: hostName, Location: src, Options: map[string]string{"log-dir": src, "writable": "false"}}); !reflect.DeepEqual(m.Source, want) {
		t.Fatalf("manifest source %+v, want %+v", m.Source, want)
	}
}

// TestPluginInfo prints the real plugin double's Info, options included.
func TestPluginInfo(t *testing.T) {
	stdout, stderr, code := cli(t, "plugin-info", os.Args[0], "--plugin-env", testPluginEnv+"=1")
	if code != ExitOK || !strings.Contains(stdout, "options (backup --option KEY=VALUE):") ||
		!strings.Contains(stdout, "  database     database file to back up") || !strings.Contains(stdout, "[list, repeatable]") ||
		!strings.Contains(stdout, "  log-dir ") || !strings.Contains(stdout, "also for restore") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr %s", code, stdout, stderr)
	}
	stdout, stderr, code = cli(t, "plugin-info", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--json")
	var j pluginInfoJSON
	if code != ExitOK || json.Unmarshal([]byte(stdout), &j) != nil || len(j.Options) != 5 || j.Options[4].Name != "writable" || j.Options[4].Type != "bool" {
		t.Fatalf("--json: exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
}
