package backupset

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/esesnap/esesnap/internal/durable"
)

// A page delta stores a database of a set as the blocks (pages) that differ
// from the same file in an earlier, complete set, its base. Backup tools
// that deduplicate with content-defined chunks (restic: 512 KiB to 8 MiB)
// store a whole chunk again for every changed 8 KiB page, so 1% of pages
// changed at random makes them store about half the database again; a
// delta holds just the changed pages, and the unchanged ones stay in the
// base.
//
// The delta entry is: the magic "ESDELTA1", the block size (uint32) and the
// file size (uint64), then one record per changed block, in increasing
// order of index: its index (uint64) and its bytes (a whole block, or the
// shorter tail of the file), then the index 2^64-1 as the end mark.
// Integers are little-endian.

// DeltaFormatVersion is the manifest format version of a set holding page
// deltas: a reader of version 1 would miss the database, so it must refuse
// the set.
const DeltaFormatVersion = 2

var deltaMagic = [8]byte{'E', 'S', 'D', 'E', 'L', 'T', 'A', '1'}

const deltaEnd = ^uint64(0)

// BlockHashBytes is the length of a block hash in a BlockIndex: the first
// 16 bytes of the block's SHA-256.
const BlockHashBytes = 16

// BlockIndex lists the block hashes of one file, to find which blocks of
// a later version of it changed.
type BlockIndex struct {
	BlockSize int
	Size      int64
	// SHA256 is the lower-case hex SHA-256 of the whole file; the Indexer
	// leaves it to the caller, who has it already (the manifest).
	SHA256 string
	Hashes [][BlockHashBytes]byte
}

// FileDelta says that a file of a set is stored as a page delta: the set
// holds Entry, the blocks that differ from the file in the base set.
// The file's Size and SHA256 in the manifest are those of the whole file,
// which restoring rebuilds and checks.
type FileDelta struct {
	// Base identifies the base set, such as a restic snapshot id.
	Base string `json:"base"`
	// BaseSHA256 and BaseSize are the file's hash and size in the base.
	BaseSHA256 string `json:"base_sha256"`
	BaseSize   int64  `json:"base_size"`
	// Entry is the name of the delta in this set, with its size and hash.
	Entry       string `json:"entry"`
	EntrySize   int64  `json:"entry_size"`
	EntrySHA256 string `json:"entry_sha256"`
	// BlockSize is the database page size; Blocks the file's block count
	// and Changed how many of them the delta holds.
	BlockSize int   `json:"block_size"`
	Blocks    int64 `json:"blocks"`
	Changed   int64 `json:"changed"`
}

// blockSplitter cuts a stream into blocks of a fixed size and calls block
// for each (the last one may be shorter).
type blockSplitter struct {
	size  int
	buf   []byte
	index int64
	block func(index int64, b []byte) error
}

func (s *blockSplitter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(s.buf) == 0 && len(p) >= s.size {
			if err := s.block(s.index, p[:s.size]); err != nil {
				return 0, err
			}
			s.index++
			p = p[s.size:]
			continue
		}
		take := min(s.size-len(s.buf), len(p))
		s.buf = append(s.buf, p[:take]...)
		p = p[take:]
		if len(s.buf) == s.size {
			if err := s.block(s.index, s.buf); err != nil {
				return 0, err
			}
			s.index++
			s.buf = s.buf[:0]
		}
	}
	return n, nil
}

// flush passes the short tail block, if any.
func (s *blockSplitter) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	err := s.block(s.index, s.buf)
	s.index++
	s.buf = s.buf[:0]
	return err
}

func blockHash(b []byte) [BlockHashBytes]byte {
	sum := sha256.Sum256(b)
	return [BlockHashBytes]byte(sum[:BlockHashBytes])
}

// Indexer computes the BlockIndex of a stream written to it (all but
// SHA256).
type Indexer struct {
	split blockSplitter
	size  int64
	idx   BlockIndex
}

// NewIndexer returns an Indexer for blocks of blockSize bytes.
func NewIndexer(blockSize int) *Indexer {
	x := &Indexer{idx: BlockIndex{BlockSize: blockSize}}
	x.split = blockSplitter{size: blockSize, block: func(_ int64, b []byte) error {
		x.idx.Hashes = append(x.idx.Hashes, blockHash(b))
		return nil
	}}
	return x
}

