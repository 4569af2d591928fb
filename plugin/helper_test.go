package plugin

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esesnap/esesnap/internal/samples"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/driver"
	"github.com/esesnap/esesnap/ese/engine"
	"github.com/esesnap/esesnap/ese/synth"
	"github.com/esesnap/esesnap/protocol"
	"github.com/hashicorp/go-hclog"
)

// Real-process tests re-execute this test binary as the plugin (go-plugin's
// helperProcess pattern): Launch starts os.Args[0] with envHelper naming
// what to serve, and TestMain serves it instead of running tests.
const envHelper = "ESESNAP_PLUGIN_TEST_HELPER"

// Helper modes.
const (
	helperEngine  = "engine"  // the ESE driver over the pure-Go engine
	helperPanic   = "panic"   // panicDouble
	helperGarbage = "garbage" // prints a line that is no handshake
	helperExit    = "exit"    // exits at once with a message
	helperHost    = "host"    // a host that begins a backup and waits to be killed
)

// fixedNow is the engine clock of both the in-process reference and the
// helper plugin, so that the backup marks in streamed headers match.
var fixedNow = time.Date(2025, time.June, 1, 8, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envHelper); mode != "" {
		os.Exit(runHelper(mode))
	}
	code := m.Run()
	cleanupBench()
	os.Exit(code)
}

func runHelper(mode string) int {
	logger := hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true, Level: hclog.Warn})
	switch mode {
	case helperEngine:
		if !IsPluginProcess() {
			fmt.Fprintln(os.Stderr, "not started by a host")
			return 1
		}
		Serve(engineDriver(logger), logger)
		return 0
	case helperPanic:
		Serve(panicDouble{}, logger)
		return 0
	case helperGarbage:
		fmt.Println("hello, I am not a plugin")
		return 0
	case helperExit:
		fmt.Fprintln(os.Stderr, "cannot start: no configuration")
		return 3
	case helperHost:
		return runHostHelper()
	}
	fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
	return 2
}

// engineDriver is the driver the helper plugin serves and the tests run
// in-process as the reference: the engine over Source.Location,
// writable when Options["writable"] is "true", with a fixed clock and no
// read retries.
func engineDriver(log hclog.Logger) *driver.Driver {
	return driver.New(driver.Config{
		Name:    "test-engine",
		Version: "0.0.1",
		Open: func(ctx context.Context, src protocol.Source) (*driver.Instance, error) {
			writable := src.Options["writable"] == "true"
			in, err := engine.Open(engine.Config{
				LogDir:   src.Location,
				Writable: writable,
				Now:      func() time.Time { return fixedNow },
				Logger:   log,
			})
			if err != nil {
				return nil, err
			}
			return &driver.Instance{API: in, RecordsBackups: writable, Close: func() error { return in.Term(ese.TermAbrupt) }}, nil
		},
		IdleTimeout: time.Minute,
		Logger:      log,
	})
}

// panicDouble is a Snapshotter that panics on demand: Begin always, Read
// of "panic" after one chunk. Read of any other file streams
// patternBytes(file) in three chunks.
type panicDouble struct{}

func (panicDouble) Info(context.Context) (protocol.Info, error) {
	return protocol.Info{Name: "panic-double", Version: "1", Kinds: []protocol.Kind{protocol.KindCopy}, MaxChunkBytes: protocol.MaxChunkBytes}, nil
}

func (panicDouble) Begin(context.Context, protocol.BeginRequest) (string, error) {
	panic("Begin exploded")
}

func (panicDouble) Files(context.Context, string) ([]protocol.File, error) { return nil, nil }

func (panicDouble) Read(ctx context.Context, session, file string, chunkBytes int, w protocol.ChunkWriter) error {
	data := patternBytes(file)
	if file == "panic" {
		if err := w.WriteChunk(0, data[:1000]); err != nil {
			return err
		}
		panic("Read exploded")
	}
	third := len(data) / 3
	for off := 0; off < len(data); off += third {
		if err := w.WriteChunk(int64(off), data[off:min(off+third, len(data))]); err != nil {
			return err
		}
	}
	return nil
}

