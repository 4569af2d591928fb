package backupset

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func deltaRandom(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// indexOf returns the complete BlockIndex of data, file hash included.
func indexOf(data []byte, blockSize int) *BlockIndex {
	x := NewIndexer(blockSize)
	x.Write(data)
	idx := x.Index()
	sum := sha256.Sum256(data)
	idx.SHA256 = hex.EncodeToString(sum[:])
	return idx
}

// TestDeltaRoundTrip makes the delta of a new version of a file against
// the index of its base, rebuilds the new version from base + delta, and
// checks the bytes and how many blocks the delta had to hold.
func TestDeltaRoundTrip(t *testing.T) {
	const bs = 4096
	base := deltaRandom(1, 64*bs+100) // a short tail block
	flip := func(b []byte, offs ...int) []byte {
		c := bytes.Clone(b)
		for _, o := range offs {
			c[o] ^= 0x40
		}
		return c
	}
	tests := []struct {
		name        string
		next        []byte
		wantChanged int64
	}{
		{"unchanged", base, 0},
		{"two pages", flip(base, 3*bs+5, 40*bs), 2},
		{"two bytes of one page", flip(base, 7*bs, 7*bs+bs-1), 1},
		{"the tail", flip(base, 64*bs+99), 1},
		{"grown by two pages", append(bytes.Clone(base[:64*bs]), deltaRandom(2, 2*bs+100)...), 3},
		{"shrunk", base[:10*bs], 0},
		{"shrunk mid-page", base[:10*bs+17], 1},
	}
	idx := indexOf(base, bs)
	if len(idx.Hashes) != 65 || idx.Size != int64(len(base)) {
		t.Fatalf("index of %d bytes: %d hashes", idx.Size, len(idx.Hashes))
	}
	dir := t.TempDir()
	basePath := filepath.Join(dir, "base.edb")
	os.WriteFile(basePath, base, 0o644)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var spool bytes.Buffer
			dw := NewDeltaWriter(&spool, idx)
			for off := 0; off < len(tt.next); off += 3000 { // writes not aligned to blocks
				dw.Write(tt.next[off:min(off+3000, len(tt.next))])
			}
			changed, blocks, size, err := dw.Close()
			if err != nil {
				t.Fatal(err)
			}
			if changed != tt.wantChanged || size != int64(len(tt.next)) || blocks != (size+bs-1)/bs {
				t.Fatalf("changed %d of %d blocks, %d bytes; want %d changed of %d bytes", changed, blocks, size, tt.wantChanged, len(tt.next))
			}
			delta := spool.Bytes()
			PatchDeltaSize(writerAtBuffer(delta), size)
			deltaPath := filepath.Join(dir, "d"+string(rune('a'+i)))
			os.WriteFile(deltaPath, delta, 0o644)
			sum := sha256.Sum256(tt.next)
			fd := &FileDelta{BaseSHA256: idx.SHA256, BlockSize: bs, Changed: changed}
			out := filepath.Join(dir, "out"+string(rune('a'+i)))
			if err := ApplyDelta(basePath, deltaPath, out, fd, size, hex.EncodeToString(sum[:])); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(out)
			if !bytes.Equal(got, tt.next) {
				t.Fatal("rebuilt file differs")
			}
			// A damaged delta is refused and leaves no output.
			if changed > 0 {
				bad := bytes.Clone(delta)
				bad[len(bad)-9] ^= 1 // the last byte of the last block
				os.WriteFile(deltaPath, bad, 0o644)
				out2 := out + "-bad"
				err := ApplyDelta(basePath, deltaPath, out2, fd, size, hex.EncodeToString(sum[:]))
				if !errors.Is(err, ErrChecksumMismatch) {
					t.Fatalf("damaged delta: %v", err)
				}
				if _, serr := os.Stat(out2); !os.IsNotExist(serr) {
					t.Fatal("a failed rebuild left its output")
				}
			}
		})
	}
	// The wrong base is refused before anything is rebuilt.
	os.WriteFile(basePath, deltaRandom(9, len(base)), 0o644)
	var spool bytes.Buffer
	dw := NewDeltaWriter(&spool, idx)
	dw.Write(base)
	dw.Close()
	d := spool.Bytes()
	PatchDeltaSize(writerAtBuffer(d), int64(len(base)))
	os.WriteFile(filepath.Join(dir, "dz"), d, 0o644)
	err := ApplyDelta(basePath, filepath.Join(dir, "dz"), filepath.Join(dir, "outz"), &FileDelta{BaseSHA256: idx.SHA256, BlockSize: bs}, int64(len(base)), idx.SHA256)
	if !errors.Is(err, ErrBadDelta) {
		t.Fatalf("wrong base: %v", err)
	}
}

// writerAtBuffer patches bytes in place.
type writerAtBuffer []byte

func (b writerAtBuffer) WriteAt(p []byte, off int64) (int, error) { return copy(b[off:], p), nil }
