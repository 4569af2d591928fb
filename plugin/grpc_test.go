package plugin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/protocol"
	"github.com/esesnap/esesnap/protocol/snapshotv1"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// pipeModes are the transports every real-process test runs over: the
// data pipe where the platform has one, and the gRPC stream.
func pipeModes() []bool {
	if runtime.GOOS == "windows" {
		return []bool{false}
	}
	return []bool{true, false}
}

func modeName(pipe bool) string {
	if pipe {
		return "pipe"
	}
	return "stream"
}

// TestBackupThroughPlugin: a backup through the plugin process streams the
// same bytes, and ends the same way, as the driver in-process.
func TestBackupThroughPlugin(t *testing.T) {
	sets := []struct {
		name  string
		dir   func(t *testing.T) string
		chunk int
	}{
		{"synth-small", func(t *testing.T) string { return copySynthSmall(t) }, 64 << 10},
		{"srum-win10-dirty-max-chunk", func(t *testing.T) string { return samples.CopySet(t, "srum-win10-dirty") }, protocol.MaxChunkBytes},
		{"srum-win10-dirty-default-chunk", func(t *testing.T) string { return samples.CopySet(t, "srum-win10-dirty") }, 0},
	}
	for _, set := range sets {
		dir := set.dir(t)
		local := engineDriver(hclog.NewNullLogger())
		want := runBackup(t, local, dir, protocol.KindFull, set.chunk, protocol.OutcomeSucceeded)
		local.Close()
		if len(want.files) < 2 {
			t.Fatalf("%s: the in-process backup streamed only %d files", set.name, len(want.files))
		}
		for _, pipe := range pipeModes() {
			t.Run(set.name+"/"+modeName(pipe), func(t *testing.T) {
				c := launchHelper(t, helperEngine, pipe)
				got := runBackup(t, c.Snapshotter(), dir, protocol.KindFull, set.chunk, protocol.OutcomeSucceeded)
				if len(got.files) != len(want.files) {
					t.Fatalf("streamed %d files, in-process %d", len(got.files), len(want.files))
				}
				for name, w := range want.files {
					if !bytes.Equal(got.files[name], w) {
						t.Fatalf("%s: %d bytes through the plugin differ from %d bytes in-process", name, len(got.files[name]), len(w))
					}
				}
				if fmt.Sprint(got.end) != fmt.Sprint(want.end) {
					t.Fatalf("end result %+v, in-process %+v", got.end, want.end)
				}
				if c.DataPipe() != pipe {
					t.Fatalf("data pipe usable = %t after the backup, want %t", c.DataPipe(), pipe)
				}
			})
		}
	}
}

// TestTypedErrors: JET_errs raised in the plugin arrive with their domain,
// code, file and page, matching errors.Is(err, ese.ErrX).
func TestTypedErrors(t *testing.T) {
	for _, pipe := range pipeModes() {
		t.Run(modeName(pipe), func(t *testing.T) {
			ctx := context.Background()
			c := launchHelper(t, helperEngine, pipe)
			s := c.Snapshotter()

			_, err := s.Files(ctx, "no-such-session")
			if !errors.Is(err, ese.ErrNoBackup) {
				t.Fatalf("Files of an unknown session: %v, want JET_errNoBackup", err)
			}

			dir := copySynthSmall(t)
			src := protocol.BeginRequest{Kind: protocol.KindCopy, Source: protocol.Source{Location: dir}}
			id, err := s.Begin(ctx, src)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Begin(ctx, src)
			if !errors.Is(err, ese.ErrBackupInProgress) {
				t.Fatalf("second Begin: %v, want JET_errBackupInProgress", err)
			}
			if _, err := s.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeAborted}); err != nil {
				t.Fatal(err)
			}

			// A damaged data page of a private copy.
			const pgno = 10
			db := filepath.Join(dir, "synth.edb")
			flipByte(t, db, (pgno+1)*4096+100)
			id, err = s.Begin(ctx, src)
			if err != nil {
				t.Fatal(err)
			}
			defer s.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeAborted})
			files, err := s.Files(ctx, id)
			if err != nil || len(files) != 1 {
				t.Fatalf("files: %v %v", files, err)
			}
			_, err = readAll(ctx, s, id, files[0].Name, 64<<10)
			// The adapter is generic: it rebuilds a *protocol.Error of
			// domain "jet", which an ESE-aware host turns into an
			// *ese.Error (package host registers ese.FromRemote; this
			// test binary links host through the throughput benchmark, so
			// the error may arrive decoded already).
			if c := protocol.CodeOf(err); c != codes.DataLoss {
				t.Fatalf("read of a damaged page: %v has gRPC code %v, want DataLoss", err, c)
			}
			var ee *ese.Error
			if !errors.As(ese.FromRemote(err), &ee) || ee.Code != ese.ErrReadVerifyFailure || ee.Page != pgno || ee.File != files[0].Name {
				t.Fatalf("read of a damaged page: %v (%#v), want JET_errReadVerifyFailure naming %s page %d", err, ee, files[0].Name, pgno)
			}
			if pipe && !c.DataPipe() {
				t.Fatal("a plugin error retired the data pipe; the stream ended in step and should keep it")
			}
		})
	}
}

