//go:build unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/esesnap/esesnap/internal/samples"
)

// resticClean fails unless the repository holds no lock and no snapshot,
// as restic itself lists them.
func resticClean(t *testing.T, env []string, bin, repo string) {
	t.Helper()
	cmd := exec.Command(bin, "-r", repo, "list", "locks", "--no-lock")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("restic list locks: %v", err)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Fatalf("restic's lock is left in the repository (the next restic forget fails 'already locked'): %s", s)
	}
	cmd = exec.Command(bin, "-r", repo, "snapshots", "--json", "--no-lock")
	cmd.Env = env
	out, err = cmd.Output()
	if err != nil || strings.TrimSpace(string(out)) != "[]" {
		t.Fatalf("restic snapshots after an interrupted backup: %v %s", err, out)
	}
}

// TestInterruptedResticBackup: esesnap backs up into restic (the
// repository named by RESTIC_REPOSITORY alone) and is interrupted — SIGINT
// as Ctrl-C sends it, SIGTERM as a service manager does, or SIGINT to its
// whole process group as a terminal does — at several points: before any
// data, in the middle of the database, in the middle of the logs, with
// every byte streamed but the manifest and the commit to come, and while
// restic finishes (uploads and saves the snapshot after its input ended).
// Each time esesnap exits 130, restic saves no snapshot and removes its
// lock (restic list locks is empty), and the source is unchanged: nothing
// truncated, nothing recorded.
func TestInterruptedResticBackup(t *testing.T) {
	cases := []struct {
		name, fault string
		sig         syscall.Signal
		group       bool     // signal esesnap's process group, as a terminal does
		release     bool     // let the plugin go on before the signal
		extra       []string // more esesnap flags
	}{
		{name: "before any data", fault: "stall-begin", sig: syscall.SIGINT},
		{name: "mid-database", fault: "stall-mid-db", sig: syscall.SIGINT},
		{name: "mid-database SIGTERM", fault: "stall-mid-db", sig: syscall.SIGTERM},
		{name: "mid-logs", fault: "stall-mid-logs", sig: syscall.SIGINT},
		{name: "mid-logs Ctrl-C to the group", fault: "stall-mid-logs", sig: syscall.SIGINT, group: true},
		{name: "before the commit", fault: "stall-after-last-log", sig: syscall.SIGINT},
		// At 64 KiB/s restic's final upload of the set takes many
		// seconds after its input ended; the signal comes 2 s after the
		// plugin went on, while restic finishes.
		{name: "while restic finishes", fault: "stall-after-last-log", sig: syscall.SIGINT, release: true, extra: []string{"--limit-upload", "64"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, bin, repo := resticEnv(t)
			src := samples.CopySet(t, "srum-win10-dirty")
			before := tree(t, src)
			mark := filepath.Join(t.TempDir(), "stalled")
			args := append([]string{"backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv + "=1",
				"--plugin-env", testFaultEnv + "=" + tc.fault, "--plugin-env", testStallEnv + "=" + mark,
				"--restic", bin, "--source", src, "--kind", "full", "--writable", "--truncate-logs", "--progress", "never"}, tc.extra...)
			cmd := cliCommand(args...)
			cmd.Env = append(env, runMainEnv+"=1", "RESTIC_REPOSITORY="+repo)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: tc.group}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
				if _, err := os.Stat(mark); err == nil && heldLock(repo) {
					break // the plugin stalls and restic holds its lock
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("the plugin did not stall at %s with restic running:\n%s", tc.fault, stderr.String())
				}
			}
			if tc.release {
				os.Remove(mark)
				time.Sleep(2 * time.Second)
			}
			pid := cmd.Process.Pid
			if tc.group {
				pid = -pid
			}
			if err := syscall.Kill(pid, tc.sig); err != nil {
				t.Fatal(err)
			}
			os.Remove(mark) // the plugin goes on; esesnap ends its session aborted
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != ExitInterrupted {
				t.Fatalf("exit %v, want %d:\n%s", err, ExitInterrupted, stderr.String())
			}
			resticClean(t, env, bin, repo)
			sameTree(t, "the interrupted backup", src, before)
			if strings.Contains(stderr.String(), "restic-stdin-writer") || strings.Contains(stderr.String(), "received, cleaning up") {
				t.Fatalf("stderr shows restic's plumbing instead of one clear message:\n%s", stderr.String())
			}
		})
	}
}

// TestFailedResticBackupLeavesNoLock: a backup into restic that fails
// without any signal — the plugin dies mid-stream, or the data is damaged
// — stops restic the same way: no snapshot, no lock, nothing truncated.
func TestFailedResticBackupLeavesNoLock(t *testing.T) {
	cases := []struct {
		name, fault string
		damage      func(t *testing.T, src string)
	}{
		{name: "plugin dies mid-stream", fault: "die-mid-stream"},
		{name: "damaged page", damage: func(t *testing.T, src string) { flipBit(t, filepath.Join(src, "SRUDB.dat"), 30*4096+999) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, bin, repo := resticEnv(t)
			src := samples.CopySet(t, "srum-win10-dirty")
			if tc.damage != nil {
				tc.damage(t, src)
			}
			before := tree(t, src)
			args := append(pluginArgs(tc.fault), "backup", "--restic", bin, "--source", src, "--kind", "full", "--writable", "--truncate-logs")
			_, stderr, code := cliEnv(t, append(env, "RESTIC_REPOSITORY="+repo), append([]string{args[len(pluginArgs(tc.fault))]}, append(pluginArgs(tc.fault), args[len(pluginArgs(tc.fault))+1:]...)...)...)
			if code == ExitOK || code == ExitInterrupted {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			resticClean(t, env, bin, repo)
			sameTree(t, "the failed backup", src, before)
		})
	}
}
