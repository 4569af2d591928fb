package backupset

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/esesnap/esesnap/protocol"
)

// Errors Verify reports about the files of a set (with ErrIncomplete); each
// comes wrapped with the name of the file concerned. Damage found by the
// set's format (ESE: *ese.Error) is reported by the format instead.
var (
	ErrChecksumMismatch = errors.New("sha256 does not match the manifest")
	ErrSizeMismatch     = errors.New("size does not match the manifest")
	ErrMissingFile      = errors.New("file listed in the manifest is missing")
	ErrExtraFile        = errors.New("file is not listed in the manifest")
)

// hashBufferSize is the read size of Verify's hashing, large enough to keep
// sha256 and the disk busy.
const hashBufferSize = 1 << 20

// VerifyReport describes a backup set Verify checked. Verify fills it as far
// as it got, also when it returns an error.
type VerifyReport struct {
	// Path is the directory or tar file checked ("" for VerifyTar).
	Path string
	// Tar is true for a tar stream, false for a directory.
	Tar bool
	// Manifest is the set's manifest, nil when it is missing or unreadable.
	Manifest *Manifest
	// Files has one entry per file of the manifest, in manifest order.
	Files []FileReport
	// Details is what the set's format found (package ese/eseset: its
	// Report of databases, logs and generations); nil for a set checked by
	// hashes alone.
	Details any
}

// FileReport is the verdict on one file of the manifest.
type FileReport struct {
	Name string
	Role protocol.Role
	// Size and SHA256 are what the file holds (Size -1 when it is missing).
	Size   int64
	SHA256 string
	// OK is true when the file is present with the manifest's size and
	// hash and passed its format's check, if any.
	OK bool
}

// observed is what Verify saw of one file of a set.
type observed struct {
	size int64
	sum  string
	// verdicts holds, by format kind, what each format's CheckFile or
	// Sniff said of the file (no entry when it was not checked).
	verdicts map[string]any
}

// Verify checks the backup set at path, a directory or a tar file: that the
// manifest is present and complete, that the set holds exactly the files
// it lists with their sizes and SHA-256, and the checks of the set's format
// (SetFormat, RegisterFormat): for an ESE set (package ese/eseset), that
// every database's pages verify, every log verifies, every generation the
// set needs is present and the logs form one chain of the databases' log
// stream. A set whose format is not registered fails with
// ErrUnknownFormat; a set of no format is checked by hashes alone.
//
// It does not stop at the first damaged file: the error joins one error per
// problem found (errors.Is and errors.As see each of them). Set-level
// problems wrap ErrIncomplete, ErrChecksumMismatch, ErrSizeMismatch,
// ErrMissingFile or ErrExtraFile; ESE damage is an *ese.Error naming the
// file and, for a bad page, the page.
func Verify(ctx context.Context, path string) (*VerifyReport, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if fi.IsDir() {
		return verifyDir(ctx, path, nil)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	rep, err := VerifyTar(ctx, f)
	if rep != nil {
		rep.Path = path
	}
	return rep, namePath(path, err)
}

// namePath prefixes path to the problems of err that concern the whole
// tar file (its manifest, its end), which name no file of the set.
func namePath(path string, err error) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var out []error
	for _, e := range errs {
		if errors.Is(e, ErrBadManifest) || errors.Is(e, ErrTarTruncated) {
			e = fmt.Errorf("%s: %w", path, e)
		}
		out = append(out, e)
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

// VerifyTar is Verify for a tar stream read from r (a file, stdin, the
// output of restic dump). It reads the stream once; each database and log
// is copied to a temporary file (under os.TempDir) while it is hashed,
// because the format checks need random access, and deleted after its check,
// so the space needed is that of the largest file.
func VerifyTar(ctx context.Context, r io.Reader) (*VerifyReport, error) {
	rep := &VerifyReport{Tar: true}
	tmpDir, err := os.MkdirTemp("", "esesnap-verify-*")
	if err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	defer os.RemoveAll(tmpDir)

	var problems []error
	seen := map[string]*observed{}
	names := Names{}
	buf := make([]byte, hashBufferSize)
	tail := newTarTail(r)
	tr := tar.NewReader(tail)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if err := tail.end(); err != nil {
				problems = append(problems, err)
			}
			break
		}
		if err != nil {
			if rep.Manifest == nil {
				return rep, fmt.Errorf("%w: tar stream ends without a manifest: %w", ErrIncomplete, err)
			}
			return rep, fmt.Errorf("verify: read tar stream: %w", err)
		}
		if rep.Manifest != nil {
			problems = append(problems, fmt.Errorf("%s: %w: it follows the manifest", hdr.Name, ErrExtraFile))
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			problems = append(problems, fmt.Errorf("%s: %w: not a regular file (tar type %q)", hdr.Name, ErrExtraFile, hdr.Typeflag))
			continue
		}
		if hdr.Name == ManifestName {
			m, err := ReadManifest(tr)
			if err != nil {
				return rep, fmt.Errorf("verify: %s of the tar stream: %w", ManifestName, err)
			}
			rep.Manifest = m
			continue
		}
		if err := ValidateName(hdr.Name); err != nil {
			problems = append(problems, fmt.Errorf("%w: %w", ErrExtraFile, err))
			continue
		}
		if err := names.add(hdr.Name); err != nil {
			problems = append(problems, fmt.Errorf("%w: %w", ErrExtraFile, err))
			continue
		}
		o, err := observeTarEntry(ctx, tr, hdr.Name, tmpDir, buf)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return rep, fmt.Errorf("%w: the tar stream is cut short in %s: %w", ErrIncomplete, hdr.Name, err)
		}
		if err != nil {
			return rep, err
		}
		seen[hdr.Name] = o
	}
	if rep.Manifest == nil {
		return rep, fmt.Errorf("%w: the tar stream has no %s", ErrIncomplete, ManifestName)
	}
	problems = append(problems, checkSet(ctx, rep, seen, nil)...)
	return rep, errors.Join(problems...)
}

