package testservers

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// resticBinary finds the real restic (CI installs it with go install).
func resticBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("restic"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		if p := filepath.Join(strings.TrimSpace(string(out)), "bin", "restic"); isExecutable(p) {
			return p
		}
	}
	t.Fatal("the real restic binary is needed: go install github.com/restic/restic/cmd/restic@v0.18.1")
	return ""
}

// TestServers: the real restic initialises a repository on each server
// through the counting proxy, which sees the repository's files by type,
// and a stalled request reaches the server only once released.
func TestServers(t *testing.T) {
	bin := resticBinary(t)
	for _, server := range []struct {
		name  string
		start func(testing.TB) *Server
	}{{"s3", S3}, {"rest", REST}} {
		t.Run(server.name, func(t *testing.T) {
			s := server.start(t)
			p := NewCountingProxy(t, s)
			env := append(os.Environ(), "RESTIC_PASSWORD=esesnap-test", "RESTIC_CACHE_DIR="+t.TempDir())
			env = append(env, s.Env...)
			restic := func(args ...string) (string, error) {
				cmd := exec.Command(bin, append([]string{"-r", s.RepoVia(p.Addr)}, args...)...)
				cmd.Env = env
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			if out, err := restic("init"); err != nil {
				t.Fatalf("restic init on %s: %v\n%s", s.Repo(), err, out)
			}
			saved := func(typ string) func(Request) bool {
				return func(r Request) bool { return r.Type == typ && (r.Method == "PUT" || r.Method == "POST") }
			}
			if n := p.Count(saved("config")); n != 1 {
				t.Errorf("init saved the config %d times, want 1: %v", n, p.Requests())
			}
			if n := p.Count(saved("keys")); n != 1 {
				t.Errorf("init saved %d keys, want 1: %v", n, p.Requests())
			}

			// A snapshot's upload, held back, is on the server only
			// after Release.
			stalled := p.Stall(saved("snapshots"))
			file := filepath.Join(t.TempDir(), "f")
			os.WriteFile(file, []byte("esesnap"), 0o644)
			done := make(chan error, 1)
			go func() {
				out, err := restic("backup", file)
				if err != nil {
					err = &exec.Error{Name: out, Err: err}
				}
				done <- err
			}()
			<-stalled
			if out, err := restic("snapshots", "--no-lock", "--json"); err != nil || strings.TrimSpace(out) != "[]" {
				t.Fatalf("snapshots while the upload is held back: %v %s", err, out)
			}
			p.Release()
			if err := <-done; err != nil {
				t.Fatalf("backup: %v", err)
			}
			if out, err := restic("snapshots", "--json"); err != nil || !strings.Contains(out, `"id"`) {
				t.Fatalf("snapshots after release: %v %s", err, out)
			}
			// init, backup and two snapshots: three opened the repository
			// (read a key), one listed the index (the backup).
			if n := p.Count(func(r Request) bool { return r.Method == "GET" && r.Type == "keys" && !r.List }); n != 3 {
				t.Errorf("%d key reads, want 3: %v", n, p.Requests())
			}
			if n := p.Count(func(r Request) bool { return r.List && r.Type == "index" }); n != 1 {
				t.Errorf("%d listings of index/, want 1: %v", n, p.Requests())
			}
		})
	}
}
