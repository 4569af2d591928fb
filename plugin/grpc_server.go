package plugin

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/esesnap/esesnap/protocol"
	"github.com/esesnap/esesnap/protocol/snapshotv1"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// grpcServer serves snapshot.v1 from a protocol.Snapshotter in the plugin
// process. Every error leaves through protocol.ToStatus, so a coded error
// (a JET_err) keeps its domain, code, op, file and page on the wire, and every method recovers a
// panic of the Snapshotter into an Aborted status: one bad call fails, the
// plugin keeps serving.
type grpcServer struct {
	// The generated code requires it; every RPC is implemented below, and
	// an RPC added to a later v1 answers Unimplemented until it is here.
	snapshotv1.UnimplementedSnapshotServiceServer

	impl protocol.Snapshotter
	log  hclog.Logger
	pipe *pipeWriter // nil without a data pipe
}

var _ snapshotv1.SnapshotServiceServer = (*grpcServer)(nil)

func newGRPCServer(impl protocol.Snapshotter, log hclog.Logger, pipe *pipeWriter) *grpcServer {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &grpcServer{impl: impl, log: log, pipe: pipe}
}

// recoverPanic turns a panic of method into an Aborted status in *err and
// logs it with its stack, which the status does not carry (the host's log
// receives the plugin's stderr anyway). It must be deferred directly.
func (s *grpcServer) recoverPanic(method string, err *error) {
	r := recover()
	if r == nil {
		return
	}
	s.log.Error("plugin panic", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	*err = status.Errorf(codes.Aborted, "the plugin panicked in %s: %v", method, r)
}

// Info describes the plugin, adding CapabilityDataPipe while this process
// has a working data pipe.
func (s *grpcServer) Info(ctx context.Context, _ *snapshotv1.Info_Request) (_ *snapshotv1.Info_Response, err error) {
	defer s.recoverPanic("Info", &err)
	info, err := s.impl.Info(ctx)
	if err != nil {
		return nil, protocol.ToStatus(err)
	}
	if s.pipe.usable() && !info.Has(CapabilityDataPipe) {
		info.Capabilities = append(info.Capabilities, CapabilityDataPipe)
	}
	return protocol.ToProtoInfo(info), nil
}

// Begin starts a session.
func (s *grpcServer) Begin(ctx context.Context, req *snapshotv1.Begin_Request) (_ *snapshotv1.Begin_Response, err error) {
	defer s.recoverPanic("Begin", &err)
	id, err := s.impl.Begin(ctx, protocol.FromProtoBeginRequest(req))
	if err != nil {
		return nil, protocol.ToStatus(err)
	}
	return &snapshotv1.Begin_Response{SessionId: id}, nil
}

// Files returns the next batch of a session.
func (s *grpcServer) Files(ctx context.Context, req *snapshotv1.Files_Request) (_ *snapshotv1.Files_Response, err error) {
	defer s.recoverPanic("Files", &err)
	files, err := s.impl.Files(ctx, req.GetSessionId())
	if err != nil {
		return nil, protocol.ToStatus(err)
	}
	return protocol.ToProtoFiles(files), nil
}

// Read streams one file. The stream's context is the Snapshotter's, so a
// host that cancels (or disappears) stops the read and the driver aborts
// its ESE session. The bytes go through the data pipe when the host asks
// for it and the pipe is free, else in the chunks themselves.
func (s *grpcServer) Read(req *snapshotv1.Read_Request, stream grpc.ServerStreamingServer[snapshotv1.Read_Chunk]) (err error) {
	defer s.recoverPanic("Read", &err)
	ctx := stream.Context()
	read := func(w protocol.ChunkWriter) error {
		return s.impl.Read(ctx, req.GetSessionId(), req.GetFile(), int(req.GetChunkBytes()), w)
	}
	if req.GetDataPipe() && s.pipe.acquire() {
		err = s.pipe.serveOnPipe(ctx, stream, read)
	} else {
		err = read(&streamChunkWriter{stream: stream})
	}
	return protocol.ToStatus(err)
}

// streamChunkWriter sends each chunk's bytes in the stream.
type streamChunkWriter struct {
	stream grpc.ServerStreamingServer[snapshotv1.Read_Chunk]
	msg    snapshotv1.Read_Chunk
}

// WriteChunk implements protocol.ChunkWriter. Send marshals the message
// before it returns, so the Snapshotter may reuse data afterwards.
func (w *streamChunkWriter) WriteChunk(offset int64, data []byte) error {
	w.msg.Offset, w.msg.Data = offset, data
	err := w.stream.Send(&w.msg)
	w.msg.Data = nil
	return err
}

// End finishes a session.
func (s *grpcServer) End(ctx context.Context, req *snapshotv1.End_Request) (_ *snapshotv1.End_Response, err error) {
	defer s.recoverPanic("End", &err)
	res, err := s.impl.End(ctx, req.GetSessionId(), protocol.FromProtoEndRequest(req))
	if err != nil {
		// A Snapshotter may return a result with its error: the driver
		// records a backup whose log truncation failed and says so in
		// both. The result rides along as a second status detail so that
		// the host still learns the log range Restore needs.
		st := status.Convert(protocol.ToStatus(err))
		if withRes, derr := st.WithDetails(protocol.ToProtoEndResult(res)); derr == nil {
			st = withRes
		}
		return nil, st.Err()
	}
	return protocol.ToProtoEndResult(res), nil
}

// Keepalive resets a session's idle watchdog when the Snapshotter
// implements protocol.SessionKeeper, and answers Unimplemented otherwise, as
// a plugin built before the call existed would.
func (s *grpcServer) Keepalive(ctx context.Context, req *snapshotv1.Keepalive_Request) (_ *snapshotv1.Keepalive_Response, err error) {
	defer s.recoverPanic("Keepalive", &err)
	k, ok := s.impl.(protocol.SessionKeeper)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "this plugin has no Keepalive")
	}
	if err := k.Keepalive(ctx, req.GetSessionId()); err != nil {
		return nil, protocol.ToStatus(err)
	}
	return &snapshotv1.Keepalive_Response{}, nil
}

// Restore stages a backup set.
func (s *grpcServer) Restore(ctx context.Context, req *snapshotv1.Restore_Request) (_ *snapshotv1.Restore_Response, err error) {
	defer s.recoverPanic("Restore", &err)
	res, err := s.impl.Restore(ctx, protocol.FromProtoRestoreRequest(req))
	if err != nil {
		return nil, protocol.ToStatus(err)
	}
	return protocol.ToProtoRestoreResult(res), nil
}
