package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/esesnap/esesnap/protocol"
	"github.com/esesnap/esesnap/protocol/snapshotv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// grpcClient is the host's protocol.Snapshotter over a plugin's
// snapshot.v1 service. Every error comes back through protocol.FromStatus,
// so a coded error raised in the plugin is a *protocol.Error here (or what
// the decoder registered for its domain makes of it: an *ese.Error for a
// JET_err in a host that links package host); an error caused
// by the plugin process going away also wraps ErrPluginExited.
type grpcClient struct {
	client snapshotv1.SnapshotServiceClient
	// done is cancelled by go-plugin when the plugin process has exited;
	// nil when the client does not come from a go-plugin Client.
	done context.Context
	pipe *pipeReader // nil without a data pipe
}

var _ protocol.Snapshotter = (*grpcClient)(nil)
var _ protocol.SessionKeeper = (*grpcClient)(nil)

func newGRPCClient(done context.Context, client snapshotv1.SnapshotServiceClient, pipe *pipeReader) *grpcClient {
	return &grpcClient{client: client, done: done, pipe: pipe}
}

// exitGrace is how long a failed call waits for go-plugin to notice that
// the process exited before it reports the failure as a plain transport
// error: the connection breaks a moment before the process is reaped.
const exitGrace = time.Second

// callErr converts the error of a call for the host. mayWait allows
// waiting up to exitGrace to learn whether the plugin exited, for errors
// that suggest it (Unavailable, a pipe closed under the host).
func (c *grpcClient) callErr(err error, mayWait bool) error {
	if err == nil {
		return nil
	}
	converted := protocol.FromStatus(err)
	if c.pluginGone(mayWait || status.Code(err) == codes.Unavailable) {
		return fmt.Errorf("%w: %w", ErrPluginExited, converted)
	}
	return converted
}

func (c *grpcClient) pluginGone(wait bool) bool {
	if c.done == nil {
		return false
	}
	if c.done.Err() != nil {
		return true
	}
	if !wait {
		return false
	}
	t := time.NewTimer(exitGrace)
	defer t.Stop()
	select {
	case <-c.done.Done():
		return true
	case <-t.C:
		return false
	}
}

// Info describes the plugin.
func (c *grpcClient) Info(ctx context.Context) (protocol.Info, error) {
	res, err := c.client.Info(ctx, &snapshotv1.Info_Request{})
	if err != nil {
		return protocol.Info{}, c.callErr(err, false)
	}
	return protocol.FromProtoInfo(res), nil
}

// Begin starts a session.
func (c *grpcClient) Begin(ctx context.Context, req protocol.BeginRequest) (string, error) {
	res, err := c.client.Begin(ctx, protocol.ToProtoBeginRequest(req))
	if err != nil {
		return "", c.callErr(err, false)
	}
	return res.GetSessionId(), nil
}

// Files returns the next batch of a session.
func (c *grpcClient) Files(ctx context.Context, session string) ([]protocol.File, error) {
	res, err := c.client.Files(ctx, &snapshotv1.Files_Request{SessionId: session})
	if err != nil {
		return nil, c.callErr(err, false)
	}
	return protocol.FromProtoFiles(res), nil
}