// Write adds p to the stream.
func (x *Indexer) Write(p []byte) (int, error) {
	x.size += int64(len(p))
	return x.split.Write(p)
}

// Index ends the stream and returns its index.
func (x *Indexer) Index() *BlockIndex {
	x.split.flush()
	x.idx.Size = x.size
	return &x.idx
}

// DeltaWriter writes the page delta of a stream against a base index to w.
type DeltaWriter struct {
	w       *bufio.Writer
	base    *BlockIndex
	split   blockSplitter
	size    int64
	changed int64
	head    bool
	err     error
}

// NewDeltaWriter returns a DeltaWriter against base, writing to w.
func NewDeltaWriter(w io.Writer, base *BlockIndex) *DeltaWriter {
	d := &DeltaWriter{w: bufio.NewWriterSize(w, 1<<20), base: base}
	d.split = blockSplitter{size: base.BlockSize, block: d.block}
	return d
}

func (d *DeltaWriter) block(i int64, b []byte) error {
	if i < int64(len(d.base.Hashes)) && len(b) == d.base.BlockSize && blockHash(b) == d.base.Hashes[i] {
		return nil
	}
	if i == int64(len(d.base.Hashes))-1 && len(b) < d.base.BlockSize && i*int64(d.base.BlockSize)+int64(len(b)) == d.base.Size && blockHash(b) == d.base.Hashes[i] {
		return nil // the same short tail
	}
	var rec [8]byte
	binary.LittleEndian.PutUint64(rec[:], uint64(i))
	d.w.Write(rec[:])
	_, err := d.w.Write(b)
	d.changed++
	return err
}

// Write adds p to the stream.
func (d *DeltaWriter) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if !d.head {
		d.head = true
		d.w.Write(deltaMagic[:])
		var h [12]byte
		binary.LittleEndian.PutUint32(h[:4], uint32(d.base.BlockSize))
		d.w.Write(h[:]) // the size is patched in by Close
	}
	d.size += int64(len(p))
	n, err := d.split.Write(p)
	if err != nil {
		d.err = err
	}
	return n, err
}

// Close writes the last block and the end mark and flushes. The caller
// patches the file size at offset 12 with PatchDeltaSize, since it is
// known only now.
func (d *DeltaWriter) Close() (changed, blocks, size int64, err error) {
	if !d.head {
		d.Write(nil)
	}
	if err := d.split.flush(); err != nil {
		return 0, 0, 0, err
	}
	var end [8]byte
	binary.LittleEndian.PutUint64(end[:], deltaEnd)
	d.w.Write(end[:])
	if err := d.w.Flush(); err != nil {
		return 0, 0, 0, err
	}
	return d.changed, d.split.index, d.size, nil
}

// PatchDeltaSize writes the file size into the header of a delta entry.
func PatchDeltaSize(f io.WriterAt, size int64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(size))
	_, err := f.WriteAt(b[:], 12)
	return err
}

// ErrDeltaSet is a set that holds page deltas: it can be verified only
// once restoring has rebuilt its databases from the base.
var ErrDeltaSet = errors.New("set holds page deltas")

// ErrBadDelta is a delta entry that cannot be applied.
var ErrBadDelta = errors.New("bad page delta")

