package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/conformance"
	"github.com/esesnap/esesnap/ese/synth"
)

// TestPluginTestCommand runs `esesnap plugin-test` against two real plugin
// processes: esesnap-plugin and the dirsnap example, both built from
// source. Both must pass, quietly: the plugin's warnings (which the abort
// checks provoke on purpose) appear only with -v, or for a check that fails
// (this test binary as the ESE plugin with the service stopped under
// Begin). A program that is no plugin must fail the handshake, and --source
// is required.
func TestPluginTestCommand(t *testing.T) {
	// A synthetic ESE set suits the ESE plugin and dirsnap alike.
	source := t.TempDir()
	if _, err := synth.Generate(t.Context(), synth.Options{Dir: source, Pages: 2048, UsedPages: 1500, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := cli(t, "plugin-test", os.Args[0], "--plugin-env", testPluginEnv+"=1")
	if code != ExitUsage || !strings.Contains(stderr, "--source is required") {
		t.Fatalf("without --source: exit %d, want %d\n%s\n%s", code, ExitUsage, stdout, stderr)
	}
	bins := t.TempDir()
	build := exec.Command("go", "build", "-o", bins+"/", "github.com/esesnap/esesnap/plugin/cmd/esesnap-plugin", "github.com/esesnap/esesnap/examples/dirsnap/cmd/dirsnap-plugin")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the plugins: %v\n%s", err, out)
	}
	esePlugin, bin := filepath.Join(bins, "esesnap-plugin"), filepath.Join(bins, "dirsnap-plugin")
	stdout, stderr, code = cli(t, "plugin-test", esePlugin, "--source", source)
	if code != ExitOK || !strings.Contains(stdout, "all checks passed") || !strings.Contains(stdout, "ok    backup-full") {
		t.Fatalf("ESE plugin: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stderr, "[WARN]") || strings.Contains(stderr, "[ERROR]") {
		t.Fatalf("a passing run logs warnings:\n%s", stderr)
	}
	if lines := strings.Count(stdout, "\n"); lines != len(conformance.Checks())+2 {
		t.Fatalf("a passing run prints %d lines, want one per check, the handshake and the summary:\n%s", lines, stdout)
	}
	_, stderr, code = cli(t, "plugin-test", esePlugin, "--source", source, "-v")
	if code != ExitOK || !strings.Contains(stderr, "[WARN]  esesnap.plugin.esesnap-plugin: backup session aborted") {
		t.Fatalf("ESE plugin -v: exit %d, the plugin's warnings not shown:\n%s", code, stderr)
	}
	stdout, stderr, code = cli(t, "plugin-test", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--plugin-env", testFaultEnv+"=stop-service", "--source", source)
	if code != ExitVerifyFailed || !strings.Contains(stdout, "FAIL  backup-full") ||
		!strings.Contains(stderr, "plugin log during backup-full:\n") || !strings.Contains(stderr, "JET_errClientRequestToStopJetService") {
		t.Fatalf("a failing check does not show the plugin's log: exit %d\n%s\n%s", code, stdout, stderr)
	}

	stdout, stderr, code = cli(t, "plugin-test", bin, "--source", source)
	if code != ExitOK || !strings.Contains(stdout, "all checks passed") {
		t.Fatalf("dirsnap plugin: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = cli(t, "plugin-test", bin, "--json", "--source", source)
	var sum pluginTestSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || code != ExitOK || !sum.OK || sum.Failed != 0 || len(sum.Checks) < 10 || sum.Checks[0] != (checkJSON{Name: "handshake", Status: "ok"}) {
		t.Fatalf("dirsnap plugin --json: exit %d, %v, %+v\n%s", code, err, sum, stderr)
	}

	notPlugin := filepath.Join(t.TempDir(), "not-a-plugin")
	if err := os.WriteFile(notPlugin, []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	stdout, _, code = cli(t, "plugin-test", notPlugin, "--source", source)
	if code != ExitVerifyFailed {
		t.Fatalf("a program that is no plugin: exit %d\n%s", code, stdout)
	}
	stdout, _, code = cli(t, "plugin-test", notPlugin, "--json", "--source", source)
	sum = pluginTestSummary{}
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || code != ExitVerifyFailed || sum.OK || len(sum.Checks) != 1 || sum.Checks[0].Status != "fail" {
		t.Fatalf("a program that is no plugin, --json: exit %d, %v\n%s", code, err, stdout)
	}
}
