package plugin

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/protocol"
	"github.com/hashicorp/go-hclog"
)

// buildPlugin builds cmd/esesnap-plugin into a temporary directory.
func buildPlugin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: building the plugin binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building the plugin needs the go command on PATH: %v", err)
	}
	out := filepath.Join(t.TempDir(), "esesnap-plugin")
	if runtime.GOOS == "windows" {
		out += ".exe"
	}
	cmd := exec.Command(goBin, "build", "-o", out, "./cmd/esesnap-plugin")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// TestRealPluginBinary runs the real plugin binary: by hand (usage, exit
// 1, at once) and through Launch (Info, a backup, option checks, restore).
func TestRealPluginBinary(t *testing.T) {
	bin := buildPlugin(t)

	t.Run("run by hand", func(t *testing.T) {
		cmd := exec.Command(bin)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Fatalf("exit: %v, want status 1", err)
		}
		if took > time.Second {
			t.Fatalf("took %s to refuse", took)
		}
		if stdout.Len() != 0 || !strings.Contains(stderr.String(), "not meant to be\nrun by hand") || !strings.Contains(stderr.String(), "--read-only") {
			t.Fatalf("stdout %q, stderr %q", stdout.String(), stderr.String())
		}
		out, err := exec.Command(bin, "--version").Output()
		if err != nil || !strings.HasPrefix(string(out), "esesnap-plugin ") {
			t.Fatalf("--version: %q %v", out, err)
		}
	})

	launch := func(t *testing.T, args ...string) protocol.Snapshotter {
		c, err := Launch(context.Background(), ClientConfig{Path: bin, Args: args, Logger: testLogger(t), SHA256: fileSHA256(t, bin)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.Snapshotter()
	}

	t.Run("backup and restore", func(t *testing.T) {
		s := launch(t)
		ctx := context.Background()
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantCaps := []string{protocol.CapabilityRestore, protocol.CapabilityVerify}
		if runtime.GOOS != "windows" {
			wantCaps = append(wantCaps, CapabilityDataPipe)
		}
		for _, c := range wantCaps {
			if !info.Has(c) {
				t.Fatalf("info %+v lacks %q", info, c)
			}
		}
		if info.Name != "esesnap-ese" {
			t.Fatalf("info name %q", info.Name)
		}

		dir := copySynthSmall(t)
		local := engineDriver(hclog.NewNullLogger())
		want := runBackup(t, local, dir, protocol.KindFull, 0, protocol.OutcomeAborted)
		local.Close()
		got := runBackup(t, s, dir, protocol.KindFull, 0, protocol.OutcomeSucceeded)
		// The plugin's clock differs from the reference's, and the backup
		// mark in the streamed headers has it; lengths and logs must match.
		for name, w := range want.files {
			g := got.files[name]
			if len(g) != len(w) || (strings.HasSuffix(name, ".log") && !bytes.Equal(g, w)) {
				t.Fatalf("%s: %d bytes from the binary, %d in-process", name, len(g), len(w))
			}
		}
		if got.end.LogRange().GenLow == 0 || got.end.LogRange().BaseName != "edb" {
			t.Fatalf("end result %+v", got.end)
		}

		// Stage the set for recovery.
		set := t.TempDir()
		for name, b := range got.files {
			if err := os.WriteFile(filepath.Join(set, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		target := t.TempDir()
		res, err := s.Restore(ctx, protocol.RestoreRequest{
			BackupSetDir: set,
			Databases:    []protocol.RestoreMap{{DatabaseName: "synth.edb", NewDatabaseName: filepath.Join(target, "synth.edb")}},
			Options:      map[string]string{"log-dir": filepath.Join(target, "logs"), "system-dir": target},
			Metadata:     got.end.Metadata,
		})
		if err != nil {
			t.Fatalf("restore: %v", err)
		}
		if len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "JetExternalRestore2") {
			t.Fatalf("restore does not say how to finish recovery: %q", res.Warnings)
		}
		staged, err := os.ReadFile(filepath.Join(target, "synth.edb"))
		if err != nil || !bytes.Equal(staged, got.files["synth.edb"]) {
			t.Fatalf("staged database: %d bytes, %v", len(staged), err)
		}
		firstLog := format.LogFileName("edb", got.end.LogRange().GenLow, ".log", false)
		if _, err := os.Stat(filepath.Join(target, "logs", firstLog)); err != nil {
			t.Fatalf("staged log: %v", err)
		}
	})

	t.Run("source options", func(t *testing.T) {
		ctx := context.Background()
		dir := copySynthSmall(t)
		s := launch(t)
		_, err := s.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindCopy, Source: protocol.Source{Location: dir, Options: map[string]string{"instance": "NTDS"}}})
		if !errors.Is(err, ese.ErrInvalidParameter) || !strings.Contains(err.Error(), "instance") {
			t.Fatalf("unknown option: %v, want JET_errInvalidParameter naming it", err)
		}
		ro := launch(t, "--read-only")
		_, err = ro.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: dir, Options: map[string]string{"writable": "true"}}})
		if !errors.Is(err, ese.ErrFileAccessDenied) {
			t.Fatalf("writable Begin on a --read-only plugin: %v, want JET_errFileAccessDenied", err)
		}
		info, err := ro.Info(ctx)
		if err != nil || info.Has(protocol.CapabilityRestore) {
			t.Fatalf("a --read-only plugin offers restore: %+v %v", info, err)
		}
		id, err := ro.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindCopy, Source: protocol.Source{Location: dir}})
		if err != nil {
			t.Fatalf("read-only Begin on a --read-only plugin: %v", err)
		}
		ro.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeAborted})
	})
}
