package plugin

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/esesnap/esesnap/protocol"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
)

// Serve serves impl to the host that started this process and returns when
// the host shuts the plugin down or goes away. Call it from main, after
// checking IsPluginProcess, with a logger that writes to the real stderr
// (Serve then redirects os.Stderr into the host's sync stream); a nil
// logger logs JSON to stderr.
//
// If impl has a Close method (the ESE driver has), Serve calls it when the
// host's connection ends, and when serving stops, so that open backup
// sessions are aborted instead of holding the instance: a host that was
// killed never calls End. Once the host's connection is gone the plugin
// stops serving too, because go-plugin hosts never reconnect to a process.
func Serve(impl protocol.Snapshotter, logger hclog.Logger) {
	if logger == nil {
		logger = hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true, Level: hclog.Info})
	}
	// Once the host is gone, its ends of our stdout and stderr are closed;
	// on Unix a write to descriptor 1 or 2 would then kill the process
	// with SIGPIPE before it could abort its sessions. Ignored, the write
	// fails with EPIPE and the logger drops the line. (Windows has no
	// SIGPIPE; this does nothing there.)
	signal.Ignore(syscall.SIGPIPE)
	pipe, err := openPluginPipe()
	if err != nil {
		logger.Warn("no data pipe; file bytes go through the gRPC stream", "error", err)
	}
	if pipe != nil {
		pipe.log = logger
		defer pipe.Close()
	}
	closeImpl := closeOnce(impl, logger)
	defer closeImpl()

	watch := &hostWatch{}
	watch.onGone = func() {
		logger.Info("the host's connection ended; closing the snapshotter (open sessions are aborted) and stopping")
		closeImpl()
		watch.stopServer()
	}
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: pluginSets(&SnapshotPlugin{Impl: impl, Logger: logger, pipe: pipe}),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			s := grpc.NewServer(append(opts, serverOptions(watch)...)...)
			watch.setServer(s)
			return s
		},
		Logger: logger,
	})
}

// IsPluginProcess reports whether this process was started by a go-plugin
// host with esesnap's handshake cookie. A plugin's main checks it before
// Serve so that a person who runs the binary gets usage text instead of a
// process that waits for a host.
func IsPluginProcess() bool {
	return os.Getenv(Handshake.MagicCookieKey) == Handshake.MagicCookieValue
}

// serverOptions are the plugin's gRPC server options on top of go-plugin's
// (TLS): large flow-control windows and buffers for the Read stream, a
// receive limit above gRPC's 4 MiB default for requests, and the watch
// that notices the host going away.
func serverOptions(watch *hostWatch) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.InitialWindowSize(streamWindowBytes),
		grpc.InitialConnWindowSize(connWindowBytes),
		grpc.ReadBufferSize(ioBufferBytes),
		grpc.WriteBufferSize(ioBufferBytes),
		grpc.MaxRecvMsgSize(maxMessageBytes),
		grpc.MaxSendMsgSize(maxMessageBytes),
		grpc.StatsHandler(watch),
	}
}

// closeOnce returns a function that calls impl.Close once, if impl has
// one.
func closeOnce(impl protocol.Snapshotter, log hclog.Logger) func() {
	c, ok := impl.(interface{ Close() error })
	if !ok {
		return func() {}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if err := c.Close(); err != nil {
				log.Warn("closing the snapshotter failed", "error", err)
			}
		})
	}
}

// hostWatch is a gRPC stats handler that counts the server's connections
// and calls onGone when the last one ends. A go-plugin host opens one
// connection (the broker and stdio streams share it) and keeps it until it
// kills the plugin or dies, and with AutoMTLS nobody else can complete a
// connection, so the end of the last connection means the host is gone.
// It sees connections only after their TLS handshake, so a stranger
// knocking on the port does not count.
type hostWatch struct {
	onGone func()

	mu     sync.Mutex
	conns  int
	server *grpc.Server
	gone   bool
}

var _ stats.Handler = (*hostWatch)(nil)

func (w *hostWatch) setServer(s *grpc.Server) {
	w.mu.Lock()
	w.server = s
	w.mu.Unlock()
}

// stopServer stops the gRPC server, which makes go-plugin's Serve return.
// It runs in its own goroutine: Stop waits for handlers, and it is called
// from the transport's own goroutine.
func (w *hostWatch) stopServer() {
	w.mu.Lock()
	s := w.server
	w.mu.Unlock()
	if s != nil {
		go s.Stop()
	}
}

// TagConn implements stats.Handler.
func (w *hostWatch) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

// HandleConn counts connections and reports the end of the last one.
func (w *hostWatch) HandleConn(_ context.Context, s stats.ConnStats) {
	w.mu.Lock()
	fire := false
	switch s.(type) {
	case *stats.ConnBegin:
		w.conns++
	case *stats.ConnEnd:
		w.conns--
		fire = w.conns == 0 && !w.gone && w.onGone != nil
		w.gone = w.gone || fire
	}
	w.mu.Unlock()
	if fire {
		go w.onGone()
	}
}

// TagRPC implements stats.Handler.
func (w *hostWatch) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

// HandleRPC implements stats.Handler.
func (w *hostWatch) HandleRPC(context.Context, stats.RPCStats) {}
