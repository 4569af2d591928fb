//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/esesnap/esesnap/internal/samples"
)

// TestResticLocked: another restic holds the repository's exclusive lock
// (a prune, stopped while it holds it). The backup fails with restic's
// "locked" exit code, no snapshot exists and no log is truncated.
func TestResticLocked(t *testing.T) {
	env, bin, repo := resticEnv(t)
	var prune *exec.Cmd
	for try := 0; try < 5 && prune == nil; try++ {
		cmd := exec.Command(bin, "-r", repo, "prune")
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if heldLock(repo) {
				cmd.Process.Signal(syscall.SIGSTOP)
				break
			}
			time.Sleep(time.Millisecond)
		}
		if heldLock(repo) {
			prune = cmd // stopped while holding its exclusive lock
		} else {
			cmd.Process.Signal(syscall.SIGCONT)
			cmd.Wait() // it finished before it could be stopped: try again
		}
	}
	if prune == nil {
		t.Fatal("could not catch restic prune holding its lock")
	}
	t.Cleanup(func() {
		prune.Process.Signal(syscall.SIGCONT)
		prune.Wait()
	})
	src := samples.CopySet(t, "srum-win10-dirty")
	_, stderr, code := cliEnv(t, env, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--restic", bin,
		"--restic-repo", repo, "--source", src, "--kind", "full", "--writable", "--truncate-logs")
	if code == 0 || !strings.Contains(stderr, "locked") {
		t.Fatalf("a backup into a locked repository: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(src, "SRU0004E.log")); err != nil {
		t.Fatal("logs were truncated although restic could not store the set")
	}
	cmd := exec.Command(bin, "-r", repo, "snapshots", "--json", "--no-lock")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(out)) != "[]" {
		t.Fatalf("snapshots after a refused backup: %v %s", err, out)
	}
}

// heldLock reports whether the repository has a lock file that is
// complete: restic writes "<id>-tmp-<n>" first and renames it.
func heldLock(repo string) bool {
	locks, _ := os.ReadDir(filepath.Join(repo, "locks"))
	for _, l := range locks {
		if !strings.Contains(l.Name(), "-tmp-") {
			return true
		}
	}
	return false
}