// Read streams one file to w; see protocol.Snapshotter. Chunks must
// continue exactly where the previous one ended. With a data pipe the
// plugin is asked to send the bytes through it; each chunk then says how
// many bytes to take from the pipe, and w gets them from a buffer reused
// for the whole Read.
func (c *grpcClient) Read(ctx context.Context, session, file string, chunkBytes int, w protocol.ChunkWriter) error {
	usePipe := c.pipe.acquire()
	if usePipe {
		defer c.pipe.release()
	}
	// Leaving Read for any reason cancels the stream, which stops the
	// plugin's side of it.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.client.Read(ctx, &snapshotv1.Read_Request{
		SessionId:  session,
		File:       file,
		ChunkBytes: uint32(min(max(chunkBytes, 0), protocol.MaxChunkBytes)),
		DataPipe:   usePipe,
	})
	if err != nil {
		return c.callErr(err, false)
	}
	if usePipe {
		// Cancellation must also reach a read blocked on the pipe.
		watch := watchDeadline(ctx, c.pipe.f.SetReadDeadline)
		defer watch.Stop()
	}
	var next int64
	var msg snapshotv1.Read_Chunk
	for {
		// gRPC may still deliver buffered chunks after cancellation.
		if err := ctx.Err(); err != nil {
			if usePipe {
				c.pipe.retire(fmt.Errorf("the read of %s was cancelled: %w", file, err))
			}
			return err
		}
		if err := stream.RecvMsg(&msg); err != nil {
			if err == io.EOF {
				return nil
			}
			if usePipe && !pipeInStep(ctx, err) {
				c.pipe.retire(fmt.Errorf("the stream of %s broke: %w", file, err))
			}
			return c.callErr(err, false)
		}
		if msg.Offset != next {
			err := fmt.Errorf("read %s: the plugin sent a chunk at offset %d, want %d", file, msg.Offset, next)
			if usePipe {
				c.pipe.retire(err)
			}
			return err
		}
		if n := msg.PipedBytes; n != 0 {
			if !usePipe {
				return fmt.Errorf("read %s: the plugin sent %d piped bytes at offset %d, but the host did not ask for the data pipe", file, n, next)
			}
			if len(msg.Data) != 0 {
				err := fmt.Errorf("read %s: the plugin sent a chunk at offset %d with both %d piped and %d inline bytes", file, next, n, len(msg.Data))
				c.pipe.retire(err)
				return err
			}
			if err := c.readPiped(ctx, file, next, n, w); err != nil {
				return err
			}
			next += n
			continue
		}
		if err := w.WriteChunk(msg.Offset, msg.Data); err != nil {
			if usePipe {
				// The plugin may already be writing a chunk to the pipe;
				// those bytes can no longer be told apart from a later
				// Read's.
				c.pipe.retire(fmt.Errorf("the host stopped reading %s: %w", file, err))
			}
			return err
		}
		next += int64(len(msg.Data))
	}
}

// readPiped takes the n bytes of the chunk at offset from the pipe, which
// the caller holds, and passes them to w. Any failure retires the pipe
// (read does so itself).
func (c *grpcClient) readPiped(ctx context.Context, file string, offset, n int64, w protocol.ChunkWriter) error {
	if n < 0 || n > protocol.MaxChunkBytes {
		err := fmt.Errorf("read %s: the plugin announced %d piped bytes at offset %d; a chunk holds at most %d", file, n, offset, protocol.MaxChunkBytes)
		c.pipe.retire(err)
		return err
	}
	data, err := c.pipe.read(ctx, offset, n)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return c.callErr(fmt.Errorf("read %s: %w", file, err), true)
	}
	if err := w.WriteChunk(offset, data); err != nil {
		// The plugin may already be writing the next chunk; those bytes
		// can no longer be told apart from a later Read's.
		c.pipe.retire(fmt.Errorf("the host stopped reading %s: %w", file, err))
		return err
	}
	return nil
}

// pipeInStep reports whether a Read stream that ended with err left the
// pipe empty. A status the plugin returned follows every byte it announced,
// and the host consumed those before receiving again; a stream cut short
// by the host's cancellation or a broken connection may leave a chunk in
// flight.
func pipeInStep(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	switch status.Code(err) {
	case codes.Canceled, codes.DeadlineExceeded, codes.Unavailable, codes.Unknown:
		return false
	}
	return !errors.Is(err, context.Canceled)
}

// End finishes a session. When the plugin returns a result together with
// its error (logs recorded but not truncated, for example), the result
// comes back too.
func (c *grpcClient) End(ctx context.Context, session string, req protocol.EndRequest) (protocol.EndResult, error) {
	res, err := c.client.End(ctx, protocol.ToProtoEndRequest(session, req))
	if err != nil {
		var out protocol.EndResult
		if st, ok := status.FromError(err); ok {
			for _, d := range st.Details() {
				if r, ok := d.(*snapshotv1.End_Response); ok {
					out = protocol.FromProtoEndResult(r)
				}
			}
		}
		return out, c.callErr(err, false)
	}
	return protocol.FromProtoEndResult(res), nil
}

// Keepalive resets the plugin's idle watchdog for a session. A plugin
// without the call answers Unimplemented, which is returned as it is.
func (c *grpcClient) Keepalive(ctx context.Context, session string) error {
	_, err := c.client.Keepalive(ctx, &snapshotv1.Keepalive_Request{SessionId: session})
	if err != nil {
		return c.callErr(err, false)
	}
	return nil
}

// Restore stages a backup set.
func (c *grpcClient) Restore(ctx context.Context, req protocol.RestoreRequest) (protocol.RestoreResult, error) {
	res, err := c.client.Restore(ctx, protocol.ToProtoRestoreRequest(req))
	if err != nil {
		return protocol.RestoreResult{}, c.callErr(err, false)
	}
	return protocol.FromProtoRestoreResult(res), nil
}
