package dirsnap_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/conformance"
	"github.com/esesnap/esesnap/conformance/conformancetest"
	"github.com/esesnap/esesnap/examples/dirsnap"
	"github.com/esesnap/esesnap/plugin"
	"github.com/esesnap/esesnap/protocol"
	"google.golang.org/grpc/codes"
)

// sourceDir makes a directory with files of the given sizes (random bytes)
// and returns it with their contents.
func sourceDir(t *testing.T, sizes map[string]int) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	want := map[string][]byte{}
	for name, size := range sizes {
		data := make([]byte, size)
		rand.Read(data)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		want[name] = data
	}
	return dir, want
}

func begin(t *testing.T, s protocol.Snapshotter, dir string) string {
	t.Helper()
	id, err := s.Begin(t.Context(), protocol.BeginRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: dir}})
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	return id
}

// wantCode checks that err is a *protocol.Error without a domain (dirsnap
// has none) that travels with gRPC code want and names its operation.
func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	var e *protocol.Error
	if !errors.As(err, &e) || e.Domain != "" || e.Op == "" {
		t.Fatalf("want a *protocol.Error without domain, with an op, got %T %v", err, err)
	}
	if got := protocol.CodeOf(err); got != want {
		t.Fatalf("gRPC code %v, want %v; the error was %v", got, want, err)
	}
}

var discard = protocol.ChunkWriterFunc(func(int64, []byte) error { return nil })

func TestBackupStreamsTopLevelFiles(t *testing.T) {
	dir, want := sourceDir(t, map[string]int{"a.txt": 3, "b.bin": 200<<10 + 1, "empty": 0})
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "nested"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Symlink(filepath.Join(dir, "a.txt"), filepath.Join(dir, "link")) // may fail on Windows; it is skipped either way

	s := dirsnap.New(nil)
	ctx := t.Context()
	id := begin(t, s, dir)
	files, err := s.Files(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Fatalf("listed %v, want the %d regular files at the top", files, len(want))
	}
	for _, f := range files {
		data, ok := want[filepath.Base(f.Name)]
		if !ok || f.Name != filepath.Join(dir, filepath.Base(f.Name)) || f.Role != protocol.RoleOther || f.Size != int64(len(data)) {
			t.Fatalf("listed %+v", f)
		}
		var got bytes.Buffer
		err := s.Read(ctx, id, f.Name, protocol.MinChunkBytes, protocol.ChunkWriterFunc(func(off int64, p []byte) error {
			if off != int64(got.Len()) || len(p) > protocol.MinChunkBytes {
				t.Fatalf("%s: chunk of %d bytes at %d after %d bytes", f.Name, len(p), off, got.Len())
			}
			got.Write(p)
			return nil
		}))
		if err != nil || !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("%s: read %d bytes (%v), want %d", f.Name, got.Len(), err, len(data))
		}
	}
	if files, err := s.Files(ctx, id); err != nil || len(files) != 0 {
		t.Fatalf("second Files: %v %v, want the empty batch", files, err)
	}
	res, err := s.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeSucceeded, TruncateLogs: true})
	if err != nil || res.Recorded != "" || len(res.Truncated) != 0 || len(res.Warnings) != 1 {
		t.Fatalf("End: %+v %v", res, err)
	}
}

func TestBeginRefuses(t *testing.T) {
	dir, _ := sourceDir(t, map[string]int{"f": 1})
	for _, tc := range []struct {
		name string
		req  protocol.BeginRequest
		want codes.Code
	}{
		{"incremental", protocol.BeginRequest{Kind: protocol.KindIncremental, Source: protocol.Source{Location: dir}}, codes.InvalidArgument},
		{"differential", protocol.BeginRequest{Kind: protocol.KindDifferential, Source: protocol.Source{Location: dir}}, codes.InvalidArgument},
		{"no kind", protocol.BeginRequest{Source: protocol.Source{Location: dir}}, codes.InvalidArgument},
		{"no directory", protocol.BeginRequest{Kind: protocol.KindFull}, codes.InvalidArgument},
		{"missing directory", protocol.BeginRequest{Kind: protocol.KindCopy, Source: protocol.Source{Location: filepath.Join(dir, "nope")}}, codes.NotFound},
		{"a file", protocol.BeginRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: filepath.Join(dir, "f")}}, codes.InvalidArgument},
		{"unknown option", protocol.BeginRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: dir, Options: map[string]string{"x": "1"}}}, codes.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dirsnap.New(nil).Begin(t.Context(), tc.req)
			wantCode(t, err, tc.want)
		})
	}
}

func TestOneSessionPerDirectory(t *testing.T) {
	dir, _ := sourceDir(t, map[string]int{"f": 1})
	other, _ := sourceDir(t, map[string]int{"g": 1})
	s := dirsnap.New(nil)
	ctx := t.Context()
	id := begin(t, s, dir)
	_, err := s.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindCopy, Source: protocol.Source{Location: dir + string(filepath.Separator) + "."}})
	wantCode(t, err, codes.AlreadyExists)
	id2 := begin(t, s, other)
	if _, err := s.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeAborted}); err != nil {
		t.Fatal(err)
	}
	id3 := begin(t, s, dir)
	if id3 == id || id3 == id2 {
		t.Fatalf("session ids repeat: %s %s %s", id, id2, id3)
	}
}