// ApplyDelta rebuilds a file from its base and a delta entry in one pass:
// it reads the base and the delta in step, writes out (which must not
// exist) and hashes all three, then checks that the base is the file the
// delta was made against and that the result has the size and SHA-256 the
// manifest wants. out is removed on failure.
func ApplyDelta(basePath, deltaPath, outPath string, fd *FileDelta, wantSize int64, wantSHA256 string) (err error) {
	base, err := os.Open(basePath)
	if err != nil {
		return err
	}
	defer base.Close()
	df, err := os.Open(deltaPath)
	if err != nil {
		return err
	}
	defer df.Close()
	r := bufio.NewReaderSize(df, 1<<20)
	var head [20]byte
	if _, err := io.ReadFull(r, head[:]); err != nil || !bytes.Equal(head[:8], deltaMagic[:]) {
		return fmt.Errorf("%w: %s has no delta header", ErrBadDelta, deltaPath)
	}
	bs := int64(binary.LittleEndian.Uint32(head[8:12]))
	size := int64(binary.LittleEndian.Uint64(head[12:20]))
	if bs != int64(fd.BlockSize) || bs <= 0 || size != wantSize {
		return fmt.Errorf("%w: %s says block size %d and size %d, the manifest %d and %d", ErrBadDelta, deltaPath, bs, size, fd.BlockSize, wantSize)
	}
	out, err := os.OpenFile(outPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(outPath)
		}
	}()
	baseHash, outHash := sha256.New(), sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(base, baseHash), 1<<20)
	w := bufio.NewWriterSize(io.MultiWriter(out, outHash), 1<<20)
	nextRecord := func() (uint64, error) {
		var rec [8]byte
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			return 0, fmt.Errorf("%w: %s ends without its end mark: %v", ErrBadDelta, deltaPath, err)
		}
		return binary.LittleEndian.Uint64(rec[:]), nil
	}
	next, err := nextRecord()
	if err != nil {
		return err
	}
	block := make([]byte, bs)
	var changed int64
	for i := int64(0); i*bs < size; i++ {
		n := min(bs, size-i*bs)
		got, _ := io.ReadFull(br, block[:n]) // the base's block, short or empty past its end
		switch {
		case next == uint64(i):
			if _, err := io.ReadFull(r, block[:n]); err != nil {
				return fmt.Errorf("%w: %s: block %d is cut short: %v", ErrBadDelta, deltaPath, i, err)
			}
			changed++
			if next, err = nextRecord(); err != nil {
				return err
			}
		case int64(got) < n:
			return fmt.Errorf("%w: block %d is neither in base %s nor in %s", ErrBadDelta, i, basePath, deltaPath)
		}
		if _, err := w.Write(block[:n]); err != nil {
			return err
		}
	}
	if next != deltaEnd {
		return fmt.Errorf("%w: %s has block %d out of order or beyond the file's %d bytes", ErrBadDelta, deltaPath, next, size)
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return fmt.Errorf("read base %s: %w", basePath, err)
	}
	if got := hex.EncodeToString(baseHash.Sum(nil)); got != fd.BaseSHA256 {
		return fmt.Errorf("%w: base %s is not the file the delta was made against (SHA-256 %s, want %s)", ErrBadDelta, basePath, got, fd.BaseSHA256)
	}
	if changed != fd.Changed {
		return fmt.Errorf("%w: %s holds %d blocks, the manifest says %d", ErrBadDelta, deltaPath, changed, fd.Changed)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if got := hex.EncodeToString(outHash.Sum(nil)); got != wantSHA256 {
		return fmt.Errorf("%w: the rebuilt %s has SHA-256 %s, the manifest says %s", ErrChecksumMismatch, outPath, got, wantSHA256)
	}
	return out.Sync()
}

// ResolveDeltas turns an extracted set in dir whose manifest m holds page
// deltas into an ordinary set: base(fd) returns the path of the base's
// copy of a file (an extracted, verified base set), each file is rebuilt
// from it and its delta entry and checked against the manifest, the delta
// entries are removed, and the manifest is rewritten without deltas. A set
// without deltas is left alone. It returns the rewritten manifest.
func ResolveDeltas(dir string, m *Manifest, base func(f ManifestFile) (string, error)) (*Manifest, error) {
	out := *m
	out.Files = append([]ManifestFile(nil), m.Files...)
	resolved := false
	for i, f := range out.Files {
		if f.Delta == nil {
			continue
		}
		basePath, err := base(f)
		if err != nil {
			return nil, fmt.Errorf("base of %s: %w", f.Name, err)
		}
		entry := filepath.Join(dir, f.Delta.Entry)
		if err := ApplyDelta(basePath, entry, filepath.Join(dir, f.Name), f.Delta, f.Size, f.SHA256); err != nil {
			return nil, fmt.Errorf("rebuild %s from base %s: %w", f.Name, f.Delta.Base, err)
		}
		if err := os.Remove(entry); err != nil {
			return nil, err
		}
		out.Files[i].Delta = nil
		resolved = true
	}
	if !resolved {
		return m, nil
	}
	out.FormatVersion = FormatVersion
	data, err := out.Marshal()
	if err != nil {
		return nil, err
	}
	if err := durable.WriteFileAtomic(filepath.Join(dir, ManifestName), data, 0o644); err != nil {
		return nil, err
	}
	return &out, nil
}
