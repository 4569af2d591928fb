// Package testservers starts real storage servers for tests of remote
// restic repositories: an S3-compatible server (versitygw) and a server of
// restic's REST protocol (rclone serve restic). Each runs as its own
// process on 127.0.0.1 on a free port, stores into a temporary directory
// and is stopped when the test ends. A test that lacks a server binary
// fails with how to install it.
package testservers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Server is one running storage server.
type Server struct {
	// Name is "s3" or "rest".
	Name string
	// Addr is the server's host:port on 127.0.0.1.
	Addr string
	// Dir is the directory the server stores into.
	Dir string
	// Env is what restic needs besides the repository and the password
	// (the S3 credentials), as KEY=VALUE.
	Env []string

	repo func(addr string) string
}

// Repo is the restic repository the server holds, as restic names it.
func (s *Server) Repo() string { return s.repo(s.Addr) }

// RepoVia is the same repository reached through another address, such
// as a CountingProxy in front of the server.
func (s *Server) RepoVia(addr string) string { return s.repo(addr) }

// S3 access keys of the test server; any values work, restic gets them
// as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
const (
	s3AccessKey = "esesnaptest"
	s3SecretKey = "esesnap-test-secret"
	s3Bucket    = "esesnap"
)

// VersityGWVersion is the versitygw release .ci/run installs.
const VersityGWVersion = "v1.8.0"

// S3 starts versitygw (`versitygw --port 127.0.0.1:N posix DIR`) and
// returns it; its repository is s3:http://127.0.0.1:N/esesnap, a bucket
// restic creates at init.
func S3(tb testing.TB) *Server {
	tb.Helper()
	bin := toolBinary(tb, "versitygw",
		"GOBIN="+ToolDir()+" go install github.com/versity/versitygw/cmd/versitygw@"+VersityGWVersion)
	dir := tb.TempDir()
	s := &Server{
		Name: "s3",
		Dir:  dir,
		Env:  []string{"AWS_ACCESS_KEY_ID=" + s3AccessKey, "AWS_SECRET_ACCESS_KEY=" + s3SecretKey},
		repo: func(addr string) string { return "s3:http://" + addr + "/" + s3Bucket },
	}
	start(tb, s, func(addr string) *exec.Cmd {
		cmd := exec.Command(bin, "--port", addr, "--quiet", "posix", dir)
		cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s3AccessKey, "ROOT_SECRET_KEY="+s3SecretKey)
		return cmd
	})
	return s
}

// REST starts `rclone serve restic` on a temporary directory and returns
// it; its repository is rest:http://127.0.0.1:N/.
func REST(tb testing.TB) *Server {
	tb.Helper()
	bin := toolBinary(tb, "rclone", "apt-get install rclone")
	dir := tb.TempDir()
	s := &Server{
		Name: "rest",
		Dir:  dir,
		repo: func(addr string) string { return "rest:http://" + addr + "/" },
	}
	conf := filepath.Join(tb.TempDir(), "rclone.conf") // empty: no remotes, and no notice about a missing one
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		tb.Fatal(err)
	}
	start(tb, s, func(addr string) *exec.Cmd {
		return exec.Command(bin, "serve", "restic", "--config", conf, "--addr", addr, dir)
	})
	return s
}

// toolBinary finds a server binary in the project's tool directory (where
// .ci/run installs versitygw) or on PATH, or fails the test with how to
// install it.
func toolBinary(tb testing.TB, name, install string) string {
	tb.Helper()
	if p := filepath.Join(ToolDir(), name); isExecutable(p) {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	tb.Fatalf("%s is needed to test remote restic repositories and is neither in %s nor on PATH: install it with `%s` (.ci/run does)", name, ToolDir(), install)
	return ""
}

// ToolDir is the project's tool directory: $ESESNAP_TOOLBIN, else
// ${XDG_CACHE_HOME:-$HOME/.cache}/esesnap/tools/bin, as in .ci/run.
func ToolDir() string {
	if d := os.Getenv("ESESNAP_TOOLBIN"); d != "" {
		return d
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "esesnap", "tools", "bin")
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// start runs the server on a free port of 127.0.0.1 until it answers HTTP,
// trying again on another port if it exits first (another process may
// have taken the port between the probe and the server's own listen),
// and stops it when the test ends.
func start(tb testing.TB, s *Server, command func(addr string) *exec.Cmd) {
	tb.Helper()
	var lastErr error
	for range 3 {
		addr, err := freeAddr()
		if err != nil {
			tb.Fatal(err)
		}
		cmd := command(addr)
		out := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			tb.Fatalf("start %s server: %v", s.Name, err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if err := waitHTTP(addr, exited, 30*time.Second); err != nil {
			cmd.Process.Kill()
			<-exited
			lastErr = fmt.Errorf("%s server on %s: %w\n%s", s.Name, addr, err, out.String())
			continue
		}
		s.Addr = addr
		tb.Cleanup(func() {
			cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
			if tb.Failed() {
				tb.Logf("%s server output:\n%s", s.Name, out.String())
			}
		})
		return
	}
	tb.Fatal(lastErr)
}

// freeAddr returns a 127.0.0.1 address whose port was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitHTTP waits until addr answers an HTTP request (any status).
func waitHTTP(addr string, exited <-chan error, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodHead, "http://"+addr+"/", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited before it answered: %v", err)
		case <-ctx.Done():
			return errors.New("did not answer within " + timeout.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// syncBuffer collects a server's output from its two streams.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		return len(p), nil // enough to see why it failed
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
