//go:build !windows

package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/esesnap/esesnap/internal/samples"
)

// onTerminal runs the test binary as esesnap with stdout or stderr (the
// other one and stdin stay ordinary) on a pseudo-terminal, and returns what
// the terminal and the other stream received and the exit code.
func onTerminal(t *testing.T, stream string, args ...string) (tty, other string, code int) {
	t.Helper()
	ptmx, tt, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	cmd := cliCommand(args...)
	var buf bytes.Buffer
	switch stream {
	case "stdout":
		cmd.Stdout, cmd.Stderr = tt, &buf
	case "stderr":
		cmd.Stdout, cmd.Stderr = &buf, tt
	default:
		t.Fatalf("stream %q", stream)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tt.Close() // the child has its copy; EOF (EIO) on ptmx once it exits
	var got bytes.Buffer
	io.Copy(&got, ptmx) // ends with EIO when the child has exited
	code = exitCodeOf(t, cmd.Wait(), args)
	return got.String(), buf.String(), code
}

// TestTarStdoutRefusesTerminal: --tar - on a terminal is a usage error,
// without a byte of the set on the terminal; into a pipe it writes the set.
func TestTarStdoutRefusesTerminal(t *testing.T) {
	src := samples.Path(t, "srum-win10-dirty") // read-only: a backup without --writable never writes
	args := []string{"backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv + "=1", "--kind", "copy", "--source", src, "--tar", "-"}
	tty, stderr, code := onTerminal(t, "stdout", args...)
	if code != ExitUsage || !strings.Contains(stderr, "stdout, which is a terminal") || !strings.Contains(stderr, "esesnap --help") {
		t.Fatalf("--tar - on a terminal: exit %d, want %d with the reason\n%s", code, ExitUsage, stderr)
	}
	if tty != "" {
		t.Fatalf("--tar - wrote %d bytes onto the terminal", len(tty))
	}
	stdout, stderr, code := cli(t, args...)
	if code != ExitOK || len(stdout) < 1<<20 || !strings.Contains(stdout, "manifest.json") {
		t.Fatalf("--tar - into a pipe: exit %d, %d bytes\n%s", code, len(stdout), stderr)
	}
}

// TestProgressOnTerminal: with stderr on a terminal, a backup shows the
// progress of the whole set there and blanks it before the summary.
func TestProgressOnTerminal(t *testing.T) {
	src := samples.Path(t, "srum-win10-dirty")
	tty, stdout, code := onTerminal(t, "stderr", "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--kind", "copy", "--source", src, "--out", filepath.Join(t.TempDir(), "set"))
	if code != ExitOK || !strings.Contains(stdout, "backup copy") {
		t.Fatalf("backup: exit %d\n%s\n%s", code, stdout, tty)
	}
	if !strings.Contains(tty, "\r") || !strings.Contains(tty, " listed  SRUDB.dat") {
		t.Fatalf("no progress on the terminal: %q", tty)
	}
	if last := tty[strings.LastIndex(tty, "\r"):]; strings.TrimSpace(last) != "" {
		t.Fatalf("the progress line is not blanked at the end: %q", last)
	}
}
