package plugin

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese/synth"
	"github.com/esesnap/esesnap/host"
	"github.com/esesnap/esesnap/protocol"
)

var (
	benchOnce sync.Once
	benchSet  *synth.Set
	benchErr  error
)

// benchDatabase generates, once per run, a 1 GiB synthetic database with
// every 8 KiB page used; cleanupBench removes it when the tests end.
func benchDatabase(b *testing.B) *synth.Set {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "esesnap-plugin-bench-")
		if err != nil {
			benchErr = err
			return
		}
		benchSet, benchErr = synth.Generate(context.Background(), synth.Options{
			Dir: dir, PageSize: 8192, Pages: 1<<30/8192 - 2, Seed: 7,
		})
		if benchErr != nil {
			os.RemoveAll(dir)
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchSet
}

func cleanupBench() {
	if benchSet != nil {
		os.RemoveAll(benchSet.Dir)
	}
}

// BenchmarkPluginThroughput measures in one run, over the same 1 GiB
// database: (a) a plain read + SHA-256 of the file; a full backup through
// the real plugin process with AutoMTLS, run by host.Backup (which hashes
// every byte with SHA-256 for the manifest and checks the set as verify
// would) into a backupset.NullSink and ended succeeded, (b) with the data pipe
// and (c) without it (gRPC stream only). It reports each in MB/s and the
// ratios b/a and c/a; the goal is b/a >= 0.8.
func BenchmarkPluginThroughput(b *testing.B) {
	set := benchDatabase(b)
	buf := make([]byte, 1<<20)
	plain := func() (int64, error) {
		f, err := os.Open(set.DBPath)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		h := sha256.New()
		n, err := io.CopyBuffer(h, f, buf)
		h.Sum(nil)
		return n, err
	}
	fullBackup := func(s protocol.Snapshotter) func() (int64, error) {
		return func() (int64, error) {
			sink := &backupset.NullSink{}
			res, err := host.Backup(context.Background(), s, host.BackupRequest{
				Kind: protocol.KindFull, Source: protocol.Source{Location: set.Dir},
			}, sink)
			if err != nil {
				return sink.Bytes, err
			}
			if res.Manifest == nil || res.Manifest.Kind != protocol.KindFull {
				return sink.Bytes, fmt.Errorf("full backup committed %+v", res.Manifest)
			}
			return sink.Bytes, nil
		}
	}
	withPipe := launchHelper(b, helperEngine, true)
	if !withPipe.DataPipe() {
		b.Log("no data pipe on this platform: (b) measures the stream too")
	}
	streamOnly := launchHelper(b, helperEngine, false)

	rate := func(fn func() (int64, error)) float64 {
		start := time.Now()
		n, err := fn()
		if err != nil {
			b.Fatal(err)
		}
		if n < 1<<30-1<<20 {
			b.Fatalf("%d bytes, want the 1 GiB database and its logs", n)
		}
		return float64(n) / time.Since(start).Seconds() / 1e6
	}
	plain() // warm the page cache
	var a, pb, sc float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a += rate(plain)
		pb += rate(fullBackup(withPipe.Snapshotter()))
		sc += rate(fullBackup(streamOnly.Snapshotter()))
	}
	n := float64(b.N)
	b.ReportMetric(a/n, "plain-MB/s")
	b.ReportMetric(pb/n, "pipe-MB/s")
	b.ReportMetric(sc/n, "stream-MB/s")
	b.ReportMetric(pb/a, "pipe/plain")
	b.ReportMetric(sc/a, "stream/plain")
}

// hashBackup streams a copy backup of dir through s and ends it aborted,
// hashing every byte of every file with SHA-256, and returns how many bytes
// were streamed: the transport alone, without host.Backup.
func hashBackup(s protocol.Snapshotter, dir string) (int64, error) {
	ctx := context.Background()
	id, err := s.Begin(ctx, protocol.BeginRequest{Kind: protocol.KindCopy, Source: protocol.Source{Location: dir}})
	if err != nil {
		return 0, err
	}
	defer s.End(ctx, id, protocol.EndRequest{Outcome: protocol.OutcomeAborted})
	var total int64
	var h hash.Hash
	w := protocol.ChunkWriterFunc(func(_ int64, data []byte) error {
		h.Write(data)
		total += int64(len(data))
		return nil
	})
	for {
		files, err := s.Files(ctx, id)
		if err != nil {
			return total, err
		}
		if len(files) == 0 {
			return total, nil
		}
		for _, f := range files {
			h = sha256.New()
			if err := s.Read(ctx, id, f.Name, 0, w); err != nil {
				return total, err
			}
			h.Sum(nil)
		}
	}
}
