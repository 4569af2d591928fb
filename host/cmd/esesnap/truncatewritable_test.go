package main

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/internal/samples"
)

// TestTruncateLogsNeedsWritable: --truncate-logs without --writable is
// still a usage error for a plugin that has a writable option (the ESE
// plugin), now checked against the plugin's Info, and the source stays as
// it was. (A plugin without one, the vss backend whose writer truncates,
// takes --truncate-logs alone: vss/wine_test.go.)
func TestTruncateLogsNeedsWritable(t *testing.T) {
	src := samples.CopySet(t, "srum-win10-dirty")
	before := samples.DirSHA256(t, src)
	_, stderr, code := cli(t, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--source", src,
		"--kind", "full", "--truncate-logs", "--out", filepath.Join(t.TempDir(), "set"))
	if code != ExitUsage || !strings.Contains(stderr, "--truncate-logs needs --writable") {
		t.Fatalf("exit %d, want %d naming --writable\n%s", code, ExitUsage, stderr)
	}
	if !maps.Equal(before, samples.DirSHA256(t, src)) {
		t.Fatal("the refused backup changed the source")
	}
}
