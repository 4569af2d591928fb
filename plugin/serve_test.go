package plugin

import (
	"context"
	"crypto/sha256"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/esesnap/esesnap/protocol/snapshotv1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
)

// TestHostWatch: the server's watch fires once, when the last connection
// ends, and not before.
func TestHostWatch(t *testing.T) {
	gone := make(chan struct{}, 2)
	watch := &hostWatch{onGone: func() { gone <- struct{}{} }}
	lis := bufconn.Listen(1 << 20)
	s := grpc.NewServer(serverOptions(watch)...)
	watch.setServer(s)
	snapshotv1.RegisterSnapshotServiceServer(s, newGRPCServer(panicDouble{}, nil, nil))
	go s.Serve(lis)
	defer s.Stop()

	dial := func() *grpc.ClientConn {
		conn, err := grpc.NewClient("passthrough:///bufconn",
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
			grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := snapshotv1.NewSnapshotServiceClient(conn).Info(context.Background(), &snapshotv1.Info_Request{}); err != nil {
			t.Fatal(err)
		}
		return conn
	}
	a, b := dial(), dial()
	a.Close()
	select {
	case <-gone:
		t.Fatal("the watch fired while a connection was still open")
	case <-time.After(200 * time.Millisecond):
	}
	b.Close()
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the watch did not fire after the last connection ended")
	}
	select {
	case <-gone:
		t.Fatal("the watch fired twice")
	case <-time.After(200 * time.Millisecond):
	}
}

func fileSHA256(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return h.Sum(nil)
}
