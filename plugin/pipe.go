package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/esesnap/esesnap/protocol"
	"github.com/esesnap/esesnap/protocol/snapshotv1"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
)

// The data pipe.
//
// Through gRPC every byte of a file is framed, encrypted by AutoMTLS,
// copied through HTTP/2 flow control and decrypted again; that costs more
// CPU than reading, verifying and hashing it. So on Unix the host makes an
// anonymous pipe before it starts the plugin and hands the write end to the
// plugin process as an inherited file descriptor (exec.Cmd.ExtraFiles),
// naming its number in ESESNAP_DATA_FD. The gRPC Read stream still carries
// the control: for each chunk the plugin first sends a Read.Chunk with
// offset and piped_bytes and then writes exactly that many bytes to the
// pipe; the host receives the message and reads exactly that many bytes
// before it receives the next one. Errors, cancellation and the end of the
// file still travel on the stream.
//
// Why this does not weaken AutoMTLS: mutual TLS protects the gRPC socket,
// which any local process could try to connect to (a loopback TCP port on
// Windows, a socket file elsewhere). The pipe has no name and no address:
// it exists only as two file descriptors, one in the host and one inherited
// by the plugin at exec. Both are close-on-exec in their owners (Go opens
// every descriptor close-on-exec; only ExtraFiles are passed, and only to
// this child), so no other process, not even another child of the host or
// of the plugin, gets either end; a process that could read them out of
// another process's descriptor table (ptrace, /proc/<pid>/fd as the same
// user or root) could equally read the plugin's memory or the ESE files
// themselves. The pipe carries file bytes only, never keys, certificates or
// credentials. Integrity is what it was: the host hashes what it stores,
// and the stream tells exactly how many bytes belong to which offset.
//
// Only one Read uses the pipe at a time, on both sides (a mutex held for
// the whole Read); a concurrent Read, or one asked after the pipe broke,
// goes through the stream. Whatever goes wrong on the pipe (a short read or
// write, the other side closing it, a cancellation in the middle of a
// chunk) fails that Read and retires the pipe for good on the side that saw
// it, since its bytes can no longer be matched to offsets; later Reads use
// the stream. Windows has no ExtraFiles, so there the pipe is absent and
// the stream (with tuned windows) is the only path. A pipe belongs to one
// plugin process and dies with it.

// deadlineWatch interrupts blocking I/O on a pollable file when ctx ends,
// by moving the file's deadline to now.
type deadlineWatch struct {
	stop  func() bool
	fired chan struct{}
	set   func(time.Time) error
}

func watchDeadline(ctx context.Context, set func(time.Time) error) *deadlineWatch {
	w := &deadlineWatch{fired: make(chan struct{}), set: set}
	w.stop = context.AfterFunc(ctx, func() {
		set(time.Now())
		close(w.fired)
	})
	return w
}

// Stop ends the watch; if the deadline was moved it waits for that and
// clears it again, so the next Read starts without a deadline.
func (w *deadlineWatch) Stop() {
	if w.stop() {
		return
	}
	<-w.fired
	w.set(time.Time{})
}

// pipeFile is one end of the data pipe: the file, set once, and whether it
// is retired. Retiring closes the file without waiting for the Read that
// may be using it, so that a blocked read or write returns at once; the
// mutex only says which Read owns the pipe.
type pipeFile struct {
	mu      sync.Mutex // held by the one Read that uses the pipe
	f       *os.File
	retired atomic.Bool
	log     hclog.Logger
}

// acquire takes the pipe for one Read; false means the pipe is absent,
// busy or retired and the Read uses the stream.
func (p *pipeFile) acquire() bool {
	if !p.mu.TryLock() {
		return false
	}
	if p.retired.Load() {
		p.mu.Unlock()
		return false
	}
	return true
}

// usable reports whether the pipe may still carry data.
func (p *pipeFile) usable() bool { return !p.retired.Load() }

// retire closes this end for good and logs why: the other side then sees
// EOF or EPIPE instead of waiting, and later Reads use the stream.
func (p *pipeFile) retire(why error) {
	if p.retired.Swap(true) {
		return
	}
	p.f.Close()
	if p.log != nil && why != nil {
		p.log.Warn("data pipe retired; later reads use the gRPC stream", "reason", why.Error())
	}
}

