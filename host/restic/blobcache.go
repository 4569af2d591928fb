package restic

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/esesnap/esesnap/internal/durable"
)

// The estimate needs the ids of the data blobs a repository holds, and
// `restic list blobs` costs a key derivation plus a read of every index
// file on each backup. For a local repository esesnap keeps that list in
// a cache file, valid while the repository's index directory holds exactly
// the index files it held when the list was made (index files are never
// changed in place: restic writes new ones and deletes old ones). After a
// backup whose estimate matched restic's data_added, the stream's own
// chunk ids are added and the new index file recorded, so the next backup
// needs no restic call at all. The file holds blob ids, which are hashes
// of the backed-up data, so it is written with mode 0600 like restic's own
// cache. Another writer's index files make the cache stale (see update); a
// prediction from the cache that still lands far from data_added drops it
// (see Sink.Commit).

// blobCacheMagic starts a blob cache file; the version is in the name.
const blobCacheMagic = "ESBLOBS1"

// blobCache is what knownBlobs found for a local repository, with what
// it needs to update the cache after the backup.
type blobCache struct {
	path       string   // the cache file, "" when there is none
	dir        string   // the repository directory
	configFile string   // configFileSum when the list was made
	names      []string // the index directory before the backup
	fromCache  bool     // the set came from the cache file
}

// indexNames lists a local repository's index directory, sorted.
func indexNames(dir string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(dir, "index"))
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names, nil
}

// knownBlobs is DataBlobs, without running restic when a local
// repository's index directory is empty (restic knows no blobs there) or
// unchanged since the cached list was made.
func (o Options) knownBlobs(ctx context.Context) (BlobSet, *blobCache, error) {
	dir := o.localDir()
	if dir == "" {
		set, err := DataBlobs(ctx, o)
		return set, nil, err
	}
	bc := &blobCache{path: o.cachePath(".blobs"), dir: dir, configFile: o.configFileSum()}
	names, err := indexNames(dir)
	bc.names = names
	if err == nil && len(names) == 0 {
		return BlobSet{}, bc, nil
	}
	if err == nil && bc.path != "" {
		if set, err := readBlobCache(bc.path, bc.configFile, names); err == nil {
			bc.fromCache = true
			return set, bc, nil
		}
	}
	set, lerr := DataBlobs(ctx, o)
	if lerr != nil {
		return nil, nil, lerr
	}
	if err == nil {
		// names were read before restic listed: an index file written
		// meanwhile makes the next listing differ, so the cache errs on
		// the side of listing again.
		bc.write(names, set)
	}
	return set, bc, nil
}

// update records set as the repository's blobs after a backup, if the
// index directory changed by exactly one new file: the index restic wrote
// at the end of this backup. Anything else (a writer that finished while
// this backup ran, an index rewritten by prune, a backup so large that
// restic wrote several indexes) removes the cache instead, so the next
// backup lists the blobs again. Failure only costs that, too.
func (bc *blobCache) update(set BlobSet) {
	if bc == nil || bc.path == "" {
		return
	}
	names, err := indexNames(bc.dir)
	if err != nil || len(names) != len(bc.names)+1 {
		bc.forget()
		return
	}
	for _, n := range bc.names {
		if _, found := slices.BinarySearch(names, n); !found {
			bc.forget()
			return
		}
	}
	bc.write(names, set)
}

// forget removes the cache file.
func (bc *blobCache) forget() {
	if bc != nil && bc.path != "" {
		os.Remove(bc.path)
	}
}

func (bc *blobCache) write(names []string, set BlobSet) {
	if bc.path == "" {
		return
	}
	var b bytes.Buffer
	b.WriteString(blobCacheMagic)
	writeString(&b, bc.configFile)
	binary.Write(&b, binary.LittleEndian, uint32(len(names)))
	for _, n := range names {
		writeString(&b, n)
	}
	binary.Write(&b, binary.LittleEndian, uint64(len(set)))
	for id := range set {
		b.Write(id[:])
	}
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:])
	_ = durable.WriteFileAtomic(bc.path, b.Bytes(), 0o600) // failure only costs a restic list blobs
}

func writeString(b *bytes.Buffer, s string) {
	binary.Write(b, binary.LittleEndian, uint16(len(s)))
	b.WriteString(s)
}

// errStaleBlobCache is a cache file made for another state of the
// repository.
var errStaleBlobCache = errors.New("blob cache is stale")

// readBlobCache reads a cache file and returns its set if it was made for
// the repository whose config file hashes to configFile and whose index
// directory held exactly names.
func readBlobCache(path, configFile string, names []string) (BlobSet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < len(blobCacheMagic)+sha256.Size || string(data[:len(blobCacheMagic)]) != blobCacheMagic {
		return nil, fmt.Errorf("%s: not a blob cache", path)
	}
	body := data[:len(data)-sha256.Size]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], data[len(body):]) {
		return nil, fmt.Errorf("%s: damaged (checksum mismatch)", path)
	}
	r := bytes.NewReader(body[len(blobCacheMagic):])
	cf, err := readString(r)
	if err != nil || cf != configFile {
		return nil, errStaleBlobCache
	}
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil || int(n) != len(names) {
		return nil, errStaleBlobCache
	}
	for _, want := range names {
		if got, err := readString(r); err != nil || got != want {
			return nil, errStaleBlobCache
		}
	}
	var count uint64
	if err := binary.Read(r, binary.LittleEndian, &count); err != nil || count != uint64(r.Len())/sha256.Size || uint64(r.Len())%sha256.Size != 0 {
		return nil, fmt.Errorf("%s: damaged (blob count)", path)
	}
	set := make(BlobSet, count)
	var id BlobID
	for range count {
		r.Read(id[:])
		set[id] = struct{}{}
	}
	return set, nil
}

func readString(r *bytes.Reader) (string, error) {
	var n uint16
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return "", err
	}
	if int(n) > r.Len() {
		return "", errStaleBlobCache
	}
	b := make([]byte, n)
	r.Read(b)
	return string(b), nil
}
