package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/internal/samples"
)

// instanceUnder copies the real sample set into DIR/parent/NTDS and
// returns that path: two instances in one test share the directory name,
// as two domain controllers' NTDS directories do.
func instanceUnder(t *testing.T, set, parent string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), parent, "NTDS")
	if err := os.CopyFS(dir, os.DirFS(samples.CopySet(t, set))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// resticCLI runs esesnap against the repository with the test plugin.
func resticCLI(t *testing.T, env []string, bin, repo string, args ...string) (string, string, int) {
	t.Helper()
	all := append(slices.Clone(args), "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--restic", bin, "--restic-repo", repo)
	return cliEnv(t, env, all...)
}

// listing runs `esesnap snapshots --json`.
func listing(t *testing.T, env []string, bin, repo string, filter ...string) []instanceJSON {
	t.Helper()
	args := append([]string{"snapshots", "--json", "--restic", bin, "--restic-repo", repo}, filter...)
	stdout, stderr, code := cliEnv(t, env, args...)
	var out []instanceJSON
	if err := json.Unmarshal([]byte(stdout), &out); code != 0 || err != nil {
		t.Fatalf("snapshots --json: exit %d, %v\n%s\n%s", code, err, stdout, stderr)
	}
	return out
}

// TestResticTwoInstancesOneName: two hosts back up an NTDS directory each
// (different instances, same directory name) into one repository. The
// incremental of the first joins its own chain although the second's full
// backup is newer; latest is ambiguous and names both; each restores by
// --host; snapshots lists both instances with their chains.
func TestResticTwoInstancesOneName(t *testing.T) {
	env, bin, repo := resticEnv(t)
	dc1 := instanceUnder(t, "srum-win10-dirty", "dc1")
	dc2 := instanceUnder(t, "srum-win11-dirty", "dc2")
	backup := func(host, src, kind string) {
		t.Helper()
		args := []string{"backup", "--kind", kind, "--writable", "--truncate-logs", "--host", host, "--source", src}
		if _, stderr, code := resticCLI(t, env, bin, repo, args...); code != 0 {
			t.Fatalf("%s %s backup: exit %d\n%s", host, kind, code, stderr)
		}
	}
	backup("dc1", dc1, "full")
	backup("dc2", dc2, "full")
	backup("dc1", dc1, "incremental")

	// Each snapshot carries its instance as tags: the source path and the
	// log stream's signature (read from the checkpoint before streaming,
	// checked against the set before the snapshot was saved).
	for _, snap := range resticSnapshots(t, env, bin, repo) {
		var tags []string
		for _, tag := range snap["tags"].([]any) {
			tags = append(tags, tag.(string))
		}
		src := dc1
		if snap["hostname"] == "dc2" {
			src = dc2
		}
		if !slices.Contains(tags, "esesnap:source="+src) || !slices.ContainsFunc(tags, func(s string) bool {
			return strings.HasPrefix(s, "esesnap:instance=") && len(s) == len("esesnap:instance=")+16
		}) {
			t.Fatalf("snapshot of %s has tags %q", snap["hostname"], tags)
		}
	}

	ls := listing(t, env, bin, repo)
	if len(ls) != 2 || ls[0].Host != "dc1" || ls[1].Host != "dc2" || ls[0].Path != dc1 || ls[1].Path != dc2 || ls[0].Instance == ls[1].Instance || ls[0].Instance == "" {
		t.Fatalf("instances %+v", ls)
	}
	if c := ls[0].Chains; len(c) != 1 || len(c[0].Backups) != 2 || c[0].Backups[1].Kind != "incremental" || !c[0].Restorable {
		t.Fatalf("dc1's chains %+v: want its full and the incremental in one restorable chain", c)
	}
	if c := ls[1].Chains; len(c) != 1 || len(c[0].Backups) != 1 || c[0].ID == ls[0].Chains[0].ID {
		t.Fatalf("dc2's chains %+v", c)
	}
	if got := listing(t, env, bin, repo, "--host", "dc2"); len(got) != 1 || got[0].Host != "dc2" {
		t.Fatalf("snapshots --host dc2: %+v", got)
	}

	_, stderr, code := resticCLI(t, env, bin, repo, "restore", "--to", t.TempDir())
	if code != ExitUsage || !strings.Contains(stderr, "2 instances") || !strings.Contains(stderr, "dc1:"+dc1) || !strings.Contains(stderr, "dc2:"+dc2) {
		t.Fatalf("restore latest of two instances: exit %d, want %d naming both\n%s", code, ExitUsage, stderr)
	}
	for _, tc := range []struct {
		host string
		sets string
		db   string
	}{{"dc1", "sets=2", "SRUDB.dat"}, {"dc2", "sets=1", "SRUDB.dat"}} {
		to := t.TempDir()
		stdout, stderr, code := resticCLI(t, env, bin, repo, "restore", "--host", tc.host, "--to", to, "--json")
		var rs restoreSummary
		if err := json.Unmarshal([]byte(stdout), &rs); code != 0 || err != nil || !rs.OK {
			t.Fatalf("restore --host %s: exit %d, %v\n%s\n%s", tc.host, code, err, stdout, stderr)
		}
		if !strings.Contains(stderr, tc.sets) {
			t.Fatalf("restore --host %s did not read %s:\n%s", tc.host, tc.sets, stderr)
		}
		if _, err := os.Stat(filepath.Join(to, tc.db)); err != nil {
			t.Fatalf("restore --host %s staged no database: %v", tc.host, err)
		}
	}

	// Lookups that find nothing are usage problems, not damaged data.
	for _, args := range [][]string{
		{"--snapshot", "deadbeef"},
		{"--host", "dc1", "--at", "2001-01-01 00:00:00"},
		{"--host", "dc9"},
	} {
		_, stderr, code := resticCLI(t, env, bin, repo, append([]string{"restore", "--to", t.TempDir()}, args...)...)
		if code != ExitUsage || strings.Contains(stderr, "does not verify") {
			t.Errorf("restore %v: exit %d, want %d without a verification verdict\n%s", args, code, ExitUsage, stderr)
		}
	}
}

// TestResticIncrementalOfAnotherInstance: the database at a backed-up
// path is replaced by another instance (a new log stream); an incremental
// must not join the old chain: it fails before the snapshot is saved and
// truncates nothing.
func TestResticIncrementalOfAnotherInstance(t *testing.T) {
	env, bin, repo := resticEnv(t)
	src := instanceUnder(t, "srum-win10-dirty", "dc1")
	if _, stderr, code := resticCLI(t, env, bin, repo, "backup", "--kind", "full", "--writable", "--truncate-logs", "--source", src); code != 0 {
		t.Fatalf("full: exit %d\n%s", code, stderr)
	}
	if err := os.RemoveAll(src); err != nil {
		t.Fatal(err)
	}
	// The other instance has a full backup of its own recorded (elsewhere),
	// so ESE itself accepts an incremental of it.
	other := samples.SynthSmall(t)
	if _, stderr, code := cli(t, "backup", "--kind", "full", "--writable", "--truncate-logs", "--out", filepath.Join(t.TempDir(), "elsewhere"),
		"--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--source", other); code != 0 {
		t.Fatalf("full backup of the other instance: exit %d\n%s", code, stderr)
	}
	if err := os.CopyFS(src, os.DirFS(other)); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code := resticCLI(t, env, bin, repo, "backup", "--kind", "incremental", "--writable", "--truncate-logs", "--source", src)
	if code == 0 || !strings.Contains(stderr, "another instance") || !strings.Contains(stderr, "take a full backup") {
		t.Fatalf("incremental of another instance: exit %d\n%s", code, stderr)
	}
	if n := len(resticSnapshots(t, env, bin, repo)); n != 1 {
		t.Fatalf("%d snapshots after the refused incremental, want 1", n)
	}
	after, err := os.ReadDir(src)
	if err != nil || len(after) != len(before) {
		t.Fatalf("the refused incremental changed the instance's files: %d before, %d after (%v)", len(before), len(after), err)
	}
}

// TestResticForgetKeepsChains: chain-aware retention. dc1 has two chains
// (full + incremental each), dc2 one full. --keep-last 1 for dc1 keeps the
// newest point and the full it needs, forgets the older chain, leaves
// dc2 alone; --dry-run changes nothing; the kept point still restores.
func TestResticForgetKeepsChains(t *testing.T) {
	env, bin, repo := resticEnv(t)
	dc1 := instanceUnder(t, "srum-win10-dirty", "dc1")
	dc2 := instanceUnder(t, "srum-win11-dirty", "dc2")
	for _, b := range []struct{ host, src, kind string }{
		{"dc1", dc1, "full"}, {"dc1", dc1, "incremental"}, {"dc2", dc2, "full"}, {"dc1", dc1, "full"}, {"dc1", dc1, "incremental"},
	} {
		args := []string{"backup", "--kind", b.kind, "--writable", "--truncate-logs", "--host", b.host, "--source", b.src}
		if _, stderr, code := resticCLI(t, env, bin, repo, args...); code != 0 {
			t.Fatalf("%s %s: exit %d\n%s", b.host, b.kind, code, stderr)
		}
	}
	forget := func(extra ...string) forgetOutput {
		t.Helper()
		args := append([]string{"forget", "--json", "--restic", bin, "--restic-repo", repo, "--host", "dc1", "--keep-last", "1"}, extra...)
		stdout, stderr, code := cliEnv(t, env, args...)
		var out forgetOutput
		if err := json.Unmarshal([]byte(stdout), &out); code != 0 || err != nil {
			t.Fatalf("forget: exit %d, %v\n%s\n%s", code, err, stdout, stderr)
		}
		return out
	}
	dry := forget("--dry-run")
	if n := len(resticSnapshots(t, env, bin, repo)); n != 5 || !dry.DryRun || len(dry.Decisions) != 4 {
		t.Fatalf("dry run: %d snapshots left, %d decisions", n, len(dry.Decisions))
	}
	var keep, drop []string
	for _, d := range dry.Decisions {
		if d.Host != "dc1" {
			t.Fatalf("forget --host dc1 decided about %s", d.Host)
		}
		if d.Keep {
			keep = append(keep, d.Kind+": "+strings.Join(d.Reasons, "; "))
		} else {
			drop = append(drop, d.Kind)
		}
	}
	if len(keep) != 2 || !strings.Contains(keep[0], "full: needed by kept restore point") || !strings.Contains(keep[1], "incremental: restore point kept (last") || len(drop) != 2 {
		t.Fatalf("plan keeps %q, forgets %q", keep, drop)
	}
	forget("--prune")
	if n := len(resticSnapshots(t, env, bin, repo)); n != 3 {
		t.Fatalf("%d snapshots after forget, want 3 (dc1's second chain and dc2's full)", n)
	}
	stdout, stderr, code := resticCLI(t, env, bin, repo, "restore", "--host", "dc1", "--to", t.TempDir())
	if code != 0 || !strings.Contains(stderr, "sets=2") {
		t.Fatalf("restore of the kept point: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if ls := listing(t, env, bin, repo, "--host", "dc2"); len(ls) != 1 || len(ls[0].Chains) != 1 {
		t.Fatalf("dc2 after forgetting dc1's chain: %+v", ls)
	}
	_, stderr, code = cliEnv(t, env, "forget", "--restic", bin, "--restic-repo", repo)
	if code != ExitUsage || !strings.Contains(stderr, "keeps nothing") {
		t.Fatalf("forget without a policy: exit %d\n%s", code, stderr)
	}
}

// forgetOutput is `forget --json`.
type forgetOutput struct {
	DryRun    bool         `json:"dry_run"`
	Decisions []forgetJSON `json:"decisions"`
}

// TestResticCommandModeIsListedAndRestores: a set restic stored in
// command mode (no esesnap tags) is found by snapshots and restores by id.
func TestResticCommandModeIsListedAndRestores(t *testing.T) {
	env, bin, repo := resticEnv(t)
	src := samples.CopySet(t, "srum-win10-clean")
	cmd := cliCommand() // the test binary as esesnap
	run := []string{"-r", repo, "backup", "--stdin-from-command", "--stdin-filename", "srum.tar", "--",
		cmd.Path, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv + "=1", "--tar", "-", "--kind", "copy", "--source", src}
	rc := cliCommand()
	rc.Path, rc.Args = bin, append([]string{bin}, run...)
	rc.Env = append(env, runMainEnv+"=1")
	if out, err := rc.CombinedOutput(); err != nil {
		t.Fatalf("restic command mode: %v\n%s", err, out)
	}
	ls := listing(t, env, bin, repo)
	if len(ls) != 1 || len(ls[0].Chains) != 1 || !ls[0].Chains[0].CommandMode || !ls[0].Chains[0].Backups[0].Restorable || ls[0].Path != src {
		t.Fatalf("listing of a command-mode set: %+v", ls)
	}
	id := ls[0].Chains[0].Backups[0].ID
	to := t.TempDir()
	if stdout, stderr, code := resticCLI(t, env, bin, repo, "restore", "--snapshot", id[:8], "--to", to); code != 0 {
		t.Fatalf("restore of a command-mode set by id: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(to, "SRUDB.dat")); err != nil {
		t.Fatal(err)
	}
}

// TestRestoreSetChain: a full and an incremental written as directories
// (and as tars) restore together with repeated --set, in any order, and
// from a directory holding them; the incremental alone does not.
func TestRestoreSetChain(t *testing.T) {
	src := samples.CopySet(t, "srum-win10-dirty")
	sets := t.TempDir()
	full, inc := filepath.Join(sets, "1-full"), filepath.Join(sets, "2-inc")
	plug := []string{"--plugin", os.Args[0], "--plugin-env", testPluginEnv + "=1", "--source", src, "--writable", "--truncate-logs"}
	if _, stderr, code := cli(t, append([]string{"backup", "--kind", "full", "--out", full}, plug...)...); code != 0 {
		t.Fatalf("full: exit %d\n%s", code, stderr)
	}
	incTar := filepath.Join(t.TempDir(), "inc.tar")
	if _, stderr, code := cli(t, append([]string{"backup", "--kind", "incremental", "--out", inc}, plug...)...); code != 0 {
		t.Fatalf("incremental: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := cli(t, "backup", "--kind", "incremental", "--tar", incTar, "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--source", src, "--writable"); code != 0 {
		t.Fatalf("incremental tar: exit %d\n%s", code, stderr)
	}
	restore := func(args ...string) (restoreSummary, string, int) {
		t.Helper()
		all := append([]string{"restore", "--plugin", os.Args[0], "--plugin-env", testPluginEnv + "=1", "--to", t.TempDir(), "--json"}, args...)
		stdout, stderr, code := cli(t, all...)
		var rs restoreSummary
		json.Unmarshal([]byte(stdout), &rs)
		return rs, stderr, code
	}
	for _, args := range [][]string{
		{"--set", inc, "--set", full},
		{"--set", sets},
		{"--set", full, "--set", incTar},
	} {
		rs, stderr, code := restore(args...)
		if code != 0 || !rs.OK || rs.Sets != 2 || rs.Kind != "full" {
			t.Fatalf("restore %v: exit %d %+v\n%s", args, code, rs, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(full, "SRUDB.dat")); err != nil {
		t.Fatalf("restoring the chain changed the full set: %v", err)
	}
	if rs, stderr, code := restore("--set", inc); code == 0 || rs.OK {
		t.Fatalf("restore of an incremental alone: exit %d\n%s", code, stderr)
	}
}

// TestResticForgetRandomSchedules is the retention property with the real
// restic and real backups: random schedules of full, incremental and
// differential backups of a real instance, then esesnap forget with a
// random --keep-last; every restore point the plan kept must still
// restore from the repository with esesnap restore.
func TestResticForgetRandomSchedules(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 12))
	for round := range 2 {
		env, bin, repo := resticEnv(t)
		src := instanceUnder(t, "srum-win10-dirty", fmt.Sprintf("round%d", round))
		kinds := []string{"full"}
		for range 4 + r.IntN(3) {
			kinds = append(kinds, []string{"full", "incremental", "incremental", "differential"}[r.IntN(4)])
		}
		for _, kind := range kinds {
			args := []string{"backup", "--kind", kind, "--writable", "--source", src}
			if kind != "differential" {
				args = append(args, "--truncate-logs")
			}
			if _, stderr, code := resticCLI(t, env, bin, repo, args...); code != 0 {
				t.Fatalf("round %d, schedule %v: %s backup: exit %d\n%s", round, kinds, kind, code, stderr)
			}
		}
		keep := 1 + r.IntN(3)
		stdout, stderr, code := cliEnv(t, env, "forget", "--json", "--restic", bin, "--restic-repo", repo, "--keep-last", fmt.Sprint(keep))
		var out forgetOutput
		if err := json.Unmarshal([]byte(stdout), &out); code != 0 || err != nil {
			t.Fatalf("round %d: forget: exit %d, %v\n%s\n%s", round, code, err, stdout, stderr)
		}
		var points []string
		forgotten := 0
		for _, d := range out.Decisions {
			if !d.Keep {
				forgotten++
			}
			if d.Keep && slices.ContainsFunc(d.Reasons, func(s string) bool { return strings.HasPrefix(s, "restore point kept") }) {
				points = append(points, d.ID)
			}
		}
		if len(points) != min(keep, len(kinds)) {
			t.Fatalf("round %d, schedule %v, --keep-last %d: %d points kept: %+v", round, kinds, keep, len(points), out.Decisions)
		}
		if n := len(resticSnapshots(t, env, bin, repo)); n != len(kinds)-forgotten {
			t.Fatalf("round %d: %d snapshots left, want %d", round, n, len(kinds)-forgotten)
		}
		for _, id := range points {
			if _, stderr, code := resticCLI(t, env, bin, repo, "restore", "--snapshot", id, "--to", t.TempDir()); code != 0 {
				t.Fatalf("round %d, schedule %v, --keep-last %d: kept point %s does not restore: exit %d\n%s", round, kinds, keep, id[:8], code, stderr)
			}
		}
		t.Logf("round %d: schedule %v, --keep-last %d: %d forgotten, %d kept points restore", round, kinds, keep, forgotten, len(points))
	}
}
