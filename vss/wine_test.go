//go:build linux

package vss_test

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/backupset"
	_ "github.com/esesnap/esesnap/ese/eseset" // verify pages and the log chain
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/internal/wine"
)

// Exit codes of esesnap (host/cmd/esesnap/exitcode.go).
const (
	exitOK             = 0
	exitVerifyFailed   = 1
	exitError          = 3
	exitStoredEndError = 4
)

const writerName = "esesnap test double ESE writer"

// vssRun is one backup through esesnap.exe → esesnap-plugin.exe
// --backend vss → the test double vssapi.dll, over a fresh copy of a real
// sample standing in for the live instance.
type vssRun struct {
	inst, shadow, set, calls string
	out                      string
	code                     int
}

// vssHarness builds the Windows binaries and the test double once.
type vssHarness struct {
	prefix *wine.Prefix
	exes   []string
}

func newVSSHarness(t *testing.T) *vssHarness {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Fatalf("the Wine test runs on linux/amd64, not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	h := &vssHarness{prefix: wine.NewPrefix(t)}
	bin := t.TempDir()
	h.exes = wine.Build(t, bin, "github.com/esesnap/esesnap/host/cmd/esesnap", "github.com/esesnap/esesnap/plugin/cmd/esesnap-plugin")
	dll := filepath.Join(bin, "vssapi.dll")
	// -Wall -Werror: the double fills the SDK's C vtables by member name,
	// so a signature that differs from the headers fails the build.
	if out, err := exec.Command("x86_64-w64-mingw32-gcc", "-shared", "-O2", "-Wall", "-Werror", "-o", dll, "testdll/vssapi.c", "-loleaut32", "-lole32").CombinedOutput(); err != nil {
		t.Fatalf("build the vssapi.dll test double: %v\n%s", err, out)
	}
	h.prefix.InstallDLL(t, dll, "vssapi.dll")
	return h
}

// backup runs esesnap.exe backup --backend vss over a fresh copy of the
// sample, with the double's writer failing at fail ("" for none); damage,
// if set, changes the live instance first (the double copies it into the
// shadow copy as it is).
func (h *vssHarness) backup(t *testing.T, kind, fail string, damage func(inst string), extra ...string) vssRun {
	t.Helper()
	r := vssRun{inst: samples.CopySet(t, "srum-win10-dirty")}
	if damage != nil {
		damage(r.inst)
	}
	return h.backupOf(t, r.inst, kind, fail, extra...)
}

// doubleEnv is the test double's environment for a run over inst.
func (r vssRun) doubleEnv(fail string) []string {
	env := map[string]string{
		"ESESNAP_VSSDOUBLE_INSTANCE": wine.Path(r.inst),
		"ESESNAP_VSSDOUBLE_DATABASE": "SRUDB.dat",
		"ESESNAP_VSSDOUBLE_BASE":     "SRU",
		"ESESNAP_VSSDOUBLE_SHADOW":   wine.Path(r.shadow),
		"ESESNAP_VSSDOUBLE_CALLS":    wine.Path(r.calls),
		"ESESNAP_VSSDOUBLE_WATCH":    wine.Path(filepath.Join(r.set, backupset.ManifestName)),
		"ESESNAP_VSSDOUBLE_FAIL":     fail,
	}
	var args []string
	for k, v := range env {
		args = append(args, "--plugin-env", k+"="+v)
	}
	return args
}

// backupOf backs up the live instance inst, as backup does.
func (h *vssHarness) backupOf(t *testing.T, inst, kind, fail string, extra ...string) vssRun {
	t.Helper()
	r := vssRun{inst: inst, shadow: t.TempDir()}
	r.set = filepath.Join(t.TempDir(), "set")
	r.calls = filepath.Join(t.TempDir(), "calls.txt")
	args := []string{"backup", "--plugin", wine.Path(h.exes[1]), "--plugin-arg=--backend=vss", "--kind", kind,
		"--source", wine.Path(r.inst), "--out", wine.Path(r.set), "--progress", "never"}
	args = append(append(args, extra...), r.doubleEnv(fail)...)
	cmd := h.prefix.Command(h.exes[0], args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Run()
	r.out, r.code = out.String(), cmd.ProcessState.ExitCode()
	return r
}

// callLines is what the double recorded, one call a line.
func (r vssRun) callLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(r.calls)
	if err != nil {
		t.Fatalf("the test double recorded no calls: %v\n%s", err, r.out)
	}
	return strings.Split(strings.TrimSpace(strings.ReplaceAll(string(b), "\r\n", "\n")), "\n")
}

// called returns the index of the first call line with prefix, or -1.
func called(lines []string, prefix string) int {
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return i
		}
	}
	return -1
}

