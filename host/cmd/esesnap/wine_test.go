package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/host"
	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/internal/wine"
)

// TestWindowsBuildUnderWine runs the Windows build — esesnap.exe launching
// esesnap-plugin.exe, go-plugin over loopback TCP with AutoMTLS — under Wine
// on a copy of a real sample, and compares the set with what the Linux build
// writes for the same source: the same logs byte for byte, the same database
// stream but for the backup's own time stamp. A damaged page must fail the
// same way on both.
func TestWindowsBuildUnderWine(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Fatalf("the Wine test runs on linux/amd64, not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	prefix := wine.NewPrefix(t)
	bin := t.TempDir()
	exes := wine.Build(t, bin, "github.com/esesnap/esesnap/host/cmd/esesnap", "github.com/esesnap/esesnap/plugin/cmd/esesnap-plugin")
	src := samples.CopySet(t, "srum-win10-dirty")

	winSet := filepath.Join(t.TempDir(), "win")
	cmd := prefix.Command(exes[0], "backup", "--plugin", wine.Path(exes[1]), "--source", wine.Path(src), "--out", wine.Path(winSet), "--progress", "never")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("esesnap.exe backup under Wine: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	if _, err := host.Verify(t.Context(), winSet); err != nil {
		t.Fatalf("the set written by the Windows build does not verify: %v", err)
	}

	linSet := filepath.Join(t.TempDir(), "linux")
	if _, stderr, code := cli(t, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--source", src, "--out", linSet); code != ExitOK {
		t.Fatalf("linux backup: exit %d\n%s", code, stderr)
	}
	entries, err := os.ReadDir(linSet)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == host.ManifestName {
			continue
		}
		a, errA := os.ReadFile(filepath.Join(winSet, e.Name()))
		b, errB := os.ReadFile(filepath.Join(linSet, e.Name()))
		if errA != nil || errB != nil {
			t.Fatalf("%s: %v %v", e.Name(), errA, errB)
		}
		if strings.HasSuffix(e.Name(), ".dat") {
			a, b = withoutMarkTime(t, a), withoutMarkTime(t, b)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("%s differs between the Windows and the Linux build", e.Name())
		}
	}

	// The same error, named the same way.
	flipBit(t, filepath.Join(src, "SRUDB.dat"), 30*4096+999)
	cmd = prefix.Command(exes[0], "backup", "--plugin", wine.Path(exes[1]), "--source", wine.Path(src), "--out", wine.Path(filepath.Join(t.TempDir(), "bad")), "--progress", "never")
	errOut.Reset()
	cmd.Stderr = &errOut
	err = cmd.Run()
	if err == nil || cmd.ProcessState.ExitCode() != ExitVerifyFailed {
		t.Fatalf("a damaged page under Wine: %v (exit %d)\n%s", err, cmd.ProcessState.ExitCode(), errOut.String())
	}
	for _, want := range []string{"SRUDB.dat page 29", "JET_errReadVerifyFailure (-1018)"} {
		if !strings.Contains(errOut.String(), want) {
			t.Fatalf("the Windows build's error lacks %q:\n%s", want, errOut.String())
		}
	}
}

// withoutMarkTime blanks the backup's own time stamp (logtimeMark of
// bkinfoFullCur in both header snapshots and in the trailer) and the
// checksums over it, the only bytes two backups of one source differ in.
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
	}
	tr := len(s) - ps
	clear(s[tr : tr+4])
	clear(s[tr+40+8 : tr+40+16])
	return s
}
