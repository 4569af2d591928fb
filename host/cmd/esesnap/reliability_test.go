package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/internal/samples"
	"google.golang.org/grpc/codes"
)

// backupWith runs `esesnap backup` with the test binary as the plugin in
// the given fault mode, on a private copy of a real sample set.
func backupWith(t *testing.T, fault, set string, extra ...string) (src, out, stdout, stderr string, code int) {
	t.Helper()
	src = samples.CopySet(t, set)
	out = filepath.Join(t.TempDir(), "set")
	args := []string{"backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv + "=1", "--plugin-env", testFaultEnv + "=" + fault,
		"--source", src, "--out", out}
	stdout, stderr, code = cli(t, append(args, extra...)...)
	return src, out, stdout, stderr, code
}

// noSetLeft fails if a backup set (or part of one) remains at out.
func noSetLeft(t *testing.T, out string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err == nil {
		t.Fatal("a failed backup left a manifest: the set looks complete")
	}
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		t.Fatalf("a failed backup left %d file(s) in %s", len(entries), out)
	}
}

// TestEndReturnCodesThroughPlugin: every return code of the
// JetEndExternalBackupInstance2 page arises in the engine inside a real
// plugin process and reaches the person running esesnap as the same
// JET_err (name and number), mapped to its gRPC code, with advice.
func TestEndReturnCodesThroughPlugin(t *testing.T) {
	cases := []struct {
		fault string
		code  ese.Code
		grpc  codes.Code
		hint  string
	}{
		{"end-session", ese.ErrNoBackup, codes.FailedPrecondition, "run the backup again"},
		{"stop-backup", ese.ErrBackupAbortByServer, codes.Aborted, "application stopped the backup"},
		{"stop-service", ese.ErrClientRequestToStopJetService, codes.Unavailable, "service is stopping"},
		{"instance-unavailable", ese.ErrInstanceUnavailable, codes.Unavailable, "fatal error"},
		{"not-initialized", ese.ErrNotInitialized, codes.Unavailable, "not running"},
		{"restore-in-progress", ese.ErrRestoreInProgress, codes.Unavailable, "restore is running"},
		{"multi-instance", ese.ErrRunningInMultiInstanceMode, codes.FailedPrecondition, "instance-based calls"},
		{"term-in-progress", ese.ErrTermInProgress, codes.Unavailable, "shutting down"},
		{"backup-in-progress", ese.ErrBackupInProgress, codes.AlreadyExists, "another backup"},
	}
	for _, tc := range cases {
		t.Run(tc.fault, func(t *testing.T) {
			if got := tc.code.GRPCCode(); got != tc.grpc {
				t.Errorf("%v travels as gRPC %v, want %v", tc.code, got, tc.grpc)
			}
			src, out, _, stderr, code := backupWith(t, tc.fault, "srum-win10-dirty", "--writable", "--truncate-logs")
			if code != ExitError {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitError, stderr)
			}
			if !strings.Contains(stderr, tc.code.String()) {
				t.Fatalf("stderr does not name %v:\n%s", tc.code, stderr)
			}
			if !strings.Contains(stderr, "what to do: ") || !strings.Contains(stderr, tc.hint) {
				t.Fatalf("stderr has no advice containing %q:\n%s", tc.hint, stderr)
			}
			noSetLeft(t, out)
			for _, g := range []string{"SRU0004E.log", "SRU0004F.log", "SRU00050.log"} {
				if _, err := os.Stat(filepath.Join(src, g)); err != nil {
					t.Fatalf("log %s was truncated by a failed backup: %v", g, err)
				}
			}
		})
	}
}

