package backupset

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ExtractTar unpacks a backup set tar stream into dir, which must exist.
// Every name is validated (a hostile archive cannot write outside dir),
// every file is hashed as it is written and compared with the manifest,
// and existing files are never overwritten, except a file that is
// byte-identical already (the same log in two sets of a chain). It returns
// the manifest, which it writes into dir last, after syncing every file;
// a stream without a complete manifest is ErrIncomplete and leaves nothing
// behind. With Scratch nothing is synced.
func ExtractTar(ctx context.Context, r io.Reader, dir string, opts ...ScratchOption) (*Manifest, error) {
	m, _, err := extractTar(ctx, r, dir, opts)
	return m, err
}

// ExtractAndVerify is ExtractTar into dir followed by Verify of dir, with
// every byte hashed once: the SHA-256 ExtractTar computes of each file as it
// writes it (and compares with the manifest) stands for the one Verify would
// compute by reading the file again. Everything else is Verify's: the set
// holds exactly the manifest's files with their sizes and hashes, and the
// checks of the set's format (for ESE every page, every log and the log
// chain) run on the files written. The report and error are Verify's; a set
// that holds page deltas is extracted, and reported as ErrDeltaSet with its
// manifest, unchecked (ResolveDeltas rebuilds it, then Verify checks it).
func ExtractAndVerify(ctx context.Context, r io.Reader, dir string, opts ...ScratchOption) (*VerifyReport, error) {
	m, hashed, err := extractTar(ctx, r, dir, opts)
	if err != nil {
		return nil, err
	}
	for _, f := range m.Files {
		if d := f.Delta; d != nil {
			return &VerifyReport{Path: dir, Manifest: m}, fmt.Errorf("%w: %s is stored as a page delta against base %s", ErrDeltaSet, f.Name, d.Base)
		}
	}
	return verifyDir(ctx, dir, hashed)
}

// extractTar is ExtractTar; it also returns the size and hash of every
// file it wrote (or found identical), by name.
func extractTar(ctx context.Context, r io.Reader, dir string, opts []ScratchOption) (*Manifest, map[string]extracted, error) {
	sync := !ScratchOf(opts)
	tail := newTarTail(r)
	tr := tar.NewReader(tail)
	seen := map[string]extracted{}
	hashed := map[string]extracted{}
	var made []string // files this extraction created, removed if it fails
	var m *Manifest
	var manifestBytes []byte
	cleanup := func() {
		for _, n := range made {
			os.Remove(filepath.Join(dir, n))
		}
	}
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			cleanup()
			return nil, nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("extract: read tar: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			cleanup()
			return nil, nil, fmt.Errorf("extract: %q is not a regular file", hdr.Name)
		}
		if m != nil {
			cleanup()
			return nil, nil, fmt.Errorf("extract: %q follows the manifest", hdr.Name)
		}
		if hdr.Name == ManifestName {
			var b bytes.Buffer
			if _, err := io.Copy(&b, io.LimitReader(tr, 64<<20)); err != nil {
				cleanup()
				return nil, nil, fmt.Errorf("extract: read manifest: %w", err)
			}
			manifestBytes = bytes.Clone(b.Bytes())
			if m, err = ReadManifest(&b); err != nil {
				cleanup()
				return nil, nil, err
			}
			continue
		}
		if err := ValidateName(hdr.Name); err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("extract: %w", err)
		}
		if _, dup := seen[hdr.Name]; dup {
			cleanup()
			return nil, nil, fmt.Errorf("extract: %q appears twice", hdr.Name)
		}
		g, err := extractFile(tr, filepath.Join(dir, hdr.Name), buf, sync)
		if err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("extract %s: %w", hdr.Name, err)
		}
		seen[hdr.Name] = g
		if g.made {
			made = append(made, hdr.Name)
		}
	}
	if m == nil {
		cleanup()
		return nil, nil, fmt.Errorf("extract: %w: the stream has no manifest", ErrIncomplete)
	}
	var errs []error
	if err := tail.end(); err != nil {
		errs = append(errs, err)
	}
	for _, f := range m.Files {
		if d := f.Delta; d != nil {
			// The set holds the delta entry; ResolveDeltas rebuilds the file.
			f = ManifestFile{Name: d.Entry, Size: d.EntrySize, SHA256: d.EntrySHA256}
		}
		g, ok := seen[f.Name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%w: %s", ErrMissingFile, f.Name))
		case g.size != f.Size:
			errs = append(errs, fmt.Errorf("%w: %s has %d bytes, the manifest says %d", ErrSizeMismatch, f.Name, g.size, f.Size))
		case g.sum != f.SHA256:
			errs = append(errs, fmt.Errorf("%w: %s", ErrChecksumMismatch, f.Name))
		}
		if ok {
			hashed[f.Name] = g
		}
		delete(seen, f.Name)
	}
	for n := range seen {
		errs = append(errs, fmt.Errorf("%w: %s is not in the manifest", ErrExtraFile, n))
	}
	if len(errs) > 0 {
		cleanup()
		return nil, nil, errors.Join(errs...)
	}
	// The manifest goes last, as in a directory set: only a complete,
	// checked extraction looks complete.
	if _, err := extractFile(bytes.NewReader(manifestBytes), filepath.Join(dir, ManifestName), buf, sync); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("extract: write manifest: %w", err)
	}
	return m, hashed, nil
}

