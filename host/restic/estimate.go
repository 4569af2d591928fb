package restic

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"sort"
	"sync"

	"github.com/restic/chunker"
)

// BlobID is a restic blob id: the SHA-256 of the blob's plaintext.
type BlobID [sha256.Size]byte

// BlobSet is a set of blob ids, such as the data blobs a repository holds.
type BlobSet map[BlobID]struct{}

// Estimator predicts, while a stream is being written to restic, how much
// of it restic will store as new data. It cuts the stream into chunks
// exactly as `restic backup` does (github.com/restic/chunker with the
// repository's own polynomial), hashes each chunk with SHA-256 (restic's
// blob id), and counts a chunk as new when its id is neither in the
// repository nor earlier in the same stream. Mark attributes the bytes that
// follow to a named part of the stream (a file of a tar), so the estimate
// can say how much of the database and how much of the logs is new.
//
// Write hands the bytes to a chunking goroutine and returns once it has
// taken them; call Close after the last byte, then Result.
type Estimator struct {
	pw   *io.PipeWriter
	done chan struct{}
	// local: the repository holds no data blobs, so chunks need ids only
	// to find repeats within the stream, and a fast 64-bit hash (with the
	// chunk's length) stands in for SHA-256.
	local bool
	seed  maphash.Seed

	mu      sync.Mutex
	written int64
	marks   []mark
	chunks  []chunkRecord
	err     error // from the chunking goroutine
}

type mark struct {
	name  string
	start int64
}

type chunkRecord struct {
	start  int64
	length int64
	id     BlobID
}

// zeroChunkID is the id of an all-zero chunk of chunker.MinSize bytes,
// which restic also special-cases: large zero runs cut into such chunks.
var zeroChunkID = BlobID(sha256.Sum256(make([]byte, chunker.MinSize)))

// The size of restic's tree blob for one --stdin file: `"<64 hex>",` per
// chunk plus about 250 bytes of node metadata (name, mode, times, owner).
const (
	treeBytesPerChunk = 67
	treeBytesFixed    = 250
)

// NewEstimator starts an estimator for a repository whose chunker
// polynomial is pol.
func NewEstimator(pol chunker.Pol) *Estimator { return newEstimator(pol, false) }

// NewLocalEstimator starts an estimator for a repository that holds no
// data blobs yet: its Result must be given an empty set. It skips SHA-256
// (a third of the estimate's cost) since no chunk id is looked up.
func NewLocalEstimator(pol chunker.Pol) *Estimator { return newEstimator(pol, true) }

func newEstimator(pol chunker.Pol, local bool) *Estimator {
	pr, pw := io.Pipe()
	e := &Estimator{pw: pw, done: make(chan struct{}), local: local, seed: maphash.MakeSeed()}
	go e.chunk(pr, pol)
	return e
}

func (e *Estimator) chunk(pr *io.PipeReader, pol chunker.Pol) {
	defer close(e.done)
	c := chunker.New(pr, pol)
	buf := make([]byte, chunker.MaxSize)
	for {
		ch, err := c.Next(buf)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			e.mu.Lock()
			e.err = err
			e.mu.Unlock()
			pr.CloseWithError(err)
			return
		}
		var id BlobID
		if e.local {
			binary.LittleEndian.PutUint64(id[:8], maphash.Bytes(e.seed, ch.Data))
			binary.LittleEndian.PutUint64(id[8:16], uint64(len(ch.Data)))
		} else if len(ch.Data) == chunker.MinSize && allZero(ch.Data) {
			id = zeroChunkID
		} else {
			id = sha256.Sum256(ch.Data)
		}
		e.mu.Lock()
		e.chunks = append(e.chunks, chunkRecord{start: int64(ch.Start), length: int64(ch.Length), id: id})
		e.mu.Unlock()
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Mark says that the bytes written from now on belong to name.
func (e *Estimator) Mark(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.marks = append(e.marks, mark{name: name, start: e.written})
}

// Write feeds p to the chunker.
func (e *Estimator) Write(p []byte) (int, error) {
	n, err := e.pw.Write(p)
	e.mu.Lock()
	e.written += int64(n)
	e.mu.Unlock()
	if err != nil {
		return n, fmt.Errorf("estimate restic's new data: %w", err)
	}
	return n, nil
}

// Close ends the stream and waits until every chunk is hashed.
func (e *Estimator) Close() error {
	e.pw.Close()
	<-e.done
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// Estimate is what an Estimator predicts restic adds for a stream.
type Estimate struct {
	// Bytes is the length of the stream.
	Bytes int64 `json:"bytes"`
	// NewBytes is the plaintext size of the chunks restic will store: what
	// restic reports as data_added, apart from its own tree blobs.
	NewBytes int64 `json:"new_bytes"`
	// Chunks and NewChunks count restic's chunks of the stream.
	Chunks    int `json:"chunks"`
	NewChunks int `json:"new_chunks"`
	// TreeBytes estimates the tree blob restic writes for the snapshot:
	// its JSON lists the id of every chunk (67 bytes each) besides the
	// file's metadata. It is new at every backup, since it holds the
	// backup time. data_added is about NewBytes + TreeBytes.
	TreeBytes int64 `json:"tree_bytes"`
	// Parts splits the stream by the names given to Mark, in stream order.
	Parts []PartEstimate `json:"parts"`
}

// PartEstimate is the share of one named part of the stream (for a tar,
// its header, data and padding). A chunk that spans parts counts in each
// for the bytes it covers.
type PartEstimate struct {
	Name     string `json:"name"`
	Bytes    int64  `json:"bytes"`
	NewBytes int64  `json:"new_bytes"`
}

// AddIDs adds the blob id of every chunk of the stream to set, after
// Close. It returns false, adding nothing, for an Estimator made with
// NewLocalEstimator, whose chunk ids are not restic's.
func (e *Estimator) AddIDs(set BlobSet) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.local {
		return false
	}
	for _, c := range e.chunks {
		set[c.id] = struct{}{}
	}
	return true
}

// Result classifies the chunks after Close: a chunk is new unless known
// holds its id or an earlier chunk of the stream had the same id.
func (e *Estimator) Result(known BlobSet) Estimate {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.local && len(known) > 0 {
		panic("restic: Result of a local Estimator with known blobs")
	}
	est := Estimate{Bytes: e.written, Chunks: len(e.chunks), TreeBytes: treeBytesPerChunk*int64(len(e.chunks)) + treeBytesFixed}
	marks := e.marks
	if len(marks) == 0 || marks[0].start > 0 {
		marks = append([]mark{{name: "", start: 0}}, marks...)
	}
	for i, m := range marks {
		end := e.written
		if i+1 < len(marks) {
			end = marks[i+1].start
		}
		est.Parts = append(est.Parts, PartEstimate{Name: m.name, Bytes: end - m.start})
	}
	seen := make(BlobSet, len(e.chunks))
	for _, c := range e.chunks {
		if _, ok := known[c.id]; ok {
			continue
		}
		if _, ok := seen[c.id]; ok {
			continue
		}
		seen[c.id] = struct{}{}
		est.NewBytes += c.length
		est.NewChunks++
		// Attribute the chunk's bytes to every part it overlaps.
		first := sort.Search(len(marks), func(i int) bool { return marks[i].start > c.start }) - 1
		for i := max(first, 0); i < len(marks) && marks[i].start < c.start+c.length; i++ {
			lo, hi := max(c.start, marks[i].start), c.start+c.length
			if i+1 < len(marks) {
				hi = min(hi, marks[i+1].start)
			}
			if hi > lo {
				est.Parts[i].NewBytes += hi - lo
			}
		}
	}
	return est
}
