package backupset

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/esesnap/esesnap/protocol"
)

// DefaultBlockSize is the delta block size of a database whose page size
// the plugin did not say: the smallest page size of current ESE versions,
// so a changed page is one or more whole blocks.
const DefaultBlockSize = 4096

// DeltaReporter is implemented by sinks that store some files as page
// deltas; Backup records what FileDelta returns in the file's manifest
// entry.
type DeltaReporter interface {
	// FileDelta returns how the file named name (closed already) was
	// stored, or nil when it was stored whole.
	FileDelta(name string) *FileDelta
}

// DeltaSink stores the databases of a set as page deltas against the
// indexes of a base set, and every other file as it is, in the sink it
// wraps. A database without a base index in Bases is stored whole, and its
// index is kept in Indexes, to make this set the base of later ones.
type DeltaSink struct {
	Sink
	// Base names the base set (a restic snapshot id) in the manifests.
	Base string
	// Bases holds the base's block index of each database, by set name.
	Bases map[string]*BlockIndex
	// TempDir is where deltas are spooled until their size is known; empty
	// means os.TempDir().
	TempDir string

	// Indexes receives the index of every database stored whole.
	Indexes map[string]*BlockIndex
	deltas  map[string]*FileDelta
	open    *deltaFile // a delta being spooled, removed by Abort
}

// Abort removes a delta still being spooled, then aborts the wrapped sink.
func (s *DeltaSink) Abort() error {
	if s.open != nil {
		s.open.spool.Close()
		os.Remove(s.open.spool.Name())
		s.open = nil
	}
	return s.Sink.Abort()
}

var _ DeltaReporter = (*DeltaSink)(nil)

// FileDelta implements DeltaReporter.
func (s *DeltaSink) FileDelta(name string) *FileDelta { return s.deltas[name] }

// Create stores databases as deltas (or whole, indexing them) and other
// files as they are.
func (s *DeltaSink) Create(e Entry) (io.WriteCloser, error) {
	if e.Role != protocol.RoleDatabase {
		return s.Sink.Create(e)
	}
	blockSize := e.PageSize
	if blockSize <= 0 {
		blockSize = DefaultBlockSize
	}
	if s.Indexes == nil {
		s.Indexes, s.deltas = map[string]*BlockIndex{}, map[string]*FileDelta{}
	}
	base := s.Bases[e.Name]
	if base == nil || base.BlockSize != blockSize {
		w, err := s.Sink.Create(e)
		if err != nil {
			return nil, err
		}
		x := NewIndexer(blockSize)
		return &indexingFile{WriteCloser: w, x: x, done: func() { s.Indexes[e.Name] = x.Index() }}, nil
	}
	spool, err := os.CreateTemp(s.TempDir, "esesnap-delta-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: delta spool: %w", e.Name, err)
	}
	s.open = &deltaFile{sink: s, e: e, base: base, spool: spool, dw: NewDeltaWriter(spool, base)}
	return s.open, nil
}

// Commit passes the manifest on, and completes the indexes with the
// files' SHA-256 from it.
func (s *DeltaSink) Commit(ctx context.Context, manifest []byte, modTime time.Time) error {
	if len(s.Indexes) > 0 {
		m, err := ReadManifest(bytes.NewReader(manifest))
		if err != nil {
			return err
		}
		for _, f := range m.Files {
			if idx := s.Indexes[f.Name]; idx != nil {
				if idx.Size != f.Size {
					return fmt.Errorf("page index of %s covers %d bytes, the manifest says %d", f.Name, idx.Size, f.Size)
				}
				idx.SHA256 = f.SHA256
			}
		}
	}
	return s.Sink.Commit(ctx, manifest, modTime)
}

type indexingFile struct {
	io.WriteCloser
	x    *Indexer
	done func()
}

func (f *indexingFile) Write(p []byte) (int, error) {
	n, err := f.WriteCloser.Write(p)
	f.x.Write(p[:n])
	return n, err
}

func (f *indexingFile) Close() error {
	if err := f.WriteCloser.Close(); err != nil {
		return err
	}
	f.done()
	return nil
}

// deltaFile spools the delta of one database, then stores it as the entry
// <name>.delta.
type deltaFile struct {
	sink  *DeltaSink
	e     Entry
	base  *BlockIndex
	spool *os.File
	dw    *DeltaWriter
}

func (f *deltaFile) Write(p []byte) (int, error) { return f.dw.Write(p) }

func (f *deltaFile) Close() (err error) {
	defer func() {
		f.spool.Close()
		os.Remove(f.spool.Name())
		f.sink.open = nil
	}()
	changed, blocks, size, err := f.dw.Close()
	if err != nil {
		return fmt.Errorf("store %s: delta spool: %w", f.e.Name, err)
	}
	if err := PatchDeltaSize(f.spool, size); err != nil {
		return fmt.Errorf("store %s: delta spool: %w", f.e.Name, err)
	}
	st, err := f.spool.Stat()
	if err != nil {
		return err
	}
	name := f.e.Name + ".delta"
	w, err := f.sink.Sink.Create(Entry{Name: name, Size: st.Size(), ModTime: f.e.ModTime})
	if err != nil {
		return err
	}
	h := sha256.New()
	if _, err := f.spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(io.MultiWriter(w, h), f.spool); err != nil {
		return fmt.Errorf("store %s: %w", name, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("store %s: %w", name, err)
	}
	f.sink.deltas[f.e.Name] = &FileDelta{
		Base: f.sink.Base, BaseSHA256: f.base.SHA256, BaseSize: f.base.Size,
		Entry: name, EntrySize: st.Size(), EntrySHA256: hex.EncodeToString(h.Sum(nil)),
		BlockSize: f.base.BlockSize, Blocks: blocks, Changed: changed,
	}
	return nil
}
