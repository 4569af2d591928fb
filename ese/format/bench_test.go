package format

import (
	"crypto/sha256"
	"math/rand/v2"
	"testing"
	"time"
)

var benchPageSizes = []struct {
	name string
	size int
}{{"4K", 4096}, {"16K", 16384}, {"32K", 32768}}

// validPages returns n bytes of random pages of size ps with valid
// XOR+ECC checksums for pgnos 1, 2, ...
func validPages(tb testing.TB, n, ps int) []byte {
	tb.Helper()
	buf := make([]byte, n)
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	_, _ = rng.Read(buf)
	for i := 0; i+ps <= n; i += ps {
		SetPageChecksum(buf[i:i+ps], uint32(i/ps+1))
	}
	return buf
}

// sink keeps the compiler from discarding benchmark results.
var sink uint64

func BenchmarkVerifyPage(b *testing.B) {
	for _, bp := range benchPageSizes {
		b.Run(bp.name, func(b *testing.B) {
			page := validPages(b, bp.size, bp.size)
			b.SetBytes(int64(bp.size))
			b.ReportAllocs()
			for b.Loop() {
				if VerifyPage(page, 1).Status != PageOK {
					b.Fatal("page does not verify")
				}
			}
		})
	}
}

func BenchmarkSHA256Page(b *testing.B) {
	for _, bp := range benchPageSizes {
		b.Run(bp.name, func(b *testing.B) {
			page := validPages(b, bp.size, bp.size)
			b.SetBytes(int64(bp.size))
			for b.Loop() {
				s := sha256.Sum256(page)
				sink += uint64(s[0])
			}
		})
	}
}

func BenchmarkXEChecksum8K(b *testing.B) {
	block := validPages(b, 8192, 8192)
	b.SetBytes(8192)
	for b.Loop() {
		sink += XEChecksum(block, 1, true)
	}
}

// BenchmarkVerifyVsSHA256 verifies and hashes the same 64 MiB of valid pages
// in the same run and reports how many times faster verification is than
// SHA-256 (which a backup computes anyway) as "verify/sha256".
func BenchmarkVerifyVsSHA256(b *testing.B) {
	const total = 64 << 20
	for _, bp := range benchPageSizes {
		b.Run(bp.name, func(b *testing.B) {
			ps := bp.size
			buf := validPages(b, total, ps)
			b.SetBytes(total)
			var tVerify, tSHA time.Duration
			for b.Loop() {
				start := time.Now()
				pgno := uint32(1)
				for i := 0; i < total; i += ps {
					if VerifyPage(buf[i:i+ps], pgno).Status != PageOK {
						b.Fatalf("page %d does not verify", pgno)
					}
					pgno++
				}
				mid := time.Now()
				h := sha256.New()
				h.Write(buf)
				sink += uint64(h.Sum(nil)[0])
				end := time.Now()
				tVerify += mid.Sub(start)
				tSHA += end.Sub(mid)
			}
			if tVerify > 0 {
				b.ReportMetric(float64(tSHA)/float64(tVerify), "verify/sha256")
				b.ReportMetric(float64(b.N)*total/tVerify.Seconds()/1e6, "verify-MB/s")
				b.ReportMetric(float64(b.N)*total/tSHA.Seconds()/1e6, "sha256-MB/s")
			}
		})
	}
}
