package engine

import (
	"context"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/ese/synth"
)

var (
	benchOnce sync.Once
	benchSet  *synth.Set
	benchErr  error
)

// benchDatabase generates one 1 GiB synthetic database (every page used)
// shared by the benchmarks of a run.
func benchDatabase(b *testing.B) *synth.Set {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "esesnap-bench-")
		if err != nil {
			benchErr = err
			return
		}
		benchSet, benchErr = synth.Generate(context.Background(), synth.Options{
			Dir: dir, PageSize: 8192, Pages: 1<<30/8192 - 2, Seed: 7,
		})
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchSet
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchSet != nil {
		os.RemoveAll(benchSet.Dir)
	}
	os.Exit(code)
}

// BenchmarkVerifyVsSHA256File measures, in one run over the same 1 GiB
// synthetic database file, (a) a plain read + sha256, (b) a read + page
// verification, and (c) the engine's streamed backup read (which verifies
// every page), and reports b/a and c/a. Target: verify/sha256 >= 2.
func BenchmarkVerifyVsSHA256File(b *testing.B) {
	set := benchDatabase(b)
	st, err := os.Stat(set.DBPath)
	if err != nil {
		b.Fatal(err)
	}
	size := st.Size()
	buf := make([]byte, 1<<20)
	timeIt := func(fn func() error) float64 {
		start := time.Now()
		if err := fn(); err != nil {
			b.Fatal(err)
		}
		return float64(size) / time.Since(start).Seconds() / 1e6
	}
	shaRead := func() error {
		f, err := os.Open(set.DBPath)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		_, err = io.CopyBuffer(h, f, buf)
		return err
	}
	verifyRead := func() error {
		f, err := os.Open(set.DBPath)
		if err != nil {
			return err
		}
		defer f.Close()
		tally, err := format.VerifyDatabase(context.Background(), f, size, set.PageSize, nil)
		if err == nil && tally.Bad != 0 {
			b.Fatalf("%d bad pages in a generated database", tally.Bad)
		}
		return err
	}
	engineRead := func() error {
		in, err := Open(Config{LogDir: set.Dir, Databases: []string{set.DBPath}})
		if err != nil {
			return err
		}
		if err := in.BeginExternalBackup(0); err != nil {
			return err
		}
		defer in.EndExternalBackup(ese.BackupEndAbort)
		h, _, err := in.OpenFile(filepath.Clean(set.DBPath))
		if err != nil {
			return err
		}
		abuf := ese.AlignedBuffer(1 << 20)
		for {
			n, err := in.ReadFile(h, abuf)
			if err != nil {
				return err
			}
			if n == 0 {
				return in.CloseFile(h)
			}
		}
	}
	shaRead() // warm the page cache
	var sha, ver, eng float64
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sha += timeIt(shaRead)
		ver += timeIt(verifyRead)
		eng += timeIt(engineRead)
	}
	n := float64(b.N)
	b.ReportMetric(sha/n, "sha256-MB/s")
	b.ReportMetric(ver/n, "verify-MB/s")
	b.ReportMetric(eng/n, "engine-MB/s")
	b.ReportMetric(ver/sha, "verify/sha256")
	b.ReportMetric(eng/sha, "engine/sha256")
}
