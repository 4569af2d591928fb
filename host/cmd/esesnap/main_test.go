package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/internal/samples"
)

// runMainEnv makes the test binary act as the esesnap command: TestMain
// runs main() instead of the tests when it is set (the helper-process
// pattern), so the CLI tests exercise the real binary, exit codes included.
const runMainEnv = "ESESNAP_TEST_RUN_MAIN"

// cpuProfileEnv, set to a path prefix, makes each esesnap run of the test
// binary write a CPU profile to PREFIX.PID: go test -cpuprofile profiles
// the benchmark, not the esesnap processes it times.
const cpuProfileEnv = "ESESNAP_TEST_CPUPROFILE"

// profiledRun runs esesnap with a CPU profile written to path.
func profiledRun(path string) int {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return ExitError
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return ExitError
	}
	defer pprof.StopCPUProfile()
	return run(os.Args[1:], os.Stdout, os.Stderr)
}

func TestMain(m *testing.M) {
	if os.Getenv(testPluginEnv) == "1" {
		servePluginDouble()
		os.Exit(0)
	}
	if os.Getenv(runMainEnv) == "1" {
		if p := os.Getenv(cpuProfileEnv); p != "" {
			os.Exit(profiledRun(fmt.Sprintf("%s.%d", p, os.Getpid())))
		}
		main()
		os.Exit(ExitOK) // main exits itself; not reached
	}
	os.Exit(m.Run())
}

// cli runs the test binary as esesnap with args and returns its output and
// exit code.
func cli(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := cliCommand(args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	code = exitCodeOf(t, cmd.Run(), args)
	return out.String(), errOut.String(), code
}

// exitCodeOf is the exit code of a run of esesnap with args that ended with
// err (from Run or Wait); an error other than an exit status fails t.
func exitCodeOf(t *testing.T, err error, args []string) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("run %v: %v", args, err)
	return 0
}

// samplesDir is shared/ese-samples beside the repository.
func samplesDir(t *testing.T) string { return samples.Dir(t) }

// cliCommand is the test binary set up to run as esesnap.
func cliCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	return cmd
}

func TestExitCodeFor(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{withCode(ExitVerifyFailed, nil), ExitVerifyFailed},
		{fmt.Errorf("wrapped: %w", withCode(ExitError, errors.New("disk"))), ExitError},
		{usageError(errors.New("bad flag")), ExitUsage},
		{errors.New(`unknown command "x" for "esesnap"`), ExitUsage}, // cobra's own errors
		{context.Canceled, ExitInterrupted},
	}
	for _, tc := range tests {
		if got := exitCodeFor(tc.err); got != tc.want {
			t.Errorf("exitCodeFor(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := [][]string{
		{"inspect"},
		{"inspect", "a", "b"},
		{"inspect", "--no-such-flag", "x"},
		{"no-such-command"},
		{"--log-level", "loud", "inspect", "."},
		{"backup", "--source", ".", "--out", "x", "--page-delta"},
	}
	for _, args := range tests {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, ExitUsage, errOut.String())
		}
		if !strings.Contains(errOut.String(), "esesnap --help") {
			t.Errorf("%v: stderr %q does not point to --help", args, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"--help"}, &out, &errOut); code != ExitOK || !strings.Contains(out.String(), "inspect") {
		t.Errorf("--help: exit %d, output %q", code, out.String())
	}
}

func TestRootRegistersInspect(t *testing.T) {
	root := newRootCmd()
	c, _, err := root.Find([]string{"inspect"})
	if err != nil || c.Name() != "inspect" {
		t.Fatalf("inspect not registered: %v", err)
	}
	for _, f := range []string{"json", "no-verify", "pages", "temp-dir"} {
		if c.Flags().Lookup(f) == nil {
			t.Errorf("inspect has no --%s flag", f)
		}
	}
}