type extracted struct {
	size int64
	sum  string
	made bool
}

// extractFile writes r to path (a new file, synced if sync) and hashes
// it; an existing identical file is accepted and left alone.
func extractFile(r io.Reader, path string, buf []byte, sync bool) (extracted, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		h := sha256.New()
		n, err := io.CopyBuffer(h, r, buf)
		if err != nil {
			return extracted{}, err
		}
		sum := hex.EncodeToString(h.Sum(nil))
		if old, err := fileSHA256(path, buf); err != nil || old != sum {
			return extracted{}, fmt.Errorf("%s already exists with other content; extraction never overwrites", path)
		}
		return extracted{size: n, sum: sum}, nil
	}
	if err != nil {
		return extracted{}, err
	}
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(f, h), r, buf)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return extracted{}, err
	}
	return extracted{size: n, sum: hex.EncodeToString(h.Sum(nil)), made: true}, nil
}

func fileSHA256(path string, buf []byte) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, buf); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ScratchOption marks work whose files are read once more and then
// deleted by the caller, such as the sets a restore from restic extracts
// and assembles under its own scratch directory.
type ScratchOption struct{ scratch bool }

// Scratch makes ExtractTar skip syncing the files it writes, and
// AssembleChain hard-link the sets' files into its directory instead of
// copying them (it copies when that fails, as across file systems). Only
// for directories the caller owns and deletes: after a crash an unsynced
// set may look complete, and recovery run in a linked chain directory
// would change the sets' files too.
func Scratch() ScratchOption { return ScratchOption{scratch: true} }

// ScratchOf reports whether opts ask for scratch work (Scratch), for
// functions of other packages that take ScratchOptions.
func ScratchOf(opts []ScratchOption) bool {
	for _, o := range opts {
		if o.scratch {
			return true
		}
	}
	return false
}

// ErrTarTruncated means a tar stream ends without the two 512-byte zero
// blocks that close every tar archive: it was cut short, possibly exactly
// after an entry, which archive/tar's reader does not report.
var ErrTarTruncated = errors.New("the tar archive is truncated")

// tarEndSize is the end-of-archive marker: two zero blocks of 512 bytes.
const tarEndSize = 2 * 512

// tarTail passes a tar stream through to archive/tar and remembers how
// many zero bytes the stream consumed so far ends with. archive/tar reads
// exactly the bytes of headers, contents and padding, so when it reports
// the end of the archive those zeros are the end-of-archive blocks.
type tarTail struct {
	r     io.Reader
	n     int64 // bytes read
	zeros int64 // trailing zero bytes of what was read
}

func newTarTail(r io.Reader) *tarTail { return &tarTail{r: r} }

func (t *tarTail) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.n += int64(n)
	b := p[:n]
	i := len(b)
	for i > 0 && b[i-1] == 0 {
		i--
	}
	if i == 0 {
		t.zeros += int64(n)
	} else {
		t.zeros = int64(n - i)
	}
	return n, err
}

// end checks, once archive/tar has reported the end of the archive, that
// the stream ended with its end-of-archive blocks and that nothing but
// zeros (the record padding some tar writers add) follows them.
func (t *tarTail) end() error {
	if t.zeros < tarEndSize {
		return fmt.Errorf("%w: %w: it ends after %d bytes without the two 512-byte zero blocks that close a tar archive (cut short after its last entry)",
			ErrIncomplete, ErrTarTruncated, t.n)
	}
	buf := make([]byte, 32<<10)
	for {
		k, err := t.r.Read(buf)
		for _, c := range buf[:k] {
			if c != 0 {
				return fmt.Errorf("%w: data follows the end-of-archive blocks at byte %d", ErrExtraFile, t.n)
			}
		}
		t.n += int64(k)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar stream: %w", err)
		}
	}
}
