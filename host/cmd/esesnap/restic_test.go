package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/ese/synth"

	"github.com/esesnap/esesnap/internal/samples"
)

// resticBinary finds the real restic (CI installs it with go install).
func resticBinary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("restic"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "restic")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("the real restic binary is needed: go install github.com/restic/restic/cmd/restic@v0.18.1")
	return ""
}

// resticEnv sets up a fresh repository and returns the environment that
// reaches it (RESTIC_REPOSITORY, RESTIC_PASSWORD) and the restic binary.
func resticEnv(t *testing.T) (env []string, bin, repo string) {
	t.Helper()
	bin = resticBinary(t)
	repo = filepath.Join(t.TempDir(), "repo")
	env = append(os.Environ(), "RESTIC_PASSWORD=esesnap-test", "RESTIC_CACHE_DIR="+t.TempDir())
	cmd := exec.Command(bin, "-r", repo, "init")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("restic init: %v\n%s", err, out)
	}
	return env, bin, repo
}

func cliEnv(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := cliCommand(args...)
	cmd.Env = append(env, runMainEnv+"=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func resticSnapshots(t *testing.T, env []string, bin, repo string) []map[string]any {
	t.Helper()
	cmd := exec.Command(bin, "-r", repo, "snapshots", "--json")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("restic snapshots: %v", err)
	}
	var snaps []map[string]any
	if err := json.Unmarshal(out, &snaps); err != nil {
		t.Fatal(err)
	}
	return snaps
}

