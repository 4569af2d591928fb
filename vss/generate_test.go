package vss

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSyscallStubsAreCurrent regenerates zsyscall_windows.go from the //sys
// lines of syscall_windows.go with mkwinsyscall and fails when the
// committed file differs (run `go generate ./vss` to update it).
func TestSyscallStubsAreCurrent(t *testing.T) {
	out := filepath.Join(t.TempDir(), "zsyscall_windows.go")
	cmd := exec.Command("go", "run", "golang.org/x/sys/windows/mkwinsyscall", "-output", out, "syscall_windows.go")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkwinsyscall: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("zsyscall_windows.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("zsyscall_windows.go is stale: run go generate ./vss and commit it")
	}
}
