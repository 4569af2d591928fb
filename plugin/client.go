package plugin

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/esesnap/esesnap/protocol"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Errors of Launch, for errors.Is.
var (
	// ErrPluginNotFound means the plugin binary does not exist.
	ErrPluginNotFound = errors.New("plugin binary not found")
	// ErrHandshake means the program started but did not become a usable
	// esesnap plugin: it is not a plugin at all, it exited or hung before
	// the go-plugin handshake, or it speaks no protocol version this host
	// knows.
	ErrHandshake = errors.New("plugin handshake failed")
	// ErrChecksumMismatch means the binary's SHA-256 is not the pinned one;
	// it was not started.
	ErrChecksumMismatch = errors.New("plugin binary does not match its pinned SHA-256")
)

// DefaultStartTimeout is how long Launch waits for the plugin's handshake
// when ClientConfig.StartTimeout is 0.
const DefaultStartTimeout = 30 * time.Second

// ClientConfig says which plugin to start and how.
type ClientConfig struct {
	// Path is the plugin binary; a name without a path separator is looked
	// up in PATH.
	Path string
	// Args are the plugin's command-line arguments, such as "--read-only".
	Args []string
	// Env is the plugin's whole environment besides what it needs to run
	// at all (PATH, and on Windows SYSTEMROOT, TEMP and the like) and what
	// go-plugin adds: the host's own environment is not passed on, so that
	// secrets such as RESTIC_PASSWORD never reach a plugin. Entries are
	// "KEY=value"; later entries win.
	Env []string
	// SHA256, if set, pins the binary: Launch hashes it and refuses to run
	// it unless the digest matches (go-plugin SecureConfig). The check
	// happens before exec, so install plugins where unprivileged users
	// cannot replace them.
	SHA256 []byte
	// Logger receives the host-side events and every log line the plugin
	// writes (go-plugin re-emits the plugin's JSON logs at their level).
	// nil discards them.
	Logger hclog.Logger
	// Stderr, if set, receives what the plugin writes to os.Stderr after it
	// started serving (outside its logger); nil sends that to Logger.
	Stderr io.Writer
	// StartTimeout bounds the wait for the handshake; 0 means
	// DefaultStartTimeout. A deadline of Launch's context shortens it.
	StartTimeout time.Duration
	// DisableDataPipe keeps every byte in the gRPC stream even where a data
	// pipe is possible (for comparison and debugging).
	DisableDataPipe bool
}

// Client is a running plugin process and the Snapshotter that talks to it.
type Client struct {
	pc      *goplugin.Client
	cmd     *exec.Cmd
	snap    protocol.Snapshotter
	pipe    *pipeReader
	version int
}

// Launch starts the plugin, completes the handshake (AutoMTLS, gRPC only,
// protocol version negotiation) and returns a Client whose Snapshotter is
// ready. The plugin runs until Close or Kill, not until ctx ends: ctx only
// bounds the start (its deadline shortens StartTimeout, and if it is
// cancelled meanwhile Launch stops the plugin once the handshake is over
// and returns ctx's error). Errors say what went wrong in a way a person
// can act on, and match ErrPluginNotFound, ErrHandshake or
// ErrChecksumMismatch.
func Launch(ctx context.Context, cfg ClientConfig) (*Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path, err := findPlugin(cfg.Path)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	timeout := cfg.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(min(timeout, time.Until(dl)), time.Millisecond)
	}

	cmd := exec.Command(path, cfg.Args...)
	cmd.Env = append(essentialEnv(), cfg.Env...)
	var pipe *pipeReader
	var childEnd *os.File
	if !cfg.DisableDataPipe {
		pipe, childEnd, err = newHostPipe(cmd, log)
		if err != nil {
			log.Warn("no data pipe; file bytes go through the gRPC stream", "error", err)
		}
	}

	var syncStderr io.Writer = cfg.Stderr
	if syncStderr == nil {
		syncStderr = log.StandardWriter(&hclog.StandardLoggerOptions{InferLevels: true})
	}
	var secure *goplugin.SecureConfig
	if len(cfg.SHA256) > 0 {
		secure = &goplugin.SecureConfig{Checksum: cfg.SHA256, Hash: sha256.New()}
	}
	tail := &tailWriter{max: 2048}
	pc := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: pluginSets(&SnapshotPlugin{hostPipe: pipe}),
		Cmd:              cmd,
		SecureConfig:     secure,
		StartTimeout:     timeout,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		Logger:           log,
		Stderr:           tail,
		// The plugin's stdout is go-plugin's handshake channel and nothing
		// it writes there later may reach the host's stdout, which may be
		// a backup stream.
		SyncStdout:      io.Discard,
		SyncStderr:      syncStderr,
		GRPCDialOptions: dialOptions(),
	})
	rpc, err := pc.Client()
	if childEnd != nil {
		// The child has its copy now (or never will); the host's copy
		// would keep the pipe open after the plugin died.
		childEnd.Close()
	}
	if err != nil {
		pc.Kill()
		pipe.Close()
		return nil, startError(path, err, tail.String())
	}
	raw, err := rpc.Dispense(PluginName)
	if err != nil {
		pc.Kill()
		pipe.Close()
		return nil, fmt.Errorf("%w: %s: dispense %q: %v", ErrHandshake, path, PluginName, err)
	}
	snap, ok := raw.(protocol.Snapshotter)
	if !ok {
		pc.Kill()
		pipe.Close()
		return nil, fmt.Errorf("%w: %s: protocol version %d has no snapshot client", ErrHandshake, path, pc.NegotiatedVersion())
	}
	c := &Client{pc: pc, cmd: cmd, snap: snap, pipe: pipe, version: pc.NegotiatedVersion()}
	if err := ctx.Err(); err != nil {
		c.Kill()
		return nil, err
	}
	return c, nil
}

