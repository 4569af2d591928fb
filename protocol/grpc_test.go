package protocol

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/esesnap/esesnap/protocol/snapshotv1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// serverDouble is a test double of the generated SnapshotService server: it
// fails Begin with whatever error the test set, and streams the set chunks
// from Read before failing (or not) the same way. Like the real plugin
// adapter, it passes every error through ToStatus. Other RPCs stay
// unimplemented.
type serverDouble struct {
	snapshotv1.UnimplementedSnapshotServiceServer

	mu      sync.Mutex
	err     error    // returned by Begin and at the end of Read
	chunks  [][]byte // sent by Read before err
	blockOn bool     // Read waits for its context instead
}

func (d *serverDouble) set(err error, chunks [][]byte, block bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.err, d.chunks, d.blockOn = err, chunks, block
}

func (d *serverDouble) Begin(ctx context.Context, _ *snapshotv1.Begin_Request) (*snapshotv1.Begin_Response, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return nil, ToStatus(d.err)
	}
	return &snapshotv1.Begin_Response{SessionId: "s1"}, nil
}

func (d *serverDouble) Read(req *snapshotv1.Read_Request, stream grpc.ServerStreamingServer[snapshotv1.Read_Chunk]) error {
	d.mu.Lock()
	err, chunks, block := d.err, d.chunks, d.blockOn
	d.mu.Unlock()
	if block {
		<-stream.Context().Done()
		return ToStatus(stream.Context().Err())
	}
	var off int64
	for _, c := range chunks {
		if err := stream.Send(&snapshotv1.Read_Chunk{Offset: off, Data: c}); err != nil {
			return ToStatus(err)
		}
		off += int64(len(c))
	}
	return ToStatus(err)
}

// dialDouble serves a serverDouble on an in-memory listener and returns a
// client of it.
func dialDouble(t *testing.T) (*serverDouble, snapshotv1.SnapshotServiceClient) {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	d := &serverDouble{}
	snapshotv1.RegisterSnapshotServiceServer(srv, d)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return d, snapshotv1.NewSnapshotServiceClient(conn)
}

// TestGRPCEveryCode sends coded errors over every gRPC code through a real
// gRPC connection, as returned by a server method.
func TestGRPCEveryCode(t *testing.T) {
	d, client := dialDouble(t)
	ctx := t.Context()
	for _, in := range codedErrors() {
		d.set(in, nil, false)
		_, err := client.Begin(ctx, &snapshotv1.Begin_Request{Kind: snapshotv1.Kind_KIND_FULL})
		if got := status.Code(err); got != in.Status {
			t.Errorf("%v: status code %v, want %v", in, got, in.Status)
		}
		if d := detailOf(t, err); d == nil || d.GetDomain() != in.Domain || d.GetCode() != in.Code || d.GetRetryable() != in.Retryable {
			t.Errorf("%v: detail %v", in, d)
		}
		checkRebuilt(t, FromStatus(err), in)
	}
}

// TestGRPCReadFailsMidStream checks that a Read stream delivers the chunks
// sent before a failure, then the failure with its code.
func TestGRPCReadFailsMidStream(t *testing.T) {
	d, client := dialDouble(t)
	chunks := [][]byte{bytes.Repeat([]byte{1}, 1000), bytes.Repeat([]byte{2}, 500)}
	damaged := &Error{Domain: DomainJET, Code: -1018, Name: "JET_errReadVerifyFailure", Status: codes.DataLoss,
		Op: "JetReadFileInstance", File: "ntds.dit", Page: 77}
	for _, tc := range []struct {
		name string
		err  error
	}{{"clean end", nil}, {"damaged page", damaged}} {
		t.Run(tc.name, func(t *testing.T) {
			d.set(tc.err, chunks, false)
			stream, err := client.Read(t.Context(), &snapshotv1.Read_Request{SessionId: "s1", File: "ntds.dit"})
			if err != nil {
				t.Fatal(err)
			}
			var got []*snapshotv1.Read_Chunk
			for {
				c, err := stream.Recv()
				if err == io.EOF {
					if tc.err != nil {
						t.Fatal("stream ended cleanly, want the failure")
					}
					break
				}
				if err != nil {
					if tc.err == nil {
						t.Fatalf("Recv: %v", err)
					}
					if status.Code(err) != codes.DataLoss {
						t.Errorf("status code %v, want DataLoss", status.Code(err))
					}
					checkRebuilt(t, FromStatus(err), damaged)
					break
				}
				got = append(got, c)
			}
			if len(got) != 2 || got[1].GetOffset() != 1000 || !bytes.Equal(got[1].GetData(), chunks[1]) {
				t.Errorf("received %d chunks: %v", len(got), got)
			}
		})
	}
}

// TestGRPCContext checks cancellation and deadlines both ways: the host's
// own context ending, and the plugin reporting a context error.
func TestGRPCContext(t *testing.T) {
	d, client := dialDouble(t)

	d.set(context.Canceled, nil, false)
	_, err := client.Begin(t.Context(), &snapshotv1.Begin_Request{})
	if err = FromStatus(err); !errors.Is(err, context.Canceled) || status.Code(err) != codes.Canceled {
		t.Errorf("plugin-side cancel arrived as %v", err)
	}

	d.set(nil, nil, true)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	stream, err := client.Read(ctx, &snapshotv1.Read_Request{})
	if err == nil {
		_, err = stream.Recv()
	}
	if err = FromStatus(err); !errors.Is(err, context.DeadlineExceeded) || status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("deadline arrived as %v", err)
	}

	ctx2, cancel2 := context.WithCancel(t.Context())
	defer cancel2()
	stream, err = client.Read(ctx2, &snapshotv1.Read_Request{})
	if err == nil {
		time.AfterFunc(20*time.Millisecond, cancel2)
		_, err = stream.Recv()
	}
	if err = FromStatus(err); !errors.Is(err, context.Canceled) {
		t.Errorf("host-side cancel arrived as %v", err)
	}
}

// TestGRPCUnimplemented checks that a status without a detail, here an RPC
// the plugin lacks, reaches the host unchanged.
func TestGRPCUnimplemented(t *testing.T) {
	_, client := dialDouble(t)
	_, err := client.Restore(t.Context(), &snapshotv1.Restore_Request{})
	got := FromStatus(err)
	if status.Code(got) != codes.Unimplemented {
		t.Errorf("got %v, want Unimplemented", got)
	}
	var e *Error
	if errors.As(got, &e) {
		t.Errorf("%v claims a code", got)
	}
}
