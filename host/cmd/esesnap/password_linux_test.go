//go:build linux

package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/esesnap/esesnap/internal/samples"
	"golang.org/x/sys/unix"
)

// runOnTerminal runs esesnap on a pseudo-terminal (its stdin, stderr and
// controlling terminal; stdout is collected apart), types password at
// each password prompt and returns how many prompts it saw, the terminal's
// output and the exit code.
func runOnTerminal(t *testing.T, env []string, password string, args ...string) (prompts int, screen, stdout string, code int) {
	t.Helper()
	cmd := cliCommand(args...)
	cmd.Env = append(env, runMainEnv+"=1")
	var out strings.Builder
	cmd.Stdout = &out
	ptmx, err := pty.Start(cmd)
	if err != nil {
		t.Fatalf("start esesnap on a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	var seen strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := bufio.NewReader(ptmx)
		var line strings.Builder
		for {
			b, err := r.ReadByte()
			if err != nil {
				return // EIO once esesnap and its children closed the terminal
			}
			seen.WriteByte(b)
			line.WriteByte(b)
			if b == '\n' {
				line.Reset()
			}
			if strings.HasPrefix(line.String(), "enter password for repository ") && strings.HasSuffix(line.String(), ": ") {
				prompts++
				line.Reset()
				// Type once esesnap reads without echo, as a person would
				// after seeing the prompt.
				waitNoEcho(t, ptmx)
				if password == ctrlC {
					io.WriteString(ptmx, ctrlC)
				} else {
					io.WriteString(ptmx, password+"\r")
				}
			}
		}
	}()
	hung := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	werr := cmd.Wait()
	if !hung.Stop() {
		t.Errorf("esesnap on the terminal did not end in 2 minutes: killed")
	}
	ptmx.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the terminal's output did not end")
	}
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		code = ee.ExitCode()
	} else if werr != nil {
		t.Fatal(werr)
	}
	return prompts, seen.String(), out.String(), code
}

// ctrlC, typed at the prompt, is the terminal's interrupt character.
const ctrlC = "\x03"

// waitNoEcho waits (at most 10 s) until the terminal's echo is off.
func waitNoEcho(t *testing.T, ptmx *os.File) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		tio, err := unix.IoctlGetTermios(int(ptmx.Fd()), unix.TCGETS)
		if err != nil {
			t.Errorf("read the terminal's settings: %v", err)
			return
		}
		if tio.Lflag&unix.ECHO == 0 {
			return
		}
	}
	t.Error("esesnap did not turn the terminal's echo off for the password")
}

// TestTerminalPassword: with a repository but no password configured,
// esesnap on a terminal asks once, without echo, and every restic it runs
// for that command (the estimate's, the backup's; the restore's snapshots
// and dumps) gets that password; the password is on no command line and
// not in the plugin's environment (its double refuses any RESTIC_
// variable). A wrong password typed is restic's "wrong password", exit 5;
// Ctrl-C at the prompt ends esesnap, exit 130.
func TestTerminalPassword(t *testing.T) {
	env, bin, repo := resticEnv(t)
	env = append(withoutRestic(env), "RESTIC_REPOSITORY="+repo, "RESTIC_CACHE_DIR="+t.TempDir())
	src := samples.CopySet(t, "srum-win10-dirty")
	// A test double of restic that records its command lines, then runs
	// the real restic.
	argLog := filepath.Join(t.TempDir(), "restic-args")
	wrapper := filepath.Join(t.TempDir(), "restic")
	script := "#!/bin/sh\necho \"$@\" >> '" + argLog + "'\nexec '" + bin + "' \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	plug := append(pluginArgs("refuse-restic-env"), "--restic", wrapper)

	prompts, screen, stdout, code := runOnTerminal(t, env, "esesnap-test", append([]string{"backup", "--source", src, "--kind", "full", "--writable", "--truncate-logs"}, plug...)...)
	if code != ExitOK || prompts != 1 {
		t.Fatalf("backup on a terminal: exit %d, %d prompt(s), want 0 and 1:\n%s%s", code, prompts, screen, stdout)
	}
	if strings.Contains(screen, "esesnap-test") {
		t.Fatalf("the typed password was echoed:\n%s", screen)
	}
	if !strings.Contains(stdout, "restic:    snapshot") || !strings.Contains(stdout, "predicted:") {
		t.Fatalf("the backup did not reach restic with the estimate:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(src, "SRU0004E.log")); !os.IsNotExist(err) {
		t.Fatal("the full backup did not truncate its logs")
	}
	runs, err := os.ReadFile(argLog)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(runs), "\n"); n < 2 || strings.Contains(string(runs), "esesnap-test") {
		t.Fatalf("want several restic runs, none with the password on its command line:\n%s", runs)
	}

	prompts, screen, stdout, code = runOnTerminal(t, env, "esesnap-test", append([]string{"restore", "--to", filepath.Join(t.TempDir(), "r")}, plug...)...)
	if code != ExitOK || prompts != 1 || !strings.Contains(stdout, "staged for recovery") {
		t.Fatalf("restore on a terminal: exit %d, %d prompt(s):\n%s%s", code, prompts, screen, stdout)
	}

	prompts, screen, _, code = runOnTerminal(t, env, "not-the-password", append([]string{"backup", "--source", src, "--kind", "copy"}, plug...)...)
	if code != ExitRepository || prompts != 1 || !strings.Contains(screen, "wrong password") {
		t.Fatalf("a wrong password typed: exit %d, %d prompt(s), want %d and 1:\n%s", code, prompts, ExitRepository, screen)
	}

	// Ctrl-C at the prompt ends esesnap at once (exit 130), nothing run.
	before := len(resticSnapshots(t, append(env, "RESTIC_PASSWORD=esesnap-test"), bin, repo))
	started := time.Now()
	prompts, screen, _, code = runOnTerminal(t, env, ctrlC, append([]string{"backup", "--source", src, "--kind", "copy"}, plug...)...)
	if code != ExitInterrupted || prompts != 1 {
		t.Fatalf("Ctrl-C at the prompt: exit %d, %d prompt(s), want %d and 1:\n%s", code, prompts, ExitInterrupted, screen)
	}
	t.Logf("Ctrl-C at the prompt: esesnap ended after %v", time.Since(started))
	if after := len(resticSnapshots(t, append(env, "RESTIC_PASSWORD=esesnap-test"), bin, repo)); after != before {
		t.Fatalf("a backup interrupted at the password prompt stored %d snapshot(s)", after-before)
	}
}