// TestResticChain: full (with truncation), incremental, differential and
// copy backups into a real restic repository, then a restore of the chain.
func TestResticChain(t *testing.T) {
	env, bin, repo := resticEnv(t)
	src := samples.CopySet(t, "srum-win10-dirty")
	plug := []string{"--plugin", os.Args[0], "--plugin-env", testPluginEnv + "=1", "--restic", bin, "--restic-repo", repo, "--source", src}

	stdout, stderr, code := cliEnv(t, env, append([]string{"backup", "--kind", "full", "--writable", "--truncate-logs", "--json"}, plug...)...)
	if code != 0 {
		t.Fatalf("full: exit %d\n%s", code, stderr)
	}
	var sum backupSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("full --json: %v\n%s", err, stdout)
	}
	if sum.Restic == nil || sum.Restic.SnapshotID == "" || sum.Restic.Chain == "" || len(sum.TruncatedLogs) != 3 {
		t.Fatalf("full summary %+v", sum)
	}
	if _, err := os.Stat(filepath.Join(src, "SRU0004E.log")); !os.IsNotExist(err) {
		t.Fatal("the full backup did not truncate its logs")
	}
	// The prediction made with restic's chunker equals restic's data_added
	// (up to the estimated tree blob), and says the database is new.
	if e := sum.Restic.Estimate; e == nil {
		t.Fatal("no estimate in --json")
	} else {
		if d := e.NewBytes + e.TreeBytes - sum.Restic.DataAdded; d < -512 || d > 512 {
			t.Errorf("predicted %d + %d tree bytes, restic added %d", e.NewBytes, e.TreeBytes, sum.Restic.DataAdded)
		}
		var dbNew int64
		for _, p := range e.Parts {
			if p.Name == "SRUDB.dat" {
				dbNew = p.NewBytes
			}
		}
		if dbNew == 0 {
			t.Errorf("no new bytes predicted for SRUDB.dat: %+v", e.Parts)
		}
	}
	for _, kind := range []string{"incremental", "differential", "copy"} {
		args := []string{"backup", "--kind", kind}
		if kind != "copy" {
			args = append(args, "--writable")
		}
		if kind == "incremental" {
			args = append(args, "--truncate-logs")
		}
		if _, stderr, code := cliEnv(t, env, append(args, plug...)...); code != 0 {
			t.Fatalf("%s: exit %d\n%s", kind, code, stderr)
		}
	}
	snaps := resticSnapshots(t, env, bin, repo)
	if len(snaps) != 4 {
		t.Fatalf("%d snapshots, want 4", len(snaps))
	}

	// Restore the chain as of the differential (the copy starts a new chain).
	to := t.TempDir()
	diffID := snaps[2]["id"].(string)
	// Leftovers of a crashed restore (unsynced scratch) are removed first,
	// never taken for the set.
	stale := filepath.Join(to, ".esesnap-restic", "set-01-"+snaps[0]["short_id"].(string))
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, "SRUDB.dat"), []byte("left by a crashed restore"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = cliEnv(t, env, "restore", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--restic", bin,
		"--restic-repo", repo, "--snapshot", diffID, "--to", to)
	if code != 0 {
		t.Fatalf("restore: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "logs 81..82") {
		t.Fatalf("restore output:\n%s", stdout)
	}
	for _, f := range []string{"SRUDB.dat", "logs/SRU00051.log", "logs/SRU00052.log"} {
		if _, err := os.Stat(filepath.Join(to, f)); err != nil {
			t.Fatalf("restore did not stage %s: %v", f, err)
		}
	}
	if !strings.Contains(stderr, "sets=3") {
		t.Fatalf("the chain was not full + incremental + differential:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(to, ".esesnap-restic")); !os.IsNotExist(err) {
		t.Fatalf("the scratch directory was left behind: %v", err)
	}

	// The databases are moved into place before the plugin stages the
	// logs; when the plugin then refuses (a log is in the way: restore
	// never overwrites), they are removed again.
	blocked := t.TempDir()
	if err := os.MkdirAll(filepath.Join(blocked, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(blocked, "logs", "SRU00052.log"), []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = cliEnv(t, env, "restore", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--restic", bin,
		"--restic-repo", repo, "--snapshot", diffID, "--to", blocked)
	if code == 0 || !strings.Contains(stderr, "already exists") || !strings.Contains(stderr, "JET_errFileAlreadyExists") || !strings.Contains(stderr, "restore into an empty directory") {
		t.Fatalf("restore onto an existing log: exit %d\n%s", code, stderr)
	}
	if ents, _ := os.ReadDir(blocked); len(ents) != 1 {
		t.Fatalf("a refused restore left %d entries in its directory, want only logs/", len(ents))
	}

	// --json says the same for scripts.
	stdout, stderr, code = cliEnv(t, env, "restore", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--restic", bin,
		"--restic-repo", repo, "--snapshot", diffID, "--to", t.TempDir(), "--json")
	var rs restoreSummary
	if err := json.Unmarshal([]byte(stdout), &rs); code != 0 || err != nil {
		t.Fatalf("restore --json: exit %d, %v\n%s\n%s", code, err, stdout, stderr)
	}
	if !rs.OK || rs.Sets != 3 || rs.GenLow != 81 || rs.GenHigh != 82 || rs.Kind != "full" || len(rs.Staged) != 3 || !strings.HasSuffix(rs.Staged[0], "SRUDB.dat") {
		t.Fatalf("restore --json: %+v", rs)
	}

	// A wrong password is a repository that cannot be opened (exit 5),
	// not a set that does not verify.
	stdout, stderr, code = cliEnv(t, append(env[:len(env):len(env)], "RESTIC_PASSWORD=wrong"), "restore", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--restic", bin,
		"--restic-repo", repo, "--to", t.TempDir(), "--json")
	if code != ExitRepository || !strings.Contains(stderr, "reading from restic failed") || !strings.Contains(stderr, "wrong password") {
		t.Fatalf("restore with a wrong password: exit %d, want %d\n%s", code, ExitRepository, stderr)
	}
	rs = restoreSummary{}
	if err := json.Unmarshal([]byte(stdout), &rs); err != nil || rs.OK || rs.Error == nil || !strings.Contains(rs.Error.Message, "wrong password") {
		t.Fatalf("restore --json with a wrong password: %v\n%s", err, stdout)
	}
}

// TestResticFailuresLeaveNoSnapshot: a plugin that dies, a wrong password,
// a damaged page and restic itself killed mid-stream leave no snapshot and
// no truncated log.
func TestResticFailuresLeaveNoSnapshot(t *testing.T) {
	env, bin, repo := resticEnv(t)
	// The real restic, killed by SIGKILL while it reads the stream.
	killed := filepath.Join(t.TempDir(), "restic-killed")
	script := "#!/bin/sh\n\"" + bin + "\" \"$@\" &\npid=$!\nsleep 0.3\nkill -9 $pid\nwait $pid\n"
	if err := os.WriteFile(killed, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		env    []string
		restic string
		fault  string
		edit   func(src string)
	}{
		{"plugin killed", env, bin, "die-mid-stream", nil},
		{"wrong password", append(append([]string{}, env...), "RESTIC_PASSWORD=wrong"), bin, "", nil},
		{"damaged page", env, bin, "", func(src string) { flipBit(t, filepath.Join(src, "SRUDB.dat"), 20*4096+3) }},
		{"restic killed", env, killed, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := samples.CopySet(t, "srum-win10-dirty")
			if tc.edit != nil {
				tc.edit(src)
			}
			args := []string{"backup", "--kind", "full", "--writable", "--truncate-logs", "--plugin", os.Args[0], "--plugin-env", testPluginEnv + "=1",
				"--plugin-env", testFaultEnv + "=" + tc.fault, "--restic", tc.restic, "--restic-repo", repo, "--source", src}
			_, stderr, code := cliEnv(t, tc.env, args...)
			if code == 0 {
				t.Fatalf("the backup succeeded:\n%s", stderr)
			}
			if n := len(resticSnapshots(t, env, bin, repo)); n != 0 {
				t.Fatalf("a failed backup left %d snapshot(s)", n)
			}
			if _, err := os.Stat(filepath.Join(src, "SRU0004E.log")); err != nil {
				t.Fatal("a failed backup truncated logs")
			}
		})
	}
}

// TestResticCommandMode: restic in charge, esesnap as the command that
// produces the stream; a failing esesnap means no snapshot.
func TestResticCommandMode(t *testing.T) {
	env, bin, repo := resticEnv(t)
	run := func(src string) error {
		cmd := exec.Command(bin, "-r", repo, "backup", "--stdin-from-command", "--stdin-filename", "srum.tar", "--",
			os.Args[0], "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--tar", "-", "--kind", "copy", "--source", src)
		cmd.Env = append(env, runMainEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return &exec.Error{Name: string(out), Err: err}
		}
		return nil
	}
	if err := run(samples.CopySet(t, "srum-win10-clean")); err != nil {
		t.Fatalf("command mode: %v", err)
	}
	bad := samples.CopySet(t, "srum-win10-clean")
	flipBit(t, filepath.Join(bad, "SRUDB.dat"), 30*4096+1)
	if err := run(bad); err == nil {
		t.Fatal("restic saved a snapshot of a failed esesnap run")
	}
	if n := len(resticSnapshots(t, env, bin, repo)); n != 1 {
		t.Fatalf("%d snapshots, want only the good one", n)
	}
}

// TestResticEverySample backs up every complete real set and the bundled
// synthetic set into restic, restores each from restic, and checks that
// the staged databases and logs are byte for byte what the plugin streamed
// (the sha256 the manifest recorded while streaming).
func TestResticEverySample(t *testing.T) {
	env, bin, repo := resticEnv(t)
	sets := map[string]string{
		"srum-win10-clean": samples.CopySet(t, "srum-win10-clean"),
		"srum-win10-dirty": samples.CopySet(t, "srum-win10-dirty"),
		"srum-win11-dirty": samples.CopySet(t, "srum-win11-dirty"),
		"synth-small":      samples.SynthSmall(t),
	}
	for name, src := range sets {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := cliEnv(t, env, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--restic", bin,
				"--restic-repo", repo, "--source", src, "--kind", "full", "--writable", "--truncate-logs", "--json")
			if code != 0 {
				t.Fatalf("backup: exit %d\n%s", code, stderr)
			}
			var sum backupSummary
			if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
				t.Fatal(err)
			}
			to := t.TempDir()
			_, stderr, code = cliEnv(t, env, "restore", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--restic", bin,
				"--restic-repo", repo, "--snapshot", sum.Restic.SnapshotID, "--to", to)
			if code != 0 {
				t.Fatalf("restore: exit %d\n%s", code, stderr)
			}
			for _, f := range sum.Manifest.Files {
				staged := filepath.Join(to, f.Name)
				if f.Role.String() == "log" {
					staged = filepath.Join(to, "logs", f.Name)
				}
				if got := sha256File(t, staged); got != f.SHA256 {
					t.Fatalf("%s: staged %s differs from what the plugin streamed", name, f.Name)
				}
			}
		})
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("staged file missing: %v", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestResticDiskFull: the repository's disk fills up during the backup
// (a 2 MiB tmpfs, mounted for the test: it needs root, as CI has). restic
// fails, no snapshot exists, and the logs are not truncated.
func TestResticDiskFull(t *testing.T) {
	bin := resticBinary(t)
	tiny := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", tiny).CombinedOutput(); err != nil {
		t.Fatalf("this test mounts a 2 MiB tmpfs to fill the repository's disk and needs root (CI runs as root): %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", tiny).Run() })
	repo := filepath.Join(tiny, "repo")
	env := append(os.Environ(), "RESTIC_PASSWORD=esesnap-test", "RESTIC_CACHE_DIR="+t.TempDir())
	cmd := exec.Command(bin, "-r", repo, "init")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("restic init: %v\n%s", err, out)
	}
	src := t.TempDir()
	if _, err := synth.Generate(context.Background(), synth.Options{Dir: src, Pages: 2048, State: format.DBStateDirtyShutdown, FirstGen: 1, CurrentGen: 6, CheckpointGen: 3, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := cliEnv(t, env, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--restic", bin,
		"--restic-repo", repo, "--source", src, "--kind", "full", "--writable", "--truncate-logs")
	if code == 0 {
		t.Fatalf("a backup into a full repository disk succeeded:\n%s", stderr)
	}
	if !strings.Contains(stderr, "no space left") {
		t.Fatalf("the error does not say the disk is full:\n%s", stderr)
	}
	if n := len(resticSnapshots(t, env, bin, repo)); n != 0 {
		t.Fatalf("%d snapshot(s) in a repository whose disk filled up", n)
	}
	if _, err := os.Stat(filepath.Join(src, "edb00001.log")); err != nil {
		t.Fatal("logs were truncated although restic failed")
	}
}
