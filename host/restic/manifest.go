package restic

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/internal/durable"
)

// tarBlock is the tar format's block size: headers start on its multiples.
const tarBlock = 512

// maxManifestTail bounds how much of the end of a set ReadManifest fetches
// looking for the manifest (backupset reads manifests up to 64 MiB).
const maxManifestTail = 72 << 20

// ErrNoManifest means a snapshot's file does not end with an esesnap
// manifest: it is not a backup set (or not a whole one).
var ErrNoManifest = errors.New("the snapshot holds no esesnap backup set")

// ReadManifest returns the manifest of the backup set (a tar stream) that
// snapshot s holds, without reading the whole set: the manifest is the
// tar's last entry, so it fetches the file's content blobs from the end
// (restic cat tree, restic cat blob) until the tail holds the manifest's
// entry followed by the end of the archive. A snapshot never changes, so
// the manifest is cached by snapshot id in the user cache directory (see
// Options.CacheDir); listing a repository reads each set's tail once.
//
// The manifest is checked as backupset.ReadManifest checks it; the set's
// files are not (a restore verifies them as it reads them).
func ReadManifest(ctx context.Context, o Options, s Snapshot) (*backupset.Manifest, error) {
	cache := o.manifestCachePath(s.ID)
	if cache != "" {
		if b, err := os.ReadFile(cache); err == nil {
			if m, err := backupset.ReadManifest(bytes.NewReader(b)); err == nil {
				return m, nil
			}
		}
		if why, err := os.ReadFile(cache + ".none"); err == nil {
			return nil, fmt.Errorf("snapshot %s: %w (%s)", s.ShortID, ErrNoManifest, why)
		}
	}
	b, err := fetchManifest(ctx, o, s)
	if err != nil {
		if errors.Is(err, ErrNoManifest) && cache != "" {
			// Not a set, and it never becomes one: remember that too.
			if merr := durable.MkdirAll(filepath.Dir(cache), 0o700); merr == nil {
				_ = durable.WriteFileAtomic(cache+".none", []byte(err.Error()), 0o600)
			}
		}
		return nil, fmt.Errorf("snapshot %s: %w", s.ShortID, err)
	}
	m, err := backupset.ReadManifest(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", s.ShortID, err)
	}
	o.cacheManifest(s.ID, b)
	return m, nil
}

// cacheManifest keeps manifest as the one of snapshot id, as ReadManifest
// does after reading it and Sink.Commit once restic saved the snapshot. A
// cache that cannot be written only costs the next listing time.
func (o Options) cacheManifest(id string, manifest []byte) {
	cache := o.manifestCachePath(id)
	if cache == "" {
		return
	}
	if err := durable.MkdirAll(filepath.Dir(cache), 0o700); err == nil {
		_ = durable.WriteFileAtomic(cache, manifest, 0o600)
	}
}

// manifestCachePath is where the manifest of snapshot id is cached, or ""
// for no cache. Snapshot ids are content hashes, unique across
// repositories.
func (o Options) manifestCachePath(id string) string {
	dir := o.CacheDir
	switch dir {
	case "-":
		return ""
	case "":
		ucd, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(ucd, "esesnap")
	}
	if len(id) != 64 {
		return ""
	}
	return filepath.Join(dir, "restic-manifests", id+".json")
}

// treeNode is a file of a restic tree (`restic cat tree`).
type treeNode struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Size    int64    `json:"size"`
	Content []string `json:"content"`
}

// fetchManifest reads the tail of the snapshot's one file blob by blob
// until it holds the manifest entry, and returns the manifest's bytes.
func fetchManifest(ctx context.Context, o Options, s Snapshot) ([]byte, error) {
	if len(s.Paths) != 1 {
		return nil, fmt.Errorf("%w: it holds %d paths, a set one file", ErrNoManifest, len(s.Paths))
	}
	var out bytes.Buffer
	// cat only reads; --no-lock leaves no lock behind if it is interrupted.
	if err := o.run(ctx, "cat tree", &out, "--no-lock", "cat", "tree", s.ID); err != nil {
		return nil, err
	}
	var tree struct {
		Nodes []treeNode `json:"nodes"`
	}
	if err := json.Unmarshal(out.Bytes(), &tree); err != nil {
		return nil, fmt.Errorf("restic cat tree: unreadable output: %w", err)
	}
	name := path.Base(s.Paths[0])
	var file *treeNode
	for i := range tree.Nodes {
		if tree.Nodes[i].Name == name && tree.Nodes[i].Type == "file" {
			file = &tree.Nodes[i]
		}
	}
	if file == nil {
		return nil, fmt.Errorf("%w: no file %s in its tree", ErrNoManifest, name)
	}
	var tail []byte
	for i := len(file.Content) - 1; i >= 0; i-- {
		var blob bytes.Buffer
		if err := o.run(ctx, "cat blob", &blob, "--no-lock", "cat", "blob", file.Content[i]); err != nil {
			return nil, err
		}
		tail = append(blob.Bytes(), tail...)
		if m, ok := manifestInTail(tail, file.Size); ok {
			return m, nil
		}
		if len(tail) > maxManifestTail {
			break
		}
	}
	return nil, fmt.Errorf("%w: %s does not end with %s and the end of a tar archive", ErrNoManifest, name, backupset.ManifestName)
}

// manifestInTail looks for the manifest entry in tail, the last len(tail)
// bytes of a tar stream of size bytes: a header on a block boundary named
// manifest.json whose content is followed by the end of the archive and
// nothing else.
func manifestInTail(tail []byte, size int64) ([]byte, bool) {
	start := size - int64(len(tail)) // offset of tail[0] in the stream
	first := (start + tarBlock - 1) / tarBlock * tarBlock
	for off := (size - 3*tarBlock) / tarBlock * tarBlock; off >= first; off -= tarBlock {
		rest := tail[off-start:]
		tr := tar.NewReader(bytes.NewReader(rest))
		h, err := tr.Next()
		if err != nil || h.Name != backupset.ManifestName || h.Typeflag != tar.TypeReg || h.Size > int64(len(rest)) {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			continue
		}
		if _, err := tr.Next(); err != io.EOF {
			continue
		}
		// The archive ends right after the entry: its padded content
		// and two zero blocks (a PAX header before it may add blocks).
		pad := (h.Size + tarBlock - 1) / tarBlock * tarBlock
		if int64(len(rest)) < tarBlock+pad+2*tarBlock || int64(len(rest)) > 3*tarBlock+pad+2*tarBlock {
			continue
		}
		return b, true
	}
	return nil, false
}
