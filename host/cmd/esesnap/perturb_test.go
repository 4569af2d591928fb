package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/internal/samples"
)

// TestDamagedInstanceThroughCLI backs up damaged copies of real instances
// through the binary and the plugin process: exit 0 means the set verifies
// and restore --set stages it; otherwise the exit code is 1 (damaged data),
// stderr names the file and the data JET_err and advice for it, never
// JET_errInvalidBackupSequence, and no manifest is left.
func TestDamagedInstanceThroughCLI(t *testing.T) {
	for _, tc := range []struct {
		name   string
		set    string
		damage func(t *testing.T, dir string)
		ok     bool
		want   []string // in stderr of a failed backup
	}{
		{name: "current log renamed to its archived name", set: "srum-win10-clean", ok: true,
			damage: func(t *testing.T, dir string) { mustRename(t, dir, "SRU.log", "SRU00009.log") }},
		{name: "checkpoint of 4 KiB", set: "srum-win10-clean", ok: true,
			damage: func(t *testing.T, dir string) {
				if err := os.Truncate(filepath.Join(dir, "SRU.chk"), 4096); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "current log missing", set: "srum-win10-clean",
			damage: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, "SRU.log")); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"JET_errMissingFileToBackup (-569)", "0x9 (SRU00009.log)", "what to do: a log generation the backup needs is gone"}},
		{name: "archived logs exchanged", set: "srum-win10-dirty",
			damage: func(t *testing.T, dir string) {
				mustRename(t, dir, "SRU00050.log", "x.tmp")
				mustRename(t, dir, "SRU00051.log", "SRU00050.log")
				mustRename(t, dir, "x.tmp", "SRU00051.log")
			},
			want: []string{"SRU00051.log", "JET_errLogGenerationMismatch (-513)", "what to do: a log file holds another generation"}},
		{name: "checkpoint of another instance", set: "srum-win10-clean",
			damage: func(t *testing.T, dir string) {
				b, err := os.ReadFile(filepath.Join(samples.Dir(t), "srum-win10-dirty", "SRU.chk"))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "SRU.chk"), b, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"SRU.chk", "JET_errBadCheckpointSignature (-532)", "what to do: the checkpoint file belongs to another instance"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := samples.CopySet(t, tc.set)
			tc.damage(t, src)
			out := filepath.Join(t.TempDir(), "set")
			_, stderr, code := cli(t, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--source", src, "--out", out)
			if strings.Contains(stderr, "InvalidBackupSequence") {
				t.Fatalf("damaged data reported as a call-order error:\n%s", stderr)
			}
			if !tc.ok {
				if code != ExitVerifyFailed {
					t.Fatalf("exit %d, want %d:\n%s", code, ExitVerifyFailed, stderr)
				}
				for _, w := range tc.want {
					if !strings.Contains(stderr, w) {
						t.Errorf("stderr lacks %q:\n%s", w, stderr)
					}
				}
				if _, err := os.Stat(filepath.Join(out, backupset.ManifestName)); !os.IsNotExist(err) {
					t.Fatalf("a failed backup left a manifest (%v)", err)
				}
				return
			}
			if code != ExitOK {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			if stdout, stderr, code := cli(t, "verify", out); code != ExitOK {
				t.Fatalf("backup exited 0 but verify exits %d:\n%s\n%s", code, stdout, stderr)
			}
			stdout, stderr, code := cli(t, "restore", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--set", out, "--to", t.TempDir())
			if code != ExitOK || !strings.Contains(stdout, "staged for recovery") {
				t.Fatalf("restore --set: exit %d\n%s\n%s", code, stdout, stderr)
			}
		})
	}
}

func mustRename(t *testing.T, dir, from, to string) {
	t.Helper()
	if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
		t.Fatal(err)
	}
}
