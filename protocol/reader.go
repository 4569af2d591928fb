package protocol

import (
	"context"
	"fmt"
	"io"
)

// OpenReader returns one file of a session as an io.ReadCloser, for hosts
// that want to io.Copy it. Its Read returns io.EOF, unwrapped, exactly when
// s.Read returned nil; any other end is the error s.Read returned, or an
// error naming a chunk that did not continue where the previous one ended.
// Nothing is buffered: a goroutine runs s.Read and each chunk is handed
// through an io.Pipe as the caller reads. Close stops s.Read (it cancels the
// context passed to it and makes further chunks fail) and waits for it to
// return, so no goroutine outlives Close; the caller must call Close.
func OpenReader(ctx context.Context, s Snapshotter, session, file string, chunkBytes int) io.ReadCloser {
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	r := &fileReader{pr: pr, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		var next int64
		err := s.Read(ctx, session, file, chunkBytes, ChunkWriterFunc(func(offset int64, data []byte) error {
			if offset != next {
				return fmt.Errorf("read %s: chunk at offset %d, want %d", file, offset, next)
			}
			n, err := pw.Write(data)
			next += int64(n)
			return err
		}))
		// CloseWithError(nil) makes the reader see io.EOF.
		pw.CloseWithError(err)
	}()
	return r
}

// fileReader is the reading end of OpenReader.
type fileReader struct {
	pr     *io.PipeReader
	cancel context.CancelFunc
	done   chan struct{}
}

// Read reads the next bytes of the file.
func (r *fileReader) Read(p []byte) (int, error) { return r.pr.Read(p) }

// Close stops the producer and waits for it.
func (r *fileReader) Close() error {
	r.cancel()
	r.pr.Close()
	<-r.done
	return nil
}
