package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese/synth"
)

// TestResticPageDelta: with --page-delta the first backup stores the
// database whole (the base), the next one after 1% of the pages changed
// stores only those pages, restic adds at most 3% of the database, and
// restoring rebuilds exactly the database the plugin streamed. A base
// that is gone makes restore fail naming it and makes the next backup a
// new base; so does a damaged page index.
func TestResticPageDelta(t *testing.T) {
	env, bin, repo := resticEnv(t)
	set, err := synth.Generate(context.Background(), synth.Options{Dir: filepath.Join(t.TempDir(), "ese"), PageSize: 8192, Pages: 4096, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(set.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	backup := func(t *testing.T) (backupSummary, string) {
		t.Helper()
		stdout, stderr, code := cliEnv(t, env, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--restic", bin,
			"--restic-repo", repo, "--source", set.Dir, "--kind", "full", "--page-delta", "--delta-cache", cache, "--json")
		if code != 0 {
			t.Fatalf("backup --page-delta: exit %d\n%s", code, stderr)
		}
		var sum backupSummary
		if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
			t.Fatal(err)
		}
		return sum, stderr
	}
	tagsOf := func(id string) []string {
		for _, s := range resticSnapshots(t, env, bin, repo) {
			if s["id"] == id {
				var tags []string
				for _, v := range s["tags"].([]any) {
					tags = append(tags, v.(string))
				}
				return tags
			}
		}
		t.Fatalf("no snapshot %s", id)
		return nil
	}
	dbFile := func(sum backupSummary) (name, sha string, delta bool) {
		for _, f := range sum.Manifest.Files {
			if f.Role.String() == "database" {
				return f.Name, f.SHA256, f.Delta != nil
			}
		}
		t.Fatal("no database in the manifest")
		return
	}
	restore := func(t *testing.T, id string) (string, string, int) {
		to := t.TempDir()
		stdout, stderr, code := cliEnv(t, env, "restore", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--restic", bin,
			"--restic-repo", repo, "--snapshot", id, "--to", to)
		return to, stdout + stderr, code
	}

	base, _ := backup(t)
	if base.Pages < st.Size()/8192 {
		t.Fatalf("summary: %d pages verified, the database has %d", base.Pages, st.Size()/8192)
	}
	if _, _, delta := dbFile(base); delta || !slices.Contains(tagsOf(base.Restic.SnapshotID), "esesnap:delta-base") {
		t.Fatalf("the first --page-delta backup is not a whole base: tags %v", tagsOf(base.Restic.SnapshotID))
	}

	touched, err := synth.TouchPages(set.DBPath, 0.01, 5)
	if err != nil {
		t.Fatal(err)
	}
	next, _ := backup(t)
	name, sha, delta := dbFile(next)
	if !delta {
		t.Fatal("the second backup stored the database whole")
	}
	var d = next.Manifest.Files[0].Delta
	if d.Base != base.Restic.SnapshotID || d.Changed < int64(touched) || d.Changed > 2*int64(touched)+8 {
		t.Fatalf("delta against %s holds %d blocks for %d touched pages", d.Base, d.Changed, touched)
	}
	if !slices.Contains(tagsOf(next.Restic.SnapshotID), "esesnap:base="+base.Restic.SnapshotID) {
		t.Fatalf("delta snapshot tags %v", tagsOf(next.Restic.SnapshotID))
	}
	pct := 100 * float64(next.Restic.DataAdded) / float64(st.Size())
	t.Logf("%d of %d pages changed: restic added %d bytes, %.2f%% of the database", touched, st.Size()/8192, next.Restic.DataAdded, pct)
	if pct > 3 {
		t.Errorf("restic added %.2f%% of the database, want at most 3%%", pct)
	}

	to, out, code := restore(t, next.Restic.SnapshotID)
	if code != 0 {
		t.Fatalf("restore of the delta: exit %d\n%s", code, out)
	}
	if got := sha256File(t, filepath.Join(to, name)); got != sha {
		t.Fatalf("restored %s has sha256 %s, the plugin streamed %s", name, got, sha)
	}
	if _, err := os.Stat(filepath.Join(to, ".esesnap-restic")); !os.IsNotExist(err) {
		t.Fatal("restore left its scratch directory behind")
	}

	// Forget the base: restore of the delta fails naming it, and the next
	// backup is a new base.
	cmd := exec.Command(bin, "-r", repo, "forget", base.Restic.SnapshotID)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("restic forget: %v\n%s", err, out)
	}
	if _, out, code := restore(t, next.Restic.SnapshotID); code == 0 || !strings.Contains(out, "base "+base.Restic.SnapshotID[:8]) {
		t.Fatalf("restore without its base: exit %d\n%s", code, out)
	}
	rebase, stderr := backup(t)
	if _, _, delta := dbFile(rebase); delta || !strings.Contains(stderr, "gone from the repository") {
		t.Fatalf("backup after the base was forgotten: delta %v\n%s", delta, stderr)
	}
	if !slices.ContainsFunc(rebase.Warnings, func(w string) bool { return strings.Contains(w, "gone from the repository") }) {
		t.Fatalf("the --json summary does not say why the set is a new base: warnings %q", rebase.Warnings)
	}

	// A damaged page index: a warning and a new base, never a wrong delta.
	idx, _ := filepath.Glob(filepath.Join(cache, "*.idx"))
	if len(idx) != 1 {
		t.Fatalf("page index files: %v", idx)
	}
	data, _ := os.ReadFile(idx[0])
	data[len(data)/2] ^= 1
	os.WriteFile(idx[0], data, 0o600)
	again, stderr := backup(t)
	if _, _, delta := dbFile(again); delta || !strings.Contains(stderr, "damaged") {
		t.Fatalf("backup with a damaged page index: delta %v\n%s", delta, stderr)
	}
	if to, out, code := restore(t, again.Restic.SnapshotID); code != 0 {
		t.Fatalf("restore of the new base: exit %d\n%s", code, out)
	} else if _, sha, _ := dbFile(again); sha256File(t, filepath.Join(to, name)) != sha {
		t.Fatal("restored new base differs from what the plugin streamed")
	}

	// A delta backup that fails (a damaged page) saves no snapshot and
	// leaves the page index as it was.
	idxBefore, _ := os.ReadFile(idx[0])
	snapsBefore := len(resticSnapshots(t, env, bin, repo))
	flipBit(t, set.DBPath, 100*8192+77)
	_, stderr, code = cliEnv(t, env, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--restic", bin,
		"--restic-repo", repo, "--source", set.Dir, "--kind", "full", "--page-delta", "--delta-cache", cache)
	if code == 0 || !strings.Contains(stderr, "-1018") {
		t.Fatalf("backup of a damaged page: exit %d\n%s", code, stderr)
	}
	if n := len(resticSnapshots(t, env, bin, repo)); n != snapsBefore {
		t.Fatalf("%d snapshots after a failed backup, want %d", n, snapsBefore)
	}
	if idxAfter, _ := os.ReadFile(idx[0]); !bytes.Equal(idxAfter, idxBefore) {
		t.Fatal("a failed backup changed the page index")
	}
}

func TestDeltaHints(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("verify: %w: the set stores x.edb as a page delta", backupset.ErrDeltaSet),
		fmt.Errorf("snapshot 1234: rebuild x.edb: %w: base is not the file", backupset.ErrBadDelta),
	} {
		if h := hintFor(err); !strings.Contains(h, "restore") {
			t.Errorf("hint for %v: %q", err, h)
		}
	}
}
