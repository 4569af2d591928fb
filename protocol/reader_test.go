package protocol

import (
	"bytes"
	"context"
	"errors"
	"google.golang.org/grpc/codes"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

// snapshotterDouble is a test double of Snapshotter whose Read runs read;
// the other methods are not used by these tests and fail.
type snapshotterDouble struct {
	read func(ctx context.Context, session, file string, chunkBytes int, w ChunkWriter) error
}

var errNotInDouble = errors.New("not implemented by the test double")

func (d *snapshotterDouble) Info(context.Context) (Info, error) { return Info{}, errNotInDouble }
func (d *snapshotterDouble) Begin(context.Context, BeginRequest) (string, error) {
	return "", errNotInDouble
}
func (d *snapshotterDouble) Files(context.Context, string) ([]File, error) {
	return nil, errNotInDouble
}
func (d *snapshotterDouble) Read(ctx context.Context, session, file string, chunkBytes int, w ChunkWriter) error {
	return d.read(ctx, session, file, chunkBytes, w)
}
func (d *snapshotterDouble) End(context.Context, string, EndRequest) (EndResult, error) {
	return EndResult{}, errNotInDouble
}
func (d *snapshotterDouble) Restore(context.Context, RestoreRequest) (RestoreResult, error) {
	return RestoreResult{}, errNotInDouble
}

// chunked writes data to w in chunks of n bytes from one reused buffer, as a
// plugin does, then returns final.
func chunked(data []byte, final error) func(ctx context.Context, _, _ string, n int, w ChunkWriter) error {
	return func(ctx context.Context, _, _ string, n int, w ChunkWriter) error {
		buf := make([]byte, n)
		for off := 0; off < len(data); off += n {
			c := copy(buf, data[off:])
			if err := w.WriteChunk(int64(off), buf[:c]); err != nil {
				return err
			}
		}
		return final
	}
}

func TestOpenReader(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096+3) // not a multiple of the chunk
	damaged := &Error{Domain: DomainJET, Code: -1018, Name: "JET_errReadVerifyFailure", Status: codes.DataLoss,
		Op: "verify page", File: "db.edb", Page: 9}
	for _, tc := range []struct {
		name     string
		read     func(context.Context, string, string, int, ChunkWriter) error
		wantData []byte
		wantErr  error // nil: the reader must end with io.EOF
		wantText string
	}{
		{name: "whole file", read: chunked(data, nil), wantData: data},
		{name: "empty file", read: chunked(nil, nil), wantData: []byte{}},
		{name: "io.EOF from the plugin also ends cleanly", read: chunked(data[:100], io.EOF), wantData: data[:100]},
		{name: "failure after some chunks", read: chunked(data, damaged), wantData: data, wantErr: &Error{Domain: DomainJET, Code: -1018}},
		{
			name: "gap between chunks",
			read: func(_ context.Context, _, _ string, _ int, w ChunkWriter) error {
				if err := w.WriteChunk(0, data[:10]); err != nil {
					return err
				}
				return w.WriteChunk(20, data[20:30])
			},
			wantData: data[:10],
			wantText: "chunk at offset 20, want 10",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := OpenReader(t.Context(), &snapshotterDouble{read: tc.read}, "s1", "db.edb", 1000)
			defer r.Close()
			got, err := io.ReadAll(r)
			if !bytes.Equal(got, tc.wantData) {
				t.Errorf("read %d bytes, want %d", len(got), len(tc.wantData))
			}
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("error = %v, want %v", err, tc.wantErr)
				}
			case tc.wantText != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantText) {
					t.Errorf("error = %v, want one containing %q", err, tc.wantText)
				}
			default:
				if err != nil {
					t.Errorf("error = %v, want none", err)
				}
				// io.ReadAll hides io.EOF; the next Read must return it
				// unwrapped.
				if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
					t.Errorf("Read after the end = %d, %v; want 0, io.EOF", n, err)
				}
			}
		})
	}
}

func TestOpenReaderIsAWellBehavedReader(t *testing.T) {
	data := bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 3000)
	r := OpenReader(t.Context(), &snapshotterDouble{read: chunked(data, nil)}, "s", "f", 512)
	defer r.Close()
	if err := iotest.TestReader(r, data); err != nil {
		t.Fatal(err)
	}
}

// TestOpenReaderClose checks that Close stops a plugin that is still sending
// and waits for it, through both the context and the writer's error.
func TestOpenReaderClose(t *testing.T) {
	var returned atomic.Bool
	var sawCancel atomic.Bool
	started := make(chan struct{})
	read := func(ctx context.Context, _, _ string, _ int, w ChunkWriter) error {
		defer returned.Store(true)
		close(started)
		var off int64
		for {
			if err := w.WriteChunk(off, []byte("endless")); err != nil {
				sawCancel.Store(ctx.Err() != nil)
				return err
			}
			off += 7
		}
	}
	r := OpenReader(t.Context(), &snapshotterDouble{read: read}, "s", "f", 0)
	buf := make([]byte, 3)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	<-started
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !returned.Load() {
		t.Fatal("Close returned before the plugin's Read did")
	}
	if !sawCancel.Load() {
		t.Error("the plugin's context was not cancelled by Close")
	}
	if _, err := r.Read(buf); err == nil || err == io.EOF {
		t.Errorf("Read after Close = %v, want a closed-pipe error", err)
	}
}

func TestChunkWriterFunc(t *testing.T) {
	var gotOff int64
	var gotData string
	w := ChunkWriterFunc(func(off int64, data []byte) error {
		gotOff, gotData = off, string(data)
		return io.ErrShortWrite
	})
	if err := w.WriteChunk(42, []byte("x")); err != io.ErrShortWrite || gotOff != 42 || gotData != "x" {
		t.Fatalf("WriteChunk = %v with (%d, %q)", err, gotOff, gotData)
	}
}
