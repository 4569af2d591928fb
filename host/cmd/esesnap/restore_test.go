package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese/eseset"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/ese/synth"
	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/protocol"
)

// pluginArgs runs the test binary as the plugin, with a fault if not "".
func pluginArgs(fault string) []string {
	args := []string{"--plugin", os.Args[0], "--plugin-env", testPluginEnv + "=1"}
	if fault != "" {
		args = append(args, "--plugin-env", testFaultEnv+"="+fault)
	}
	return args
}

// tree lists everything under dir, each path with the SHA-256 of its
// content ("dir" for directories); nil when dir does not exist.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	if _, err := os.Lstat(dir); os.IsNotExist(err) {
		return nil
	}
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel] = "dir"
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTree fails unless dir holds exactly what before listed.
func sameTree(t *testing.T, what, dir string, before map[string]string) {
	t.Helper()
	after := tree(t, dir)
	if (before == nil) != (after == nil) || !maps.Equal(before, after) {
		t.Fatalf("%s changed %s:\nbefore %v\nafter  %v", what, dir, before, after)
	}
}

// readManifest reads the manifest of a set (directory or tar) that
// verifies.
func readManifest(t *testing.T, set string) *backupset.Manifest {
	t.Helper()
	rep, err := backupset.Verify(context.Background(), set)
	if err != nil {
		t.Fatalf("verify %s: %v", set, err)
	}
	return rep.Manifest
}

// wantStaged checks that to holds exactly the set's databases and, under
// logs/, its logs, byte for byte as the manifest recorded them, and no
// scratch directory.
func wantStaged(t *testing.T, m *backupset.Manifest, to string) {
	t.Helper()
	want := map[string]string{".": "dir", "logs": "dir"}
	for _, f := range m.Files {
		switch f.Role {
		case protocol.RoleDatabase:
			want[f.Name] = f.SHA256
		case protocol.RoleLog:
			want[filepath.Join("logs", f.Name)] = f.SHA256
		}
	}
	if got := tree(t, to); !maps.Equal(got, want) {
		t.Fatalf("staged %v\nwant   %v", got, want)
	}
}

// TestRestoreEverySample: a set that verify accepts must restore. Every
// complete real sample is backed up into a directory set and a tar set,
// both are verified and restored with restore --set through the real
// plugin process, and the staged files are the streamed ones.
func TestRestoreEverySample(t *testing.T) {
	for _, name := range []string{"srum-win10-clean", "srum-win10-dirty", "srum-win11-dirty"} {
		t.Run(name, func(t *testing.T) {
			src := samples.CopySet(t, name)
			dir := filepath.Join(t.TempDir(), "set")
			tarFile := filepath.Join(t.TempDir(), "set.tar")
			for _, out := range [][]string{{"--out", dir}, {"--tar", tarFile}} {
				args := append(append([]string{"backup", "--source", src}, pluginArgs("")...), out...)
				if _, stderr, code := cli(t, args...); code != ExitOK {
					t.Fatalf("backup %v: exit %d\n%s", out, code, stderr)
				}
			}
			m := readManifest(t, dir)
			if eseset.InfoOf(m) == nil || eseset.InfoOf(m).GenLow == 0 {
				t.Fatalf("no ESE section: %+v", eseset.InfoOf(m))
			}
			for _, set := range []string{dir, tarFile} {
				if stdout, stderr, code := cli(t, "verify", set); code != ExitOK {
					t.Fatalf("verify %s: exit %d\n%s%s", set, code, stdout, stderr)
				}
				to := filepath.Join(t.TempDir(), "restore")
				stdout, stderr, code := cli(t, append([]string{"restore", "--set", set, "--to", to, "--json"}, pluginArgs("")...)...)
				if code != ExitOK {
					t.Fatalf("restore %s: exit %d\n%s", set, code, stderr)
				}
				var sum restoreSummary
				if err := json.Unmarshal([]byte(stdout), &sum); err != nil || !sum.OK || sum.GenLow != eseset.InfoOf(m).GenLow || sum.GenHigh != eseset.InfoOf(m).GenHigh {
					t.Fatalf("restore --json: %v %+v", err, sum)
				}
				wantStaged(t, readManifest(t, set), to)
			}
		})
	}
}