func flipByte(t *testing.T, path string, off int64) { samples.FlipBits(t, path, off, 0x40) }

// TestPanicBecomesAborted: a panic in the Snapshotter fails that call with
// Aborted, and the plugin keeps serving (through the pipe as well).
func TestPanicBecomesAborted(t *testing.T) {
	for _, pipe := range pipeModes() {
		t.Run(modeName(pipe), func(t *testing.T) {
			ctx := context.Background()
			c := launchHelper(t, helperPanic, pipe)
			s := c.Snapshotter()
			_, err := s.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindCopy})
			if status.Code(err) != codes.Aborted {
				t.Fatalf("Begin that panics: %v (code %s), want Aborted", err, status.Code(err))
			}
			info, err := s.Info(ctx)
			if err != nil || info.Name != "panic-double" {
				t.Fatalf("Info after a panic: %+v %v", info, err)
			}
			if info.Has(CapabilityDataPipe) != pipe {
				t.Fatalf("capabilities %v with pipe=%t", info.Capabilities, pipe)
			}
			_, err = readAll(ctx, s, "s", "panic", 0)
			if status.Code(err) != codes.Aborted {
				t.Fatalf("Read that panics: %v, want Aborted", err)
			}
			got, err := readAll(ctx, s, "s", "fine", 0)
			if err != nil || !bytes.Equal(got, patternBytes("fine")) {
				t.Fatalf("Read after a panic: %d bytes, %v", len(got), err)
			}
			if c.DataPipe() != pipe {
				t.Fatalf("data pipe usable = %t after a panic between chunks, want %t", c.DataPipe(), pipe)
			}
		})
	}
}

