//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/internal/testservers"
)

// TestResticRemote runs esesnap end to end against remote restic
// repositories on real servers started on 127.0.0.1: an S3-compatible
// one (versitygw) and one of restic's REST protocol (rclone serve
// restic). Many hosts backing up into one object store is how users with
// many servers scale out. Every request restic makes goes through a
// counting proxy (a test double that observes, and holds requests back
// to interrupt a backup at a known point).
//
// A full backup with log truncation, an incremental and a copy, each with
// the estimate of restic's new data; two backups interrupted by Ctrl-C
// while restic uploads, which leave no snapshot, no lock and every log in
// place; then a restore of the full + incremental chain from the remote
// repository, byte for byte what the plugin streamed.
func TestResticRemote(t *testing.T) {
	bin := resticBinary(t)
	for _, server := range []struct {
		name  string
		start func(testing.TB) *testservers.Server
	}{{"s3", testservers.S3}, {"rest", testservers.REST}} {
		t.Run(server.name, func(t *testing.T) {
			srv := server.start(t)
			proxy := testservers.NewCountingProxy(t, srv)
			repo := srv.RepoVia(proxy.Addr)
			env := append(os.Environ(), "RESTIC_PASSWORD=esesnap-test", "RESTIC_CACHE_DIR="+t.TempDir(),
				"XDG_CACHE_HOME="+t.TempDir()) // esesnap's own caches, per test
			env = append(env, srv.Env...)
			restic := func(args ...string) string {
				t.Helper()
				cmd := exec.Command(bin, append([]string{"-r", repo}, args...)...)
				cmd.Env = env
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("restic %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
				}
				return string(out)
			}
			restic("init")
			src := samples.CopySet(t, "srum-win10-dirty")

			// Another host backs up another instance into the same
			// repository, with its own caches, before this host's first
			// backup and again between two of them.
			otherEnv := append(os.Environ(), "RESTIC_PASSWORD=esesnap-test", "RESTIC_CACHE_DIR="+t.TempDir(), "XDG_CACHE_HOME="+t.TempDir())
			otherEnv = append(otherEnv, srv.Env...)
			otherSrc := samples.CopySet(t, "srum-win11-dirty")
			otherHost := func(kind string) {
				t.Helper()
				args := []string{"backup", "--kind", kind, "--writable", "--plugin", os.Args[0], "--plugin-env", testPluginEnv + "=1", "--restic", bin, "--restic-repo", repo, "--source", otherSrc}
				if _, stderr, code := cliEnv(t, otherEnv, args...); code != 0 {
					t.Fatalf("the other host's %s backup: exit %d\n%s", kind, code, stderr)
				}
			}
			otherHost("full")
			plug := []string{"--plugin", os.Args[0], "--plugin-env", testPluginEnv + "=1", "--restic", bin, "--restic-repo", repo, "--source", src}

			// repositoryOpens counts restic processes (each reads a key),
			// indexLists the listings of index/: restic backup lists it
			// once, and so does every restic list blobs.
			repositoryOpens := func() int {
				return proxy.Count(func(r testservers.Request) bool { return r.Method == "GET" && r.Type == "keys" && !r.List })
			}
			indexLists := func() int {
				return proxy.Count(func(r testservers.Request) bool { return r.List && r.Type == "index" })
			}
			backup := func(kind string, args ...string) backupSummary {
				t.Helper()
				proxy.Reset()
				stdout, stderr, code := cliEnv(t, env, append(append([]string{"backup", "--kind", kind, "--json"}, args...), plug...)...)
				if code != 0 {
					t.Fatalf("%s backup into %s: exit %d\n%s", kind, repo, code, stderr)
				}
				var sum backupSummary
				if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
					t.Fatalf("%s --json: %v\n%s", kind, err, stdout)
				}
				if sum.Restic == nil || sum.Restic.SnapshotID == "" {
					t.Fatalf("%s: no snapshot in %+v", kind, sum)
				}
				e := sum.Restic.Estimate
				if e == nil {
					t.Fatalf("%s: no estimate: %s", kind, sum.Restic.EstimateError)
				}
				if d := e.NewBytes + e.TreeBytes - sum.Restic.DataAdded; d < -512 || d > 512 {
					t.Errorf("%s: predicted %d + %d tree bytes, restic added %d", kind, e.NewBytes, e.TreeBytes, sum.Restic.DataAdded)
				}
				t.Logf("%s: %d requests, %d restic processes opened the repository, %d listings of index/; %d bytes, %d added, %.2f s",
					kind, len(proxy.Requests()), repositoryOpens(), indexLists(), sum.Bytes, sum.Restic.DataAdded, sum.Elapsed)
				return sum
			}

			full := backup("full", "--writable", "--truncate-logs")
			if len(full.TruncatedLogs) != 3 {
				t.Fatalf("full truncated %v, want 3 logs", full.TruncatedLogs)
			}
			if _, err := os.Stat(filepath.Join(src, "SRU0004E.log")); !os.IsNotExist(err) {
				t.Fatal("the full backup did not truncate its logs")
			}
			// The first backup from this host reads the config and the
			// blob list, besides restic backup itself (the other host's
			// backup made the repository's blob list worth reading).
			if n := indexLists(); n != 2 {
				t.Errorf("the first backup listed index/ %d times, want 2 (restic list blobs, restic backup)", n)
			}

			inc := backup("incremental", "--writable", "--truncate-logs")
			if inc.Restic.Chain != full.Restic.Chain {
				t.Fatalf("the incremental joined chain %q, not the full's %q", inc.Restic.Chain, full.Restic.Chain)
			}
			// restic's own cache holds the index as restic backup left it,
			// so the estimate needs no restic list blobs. The chain is found
			// by the sets' manifests: the full's was kept when it was
			// stored, the other host's is read once (restic cat tree, cat
			// blob). So: restic snapshots, those two and restic backup, of
			// which all but snapshots list index/.
			if n := repositoryOpens(); n != 4 {
				t.Errorf("the incremental ran %d restic processes on the repository, want 4 (snapshots, cat tree, cat blob, backup)", n)
			}
			if n := indexLists(); n != 3 {
				t.Errorf("the incremental listed index/ %d times, want 3 (cat tree, cat blob, backup): the estimate listed every blob again", n)
			}

			// A copy re-sends the database, which the repository holds
			// but for the pages the backups recorded themselves in: the
			// prediction from the cached blob list (backup checks it
			// against data_added) says which chunks restic has. The other
			// host's copy since is unknown here until restic runs,
			// and its blobs are the other instance's.
			otherHost("copy")
			backup("copy")
			if n := indexLists(); n != 1 {
				t.Errorf("the copy listed index/ %d times, want 1", n)
			}

			// Ctrl-C while restic uploads the stream's packs, and while it
			// saves the snapshot: no snapshot, no lock, and none of the
			// logs truncated that the full backup of a fresh copy of the
			// instance would truncate (as the first one did).
			for _, point := range []string{"data", "snapshots"} {
				t.Run("interrupted at "+point, func(t *testing.T) {
					src := samples.CopySet(t, "srum-win10-dirty")
					plug := []string{"--plugin", os.Args[0], "--plugin-env", testPluginEnv + "=1", "--restic", bin, "--restic-repo", repo, "--source", src}
					logsBefore := logsIn(t, src)
					if !slices.Contains(logsBefore, "SRU0004E.log") {
						t.Fatalf("the fresh copy's logs %v lack SRU0004E.log, which a full backup truncates", logsBefore)
					}
					stalled := proxy.Stall(func(r testservers.Request) bool {
						return r.Type == point && (r.Method == "PUT" || r.Method == "POST")
					})
					defer proxy.Release()
					cmd := cliCommand(append([]string{"backup", "--kind", "full", "--writable", "--truncate-logs"}, plug...)...)
					cmd.Env = append(env, runMainEnv+"=1")
					var stderr bytes.Buffer
					cmd.Stderr = &stderr
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					select {
					case <-stalled:
					case <-time.After(2 * time.Minute):
						cmd.Process.Kill()
						cmd.Wait()
						t.Fatalf("restic never saved %s:\n%s", point, stderr.String())
					}
					cmd.Process.Signal(os.Interrupt)
					err := cmd.Wait()
					var ee *exec.ExitError
					if !errors.As(err, &ee) || ee.ExitCode() != ExitInterrupted {
						t.Fatalf("interrupted backup: %v, want exit %d\n%s", err, ExitInterrupted, stderr.String())
					}
					proxy.Release()
					var snaps []json.RawMessage
					if err := json.Unmarshal([]byte(restic("snapshots", "--json", "--no-lock")), &snaps); err != nil || len(snaps) != 5 {
						t.Fatalf("%d snapshots after an interrupted backup, want the 5 before it (%v)", len(snaps), err)
					}
					if locks := strings.TrimSpace(restic("list", "locks", "--no-lock")); locks != "" {
						t.Errorf("an interrupted backup left restic's lock behind: %s", locks)
					}
					if got := logsIn(t, src); !slices.Equal(got, logsBefore) {
						t.Errorf("logs after an interrupted backup %v, want %v", got, logsBefore)
					}
				})
			}

			// Restore the full + incremental chain from the remote
			// repository: every staged file is what the plugin streamed.
			to := t.TempDir()
			stdout, stderr, code := cliEnv(t, env, "restore", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--restic", bin,
				"--restic-repo", repo, "--snapshot", inc.Restic.SnapshotID, "--to", to, "--json")
			var rs restoreSummary
			if err := json.Unmarshal([]byte(stdout), &rs); code != 0 || err != nil || !rs.OK {
				t.Fatalf("restore: exit %d, %v\n%s\n%s", code, err, stdout, stderr)
			}
			if rs.Sets != 2 || rs.Kind != "full" || rs.GenHigh != inc.GenHigh {
				t.Fatalf("restore of the chain: %+v, want 2 sets up to log %d", rs, inc.GenHigh)
			}
			// The chain's files, the incremental's copy of a log winning.
			want := map[string]string{}
			for _, sum := range []backupSummary{full, inc} {
				for _, f := range sum.Manifest.Files {
					staged := f.Name
					if f.Role.String() == "log" {
						staged = filepath.Join("logs", f.Name)
					}
					want[staged] = f.SHA256
				}
			}
			for staged, sha := range want {
				if got := sha256File(t, filepath.Join(to, staged)); got != sha {
					t.Errorf("restored %s differs from what the plugin streamed", staged)
				}
			}
		})
	}
}