// TestRestoreFailureLeavesNothing: a restore that fails — a set that does
// not verify, a file in the way, the plugin refusing the restore — exits
// with its code and message and leaves the target exactly as it was (a
// target that did not exist does not exist afterwards); once the cause is
// fixed the same command succeeds.
func TestRestoreFailureLeavesNothing(t *testing.T) {
	src := samples.CopySet(t, "srum-win10-dirty")
	pristine := filepath.Join(t.TempDir(), "set")
	if _, stderr, code := cli(t, append([]string{"backup", "--source", src, "--out", pristine}, pluginArgs("")...)...); code != ExitOK {
		t.Fatalf("backup: exit %d\n%s", code, stderr)
	}
	pristineTar := filepath.Join(t.TempDir(), "set.tar")
	if _, stderr, code := cli(t, append([]string{"backup", "--source", src, "--tar", pristineTar}, pluginArgs("")...)...); code != ExitOK {
		t.Fatalf("backup: exit %d\n%s", code, stderr)
	}
	copyTo := func(t *testing.T, from, to string) {
		t.Helper()
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// dirCopy copies the pristine directory set.
	dirCopy := func(t *testing.T) string {
		set := filepath.Join(t.TempDir(), "set")
		os.Mkdir(set, 0o755)
		for _, e := range mustReadDir(t, pristine) {
			copyTo(t, filepath.Join(pristine, e.Name()), filepath.Join(set, e.Name()))
		}
		return set
	}
	tarCopy := func(t *testing.T) string {
		p := filepath.Join(t.TempDir(), "set.tar")
		copyTo(t, pristineTar, p)
		return p
	}
	dbOffset := func(t *testing.T, tarFile string) int64 {
		// SRUDB.dat is the first entry: its content starts after one
		// 512-byte header (its name needs no PAX record).
		return 512
	}
	cases := []struct {
		name     string
		set      func(t *testing.T) string
		existing bool // restore into an existing directory holding a file of its own
		fault    string
		break_   func(t *testing.T, set, to string) (fix func())
		code     int
		want     []string
	}{
		{name: "damaged page in a directory set", set: dirCopy,
			break_: func(t *testing.T, set, to string) func() {
				flipBit(t, filepath.Join(set, "SRUDB.dat"), 40*4096+5)
				return func() { copyTo(t, filepath.Join(pristine, "SRUDB.dat"), filepath.Join(set, "SRUDB.dat")) }
			}, code: ExitVerifyFailed, want: []string{"the backup set does not verify", "SRUDB.dat page ", "JET_errReadVerifyFailure (-1018)"}},
		{name: "damaged page in a tar set", set: tarCopy, existing: true,
			break_: func(t *testing.T, set, to string) func() {
				flipBit(t, set, dbOffset(t, set)+40*4096+5)
				return func() { copyTo(t, pristineTar, set) }
			}, code: ExitVerifyFailed, want: []string{"the backup set does not verify", "SRUDB.dat"}},
		{name: "tar cut after its manifest", set: tarCopy,
			break_: func(t *testing.T, set, to string) func() {
				st, _ := os.Stat(set)
				os.Truncate(set, st.Size()-1024)
				return func() { copyTo(t, pristineTar, set) }
			}, code: ExitVerifyFailed, want: []string{"the tar archive is truncated"}},
		{name: "log in the way", set: dirCopy, existing: true,
			break_: func(t *testing.T, set, to string) func() {
				os.MkdirAll(filepath.Join(to, "logs"), 0o755)
				p := filepath.Join(to, "logs", "SRU00052.log")
				os.WriteFile(p, []byte("another instance's log"), 0o644)
				return func() { os.Remove(p) }
			}, code: ExitError, want: []string{"JET_errFileAlreadyExists (-1814)", "SRU00052.log", "what to do:"}},
		{name: "log in the way of a tar set", set: tarCopy, existing: true,
			break_: func(t *testing.T, set, to string) func() {
				os.MkdirAll(filepath.Join(to, "logs"), 0o755)
				p := filepath.Join(to, "logs", "SRU00051.log")
				os.WriteFile(p, []byte("another instance's log"), 0o644)
				return func() { os.Remove(p) }
			}, code: ExitError, want: []string{"JET_errFileAlreadyExists (-1814)", "SRU00051.log"}},
		{name: "plugin refuses the restore", set: dirCopy, fault: "refuse-restore-after-staging",
			break_: func(t *testing.T, set, to string) func() { return nil },
			code:   ExitError, want: []string{"staging failed", "JET_errRecoveredWithErrors (-527)"}},
		{name: "plugin refuses the restore of a tar set", set: tarCopy, existing: true, fault: "refuse-restore-after-staging",
			break_: func(t *testing.T, set, to string) func() { return nil },
			code:   ExitError, want: []string{"staging failed", "JET_errRecoveredWithErrors (-527)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set := tc.set(t)
			parent := t.TempDir()
			to := filepath.Join(parent, "restore")
			if tc.existing {
				os.Mkdir(to, 0o755)
				os.WriteFile(filepath.Join(to, "notes.txt"), []byte("mine"), 0o644)
			}
			fix := tc.break_(t, set, to)
			before := tree(t, parent)
			args := append([]string{"restore", "--set", set, "--to", to}, pluginArgs(tc.fault)...)
			_, stderr, code := cli(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Fatalf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			sameTree(t, "the failed restore", parent, before)
			if fix != nil {
				fix()
			}
			_, stderr, code = cli(t, append([]string{"restore", "--set", set, "--to", to}, pluginArgs("")...)...)
			if code != ExitOK {
				t.Fatalf("second run: exit %d\n%s", code, stderr)
			}
			if tc.existing {
				os.Remove(filepath.Join(to, "notes.txt"))
			}
			wantStaged(t, readManifest(t, set), to)
		})
	}
}

func mustReadDir(t *testing.T, dir string) []os.DirEntry {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestResticRestoreFailureLeavesNothing: a restore from restic that is
// interrupted while it extracts a set from restic dump, or that finds a
// log in its way after it moved the databases into place, exits with its
// code and leaves the target as it was — no scratch directory, no moved
// database — and the same command then succeeds.
func TestResticRestoreFailureLeavesNothing(t *testing.T) {
	env, bin, repo := resticEnv(t)
	src := t.TempDir()
	// 64 MiB of pages, so that extracting the database takes long enough
	// to be interrupted in the middle.
	if _, err := synth.Generate(context.Background(), synth.Options{Dir: src, Pages: 16384, State: format.DBStateDirtyShutdown, FirstGen: 1, CurrentGen: 4, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := cliEnv(t, env, append([]string{"backup", "--restic", bin, "--restic-repo", repo, "--source", src, "--kind", "full", "--json"}, pluginArgs("")...)...)
	if code != ExitOK {
		t.Fatalf("backup: exit %d\n%s", code, stderr)
	}
	var sum backupSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatal(err)
	}
	restoreArgs := func(to string) []string {
		return append([]string{"restore", "--restic", bin, "--restic-repo", repo, "--snapshot", sum.Restic.SnapshotID, "--to", to}, pluginArgs("")...)
	}
	secondRun := func(t *testing.T, to string) {
		t.Helper()
		if _, stderr, code := cliEnv(t, env, restoreArgs(to)...); code != ExitOK {
			t.Fatalf("second run: exit %d\n%s", code, stderr)
		}
		for _, f := range sum.Manifest.Files {
			staged := filepath.Join(to, f.Name)
			if f.Role == protocol.RoleLog {
				staged = filepath.Join(to, "logs", f.Name)
			}
			if got := sha256File(t, staged); got != f.SHA256 {
				t.Fatalf("staged %s differs from what the plugin streamed", f.Name)
			}
		}
		if _, err := os.Stat(filepath.Join(to, ".esesnap-restic")); !os.IsNotExist(err) {
			t.Fatalf("the scratch directory remains after a restore: %v", err)
		}
	}

	t.Run("interrupted mid-extract", func(t *testing.T) {
		parent := t.TempDir()
		to := filepath.Join(parent, "restore")
		before := tree(t, parent)
		cmd := cliCommand(restoreArgs(to)...)
		cmd.Env = append(env, runMainEnv+"=1")
		var errOut strings.Builder
		cmd.Stderr = &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Interrupt once a database is partly extracted into the scratch
		// directory.
		var partial int64
		deadline := time.Now().Add(2 * time.Minute)
		for partial == 0 && time.Now().Before(deadline) {
			filepath.WalkDir(filepath.Join(to, ".esesnap-restic"), func(p string, d fs.DirEntry, err error) error {
				if err == nil && strings.HasSuffix(p, ".edb") {
					if info, err := d.Info(); err == nil && info.Size() > 0 {
						partial = info.Size()
					}
				}
				return nil
			})
			time.Sleep(time.Millisecond)
		}
		if partial == 0 {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no database appeared in the scratch directory:\n%s", errOut.String())
		}
		cmd.Process.Signal(os.Interrupt)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != ExitInterrupted {
			t.Fatalf("exit %v, want %d (the database had %d of %d bytes when interrupted)\n%s", err, ExitInterrupted, partial, sum.Manifest.Files[0].Size, errOut.String())
		}
		if !strings.Contains(errOut.String(), "restore: interrupted") {
			t.Fatalf("stderr does not say it was interrupted:\n%s", errOut.String())
		}
		t.Logf("interrupted with %d of %d bytes of the database extracted", partial, sum.Manifest.Files[0].Size)
		sameTree(t, "the interrupted restore", parent, before)
		// restic dump was stopped as Ctrl-C stops it: it removed its lock.
		locks := exec.Command(bin, "-r", repo, "list", "locks", "--no-lock")
		locks.Env = env
		if out, err := locks.Output(); err != nil || strings.TrimSpace(string(out)) != "" {
			t.Fatalf("restic list locks after the interrupted restore: %v %q", err, out)
		}
		secondRun(t, to)
	})

	t.Run("log in the way after the databases were moved", func(t *testing.T) {
		to := t.TempDir()
		os.Mkdir(filepath.Join(to, "logs"), 0o755)
		inTheWay := filepath.Join(to, "logs", "edb00003.log")
		os.WriteFile(inTheWay, []byte("another instance's log"), 0o644)
		before := tree(t, to)
		_, stderr, code := cliEnv(t, env, restoreArgs(to)...)
		if code != ExitError || !strings.Contains(stderr, "JET_errFileAlreadyExists (-1814)") || !strings.Contains(stderr, "edb00003.log") {
			t.Fatalf("exit %d, want %d with JET_errFileAlreadyExists:\n%s", code, ExitError, stderr)
		}
		sameTree(t, "the failed restore", to, before)
		os.Remove(inTheWay)
		secondRun(t, to)
	})
}

// TestVerifyCommandManifestProblems: esesnap verify exits 1 on a manifest
// that is not strict or contradicts the files, naming the set and the
// problem, with advice.
func TestVerifyCommandManifestProblems(t *testing.T) {
	src := samples.CopySet(t, "srum-win10-clean")
	cases := []struct {
		name string
		edit func(b []byte) []byte
		want string
	}{
		{"wrongly cased key", func(b []byte) []byte { return []byte(strings.Replace(string(b), `"kind":`, `"KIND":`, 1)) }, `key "KIND" is spelled "kind"`},
		{"generation", func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"generation": 9`, `"generation": 10`, 1))
		}, "SRU00009.log: the manifest does not match the files: the manifest says generation 0xa, the log header 0x9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set := filepath.Join(t.TempDir(), "set")
			if _, stderr, code := cli(t, append([]string{"backup", "--source", src, "--out", set}, pluginArgs("")...)...); code != ExitOK {
				t.Fatalf("backup: exit %d\n%s", code, stderr)
			}
			p := filepath.Join(set, backupset.ManifestName)
			b, _ := os.ReadFile(p)
			edited := tc.edit(b)
			if string(edited) == string(b) {
				t.Fatal("the edit changed nothing")
			}
			os.WriteFile(p, edited, 0o644)
			_, stderr, code := cli(t, "verify", set)
			if code != ExitVerifyFailed || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "what to do: the manifest does not describe") {
				t.Fatalf("exit %d, want %d with %q and advice:\n%s", code, ExitVerifyFailed, tc.want, stderr)
			}
			if tc.name == "wrongly cased key" && !strings.Contains(stderr, set) {
				t.Fatalf("the error does not name the set %s:\n%s", set, stderr)
			}
		})
	}
}

// TestVerifyCommandTruncatedTar: a tar set cut exactly after its manifest
// entry (a copy that stopped before the end-of-archive blocks) fails
// verify with exit 1 and says the archive is truncated.
func TestVerifyCommandTruncatedTar(t *testing.T) {
	src := samples.CopySet(t, "srum-win10-clean")
	tarFile := filepath.Join(t.TempDir(), "set.tar")
	if _, stderr, code := cli(t, append([]string{"backup", "--source", src, "--tar", tarFile}, pluginArgs("")...)...); code != ExitOK {
		t.Fatalf("backup: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := cli(t, "verify", tarFile); code != ExitOK {
		t.Fatalf("verify of the whole tar: exit %d\n%s", code, stderr)
	}
	st, err := os.Stat(tarFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(tarFile, st.Size()-1024); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := cli(t, "verify", tarFile)
	for _, want := range []string{tarFile + ": backup set is incomplete: the tar archive is truncated", "what to do: the tar file was cut short"} {
		if code != ExitVerifyFailed || !strings.Contains(stderr, want) {
			t.Fatalf("exit %d, want %d with %q:\n%s", code, ExitVerifyFailed, want, stderr)
		}
	}
}
