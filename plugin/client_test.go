package plugin

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/engine"
	"github.com/esesnap/esesnap/protocol"
	"github.com/hashicorp/go-hclog"
)

// TestLaunchInfo: the handshake (AutoMTLS, gRPC, version 1) and Info
// through a real process.
func TestLaunchInfo(t *testing.T) {
	for _, pipe := range pipeModes() {
		t.Run(modeName(pipe), func(t *testing.T) {
			c := launchHelper(t, helperEngine, pipe)
			if c.ProtocolVersion() != ProtocolVersionV1 {
				t.Fatalf("negotiated version %d", c.ProtocolVersion())
			}
			info, err := c.Snapshotter().Info(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if info.Name != "test-engine" || !info.Supports(protocol.KindFull) || !info.Has(protocol.CapabilityVerify) {
				t.Fatalf("info %+v", info)
			}
			if info.Has(CapabilityDataPipe) != pipe || c.DataPipe() != pipe {
				t.Fatalf("data pipe: capability %t, client %t, want %t", info.Has(CapabilityDataPipe), c.DataPipe(), pipe)
			}
			if c.Exited() {
				t.Fatal("the plugin exited")
			}
			c.Close()
			if !waitFor(5*time.Second, c.Exited) {
				t.Fatal("the plugin still runs after Close")
			}
		})
	}
}

// TestLaunchErrors: what a host gets for binaries that are not plugins.
func TestLaunchErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  ClientConfig
		want error
		text string
	}{
		{"missing", ClientConfig{Path: "/nonexistent/esesnap-plugin"}, ErrPluginNotFound, "does not exist"},
		{"not in PATH", ClientConfig{Path: "esesnap-no-such-plugin"}, ErrPluginNotFound, "PATH"},
		{"directory", ClientConfig{Path: os.TempDir() + "/"}, ErrPluginNotFound, "directory"},
		{"prints garbage", ClientConfig{Path: os.Args[0], Env: []string{envHelper + "=" + helperGarbage}}, ErrHandshake, "not an esesnap plugin"},
		{"exits", ClientConfig{Path: os.Args[0], Env: []string{envHelper + "=" + helperExit}}, ErrHandshake, "no configuration"},
		{"wrong checksum", ClientConfig{Path: os.Args[0], Env: []string{envHelper + "=" + helperEngine}, SHA256: make([]byte, 32)}, ErrChecksumMismatch, "was not started"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Logger = testLogger(t)
			tc.cfg.StartTimeout = 20 * time.Second
			c, err := Launch(context.Background(), tc.cfg)
			if err == nil {
				c.Close()
				t.Fatal("Launch succeeded")
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("error %q, want %v mentioning %q", err, tc.want, tc.text)
			}
		})
	}
}

// TestLaunchChecksum: the right pin lets the plugin start.
func TestLaunchChecksum(t *testing.T) {
	sum := fileSHA256(t, os.Args[0])
	c, err := Launch(context.Background(), ClientConfig{Path: os.Args[0], Env: []string{envHelper + "=" + helperEngine}, SHA256: sum, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// TestKillMidStream: a plugin killed in the middle of a Read fails that
// Read promptly, with ErrPluginExited.
func TestKillMidStream(t *testing.T) {
	for _, pipe := range pipeModes() {
		t.Run(modeName(pipe), func(t *testing.T) {
			c := launchHelper(t, helperEngine, pipe)
			s := c.Snapshotter()
			ctx := context.Background()
			dir := genSet(t, 8192)
			id, err := s.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindCopy, Source: protocol.Source{Location: dir}})
			if err != nil {
				t.Fatal(err)
			}
			files, err := s.Files(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				done <- s.Read(ctx, id, files[0].Name, 64<<10, protocol.ChunkWriterFunc(func(int64, []byte) error {
					c.Kill()
					return nil
				}))
			}()
			select {
			case err = <-done:
			case <-time.After(15 * time.Second):
				t.Fatal("Read hangs after the plugin was killed")
			}
			if err == nil || !errors.Is(err, ErrPluginExited) {
				t.Fatalf("Read after kill: %v, want ErrPluginExited", err)
			}
			if !c.Exited() {
				t.Fatal("Exited is false after Kill")
			}
			if _, err := s.Info(ctx); err == nil {
				t.Fatal("Info of a killed plugin succeeded")
			}
		})
	}
}

// TestHostGoneAbortsSession: when the host process dies, the plugin
// notices its connection ending, aborts the session (releasing the
// instance) and exits.
func TestHostGoneAbortsSession(t *testing.T) {
	dir := copySynthSmall(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envHelper+"="+helperHost, envHostDir+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("host helper said %q: %v", line, err)
	}
	// The plugin holds the instance now.
	in, err := engine.Open(engine.Config{LogDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Term(ese.TermAbrupt)
	if err := in.BeginExternalBackup(0); !errors.Is(err, ese.ErrBackupInProgress) {
		t.Fatalf("Begin while the plugin's session runs: %v, want JET_errBackupInProgress", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !waitFor(10*time.Second, func() bool { return in.BeginExternalBackup(0) == nil }) {
		t.Fatal("the plugin kept its session after its host was killed")
	}
	in.EndExternalBackup(ese.BackupEndAbort)
}

// envHostDir names the instance the host helper backs up.
const envHostDir = "ESESNAP_PLUGIN_TEST_HOST_DIR"

// runHostHelper is a host that starts the engine plugin, begins a backup
// and lists its files, says "ready" and waits to be killed.
func runHostHelper() int {
	c, err := Launch(context.Background(), ClientConfig{
		Path:   os.Args[0],
		Env:    []string{envHelper + "=" + helperEngine},
		Logger: hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Warn}),
	})
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	s := c.Snapshotter()
	id, err := s.Begin(context.Background(), protocol.BeginRequest{Kind: protocol.KindCopy, Source: protocol.Source{Location: os.Getenv(envHostDir)}})
	if err == nil {
		_, err = s.Files(context.Background(), id)
	}
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		c.Kill()
		return 1
	}
	os.Stdout.WriteString("ready\n")
	time.Sleep(time.Minute)
	c.Kill()
	return 1
}