// TestVSSUnderWine runs the Windows build with --backend vss against the
// test double of vssapi.dll (vss/testdll) under Wine: the backend's COM
// vtables, VSS's sequence, the writer's status after each phase, the files
// read from the "shadow copy" through the engine, and BackupComplete only
// after the host stored the set. It has not run against Windows' VSS.
func TestVSSUnderWine(t *testing.T) {
	h := newVSSHarness(t)

	t.Run("full", func(t *testing.T) {
		r := h.backup(t, "full", "", nil, "--truncate-logs")
		if r.code != exitOK {
			t.Fatalf("backup --backend vss: exit %d\n%s", r.code, r.out)
		}
		if _, err := backupset.Verify(t.Context(), r.set); err != nil {
			t.Fatalf("the set does not verify: %v\n%s", err, r.out)
		}
		for _, f := range []string{"SRUDB.dat", "SRU00051.log", "SRU00052.log"} {
			if _, err := os.Stat(filepath.Join(r.set, f)); err != nil {
				entries, _ := os.ReadDir(r.set)
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Fatalf("the set lacks %s: %v; it holds %v\n%s", f, err, names, r.out)
			}
		}
		lines := r.callLines(t)
		order := []string{"InitializeForBackup", "SetBackupState select=1 type=1", "GatherWriterMetadata", "AddComponent ese-instance",
			"StartSnapshotSet", "AddToSnapshotSet Z:\\", "PrepareForBackup", "DoSnapshotSet", "SetBackupSucceeded ese-instance 1",
			"BackupComplete watched=present truncated=3", "DeleteSnapshots type=2", "Release"}
		last := -1
		for _, c := range order {
			i := called(lines, c)
			if i <= last {
				t.Fatalf("call %q missing or out of order in:\n%s", c, strings.Join(lines, "\n"))
			}
			last = i
		}
		if called(lines, "AbortBackup") >= 0 {
			t.Fatalf("a successful backup called AbortBackup:\n%s", strings.Join(lines, "\n"))
		}
		// The writer truncated below the newest generation, after the set
		// was stored; esesnap's report names what it deleted.
		for _, f := range []string{"SRU0004E.log", "SRU0004F.log", "SRU00050.log"} {
			if _, err := os.Stat(filepath.Join(r.inst, f)); !os.IsNotExist(err) {
				t.Fatalf("the writer did not truncate %s at BackupComplete", f)
			}
		}
		if _, err := os.Stat(filepath.Join(r.inst, "SRU00051.log")); err != nil {
			t.Fatalf("the newest generation is gone: %v", err)
		}
		// The writer, not esesnap, recorded the backup in the live header.
		db, err := os.ReadFile(filepath.Join(r.inst, "SRUDB.dat"))
		if err != nil {
			t.Fatal(err)
		}
		h, err := format.ParseDBHeader(db)
		if err != nil || h.BKInfoFullPrev.GenLow != 0x51 {
			t.Fatalf("the writer did not record the full backup: %v %+v", err, h.BKInfoFullPrev)
		}
		for _, want := range []string{"truncated: 3 log(s)", writerName, "VSS_BT_FULL"} {
			if !strings.Contains(r.out, want) {
				t.Fatalf("the report lacks %q:\n%s", want, r.out)
			}
		}
	})

	// Without --truncate-logs the writer is told the full backup did not
	// succeed: it records nothing and truncates nothing, and says so.
	t.Run("full without truncation", func(t *testing.T) {
		r := h.backup(t, "full", "", nil)
		if r.code != exitOK {
			t.Fatalf("full backup: exit %d\n%s", r.code, r.out)
		}
		lines := r.callLines(t)
		if called(lines, "SetBackupSucceeded ese-instance 0") < 0 || called(lines, "BackupComplete watched=present truncated=0") < 0 {
			t.Fatalf("want SetBackupSucceeded false and nothing truncated:\n%s", strings.Join(lines, "\n"))
		}
		if _, err := os.Stat(filepath.Join(r.inst, "SRU0004E.log")); err != nil {
			t.Fatalf("a backup without --truncate-logs lost a log: %v", err)
		}
		if !strings.Contains(r.out, "records nothing and truncates no log") || strings.Contains(r.out, "recorded:") {
			t.Fatalf("the report does not say that nothing was recorded:\n%s", r.out)
		}
	})

	t.Run("copy truncates nothing", func(t *testing.T) {
		r := h.backup(t, "copy", "", nil)
		if r.code != exitOK {
			t.Fatalf("copy backup: exit %d\n%s", r.code, r.out)
		}
		lines := r.callLines(t)
		if called(lines, "SetBackupState select=1 type=5") < 0 || called(lines, "BackupComplete watched=present truncated=0") < 0 {
			t.Fatalf("a copy backup is VSS_BT_COPY and truncates nothing:\n%s", strings.Join(lines, "\n"))
		}
		if _, err := os.Stat(filepath.Join(r.inst, "SRU0004E.log")); err != nil {
			t.Fatalf("a copy backup lost a log: %v", err)
		}
	})

	t.Run("incremental", func(t *testing.T) {
		full := h.backup(t, "full", "", nil, "--truncate-logs")
		if full.code != exitOK {
			t.Fatalf("full: exit %d\n%s", full.code, full.out)
		}
		r := h.backupOf(t, full.inst, "incremental", "", "--truncate-logs")
		if r.code != exitOK {
			t.Fatalf("incremental after the full: exit %d\n%s", r.code, r.out)
		}
		if _, err := backupset.Verify(t.Context(), r.set); err != nil {
			t.Fatalf("the incremental set does not verify: %v", err)
		}
		if _, err := os.Stat(filepath.Join(r.set, "SRUDB.dat")); !os.IsNotExist(err) {
			t.Fatalf("an incremental set holds the database: %v", err)
		}
		// The logs from the oldest the writer kept, through the current one.
		for _, f := range []string{"SRU00051.log", "SRU00052.log"} {
			if _, err := os.Stat(filepath.Join(r.set, f)); err != nil {
				t.Fatalf("the incremental set lacks %s: %v", f, err)
			}
		}
		if lines := r.callLines(t); called(lines, "SetBackupState select=1 type=2") < 0 || called(lines, "BackupComplete watched=present") < 0 {
			t.Fatalf("an incremental is VSS_BT_INCREMENTAL and completes:\n%s", strings.Join(lines, "\n"))
		}
	})

	// The conformance suite (aborts in every phase, illegal call orders,
	// typed errors, cancellation) against the plugin on the double.
	t.Run("plugin-test", func(t *testing.T) {
		r := vssRun{inst: samples.CopySet(t, "srum-win10-dirty"), shadow: t.TempDir(), set: t.TempDir(), calls: filepath.Join(t.TempDir(), "calls.txt")}
		args := append([]string{"plugin-test", wine.Path(h.exes[1]), "--plugin-arg=--backend=vss", "--source", wine.Path(r.inst)}, r.doubleEnv("")...)
		out, err := h.prefix.Command(h.exes[0], args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "all checks passed") {
			t.Fatalf("plugin-test with --backend vss: %v\n%s", err, out)
		}
		lines := r.callLines(t)
		if called(lines, "AbortBackup") < 0 || called(lines, "BackupComplete") < 0 {
			t.Fatalf("the suite's aborts and backups reached VSS:\n%s", strings.Join(lines, "\n"))
		}
	})

	// A writer that fails a phase fails the backup naming the writer, its
	// state and failure; nothing is stored, BackupComplete never comes,
	// AbortBackup does, and no log is touched.
	for _, tc := range []struct {
		phase, state, failure string
		code                  int
	}{
		{"PrepareForBackup", "VSS_WS_FAILED_AT_PREPARE_BACKUP", "VSS_E_WRITERERROR_RETRYABLE", exitError},
		{"DoSnapshotSet", "VSS_WS_FAILED_AT_FREEZE", "VSS_E_WRITERERROR_RETRYABLE", exitError},
		{"BackupComplete", "VSS_WS_FAILED_AT_BACKUP_COMPLETE", "VSS_E_WRITERERROR_NONRETRYABLE", exitStoredEndError},
	} {
		t.Run("writer fails at "+tc.phase, func(t *testing.T) {
			r := h.backup(t, "full", tc.phase, nil, "--truncate-logs")
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tc.code, r.out)
			}
			if testing.Verbose() {
				t.Log(r.out)
			}
			for _, want := range []string{writerName, tc.state, tc.failure, tc.phase} {
				if !strings.Contains(r.out, want) {
					t.Fatalf("the error lacks %q:\n%s", want, r.out)
				}
			}
			lines := r.callLines(t)
			if called(lines, "DeleteSnapshots") < 0 && tc.phase != "PrepareForBackup" {
				t.Fatalf("the snapshot set was not deleted:\n%s", strings.Join(lines, "\n"))
			}
			if _, err := os.Stat(filepath.Join(r.inst, "SRU0004E.log")); err != nil {
				t.Fatalf("a failed backup lost a log: %v", err)
			}
			if tc.phase == "BackupComplete" {
				// The set was stored before BackupComplete, and is kept.
				if called(lines, "BackupComplete watched=present truncated=0") < 0 {
					t.Fatalf("BackupComplete came before the set was stored, or truncated:\n%s", strings.Join(lines, "\n"))
				}
				if _, err := backupset.Verify(t.Context(), r.set); err != nil {
					t.Fatalf("the stored set does not verify: %v", err)
				}
				return
			}
			if called(lines, "AbortBackup") < 0 || called(lines, "BackupComplete") >= 0 || called(lines, "SetBackupSucceeded") >= 0 {
				t.Fatalf("want AbortBackup and neither SetBackupSucceeded nor BackupComplete:\n%s", strings.Join(lines, "\n"))
			}
			if _, err := os.Stat(filepath.Join(r.set, backupset.ManifestName)); !os.IsNotExist(err) {
				t.Fatalf("a failed backup left a manifest: %v", err)
			}
		})
	}

	// A sink that fails (the reader of the --tar - stream is gone) ends
	// the session aborted: AbortBackup, no BackupComplete, no log lost.
	t.Run("sink fails", func(t *testing.T) {
		r := vssRun{inst: samples.CopySet(t, "srum-win10-dirty"), shadow: t.TempDir(), set: t.TempDir(), calls: filepath.Join(t.TempDir(), "calls.txt")}
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		pr.Close()
		args := append([]string{"backup", "--plugin", wine.Path(h.exes[1]), "--plugin-arg=--backend=vss", "--kind", "full", "--truncate-logs",
			"--source", wine.Path(r.inst), "--tar", "-", "--progress", "never"}, r.doubleEnv("")...)
		cmd := h.prefix.Command(h.exes[0], args...)
		var errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = pw, &errOut
		cmd.Run()
		pw.Close()
		if code := cmd.ProcessState.ExitCode(); code != exitError || !strings.Contains(errOut.String(), "no backup set was kept") {
			t.Fatalf("a backup into a closed pipe: exit %d, want %d\n%s", code, exitError, errOut.String())
		}
		lines := r.callLines(t)
		if called(lines, "AbortBackup") < 0 || called(lines, "BackupComplete") >= 0 || called(lines, "SetBackupSucceeded") >= 0 || called(lines, "DeleteSnapshots") < 0 {
			t.Fatalf("want AbortBackup and DeleteSnapshots, no BackupComplete:\n%s\n%s", strings.Join(lines, "\n"), errOut.String())
		}
		if _, err := os.Stat(filepath.Join(r.inst, "SRU0004E.log")); err != nil {
			t.Fatalf("a failed backup lost a log: %v", err)
		}
	})

	// A damaged page in the shadow copy fails Read with -1018 naming the
	// page; the VSS backup is aborted and the live logs stay.
	t.Run("damaged page", func(t *testing.T) {
		var before map[string][32]byte
		r := h.backup(t, "full", "", func(inst string) {
			samples.FlipBits(t, filepath.Join(inst, "SRUDB.dat"), 30*4096+999, 0x10)
			before = samples.DirSHA256(t, inst)
		})
		if r.code != exitVerifyFailed {
			t.Fatalf("exit %d, want %d\n%s", r.code, exitVerifyFailed, r.out)
		}
		for _, want := range []string{"SRUDB.dat page 29", "JET_errReadVerifyFailure (-1018)"} {
			if !strings.Contains(r.out, want) {
				t.Fatalf("the error lacks %q:\n%s", want, r.out)
			}
		}
		lines := r.callLines(t)
		if called(lines, "AbortBackup") < 0 || called(lines, "BackupComplete") >= 0 || called(lines, "SetBackupSucceeded") >= 0 {
			t.Fatalf("want AbortBackup and no BackupComplete:\n%s", strings.Join(lines, "\n"))
		}
		if after := samples.DirSHA256(t, r.inst); !maps.Equal(before, after) {
			t.Fatal("the failed backup changed the live instance")
		}
	})
}