// Close retires the pipe when its owner shuts down; it never blocks.
func (p *pipeFile) Close() { p.retire(nil) }

// pipeWriter is the plugin's end of the data pipe. Its methods accept a
// nil pipe, which has no pipe to offer.
type pipeWriter struct {
	pipeFile
	pending int // bytes announced on the stream but not yet written; under mu
}

func (p *pipeWriter) acquire() bool { return p != nil && p.pipeFile.acquire() }
func (p *pipeWriter) usable() bool  { return p != nil && p.pipeFile.usable() }

// Close retires the pipe; see pipeFile.Close.
func (p *pipeWriter) Close() {
	if p != nil {
		p.pipeFile.Close()
	}
}

// release gives the pipe back. A Read that ended between announcing a
// chunk and writing all of it (a panic) leaves the pipe out of step, so it
// is retired.
func (p *pipeWriter) release() {
	if p.pending != 0 {
		p.retire(fmt.Errorf("a Read ended with %d announced bytes unwritten", p.pending))
		p.pending = 0
	}
	p.mu.Unlock()
}

// pipeChunkWriter is the protocol.ChunkWriter of a Read that uses the pipe:
// each chunk is announced on the stream, then written to the pipe.
type pipeChunkWriter struct {
	p      *pipeWriter
	stream grpc.ServerStreamingServer[snapshotv1.Read_Chunk]
	msg    snapshotv1.Read_Chunk
}

// WriteChunk implements protocol.ChunkWriter.
func (w *pipeChunkWriter) WriteChunk(offset int64, data []byte) error {
	if len(data) == 0 {
		return w.stream.Send(&snapshotv1.Read_Chunk{Offset: offset})
	}
	p := w.p
	// The announcement goes first: the host reads the pipe only after it
	// has it, and a pipe holds less than a chunk on most systems, so
	// writing first could block both sides.
	p.pending = len(data)
	w.msg.Offset, w.msg.PipedBytes = offset, int64(len(data))
	if err := w.stream.Send(&w.msg); err != nil {
		p.pending = 0
		return err
	}
	if _, err := p.f.Write(data); err != nil {
		err = fmt.Errorf("write %d bytes at offset %d to the data pipe: %w", len(data), offset, err)
		p.retire(err)
		p.pending = 0
		return err
	}
	p.pending = 0
	return nil
}

// serveOnPipe runs read with a ChunkWriter on the pipe, which the caller
// acquired; cancellation of ctx interrupts a blocked pipe write.
func (p *pipeWriter) serveOnPipe(ctx context.Context, stream grpc.ServerStreamingServer[snapshotv1.Read_Chunk], read func(protocol.ChunkWriter) error) error {
	defer p.release()
	watch := watchDeadline(ctx, p.f.SetWriteDeadline)
	defer watch.Stop()
	return read(&pipeChunkWriter{p: p, stream: stream})
}

// pipeReader is the host's end of the data pipe. Its methods accept a nil
// pipe, which has no pipe to offer.
type pipeReader struct {
	pipeFile
	buf []byte // reused for every piped chunk; under mu
}

func (r *pipeReader) acquire() bool { return r != nil && r.pipeFile.acquire() }
func (r *pipeReader) usable() bool  { return r != nil && r.pipeFile.usable() }

// Close retires the pipe; see pipeFile.Close.
func (r *pipeReader) Close() {
	if r != nil {
		r.pipeFile.Close()
	}
}

func (r *pipeReader) release() { r.mu.Unlock() }

// read returns the next n piped bytes (n is at most a chunk), valid until
// the next call. Any failure retires the pipe: its remaining bytes can no
// longer be matched to offsets.
func (r *pipeReader) read(ctx context.Context, offset, n int64) ([]byte, error) {
	if int64(cap(r.buf)) < n {
		r.buf = make([]byte, n)
	}
	b := r.buf[:n]
	if _, err := io.ReadFull(r.f, b); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			r.retire(cerr)
			return nil, cerr
		}
		switch {
		case r.retired.Load():
			err = errors.New("the host closed the data pipe")
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			err = errors.New("the plugin closed the data pipe")
		}
		err = fmt.Errorf("read %d bytes at offset %d from the data pipe: %w", n, offset, err)
		r.retire(err)
		return nil, err
	}
	return b, nil
}