// Snapshotter returns the plugin's snapshot service.
func (c *Client) Snapshotter() protocol.Snapshotter { return c.snap }

// ProtocolVersion returns the go-plugin protocol version both sides agreed
// on (ProtocolVersionV1).
func (c *Client) ProtocolVersion() int { return c.version }

// DataPipe reports whether Reads can use the data pipe (it exists and has
// not been retired after an error).
func (c *Client) DataPipe() bool { return c.pipe.usable() }

// Exited reports whether the plugin process has exited.
func (c *Client) Exited() bool { return c.pc.Exited() }

// Close shuts the plugin down gracefully: go-plugin asks it to stop,
// waits up to two seconds and then kills it. A plugin's Serve aborts its
// open sessions on the way out. Close is idempotent; it always returns nil
// (go-plugin reports no failure to stop) and has an error result only to
// be an io.Closer.
func (c *Client) Close() error {
	c.pc.Kill()
	c.pipe.Close()
	return nil
}

// Kill ends the plugin process at once (SIGKILL, TerminateProcess),
// without asking it to stop, for a plugin that hangs; calls in progress
// fail. The driver's ESE sessions are then not ended by the plugin; a
// file-level instance's locks go with the process.
func (c *Client) Kill() {
	if p := c.cmd.Process; p != nil {
		p.Kill()
	}
	c.pc.Kill()
	c.pipe.Close()
}

// dialOptions are the host's gRPC options on top of go-plugin's: windows
// and buffers to match the plugin's, message limits, and no idle timeout
// (the connection must live as long as the plugin, since the plugin
// treats its end as the host going away).
func dialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithInitialWindowSize(streamWindowBytes),
		grpc.WithInitialConnWindowSize(connWindowBytes),
		grpc.WithReadBufferSize(ioBufferBytes),
		grpc.WithWriteBufferSize(ioBufferBytes),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes)),
		grpc.WithIdleTimeout(0),
	}
}

// findPlugin resolves the binary's path and reports a missing one clearly.
func findPlugin(path string) (string, error) {
	if path == "" {
		return "", fmt.Errorf("%w: no plugin path given", ErrPluginNotFound)
	}
	if !strings.ContainsAny(path, `/\`) {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("%w: %s is not in PATH: %v", ErrPluginNotFound, path, err)
		}
		return p, nil
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%w: %s does not exist", ErrPluginNotFound, path)
	case err != nil:
		return "", fmt.Errorf("plugin %s: %w", path, err)
	case st.IsDir():
		return "", fmt.Errorf("%w: %s is a directory, not a plugin binary", ErrPluginNotFound, path)
	}
	return path, nil
}

// startError explains a failed start; stderr is the end of what the
// plugin printed.
func startError(path string, err error, stderr string) error {
	said := ""
	if s := strings.TrimSpace(stderr); s != "" {
		said = "; it printed: " + s
	}
	var pathErr *fs.PathError
	switch {
	case errors.Is(err, goplugin.ErrChecksumsDoNotMatch):
		return fmt.Errorf("%w: %s was not started", ErrChecksumMismatch, path)
	case errors.As(err, &pathErr):
		return fmt.Errorf("start plugin %s: %w", path, err)
	case strings.Contains(err.Error(), "Unrecognized remote plugin message"):
		return fmt.Errorf("%w: %s is not an esesnap plugin: it printed something other than the go-plugin handshake on stdout%s", ErrHandshake, path, said)
	case strings.Contains(err.Error(), "exited before we could connect"):
		return fmt.Errorf("%w: %s exited before the handshake (not an esesnap plugin, or it failed at start)%s", ErrHandshake, path, said)
	case strings.Contains(err.Error(), "timeout while waiting"):
		return fmt.Errorf("%w: %s did not complete the handshake in time%s", ErrHandshake, path, said)
	}
	return fmt.Errorf("%w: %s: %v%s", ErrHandshake, path, err, said)
}

// essentialEnv is the part of the host's environment a plugin needs just
// to run: the search path, and on Windows the system directories and temp
// paths without which Go programs and system DLLs misbehave.
func essentialEnv() []string {
	keys := []string{"PATH", "TMPDIR"}
	if runtime.GOOS == "windows" {
		keys = []string{"PATH", "PATHEXT", "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "TEMP", "TMP", "ProgramData"}
	}
	var env []string
	for _, k := range keys {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// tailWriter keeps the last max bytes written to it, so that a failed start
// can quote what the plugin printed.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

// Write keeps the tail of p.
func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String returns the kept tail.
func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