func TestBackupFailures(t *testing.T) {
	t.Run("corrupted page", func(t *testing.T) {
		src := samples.CopySet(t, "srum-win10-clean")
		flipBit(t, filepath.Join(src, "SRUDB.dat"), 30*4096+999)
		out := filepath.Join(t.TempDir(), "set")
		_, stderr, code := cli(t, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--source", src, "--out", out)
		if code != ExitVerifyFailed {
			t.Fatalf("exit %d, want %d:\n%s", code, ExitVerifyFailed, stderr)
		}
		for _, want := range []string{"SRUDB.dat page 29", "JET_errReadVerifyFailure (-1018)", "esesnap inspect"} {
			if !strings.Contains(stderr, want) {
				t.Fatalf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		noSetLeft(t, out)
	})
	t.Run("missing log", func(t *testing.T) {
		src := samples.CopySet(t, "srum-win10-dirty")
		os.Remove(filepath.Join(src, "SRU00051.log"))
		out := filepath.Join(t.TempDir(), "set")
		_, stderr, code := cli(t, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--source", src, "--out", out)
		if code != ExitVerifyFailed || !strings.Contains(stderr, "JET_errMissingFileToBackup (-569)") || !strings.Contains(stderr, "SRU00051.log") {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
		noSetLeft(t, out)
	})
	t.Run("plugin killed mid-stream", func(t *testing.T) {
		src, out, _, stderr, code := backupWith(t, "die-mid-stream", "srum-win10-dirty", "--writable", "--truncate-logs")
		if code == ExitOK {
			t.Fatalf("a backup whose plugin died succeeded:\n%s", stderr)
		}
		noSetLeft(t, out)
		if _, err := os.Stat(filepath.Join(src, "SRU0004E.log")); err != nil {
			t.Fatal("logs were truncated although the plugin died")
		}
	})
	t.Run("hostile names", func(t *testing.T) {
		parent := t.TempDir()
		src := samples.CopySet(t, "srum-win10-clean")
		out := filepath.Join(parent, "a", "b", "set")
		_, stderr, code := cli(t, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--plugin-env", testFaultEnv+"=hostile-name", "--source", src, "--out", out)
		if code == ExitOK {
			t.Fatalf("hostile names were accepted:\n%s", stderr)
		}
		if entries, _ := os.ReadDir(parent); len(entries) > 1 {
			t.Fatalf("something was written outside the set: %v", entries)
		}
		noSetLeft(t, out)
	})
	t.Run("sink full", func(t *testing.T) {
		full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
		if err != nil {
			t.Fatalf("this test needs /dev/full: %v", err)
		}
		defer full.Close()
		src := samples.CopySet(t, "srum-win10-dirty")
		cmd := cliCommand("backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--source", src, "--tar", "-", "--writable", "--truncate-logs")
		cmd.Stdout = full
		var errOut strings.Builder
		cmd.Stderr = &errOut
		if err := cmd.Run(); err == nil {
			t.Fatalf("a backup into a full disk succeeded:\n%s", errOut.String())
		}
		if !strings.Contains(errOut.String(), "no space left") {
			t.Fatalf("stderr does not say the disk is full:\n%s", errOut.String())
		}
		if _, err := os.Stat(filepath.Join(src, "SRU0004E.log")); err != nil {
			t.Fatal("logs were truncated although the set could not be stored")
		}
	})
}

// TestBackupTruncatesOnlyAfterTheSetIsStored: the happy path with
// truncation, then verify, then restore staging.
func TestBackupVerifyRestore(t *testing.T) {
	src := samples.CopySet(t, "srum-win10-dirty")
	out := filepath.Join(t.TempDir(), "set")
	stdout, stderr, code := cli(t, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--source", src, "--out", out, "--writable", "--truncate-logs")
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{"generations 81..82", "bkinfoFullPrev", "truncated: 3 log(s)"} {
		if !strings.Contains(stdout, want) {
			t.Fatalf("summary lacks %q:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(src, "SRU0004E.log")); !os.IsNotExist(err) {
		t.Fatal("log 0x4E was not truncated")
	}
	if stdout, stderr, code := cli(t, "verify", out); code != ExitOK || !strings.Contains(stdout, "chained 81..82") {
		t.Fatalf("verify: exit %d\n%s\n%s", code, stdout, stderr)
	}
	to := t.TempDir()
	stdout, stderr, code = cli(t, "restore", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--set", out, "--to", to)
	if code != ExitOK || !strings.Contains(stdout, "staged for recovery") {
		t.Fatalf("restore: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(to, "logs", "SRU00052.log")); err != nil {
		t.Fatalf("restore did not stage the last log: %v", err)
	}
	// A damaged set is refused before anything is staged.
	flipBit(t, filepath.Join(out, "SRUDB.dat"), 40*4096+5)
	to2 := t.TempDir()
	_, stderr, code = cli(t, "restore", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--set", out, "--to", to2)
	if code != ExitVerifyFailed || !strings.Contains(stderr, "SRUDB.dat") {
		t.Fatalf("restore of a damaged set: exit %d\n%s", code, stderr)
	}
}

func flipBit(t *testing.T, path string, off int64) { samples.FlipBits(t, path, off, 0x04) }
