package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/internal/samples"
)

// TestBackupVerifyEverySample runs the quick-start flow — backup through a
// real plugin process into a set, then verify — on every real sample
// folder. The three complete sets (databases, logs, checkpoint) must back up
// and verify; the database-only folders have no checkpoint, so ESE refuses
// the backup with JET_errCheckpointFileNotFound, and the NTDS folder has a
// checkpoint but no log at all (and its temp database belongs to no log
// stream), so listing the logs fails with JET_errFileNotFound; esesnap must
// say so.
func TestBackupVerifyEverySample(t *testing.T) {
	complete := map[string]bool{"srum-win10-clean": true, "srum-win10-dirty": true, "srum-win11-dirty": true}
	entries, err := os.ReadDir(samples.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "LICENSES" {
			continue
		}
		seen++
		name := e.Name()
		t.Run(name, func(t *testing.T) {
			src := samples.Path(t, name) // read-only: the default backup never writes
			out := filepath.Join(t.TempDir(), "set")
			stdout, stderr, code := cli(t, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--source", src, "--out", out)
			if !complete[name] {
				want := "JET_errCheckpointFileNotFound (-542)"
				if name == "ntds-2012r2-tempdb" {
					want = "JET_errFileNotFound (-1811)"
				}
				if code != ExitError || !strings.Contains(stderr, want) || !strings.Contains(stderr, "what to do:") {
					t.Fatalf("exit %d, want %d with %s and advice:\n%s", code, ExitError, want, stderr)
				}
				noSetLeft(t, out)
				return
			}
			if code != ExitOK {
				t.Fatalf("backup: exit %d\n%s\n%s", code, stdout, stderr)
			}
			stdout, stderr, code = cli(t, "verify", out)
			if code != ExitOK || !strings.Contains(stdout, "verified") {
				t.Fatalf("verify: exit %d\n%s\n%s", code, stdout, stderr)
			}
		})
	}
	if seen < 8 {
		t.Fatalf("found %d sample folders, INVENTORY.md lists 8", seen)
	}
}
