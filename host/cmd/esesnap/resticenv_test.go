package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/internal/samples"
)

// withoutRestic is the test's environment without any RESTIC_ variable,
// so that each case sets exactly what it tests.
func withoutRestic(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "RESTIC_") {
			out = append(out, kv)
		}
	}
	return out
}

// TestResticConventions: the repository and password reach esesnap as
// they reach restic — RESTIC_REPOSITORY alone, RESTIC_REPOSITORY_FILE,
// -r with --password-file, --repository-file — for backup and restore;
// an explicit --out wins over RESTIC_REPOSITORY; two targets or none are
// usage errors; a missing password, a missing repository and a wrong
// password are one clear error each (exit 5), never "broken pipe". The
// plugin sees none of it (its double refuses any RESTIC_ variable).
func TestResticConventions(t *testing.T) {
	_, bin, repo := resticEnv(t)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	repoFile := filepath.Join(dir, "repo-location")
	os.WriteFile(pwFile, []byte("esesnap-test\n"), 0o600)
	os.WriteFile(repoFile, []byte(repo+"\n"), 0o600)
	base := append(withoutRestic(os.Environ()), "RESTIC_CACHE_DIR="+t.TempDir())
	src := samples.CopySet(t, "srum-win10-clean")
	plug := append(pluginArgs("refuse-restic-env"), "--restic", bin)

	cases := []struct {
		name  string
		env   []string
		args  []string
		code  int
		want  string // in stderr
		snaps int    // snapshots added to repo
	}{
		{"RESTIC_REPOSITORY alone", []string{"RESTIC_REPOSITORY=" + repo, "RESTIC_PASSWORD=esesnap-test"}, nil, ExitOK, "", 1},
		{"RESTIC_REPOSITORY_FILE and RESTIC_PASSWORD_FILE", []string{"RESTIC_REPOSITORY_FILE=" + repoFile, "RESTIC_PASSWORD_FILE=" + pwFile}, nil, ExitOK, "", 1},
		{"-r and --password-file", nil, []string{"-r", repo, "--password-file", pwFile}, ExitOK, "", 1},
		{"--repository-file and RESTIC_PASSWORD_COMMAND", []string{"RESTIC_PASSWORD_COMMAND=cat " + pwFile}, []string{"--repository-file", repoFile}, ExitOK, "", 1},
		{"--out wins over RESTIC_REPOSITORY", []string{"RESTIC_REPOSITORY=" + repo, "RESTIC_PASSWORD=esesnap-test"}, []string{"--out", filepath.Join(dir, "set")}, ExitOK, "", 0},
		{"-r and --out", []string{"RESTIC_PASSWORD=esesnap-test"}, []string{"-r", repo, "--out", filepath.Join(dir, "set2")}, ExitUsage, "give only one of", 0},
		{"no target at all", []string{"RESTIC_PASSWORD=esesnap-test"}, nil, ExitUsage, "RESTIC_REPOSITORY", 0},
		{"no password, no terminal", []string{"RESTIC_REPOSITORY=" + repo}, nil, ExitRepository, "no password for the restic repository " + repo + ", and no terminal to ask for one: set RESTIC_PASSWORD_FILE", 0},
		{"missing repository", []string{"RESTIC_PASSWORD=esesnap-test"}, []string{"--restic-repo", filepath.Join(dir, "nope")}, ExitRepository, "no restic repository there (it has no config file)", 0},
		{"wrong password", []string{"RESTIC_REPOSITORY=" + repo, "RESTIC_PASSWORD=wrong"}, nil, ExitRepository, "wrong password", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(resticSnapshots(t, append(base, "RESTIC_PASSWORD=esesnap-test"), bin, repo))
			args := append(append([]string{"backup", "--source", src, "--kind", "copy"}, plug...), tc.args...)
			_, stderr, code := cliEnv(t, append(append([]string{}, base...), tc.env...), args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, want %d with %q:\n%s", code, tc.code, tc.want, stderr)
			}
			if strings.Contains(stderr, "restic-stdin-writer") || strings.Count(stderr, "Fatal") > 0 {
				t.Fatalf("restic's plumbing or its raw error reached the user:\n%s", stderr)
			}
			if after := len(resticSnapshots(t, append(base, "RESTIC_PASSWORD=esesnap-test"), bin, repo)); after-before != tc.snaps {
				t.Fatalf("%d snapshot(s) added, want %d", after-before, tc.snaps)
			}
		})
	}

	// restore finds the repository the same way: RESTIC_REPOSITORY alone.
	to := filepath.Join(t.TempDir(), "restore")
	env := append(append([]string{}, base...), "RESTIC_REPOSITORY="+repo, "RESTIC_PASSWORD_FILE="+pwFile)
	stdout, stderr, code := cliEnv(t, env, append([]string{"restore", "--to", to}, plug...)...)
	if code != ExitOK || !strings.Contains(stdout, "staged for recovery") {
		t.Fatalf("restore with RESTIC_REPOSITORY alone: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestResticLookupExitCodes: a restore or incremental that finds nothing
// of what it was asked for exits 2 (not 1, "does not verify") and says
// what was looked for and what the repository holds.
func TestResticLookupExitCodes(t *testing.T) {
	env, bin, repo := resticEnv(t)
	env = append(env, "RESTIC_REPOSITORY="+repo)
	src := samples.CopySet(t, "srum-win10-clean")
	plug := append(pluginArgs(""), "--restic", bin)
	restore := func(extra ...string) (string, int) {
		_, stderr, code := cliEnv(t, env, append(append([]string{"restore", "--to", filepath.Join(t.TempDir(), "r")}, plug...), extra...)...)
		return stderr, code
	}
	// An empty repository.
	if stderr, code := restore(); code != ExitUsage || !strings.Contains(stderr, "it holds no esesnap backups") {
		t.Fatalf("restore from an empty repository: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := cliEnv(t, env, append([]string{"backup", "--source", src, "--kind", "incremental"}, plug...)...); code != ExitUsage || !strings.Contains(stderr, "no full backup of") {
		t.Fatalf("incremental without a full backup: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := cliEnv(t, env, append([]string{"backup", "--source", src, "--kind", "copy"}, plug...)...); code != ExitOK {
		t.Fatalf("backup: exit %d\n%s", code, stderr)
	}
	snaps := resticSnapshots(t, env, bin, repo)
	if len(snaps) != 1 {
		t.Fatalf("%d snapshots", len(snaps))
	}
	short := snaps[0]["short_id"].(string)
	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"unknown snapshot id", []string{"--snapshot", "deadbeef"}, ExitUsage, []string{`no esesnap backup "deadbeef"`, "it holds backups of 1 instance(s): "}},
		{"--at before the first backup", []string{"--at", "2001-01-01 00:00:00"}, ExitUsage, []string{"no restorable backup of", "at or before 2001-01-01 00:00:00; the oldest restorable backup is " + short}},
		{"--snapshot and --at", []string{"--snapshot", short, "--at", "2001-01-01 00:00:00"}, ExitUsage, []string{"give only one of --snapshot ID and --at TIME"}},
		{"a bad --at", []string{"--at", "yesterday"}, ExitUsage, []string{`--at "yesterday"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stderr, code := restore(tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Fatalf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "does not verify") {
				t.Fatalf("a lookup failure reads as damaged data:\n%s", stderr)
			}
		})
	}
}