// observeTarEntry hashes one entry and, for each registered format whose
// Sniff claims it, runs the format's checks on a temporary copy.
func observeTarEntry(ctx context.Context, r io.Reader, name, tmpDir string, buf []byte) (*observed, error) {
	fs := registeredFormats()
	size := 0
	for _, f := range fs {
		size = max(size, f.f.HeadSize())
	}
	head := make([]byte, size)
	n, err := readUpTo(r, head)
	if err != nil {
		return nil, fmt.Errorf("verify: read %s: %w", name, err)
	}
	head = head[:n]
	o := &observed{verdicts: map[string]any{}}
	var check []namedFormat
	for _, f := range fs {
		want, v := f.f.Sniff(name, head[:min(n, f.f.HeadSize())])
		if want {
			check = append(check, f)
		} else if v != nil {
			o.verdicts[f.kind] = v
		}
	}
	h := sha256.New()
	h.Write(head)
	if len(check) == 0 {
		// No format's file: hash only.
		rest, err := copyCtx(ctx, h, r, buf)
		if err != nil {
			return nil, fmt.Errorf("verify: read %s: %w", name, err)
		}
		o.size = int64(n) + rest
		o.sum = hex.EncodeToString(h.Sum(nil))
		return o, nil
	}
	tmp, err := os.CreateTemp(tmpDir, "entry-*")
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	if _, err := tmp.Write(head); err != nil {
		return nil, fmt.Errorf("verify: extract %s: %w", name, err)
	}
	rest, err := copyCtx(ctx, io.MultiWriter(h, tmp), r, buf)
	if err != nil {
		return nil, fmt.Errorf("verify: extract %s: %w", name, err)
	}
	o.size = int64(n) + rest
	o.sum = hex.EncodeToString(h.Sum(nil))
	for _, f := range check {
		v, err := f.f.CheckFile(ctx, tmp, o.size, name, protocol.RoleUnspecified)
		if err != nil {
			return nil, err
		}
		if v != nil {
			o.verdicts[f.kind] = v
		}
	}
	return o, nil
}

