package main

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/internal/wine"
)

// TestWindowsBuildUnderWine runs the Windows build — esesnap.exe launching
// esesnap-plugin.exe, go-plugin over loopback TCP with AutoMTLS — under Wine
// on a copy of a real sample, once with the pure-Go engine and once with
// --backend esent, where the plugin calls ESENT's exports through the real
// syscall path into the test double esent.dll (ese/esent/testdll, built
// with mingw-w64 and installed in the prefix's system32). Each set must
// verify and equal what the Linux build writes for the same source (logs
// byte for byte, databases but for the backup's own time stamp and header
// records), and a damaged page must fail the same way everywhere. The esent
// backend runs with --writable: without it, it must refuse and leave the
// source untouched.
func TestWindowsBuildUnderWine(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Fatalf("the Wine test runs on linux/amd64, not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	prefix := wine.NewPrefix(t)
	bin := t.TempDir()
	exes := wine.Build(t, bin, "github.com/esesnap/esesnap/host/cmd/esesnap", "github.com/esesnap/esesnap/plugin/cmd/esesnap-plugin")
	dll := wine.BuildDLL(t, bin, "esent.dll", "github.com/esesnap/esesnap/ese/esent/testdll")
	prefix.InstallDLL(t, dll, "esent.dll")
	src := samples.CopySet(t, "srum-win10-dirty")

	// The Linux build first: the esent test DLL, like ESENT, records the
	// backup in the headers, which later streams then carry.
	linSet := filepath.Join(t.TempDir(), "linux")
	if _, stderr, code := cli(t, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--source", src, "--out", linSet); code != ExitOK {
		t.Fatalf("linux backup: exit %d\n%s", code, stderr)
	}
	winBackup := func(backend, set string, extra ...string) (string, int) {
		args := append([]string{"backup", "--plugin", wine.Path(exes[1]), "--plugin-arg=--backend=" + backend,
			"--source", wine.Path(src), "--out", wine.Path(set), "--progress", "never"}, extra...)
		cmd := prefix.Command(exes[0], args...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		cmd.Run()
		return out.String() + errOut.String(), cmd.ProcessState.ExitCode()
	}
	// ESENT.DLL changes every instance it opens, so the esent backend
	// refuses a read-only source before calling it, and leaves it as it was.
	before := dirSHA256(t, src)
	if out, code := winBackup("esent", filepath.Join(t.TempDir(), "refused")); code != ExitError ||
		!strings.Contains(out, "JET_errFileAccessDenied (-1032)") || !strings.Contains(out, "--writable") {
		t.Fatalf("a read-only backup through esent.dll: exit %d, want %d with JET_errFileAccessDenied naming --writable\n%s", code, ExitError, out)
	}
	if after := dirSHA256(t, src); !maps.Equal(before, after) {
		t.Fatal("the refused esent backup changed the source")
	}
	writable := map[string][]string{"esent": {"--writable"}}
	for _, backend := range []string{"engine", "esent"} {
		winSet := filepath.Join(t.TempDir(), backend)
		if out, code := winBackup(backend, winSet, writable[backend]...); code != ExitOK {
			t.Fatalf("esesnap.exe backup under Wine (--backend %s): exit %d\n%s", backend, code, out)
		}
		if _, err := backupset.Verify(t.Context(), winSet); err != nil {
			t.Fatalf("the set the Windows build wrote (--backend %s) does not verify: %v", backend, err)
		}
		sameSet(t, backend, winSet, linSet)

		// Restore through the same backend: staging with the engine;
		// JetExternalRestore2W through esent.dll.
		to := t.TempDir()
		cmd := prefix.Command(exes[0], "restore", "--plugin", wine.Path(exes[1]), "--plugin-arg=--backend="+backend, "--set", wine.Path(winSet), "--to", wine.Path(to))
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "staged for recovery") {
			t.Fatalf("restore under Wine (--backend %s): %v\n%s", backend, err, out)
		}
		if replayed := !strings.Contains(string(out), "not replayed"); replayed != (backend == "esent") {
			t.Fatalf("restore under Wine (--backend %s): only esent finishes recovery itself:\n%s", backend, out)
		}
		if _, err := os.Stat(filepath.Join(to, "SRUDB.dat")); err != nil {
			t.Fatalf("restore under Wine (--backend %s) placed no database: %v", backend, err)
		}
	}

	// A full backup with truncation, then an incremental, through esent.dll.
	chain := samples.CopySet(t, "srum-win10-dirty")
	for _, step := range []struct{ kind, want string }{{"full", "truncated: 3 log(s)"}, {"incremental", "bkinfoIncPrev"}} {
		// --database makes the plugin attach it (JetAttachDatabase2W).
		cmd := prefix.Command(exes[0], "backup", "--plugin", wine.Path(exes[1]), "--plugin-arg=--backend=esent", "--kind", step.kind,
			"--writable", "--truncate-logs", "--source", wine.Path(chain), "--database", wine.Path(filepath.Join(chain, "SRUDB.dat")),
			"--out", wine.Path(filepath.Join(t.TempDir(), step.kind)), "--progress", "never")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), step.want) {
			t.Fatalf("%s backup through esent.dll: %v\n%s", step.kind, err, out)
		}
	}
	if _, err := os.Stat(filepath.Join(chain, "SRU0004E.log")); !os.IsNotExist(err) {
		t.Fatal("the full backup through esent.dll did not truncate its logs")
	}

	// The conformance suite (aborts in every phase, illegal call orders,
	// typed errors, cancellation) against the Windows plugin on esent.dll.
	suite := prefix.Command(exes[0], "plugin-test", wine.Path(exes[1]), "--plugin-arg=--backend=esent", "--writable", "--source", wine.Path(samples.CopySet(t, "srum-win10-dirty")))
	if out, err := suite.CombinedOutput(); err != nil || !strings.Contains(string(out), "all checks passed") {
		t.Fatalf("plugin-test under Wine with --backend esent: %v\n%s", err, out)
	}

	// The same error through both Windows paths. A JET_ERR is all the DLL
	// ABI carries, so through esent.dll the page number is not known (ESENT
	// writes it to the event log); the file and the code are.
	flipBit(t, filepath.Join(src, "SRUDB.dat"), 30*4096+999)
	for backend, where := range map[string]string{"engine": "SRUDB.dat page 29", "esent": "SRUDB.dat"} {
		out, code := winBackup(backend, filepath.Join(t.TempDir(), "bad"), writable[backend]...)
		if code != ExitVerifyFailed {
			t.Fatalf("a damaged page under Wine (--backend %s): exit %d\n%s", backend, code, out)
		}
		for _, want := range []string{where, "JET_errReadVerifyFailure (-1018)"} {
			if !strings.Contains(out, want) {
				t.Fatalf("the Windows build's error (--backend %s) lacks %q:\n%s", backend, want, out)
			}
		}
	}
}