// TestCancelAbortsSession: cancelling the host's context in the middle of
// a Read reaches the driver in the plugin, which aborts the ESE session, so
// the instance can be backed up again at once.
func TestCancelAbortsSession(t *testing.T) {
	for _, pipe := range pipeModes() {
		t.Run(modeName(pipe), func(t *testing.T) {
			c := launchHelper(t, helperEngine, pipe)
			s := c.Snapshotter()
			dir := genSet(t, 8192)
			src := protocol.BeginRequest{Kind: protocol.KindCopy, Source: protocol.Source{Location: dir}}
			id, err := s.Begin(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			files, err := s.Files(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			chunks := 0
			err = s.Read(ctx, id, files[0].Name, 64<<10, protocol.ChunkWriterFunc(func(int64, []byte) error {
				chunks++
				cancel()
				return nil
			}))
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled Read: %v after %d chunks, want context.Canceled", err, chunks)
			}
			var again string
			if !waitFor(5*time.Second, func() bool {
				again, err = s.Begin(context.Background(), src)
				return err == nil
			}) {
				t.Fatalf("Begin after the cancelled read: %v", err)
			}
			// The plugin aborted the session when the host stopped reading:
			// it must not end succeeded, and the reason crosses the wire.
			res, err := s.End(context.Background(), id, protocol.EndRequest{Outcome: protocol.OutcomeSucceeded})
			if !errors.Is(err, ese.ErrBackupAbortByServer) || !strings.Contains(err.Error(), "already aborted the session: the host") || res.Recorded != "" {
				t.Fatalf("End(succeeded) of the aborted session: %+v %v, want JET_errBackupAbortByServer naming the reason", res, err)
			}
			if _, err := s.End(context.Background(), id, protocol.EndRequest{Outcome: protocol.OutcomeAborted}); err != nil {
				t.Fatalf("End(aborted) of the aborted session: %v", err)
			}
			if _, err := s.End(context.Background(), again, protocol.EndRequest{Outcome: protocol.OutcomeAborted}); err != nil {
				t.Fatal(err)
			}
			if pipe && c.DataPipe() {
				t.Fatal("the pipe is still in use after a read was abandoned in the middle of the stream")
			}
			// Later backups still work (through the stream if the pipe
			// was retired).
			if n, err := hashBackup(s, dir); err != nil || n < 32<<20 {
				t.Fatalf("backup after the cancelled read: %d bytes, %v", n, err)
			}
		})
	}
}

// dialInProcess serves impl with the server adapter on an in-memory
// connection and returns the client adapter, for adapter behaviour that
// needs no process.
func dialInProcess(t *testing.T, srv snapshotv1.SnapshotServiceServer) protocol.Snapshotter {
	t.Helper()
	lis := bufconn.Listen(4 << 20)
	s := grpc.NewServer()
	snapshotv1.RegisterSnapshotServiceServer(s, srv)
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	//lint:ignore SA1012 a nil done context means no plugin process to watch (the server runs in this process)
	return newGRPCClient(nil, snapshotv1.NewSnapshotServiceClient(conn), nil)
}

// badServer misbehaves on purpose: Read sends the chunks set by the test;
// End fails with a result.
type badServer struct {
	snapshotv1.UnimplementedSnapshotServiceServer
	chunks []*snapshotv1.Read_Chunk
}

func (b *badServer) Read(_ *snapshotv1.Read_Request, stream grpc.ServerStreamingServer[snapshotv1.Read_Chunk]) error {
	for _, c := range b.chunks {
		if err := stream.Send(c); err != nil {
			return err
		}
	}
	return nil
}

func (b *badServer) End(ctx context.Context, req *snapshotv1.End_Request) (*snapshotv1.End_Response, error) {
	// What grpcServer.End does with a result and an error.
	srv := newGRPCServer(endWithError{}, nil, nil)
	return srv.End(ctx, req)
}

// endWithError's End records the backup but fails truncation.
type endWithError struct{ panicDouble }

func (endWithError) End(context.Context, string, protocol.EndRequest) (protocol.EndResult, error) {
	return protocol.EndResult{Recorded: "bkinfoFullPrev", Metadata: []protocol.Metadata{protocol.LogRange{GenLow: 1, GenHigh: 4, BaseName: "edb"}.Metadata()}, Warnings: []string{"logs were not truncated"}},
		&ese.Error{Code: ese.ErrLogDiskFull, Op: "JetTruncateLogInstance"}
}

// TestClientChecksStream: the host refuses streams that do not add up.
func TestClientChecksStream(t *testing.T) {
	cases := []struct {
		name   string
		chunks []*snapshotv1.Read_Chunk
		want   string
	}{
		{"gap", []*snapshotv1.Read_Chunk{{Offset: 0, Data: []byte("abc")}, {Offset: 4, Data: []byte("d")}}, "offset 4, want 3"},
		{"overlap", []*snapshotv1.Read_Chunk{{Offset: 0, Data: []byte("abc")}, {Offset: 2, Data: []byte("d")}}, "offset 2, want 3"},
		{"piped bytes unasked", []*snapshotv1.Read_Chunk{{Offset: 0, PipedBytes: 10}}, "piped"},
		{"fine", []*snapshotv1.Read_Chunk{{Offset: 0, Data: []byte("abc")}, {Offset: 3}, {Offset: 3, Data: []byte("d")}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := dialInProcess(t, &badServer{chunks: tc.chunks})
			got, err := readAll(context.Background(), s, "s", "f", 0)
			switch {
			case tc.want == "" && (err != nil || string(got) != "abcd"):
				t.Fatalf("got %q, %v", got, err)
			case tc.want != "" && (err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want))):
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestEndResultWithError: a result returned with an error crosses too.
func TestEndResultWithError(t *testing.T) {
	s := dialInProcess(t, &badServer{})
	res, err := s.End(context.Background(), "s", protocol.EndRequest{Outcome: protocol.OutcomeSucceeded, TruncateLogs: true})
	if !errors.Is(err, ese.ErrLogDiskFull) {
		t.Fatalf("End error %v, want JET_errLogDiskFull", err)
	}
	if res.Recorded != "bkinfoFullPrev" || res.LogRange().GenHigh != 4 || len(res.Warnings) != 1 {
		t.Fatalf("End result lost: %+v", res)
	}
}