// readUpTo fills b from r until b is full or r reports io.EOF, which is
// not an error here: a tar entry may be shorter than b. A stream cut short
// is io.ErrUnexpectedEOF from the tar reader.
func readUpTo(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := r.Read(b[n:])
		n += k
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// copyCtx copies r to w through buf, checking ctx between reads.
func copyCtx(ctx context.Context, w io.Writer, r io.Reader, buf []byte) (int64, error) {
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, err := r.Read(buf)
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// verifyDir is Verify for a directory. hashed holds, by name, files whose
// size and SHA-256 this process computed as it wrote them (ExtractAndVerify):
// they are not hashed again as long as they still have that size.
func verifyDir(ctx context.Context, dir string, hashed map[string]extracted) (*VerifyReport, error) {
	rep := &VerifyReport{Path: dir}
	mf, err := os.Open(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return rep, fmt.Errorf("%w: %s has no %s", ErrIncomplete, dir, ManifestName)
	}
	if err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	m, err := ReadManifest(mf)
	mf.Close()
	if err != nil {
		return rep, fmt.Errorf("verify %s: %w", dir, err)
	}
	rep.Manifest = m

	var problems []error
	listed := map[string]bool{}
	for _, f := range m.Files {
		listed[f.Name] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	for _, e := range entries {
		if e.Name() == ManifestName {
			continue
		}
		if !listed[e.Name()] || !e.Type().IsRegular() {
			problems = append(problems, fmt.Errorf("%s: %w", e.Name(), ErrExtraFile))
		}
	}

	sf, _ := formatOf(m) // an unknown format is reported by checkSet
	seen := map[string]*observed{}
	buf := make([]byte, hashBufferSize)
	for _, f := range m.Files {
		var known *extracted
		if g, ok := hashed[f.Name]; ok {
			known = &g
		}
		o, err := observeDirFile(ctx, filepath.Join(dir, f.Name), f, SetFormat(m), sf, buf, known)
		if err != nil {
			return rep, err
		}
		if o != nil {
			seen[f.Name] = o
		}
	}
	problems = append(problems, checkSet(ctx, rep, seen, listed)...)
	return rep, errors.Join(problems...)
}

// observeDirFile hashes one file of a directory set and runs the check of
// the set's format sf of the given kind (nil: none); it returns nil for a file that is
// missing or not a regular file. A file known (not nil) was hashed as it was
// written and is not hashed again unless its size changed since.
func observeDirFile(ctx context.Context, path string, f ManifestFile, kind string, sf Format, buf []byte, known *extracted) (*observed, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.Mode().IsRegular()) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer file.Close()
	var o *observed
	if known != nil && known.size == fi.Size() {
		o = &observed{size: known.size, sum: known.sum}
	} else {
		h := sha256.New()
		n, err := copyCtx(ctx, h, file, buf)
		if err != nil {
			return nil, fmt.Errorf("verify: read %s: %w", f.Name, err)
		}
		o = &observed{size: n, sum: hex.EncodeToString(h.Sum(nil))}
	}
	n := o.size
	if sf != nil {
		v, err := sf.CheckFile(ctx, file, n, f.Name, f.Role)
		if err != nil {
			return nil, err
		}
		if v != nil {
			o.verdicts = map[string]any{kind: v}
		}
	}
	return o, nil
}

// checkSet compares what was seen with the manifest and runs the checks of
// the set's format (Format.CheckSet). listed is nil for tar input, where extra entries are found
// here.
func checkSet(ctx context.Context, rep *VerifyReport, seen map[string]*observed, listed map[string]bool) []error {
	m := rep.Manifest
	var problems []error
	for _, f := range m.Files {
		if d := f.Delta; d != nil {
			return []error{fmt.Errorf("%w: the set stores %s as a page delta (%s) against base %s; restore it (esesnap restore --restic-repo), which rebuilds and verifies the whole set", ErrDeltaSet, f.Name, d.Entry, d.Base)}
		}
	}
	if listed == nil {
		listed = map[string]bool{}
		for _, f := range m.Files {
			listed[f.Name] = true
		}
		var extra []string
		for name := range seen {
			if !listed[name] {
				extra = append(extra, name)
			}
		}
		slices.Sort(extra)
		for _, name := range extra {
			problems = append(problems, fmt.Errorf("%s: %w", name, ErrExtraFile))
		}
	}

	for _, f := range m.Files {
		fr := FileReport{Name: f.Name, Role: f.Role, Size: -1}
		o := seen[f.Name]
		if o == nil {
			problems = append(problems, fmt.Errorf("%s: %w", f.Name, ErrMissingFile))
			rep.Files = append(rep.Files, fr)
			continue
		}
		fr.Size, fr.SHA256 = o.size, o.sum
		fr.OK = true
		if o.size != f.Size {
			problems = append(problems, fmt.Errorf("%s: %w: %d bytes, manifest says %d", f.Name, ErrSizeMismatch, o.size, f.Size))
			fr.OK = false
		} else if o.sum != f.SHA256 {
			problems = append(problems, fmt.Errorf("%s: %w: %s, manifest says %s", f.Name, ErrChecksumMismatch, o.sum, f.SHA256))
			fr.OK = false
		}
		rep.Files = append(rep.Files, fr)
	}
	sf, err := formatOf(m)
	if err != nil {
		return append(problems, err)
	}
	if sf == nil {
		return problems
	}
	kind := SetFormat(m)
	verdicts := map[string]any{}
	for name, o := range seen {
		if v, ok := o.verdicts[kind]; ok {
			verdicts[name] = v
		}
	}
	return append(problems, sf.CheckSet(ctx, rep, verdicts)...)
}

// ErrManifestMismatch means the manifest says something about a file that
// the file's own bytes contradict: a generation, page size, signature,
// database state, name or kind that is not what the headers hold.
var ErrManifestMismatch = errors.New("the manifest does not match the files")
