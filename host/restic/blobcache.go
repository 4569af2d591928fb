package restic

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

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
//
// A remote repository's index directory (s3:, rest:, sftp:, ...) cannot
// be read without restic, but restic's own cache holds a copy of it:
// every restic run that loads the index lists the repository's index
// files, removes from its cache those that are gone and downloads those
// that are new, and a backup adds the index it writes. The cache file is
// then keyed by that copy (restic's cache directory, <cache>/<repository
// id>/index/), and is valid while it is unchanged. What this host cannot
// see is another host's backup since its own last restic run: its blobs
// are missing from the list until a restic run here picks up its index,
// after which the list is made again. For ESE instances of other hosts,
// whose data hardly deduplicates with this one's, that only lets the
// estimate count a shared chunk as new. Without restic's cache
// (--no-cache) every backup lists the blobs.

// blobCacheMagic starts a blob cache file; the version is in the name.
const blobCacheMagic = "ESBLOBS1"

// blobCache is what knownBlobs found for a repository, with what
// it needs to update the cache after the backup.
type blobCache struct {
	path string // the cache file, "" when there is none
	// list reads the index directory: the repository's own, or for a
	// remote repository restic's cached copy of it.
	list       func() ([]string, error)
	configFile string   // what the list was made for: configFileSum, or restic's cache directory
	names      []string // the index directory before the backup
	named      bool     // names were read
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
		return o.knownRemoteBlobs(ctx)
	}
	bc := &blobCache{path: o.cachePath(".blobs"), list: func() ([]string, error) { return indexNames(dir) }, configFile: o.configFileSum()}
	names, err := bc.list()
	bc.names, bc.named = names, err == nil
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

// knownRemoteBlobs is DataBlobs for a repository behind a backend URL,
// without running restic when restic's cached copy of the index directory
// is unchanged since the cached list was made.
func (o Options) knownRemoteBlobs(ctx context.Context) (BlobSet, *blobCache, error) {
	var bc *blobCache
	if c, ok := o.CachedConfig(); ok {
		bc = o.remoteBlobCache(c.ID)
	}
	if bc != nil {
		// An empty copy says nothing: restic may not have run here yet.
		if names, err := bc.list(); err == nil && len(names) > 0 {
			if set, err := readBlobCache(bc.path, bc.configFile, names); err == nil {
				bc.names, bc.named, bc.fromCache = names, true, true
				return set, bc, nil
			}
		}
	}
	set, err := DataBlobs(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	bc.listed(set)
	return set, bc, nil
}

// remoteBlobCache is the blob cache of o's remote repository whose id is
// repoID, keyed by restic's cached copy of its index directory; nil when
// there is no cache directory of esesnap's or of restic's.
func (o Options) remoteBlobCache(repoID string) *blobCache {
	path, rdir := o.cachePath(".blobs"), o.resticCacheDir()
	if path == "" || rdir == "" || repoID == "" || strings.ContainsAny(repoID, `/\.`) {
		return nil
	}
	idx := filepath.Join(rdir, repoID, "index")
	return &blobCache{path: path, list: func() ([]string, error) { return cachedIndexNames(idx) }, configFile: "restic-cache:" + idx}
}

// listed records set, which restic list blobs just made, for restic's
// cached index directory as that run of restic left it: it brought the
// copy up to date with the repository before it listed the blobs.
func (bc *blobCache) listed(set BlobSet) {
	if bc == nil {
		return
	}
	names, err := bc.list()
	if err != nil {
		return
	}
	bc.names, bc.named = names, true
	bc.write(names, set)
}

// cachedIndexNames lists the index files of restic's cache directory of
// one repository (index/<first two hex digits>/<id>), sorted.
func cachedIndexNames(dir string) ([]string, error) {
	subs, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, sub := range subs {
		if !sub.IsDir() {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(dir, sub.Name()))
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			// Only ids: restic downloads into tmp-* files beside them.
			if _, err := hex.DecodeString(e.Name()); err == nil && len(e.Name()) == 64 {
				names = append(names, e.Name())
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

// resticCacheDir is where restic run with o keeps its cache: --cache-dir,
// RESTIC_CACHE_DIR, or restic's directory in the user cache directory of
// restic's environment; "" with --no-cache.
func (o Options) resticCacheDir() string {
	dir := ""
	for i, a := range o.Args {
		switch {
		case a == "--no-cache":
			return ""
		case a == "--cache-dir" && i+1 < len(o.Args):
			dir = o.Args[i+1]
		case strings.HasPrefix(a, "--cache-dir="):
			dir = strings.TrimPrefix(a, "--cache-dir=")
		}
	}
	if dir != "" {
		return dir
	}
	env := o.environ()
	if v := lookupEnv(env, "RESTIC_CACHE_DIR"); v != "" {
		return v
	}
	if o.Env == nil {
		ucd, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		return filepath.Join(ucd, "restic")
	}
	// os.UserCacheDir, for restic's environment rather than esesnap's.
	var base string
	switch runtime.GOOS {
	case "windows":
		base = lookupEnv(env, "LocalAppData")
	case "darwin", "ios":
		if h := lookupEnv(env, "HOME"); h != "" {
			base = filepath.Join(h, "Library", "Caches")
		}
	default:
		base = lookupEnv(env, "XDG_CACHE_HOME")
		if h := lookupEnv(env, "HOME"); base == "" && h != "" {
			base = filepath.Join(h, ".cache")
		}
	}
	if base == "" || !filepath.IsAbs(base) {
		return ""
	}
	return filepath.Join(base, "restic")
}

// lookupEnv returns the last value of key in env, or "".
func lookupEnv(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if val, ok := strings.CutPrefix(kv, key+"="); ok {
			v = val
		}
	}
	return v
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
	names, err := bc.list()
	if err != nil || !bc.named || len(names) != len(bc.names)+1 {
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