func TestSequenceErrors(t *testing.T) {
	dir, _ := sourceDir(t, map[string]int{"f": 10, "g": 10})
	s := dirsnap.New(nil)
	ctx := t.Context()

	_, err := s.Files(ctx, "nope")
	wantCode(t, err, codes.FailedPrecondition)
	wantCode(t, s.Read(ctx, "nope", "f", 0, discard), codes.FailedPrecondition)
	_, err = s.End(ctx, "nope", protocol.EndRequest{Outcome: protocol.OutcomeAborted})
	wantCode(t, err, codes.FailedPrecondition)

	id := begin(t, s, dir)
	wantCode(t, s.Read(ctx, id, filepath.Join(dir, "f"), 0, discard), codes.InvalidArgument) // not listed yet
	files, err := s.Files(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Files(ctx, id)
	wantCode(t, err, codes.FailedPrecondition)
	if err := s.Read(ctx, id, files[0].Name, 0, discard); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.Read(ctx, id, files[0].Name, 0, discard), codes.InvalidArgument)
	_, err = s.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeSucceeded})
	wantCode(t, err, codes.FailedPrecondition)
	// The refused End aborted the session: it is over, a retried End
	// repeats the abort and the directory is free.
	_, err = s.Files(ctx, id)
	wantCode(t, err, codes.FailedPrecondition)
	// A session the plugin aborted never ends succeeded; End(aborted) is
	// accepted.
	_, err = s.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeSucceeded})
	wantCode(t, err, codes.Aborted)
	if _, err := s.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeAborted}); err != nil {
		t.Fatalf("End(aborted) of the aborted session: %v", err)
	}
	begin(t, s, dir)
}

func TestReadOfVanishedFile(t *testing.T) {
	dir, _ := sourceDir(t, map[string]int{"f": 10})
	s := dirsnap.New(nil)
	id := begin(t, s, dir)
	files, err := s.Files(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(files[0].Name); err != nil {
		t.Fatal(err)
	}
	err = s.Read(t.Context(), id, files[0].Name, 0, discard)
	wantCode(t, err, codes.NotFound)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("in process, %v is not fs.ErrNotExist", err)
	}
	// The code, the operation and the file survive the trip through a
	// gRPC status.
	remote := protocol.FromStatus(protocol.ToStatus(err))
	wantCode(t, remote, codes.NotFound)
	var e *protocol.Error
	if errors.As(remote, &e); e.Op != "Read" || e.File != files[0].Name || e.Status != codes.NotFound {
		t.Errorf("host-side error %#v", e)
	}
}

func TestConformanceInProcess(t *testing.T) {
	dir, _ := sourceDir(t, map[string]int{"big.bin": 1<<20 + 5, "small": 7, "empty": 0})
	conformancetest.Run(t, conformance.Target{
		Snapshotter: dirsnap.New(nil),
		Source:      protocol.Source{Location: dir},
		Restart:     func() (protocol.Snapshotter, error) { return dirsnap.New(nil), nil },
	})
}

// TestConformancePluginProcess builds dirsnap-plugin and runs the suite
// against it through plugin.Launch, as a host would.
func TestConformancePluginProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and launches the plugin binary")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the plugin with")
	}
	bin := filepath.Join(t.TempDir(), "dirsnap-plugin")
	if filepath.Separator == '\\' {
		bin += ".exe"
	}
	build := exec.Command(gobin, "build", "-o", bin, "github.com/esesnap/esesnap/examples/dirsnap/cmd/dirsnap-plugin")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// A large file, so that a stream cancelled on its first chunk is still
	// running when the cancellation reaches the plugin.
	dir, _ := sourceDir(t, map[string]int{"big.bin": 16 << 20, "small": 7, "empty": 0})
	for _, transport := range []struct {
		name   string
		noPipe bool
	}{{"data-pipe", false}, {"grpc-stream", true}} {
		t.Run(transport.name, func(t *testing.T) {
			launch := func() (*plugin.Client, error) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				c, err := plugin.Launch(ctx, plugin.ClientConfig{Path: bin, DisableDataPipe: transport.noPipe})
				if err == nil {
					t.Cleanup(func() { c.Close() })
				}
				return c, err
			}
			c, err := launch()
			if err != nil {
				t.Fatal(err)
			}
			conformancetest.Run(t, conformance.Target{
				Snapshotter: c.Snapshotter(),
				Source:      protocol.Source{Location: dir},
				Restart: func() (protocol.Snapshotter, error) {
					c.Kill() // a crash: no End, no graceful stop
					c2, err := launch()
					if err != nil {
						return nil, err
					}
					return c2.Snapshotter(), nil
				},
			})
		})
	}
}

// TestNoOptions checks that dirsnap describes no options and refuses an
// ESE option (such as log-dir, which an old host sent as a field) by name.
func TestNoOptions(t *testing.T) {
	dir, _ := sourceDir(t, map[string]int{"f": 1})
	s := dirsnap.New(nil)
	info, err := s.Info(t.Context())
	if err != nil || len(info.Options) != 0 {
		t.Fatalf("Info options %v, %v", info.Options, err)
	}
	_, err = s.Begin(t.Context(), protocol.BeginRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: dir, Options: map[string]string{"log-dir": dir}}})
	wantCode(t, err, codes.InvalidArgument)
	if !strings.Contains(err.Error(), `unknown option "log-dir": the plugin takes no options`) {
		t.Fatalf("error %v", err)
	}
}
