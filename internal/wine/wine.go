// Package wine runs the Windows build of esesnap on Linux under Wine, for
// tests: a throwaway Wine prefix with the bcryptprimitives.dll stand-in that
// Go 1.26 programs need on Wine 8 (see bcryptprimitives.c), and helpers to
// build Windows binaries and to translate paths.
package wine

import (
	_ "embed"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

//go:embed shim/bcryptprimitives.c
var shimSource []byte

// Prefix is a Wine prefix made for one test.
type Prefix struct {
	Dir string
	env []string
}

// NewPrefix creates a Wine prefix under tb.TempDir(), builds the
// bcryptprimitives.dll stand-in with mingw-w64 and copies it into the
// prefix's system32. It fails the test with install instructions when wine
// or mingw-w64 is missing.
func NewPrefix(tb testing.TB) *Prefix {
	tb.Helper()
	for _, tool := range []string{"wine", "x86_64-w64-mingw32-gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Fatalf("%s is needed to run the Windows build under Wine: apt-get install wine64 gcc-mingw-w64-x86-64 (CI installs them)", tool)
		}
	}
	p := &Prefix{Dir: filepath.Join(tb.TempDir(), "wineprefix")}
	// esent=n, vssapi=n: a test's own esent.dll or vssapi.dll in system32
	// (InstallDLL) wins over Wine's builtin, which exports no backup API.
	p.env = append(os.Environ(), "WINEPREFIX="+p.Dir, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=;esent=n;vssapi=n")
	boot := exec.Command("wine", "wineboot", "--init")
	boot.Env = p.env
	if out, err := boot.CombinedOutput(); err != nil {
		tb.Fatalf("wineboot: %v\n%s", err, out)
	}
	src := filepath.Join(tb.TempDir(), "bcryptprimitives.c")
	if err := os.WriteFile(src, shimSource, 0o644); err != nil {
		tb.Fatal(err)
	}
	dll := filepath.Join(p.Dir, "drive_c", "windows", "system32", "bcryptprimitives.dll")
	if out, err := exec.Command("x86_64-w64-mingw32-gcc", "-shared", "-O2", "-o", dll, src, "-lbcrypt").CombinedOutput(); err != nil {
		tb.Fatalf("build bcryptprimitives.dll: %v\n%s", err, out)
	}
	return p
}

// InstallDLL copies a DLL into the prefix's system32 under name, where
// windows.NewLazySystemDLL looks for it.
func (p *Prefix) InstallDLL(tb testing.TB, src, name string) {
	tb.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.Dir, "drive_c", "windows", "system32", name), b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// BuildDLL compiles a Go package with -buildmode=c-shared for windows/amd64
// with mingw-w64 (CGO_ENABLED=1) into dir/name.
func BuildDLL(tb testing.TB, dir, name, pkg string) string {
	tb.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=1", "CC=x86_64-w64-mingw32-gcc")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build %s as a DLL: %v\n%s", pkg, err, b)
	}
	return out
}

// Command runs a Windows program of the prefix: wine exe args...
func (p *Prefix) Command(exe string, args ...string) *exec.Cmd {
	cmd := exec.Command("wine", append([]string{exe}, args...)...)
	cmd.Env = p.env
	return cmd
}

// Path turns an absolute Linux path into the Windows path Wine maps it to
// (drive Z: is the Linux root).
func Path(linux string) string {
	return `Z:` + strings.ReplaceAll(linux, "/", `\`)
}

// Build compiles Go packages for windows/amd64 into dir and returns the
// .exe paths in package order.
func Build(tb testing.TB, dir string, pkgs ...string) []string {
	tb.Helper()
	var exes []string
	for _, pkg := range pkgs {
		exe := filepath.Join(dir, filepath.Base(pkg)+".exe")
		cmd := exec.Command("go", "build", "-o", exe, pkg)
		cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("build %s for Windows: %v\n%s", pkg, err, out)
		}
		exes = append(exes, exe)
	}
	return exes
}
