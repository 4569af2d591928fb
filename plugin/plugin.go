// Package plugin is the go-plugin glue of esesnap: it serves any
// protocol.Snapshotter from a plugin process (Serve) and gives a backup host
// the same interface over the process boundary (Launch, Client.Snapshotter).
//
// The wire contract is protocol/snapshot/v1, spoken over gRPC with go-plugin's
// automatic mutual TLS. Errors cross as gRPC statuses with a typed detail
// naming the error's domain and code (protocol.ToStatus and
// protocol.FromStatus); the host side gets a *protocol.Error, or what the
// decoder registered for its domain makes of it, so a host can write
// errors.Is(err, ese.ErrBackupAbortByServer) about an error raised in the
// plugin. This package knows no domain. File bytes travel either in the Read stream or, where the
// operating system lets a parent hand a pipe to its child (Unix), through a
// private data pipe that bypasses gRPC and TLS; see pipe.go for why that is
// as safe as the TLS channel.
//
// Files: plugin.go (handshake and plugin sets), grpc_server.go and
// grpc_client.go (the adapters between the generated service and
// Snapshotter), serve.go (the plugin side), client.go (the host side),
// pipe*.go (the data pipe).
package plugin

import (
	"context"
	"errors"

	"github.com/esesnap/esesnap/protocol"
	"github.com/esesnap/esesnap/protocol/snapshotv1"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Handshake is what a host and a plugin must agree on before they talk. The
// cookie only tells a person who runs the plugin binary by hand that it is
// not a command (go-plugin says as much: it is no security measure);
// AutoMTLS and the optional SHA-256 pin are the security.
var Handshake = goplugin.HandshakeConfig{
	// ProtocolVersion is the default version; VersionedPlugins lists every
	// version a binary speaks, and that list is what is negotiated.
	ProtocolVersion:  ProtocolVersionV1,
	MagicCookieKey:   "ESESNAP_PLUGIN",
	MagicCookieValue: "K5LDhucjsZp1vhPXDbINOcdIeltreYEh",
}

// ProtocolVersionV1 is the go-plugin protocol version that carries
// esesnap.snapshot.v1. A breaking change of the proto gets snapshot.v2 under
// version 2, served beside version 1 by the same binary.
const ProtocolVersionV1 = 1

// PluginName is the name under which the snapshot service is dispensed.
const PluginName = "snapshot"

// CapabilityDataPipe is listed in Info.Capabilities by a plugin that holds
// a data pipe from its host and sends Read bytes through it when asked. It
// is a capability of this transport, not of the snapshot protocol, so it
// lives here rather than in package protocol.
const CapabilityDataPipe = "data-pipe"

// Transport limits shared by both ends of the gRPC connection. go-plugin
// keeps gRPC's defaults: flow-control windows that start at 64 KiB and
// grow only as gRPC estimates the bandwidth (anew on every stream, and
// every file is a stream), and a 4 MiB receive limit in the plugin. Fixed
// windows of a few chunks keep whole chunks in flight from the first one.
// Measured with 1 MiB chunks and AutoMTLS on 2 cores, the stream reaches
// about a third of a plain read + SHA-256 whether the windows are 1 or 16
// MiB (TLS and copies dominate); the data pipe is what makes up the rest.
const (
	// streamWindowBytes is the HTTP/2 flow-control window of each stream.
	streamWindowBytes = 4 << 20
	// connWindowBytes is the window of the whole connection.
	connWindowBytes = 8 << 20
	// ioBufferBytes is the size of the transport's read and write buffers.
	ioBufferBytes = 1 << 20
	// maxMessageBytes bounds every message either side accepts: a chunk is
	// at most protocol.MaxChunkBytes and a Files batch of thousands of logs
	// stays far below it, while a confused peer cannot make the other side
	// allocate gigabytes (go-plugin alone would accept MaxInt32).
	maxMessageBytes = 16 << 20
)

// ErrPluginExited is wrapped into the error of a call that failed because
// the plugin process is gone.
var ErrPluginExited = errors.New("the plugin process exited")

// SnapshotPlugin is the go-plugin GRPCPlugin of the snapshot service. A
// plugin sets Impl (Serve does); a host leaves it nil and dispenses a
// protocol.Snapshotter.
type SnapshotPlugin struct {
	goplugin.NetRPCUnsupportedPlugin

	// Impl is the Snapshotter the plugin serves.
	Impl protocol.Snapshotter
	// Logger receives the panics the server recovers; nil discards them.
	Logger hclog.Logger

	// pipe is the plugin's end of the data pipe, or nil.
	pipe *pipeWriter
	// hostPipe is the host's end of the data pipe, or nil.
	hostPipe *pipeReader
}

var _ goplugin.GRPCPlugin = (*SnapshotPlugin)(nil)

// GRPCServer registers the snapshot service, backed by p.Impl, on s.
func (p *SnapshotPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("no Snapshotter to serve")
	}
	snapshotv1.RegisterSnapshotServiceServer(s, newGRPCServer(p.Impl, p.Logger, p.pipe))
	return nil
}

// GRPCClient returns a protocol.Snapshotter that calls the plugin over conn.
// ctx is cancelled by go-plugin when the plugin process exits.
func (p *SnapshotPlugin) GRPCClient(ctx context.Context, _ *goplugin.GRPCBroker, conn *grpc.ClientConn) (interface{}, error) {
	return newGRPCClient(ctx, snapshotv1.NewSnapshotServiceClient(conn), p.hostPipe), nil
}

// VersionedPlugins returns the plugin sets by protocol version, for
// go-plugin's ServeConfig and ClientConfig: version 1 serves
// esesnap.snapshot.v1 from impl (nil on the host side). The newest version
// both sides know is chosen; Client.ProtocolVersion reports which.
func VersionedPlugins(impl protocol.Snapshotter) map[int]goplugin.PluginSet {
	return pluginSets(&SnapshotPlugin{Impl: impl})
}

// pluginSets lists every protocol version this package speaks, each with
// its own GRPCPlugin. A snapshot.v2 would be added here as
// 2: {PluginName: v2Plugin} next to version 1, so that old hosts keep
// getting v1 from a new plugin and new hosts switch on the negotiated
// version.
func pluginSets(v1 *SnapshotPlugin) map[int]goplugin.PluginSet {
	return map[int]goplugin.PluginSet{
		ProtocolVersionV1: {PluginName: v1},
	}
}