// sameSet compares two backup sets of one source file by file: logs byte
// for byte, databases but for the backup's own time stamp and the backup
// records in the header (the esent path records each backup, as ESENT does).
func sameSet(t *testing.T, what, a, b string) {
	t.Helper()
	entries, err := os.ReadDir(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == backupset.ManifestName {
			continue
		}
		x, errA := os.ReadFile(filepath.Join(a, e.Name()))
		y, errB := os.ReadFile(filepath.Join(b, e.Name()))
		if errA != nil || errB != nil {
			t.Fatalf("%s: %s: %v %v", what, e.Name(), errA, errB)
		}
		if strings.HasSuffix(e.Name(), ".dat") {
			x, y = withoutMarkTime(t, x), withoutMarkTime(t, y)
		}
		if !bytes.Equal(x, y) {
			t.Fatalf("%s differs between the Windows build (%s) and the Linux build", e.Name(), what)
		}
	}
}

// withoutMarkTime blanks the backup's own time stamp (logtimeMark of
// bkinfoFullCur in both header snapshots and in the trailer), the backup
// records of the header (a recording backend fills them), and the checksums
// over them: the only bytes two backups of one source differ in.
func withoutMarkTime(t *testing.T, stream []byte) []byte {
	t.Helper()
	h, err := format.ParseDBHeader(stream)
	if err != nil {
		t.Fatal(err)
	}
	ps := h.CbPage()
	s := bytes.Clone(stream)
	for _, page := range []int{0, 1} {
		off := page * ps
		clear(s[off : off+4])
		clear(s[off+format.OffBKInfoFullCur+8 : off+format.OffBKInfoFullCur+16])
		for _, rec := range []int{format.OffBKInfoFullPrev, format.OffBKInfoIncPrev, format.OffBKInfoCopyPrev, format.OffBKInfoDiffPrev} {
			clear(s[off+rec : off+rec+format.BKInfoSize])
		}
	}
	tr := len(s) - ps
	clear(s[tr : tr+4])
	clear(s[tr+40+8 : tr+40+16])
	return s
}

// dirSHA256 is the SHA-256 of every file in dir, by name.
func dirSHA256(t *testing.T, dir string) map[string][32]byte { return samples.DirSHA256(t, dir) }