func (panicDouble) End(context.Context, string, protocol.EndRequest) (protocol.EndResult, error) {
	return protocol.EndResult{}, nil
}

func (panicDouble) Restore(context.Context, protocol.RestoreRequest) (protocol.RestoreResult, error) {
	return protocol.RestoreResult{}, &ese.Error{Code: ese.ErrInvalidParameter, Op: "Restore"}
}

// patternBytes is 300 KiB of bytes derived from name.
func patternBytes(name string) []byte {
	b := make([]byte, 300<<10)
	for i := range b {
		b[i] = byte(i*7 + len(name))
	}
	return b
}

// launchHelper starts this test binary as a plugin in mode and closes it
// when the test ends.
func launchHelper(t testing.TB, mode string, pipe bool, extraEnv ...string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Launch(ctx, ClientConfig{
		Path:            os.Args[0],
		Env:             append([]string{envHelper + "=" + mode}, extraEnv...),
		Logger:          testLogger(t),
		DisableDataPipe: !pipe,
	})
	if err != nil {
		t.Fatalf("launch %s plugin: %v", mode, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testLogger logs to t until the test ends; go-plugin's goroutines may
// still log after that, which testing does not allow.
func testLogger(t testing.TB) hclog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.stop)
	return hclog.New(&hclog.LoggerOptions{Name: "host", Output: w, Level: hclog.Warn})
}

type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

// copySynthSmall copies testdata/synth-small into a temporary directory
// (tests take locks and may damage pages).
func copySynthSmall(t testing.TB) string { return samples.SynthSmall(t) }

// backupResult is everything a session streamed, by file base name, and
// how it ended.
type backupResult struct {
	files map[string][]byte
	end   protocol.EndResult
}

// runBackup takes a full session of kind over dir through s and ends it
// with outcome.
func runBackup(t testing.TB, s protocol.Snapshotter, dir string, kind protocol.Kind, chunk int, outcome protocol.Outcome) backupResult {
	t.Helper()
	ctx := context.Background()
	id, err := s.Begin(ctx, protocol.BeginRequest{Kind: kind, Source: protocol.Source{Location: dir}})
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	res := backupResult{files: map[string][]byte{}}
	for {
		files, err := s.Files(ctx, id)
		if err != nil {
			s.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeAborted})
			t.Fatalf("files: %v", err)
		}
		if len(files) == 0 {
			break
		}
		for _, f := range files {
			var buf bytes.Buffer
			err := s.Read(ctx, id, f.Name, chunk, protocol.ChunkWriterFunc(func(off int64, data []byte) error {
				if off != int64(buf.Len()) {
					return fmt.Errorf("chunk at %d, want %d", off, buf.Len())
				}
				buf.Write(data)
				return nil
			}))
			if err != nil {
				s.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeAborted})
				t.Fatalf("read %s: %v", f.Name, err)
			}
			res.files[filepath.Base(f.Name)] = buf.Bytes()
		}
	}
	res.end, err = s.End(ctx, id, protocol.EndRequest{Outcome: outcome})
	if err != nil {
		t.Fatalf("end: %v", err)
	}
	return res
}

// readAll reads one file of a session and returns its bytes or the error.
func readAll(ctx context.Context, s protocol.Snapshotter, id, file string, chunk int) ([]byte, error) {
	var buf bytes.Buffer
	err := s.Read(ctx, id, file, chunk, protocol.ChunkWriterFunc(func(off int64, data []byte) error {
		buf.Write(data)
		return nil
	}))
	return buf.Bytes(), err
}

// waitFor polls cond until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// genSet generates a clean synthetic set with a database of pages 4 KiB
// pages, large enough that the plugin is still streaming when a test
// interferes after the first chunk.
func genSet(t testing.TB, pages uint32) string {
	t.Helper()
	set, err := synth.Generate(context.Background(), synth.Options{Dir: t.TempDir(), Pages: pages, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	return set.Dir
}
