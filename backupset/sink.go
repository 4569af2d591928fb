package backupset

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/esesnap/esesnap/internal/durable"
	"github.com/esesnap/esesnap/protocol"
)

// A backup set is the databases, then the logs, then ManifestName, stored
// by a Sink either as a directory (DirSink) or as one tar stream (TarSink).
// The manifest comes last and only after every file succeeded, so a set
// without it never looks complete.

// Entry describes a file a Sink is asked to store.
type Entry struct {
	// Name is the file's name in the set, already checked by ValidateName.
	Name string
	// Size is the exact length of the file, or -1 when the plugin did not
	// know it in advance.
	Size int64
	// ModTime is the time the set records for the file: the backup's start,
	// so that the same backup always gives the same bytes.
	ModTime time.Time
	// Role and PageSize are what the plugin said of the file, for sinks
	// that store databases differently (DeltaSink).
	Role     protocol.Role
	PageSize int
}

// Sink stores a backup set. Backup calls Create for one file at a time, in
// set order, and writes the file through the returned writer, whose Close
// finishes it. After the last file it calls Commit exactly once with the
// manifest; Commit returns nil only when the whole set is durably stored,
// because only then does Backup let the plugin record the backup and
// truncate logs. On any failure Backup calls Abort instead, possibly with a
// file still open or after a failed Commit. Sinks need not be safe for
// concurrent use.
type Sink interface {
	// Create starts the next file of the set.
	Create(e Entry) (io.WriteCloser, error)
	// Commit stores the manifest (ManifestName, with modTime as its time)
	// as the set's last file and makes the set durable.
	Commit(ctx context.Context, manifest []byte, modTime time.Time) error
	// Abort discards the set so that it never looks complete, and releases
	// what the sink holds. It does nothing after a successful Commit.
	Abort() error
}

// errSinkClosed is returned by a sink used after Commit or Abort.
var errSinkClosed = errors.New("sink already committed or aborted")

// ---------------------------------------------------------------------------
// Directory form.

// DirSink stores a backup set as a directory: one file per set file, named
// as in the set, and ManifestName. A directory it creates is synced into
// its parent at once (durable.MkdirAll). Each file is written as
// <name>.partial, synced, and renamed to its name when complete; Commit
// syncs the directory, then writes the manifest through a temporary file
// that it syncs and renames, and syncs the directory again, so that after a
// crash the manifest is either absent or names only files that are all on
// disk.
//
// Abort removes every file the sink wrote (finished or partial, and the
// manifest if a failed Commit got as far as renaming it) and the directory
// if the sink created it. A crash instead leaves files without a manifest,
// which Verify reports as an incomplete set.
type DirSink struct {
	dir       string
	created   bool
	open      *dirFile
	written   []string // final paths of finished files, in order
	manifest  string   // path of the renamed manifest, once it exists
	committed bool
	aborted   bool
}

// NewDirSink prepares dir for a backup set: it creates dir (and its
// parents) when missing and otherwise requires it to be an empty directory,
// so that no file of an older set can be mistaken for part of this one.
func NewDirSink(dir string) (*DirSink, error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// The set's own entry must be as durable as its files.
		if err := durable.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create backup set directory: %w", err)
		}
		return &DirSink{dir: dir, created: true}, nil
	case err != nil:
		return nil, fmt.Errorf("backup set directory: %w", err)
	case !fi.IsDir():
		return nil, fmt.Errorf("backup set directory %s: not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("backup set directory: %w", err)
	}
	if len(entries) > 0 {
		return nil, fmt.Errorf("backup set directory %s is not empty (it holds %s)", dir, entries[0].Name())
	}
	return &DirSink{dir: dir}, nil
}

// Dir returns the directory the set is written to.
func (s *DirSink) Dir() string { return s.dir }

// Create starts file e.Name as e.Name.partial.
func (s *DirSink) Create(e Entry) (io.WriteCloser, error) {
	if s.committed || s.aborted {
		return nil, errSinkClosed
	}
	if s.open != nil {
		return nil, fmt.Errorf("create %s: %s is still open", e.Name, s.open.name)
	}
	if err := ValidateName(e.Name); err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	final := filepath.Join(s.dir, e.Name)
	partial := final + partialSuffix
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", e.Name, err)
	}
	s.open = &dirFile{sink: s, f: f, name: e.Name, partial: partial, final: final, size: e.Size, mod: e.ModTime}
	return s.open, nil
}

// dirFile is one file of a DirSink being written.
type dirFile struct {
	sink           *DirSink
	f              *os.File
	name           string
	partial, final string
	size, n        int64
	mod            time.Time
	closed         bool
}

// Write appends to the partial file.
func (d *dirFile) Write(p []byte) (int, error) {
	if d.closed {
		return 0, fmt.Errorf("write %s: file already closed", d.name)
	}
	n, err := d.f.Write(p)
	d.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", d.name, err)
	}
	return n, nil
}

// Close syncs the partial file and renames it to its final name.
func (d *dirFile) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	if d.size >= 0 && d.n != d.size {
		d.f.Close()
		return fmt.Errorf("close %s: wrote %d bytes, expected %d", d.name, d.n, d.size)
	}
	err := syncClose(d.f, d.mod, d.partial)
	if err == nil {
		err = os.Rename(d.partial, d.final)
	}
	if err != nil {
		return fmt.Errorf("store %s: %w", d.name, err)
	}
	d.sink.written = append(d.sink.written, d.final)
	d.sink.open = nil
	return nil
}

// syncClose sets the file's times to mod (when not zero), syncs and closes it.
func syncClose(f *os.File, mod time.Time, path string) error {
	var err error
	if !mod.IsZero() {
		err = os.Chtimes(path, mod, mod)
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// Commit writes the manifest as the last file of the set, see DirSink.
func (s *DirSink) Commit(ctx context.Context, manifest []byte, modTime time.Time) error {
	if s.committed || s.aborted {
		return errSinkClosed
	}
	if s.open != nil {
		return fmt.Errorf("commit: %s is still open", s.open.name)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	// The renames of the data files must be durable before the manifest
	// can appear.
	if err := durable.SyncDir(s.dir); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	final := filepath.Join(s.dir, ManifestName)
	tmp := final + partialSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	_, err = f.Write(manifest)
	if err != nil {
		f.Close()
		return fmt.Errorf("commit: write manifest: %w", err)
	}
	if err := syncClose(f, modTime, tmp); err != nil {
		return fmt.Errorf("commit: store manifest: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.manifest = final
	if err := durable.SyncDir(s.dir); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.committed = true
	return nil
}

// Abort removes what the sink wrote, see DirSink.
func (s *DirSink) Abort() error {
	if s.committed || s.aborted {
		return nil
	}
	s.aborted = true
	var errs []error
	remove := func(path string) {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if s.open != nil {
		s.open.closed = true
		s.open.f.Close()
		remove(s.open.partial)
		s.open = nil
	}
	remove(filepath.Join(s.dir, ManifestName+partialSuffix))
	if s.manifest != "" {
		remove(s.manifest)
	}
	for _, p := range s.written {
		remove(p)
	}
	if s.created {
		remove(s.dir)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("abort backup set %s: %w", s.dir, err)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Tar form.

// TarSink stores a backup set as one tar stream written to any io.Writer (a
// file, stdout, the stdin of restic or borg import-tar). The stream is
// deterministic: entries in set order, regular files only, mode 0644, uid
// and gid 0, no user or group names, and the backup's start time (whole
// seconds, UTC) as every entry's modification time, in the PAX format
// (which writes plain USTAR headers when nothing needs an extension); the
// same backup gives the same bytes.
//
// Tar headers hold sizes, so a file whose size the plugin did not announce
// is first spooled to a temporary file in TempDir. Commit writes the
// manifest entry and the end-of-archive blocks, flushes the writer when it
// has a Flush method, and syncs it when it is a regular *os.File.
//
// Abort writes nothing more: the stream is left without a manifest and
// without end-of-archive blocks, often in the middle of an entry, so tar
// tools report it truncated and Verify reports it incomplete. Whoever reads
// the stream (restic, for example) must still be told the backup failed;
// that is the caller's job, since only it knows the reader (kill it before
// closing its stdin).
type TarSink struct {
	// TempDir is where files of unknown size are spooled; empty means
	// os.TempDir().
	TempDir string

	w      io.Writer
	tw     *tar.Writer
	open   *tarFile
	closed bool
	broken error // a failed write leaves the stream unusable
}

// NewTarSink returns a TarSink writing to w.
func NewTarSink(w io.Writer) *TarSink {
	return &TarSink{w: w, tw: tar.NewWriter(w)}
}

// tarHeader builds the fixed-form header of one entry.
func tarHeader(name string, size int64, mod time.Time) *tar.Header {
	sec := mod.Unix()
	if mod.IsZero() || sec < 0 {
		sec = 0
	}
	return &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     0o644,
		ModTime:  time.Unix(sec, 0).UTC(),
		Format:   tar.FormatPAX,
	}
}

func (s *TarSink) usable() error {
	switch {
	case s.closed:
		return errSinkClosed
	case s.broken != nil:
		return fmt.Errorf("tar stream is broken by an earlier failure: %w", s.broken)
	}
	return nil
}

// Create starts entry e: directly in the stream when e.Size is known,
// otherwise in a spool file copied into the stream by Close.
func (s *TarSink) Create(e Entry) (io.WriteCloser, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	if s.open != nil {
		return nil, fmt.Errorf("create %s: %s is still open", e.Name, s.open.name)
	}
	if err := ValidateName(e.Name); err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	t := &tarFile{sink: s, name: e.Name, size: e.Size, mod: e.ModTime}
	if e.Size >= 0 {
		if err := s.tw.WriteHeader(tarHeader(e.Name, e.Size, e.ModTime)); err != nil {
			s.broken = err
			return nil, fmt.Errorf("create %s: %w", e.Name, err)
		}
	} else {
		f, err := os.CreateTemp(s.TempDir, "esesnap-spool-*")
		if err != nil {
			return nil, fmt.Errorf("create %s: spool file: %w", e.Name, err)
		}
		t.spool = f
	}
	s.open = t
	return t, nil
}

// tarFile is one entry of a TarSink being written.
type tarFile struct {
	sink   *TarSink
	name   string
	size   int64 // -1 while spooling
	n      int64
	mod    time.Time
	spool  *os.File
	closed bool
}

// Write appends to the entry (or its spool file).
func (t *tarFile) Write(p []byte) (int, error) {
	if t.closed {
		return 0, fmt.Errorf("write %s: entry already closed", t.name)
	}
	var n int
	var err error
	if t.spool != nil {
		n, err = t.spool.Write(p)
	} else {
		n, err = t.sink.tw.Write(p)
		if err != nil {
			t.sink.broken = err
		}
	}
	t.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", t.name, err)
	}
	return n, nil
}

// Close finishes the entry: pads it, or copies the spool file into the
// stream.
func (t *tarFile) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	s := t.sink
	if t.spool != nil {
		err := t.copySpool()
		t.dropSpool()
		if err != nil {
			s.broken = err
			return fmt.Errorf("store %s: %w", t.name, err)
		}
	} else {
		if t.n != t.size {
			err := fmt.Errorf("wrote %d bytes, expected %d", t.n, t.size)
			s.broken = err
			return fmt.Errorf("close %s: %w", t.name, err)
		}
		if err := s.tw.Flush(); err != nil {
			s.broken = err
			return fmt.Errorf("close %s: %w", t.name, err)
		}
	}
	s.open = nil
	return nil
}

func (t *tarFile) copySpool() error {
	if _, err := t.spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	tw := t.sink.tw
	if err := tw.WriteHeader(tarHeader(t.name, t.n, t.mod)); err != nil {
		return err
	}
	if _, err := io.Copy(tw, t.spool); err != nil {
		return err
	}
	return tw.Flush()
}

func (t *tarFile) dropSpool() {
	if t.spool != nil {
		t.spool.Close()
		os.Remove(t.spool.Name())
		t.spool = nil
	}
}

// Commit writes the manifest entry and the end of the archive, see TarSink.
func (s *TarSink) Commit(ctx context.Context, manifest []byte, modTime time.Time) error {
	if err := s.usable(); err != nil {
		return err
	}
	if s.open != nil {
		return fmt.Errorf("commit: %s is still open", s.open.name)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	fail := func(err error) error {
		s.broken = err
		return fmt.Errorf("commit: %w", err)
	}
	if err := s.tw.WriteHeader(tarHeader(ManifestName, int64(len(manifest)), modTime)); err != nil {
		return fail(err)
	}
	if _, err := s.tw.Write(manifest); err != nil {
		return fail(err)
	}
	if err := s.tw.Close(); err != nil {
		return fail(err)
	}
	if f, ok := s.w.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			return fail(err)
		}
	}
	if f, ok := s.w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			if err := f.Sync(); err != nil {
				return fail(err)
			}
		}
	}
	s.closed = true
	return nil
}

// Abort stops the stream where it is, see TarSink.
func (s *TarSink) Abort() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.open != nil {
		s.open.closed = true
		s.open.dropSpool()
		s.open = nil
	}
	return nil
}

// ---------------------------------------------------------------------------
// Discard.

// NullSink stores nothing: it counts and drops every byte. It measures a
// plugin's and the host's own throughput without a disk in the way.
type NullSink struct {
	// Bytes is the number of bytes written to the set's files.
	Bytes int64
	// Files is the number of files created.
	Files int
}

// Create returns a writer that discards.
func (s *NullSink) Create(Entry) (io.WriteCloser, error) {
	s.Files++
	return nullFile{s}, nil
}

// Commit does nothing.
func (s *NullSink) Commit(context.Context, []byte, time.Time) error { return nil }

// Abort does nothing.
func (s *NullSink) Abort() error { return nil }

type nullFile struct{ s *NullSink }

func (f nullFile) Write(p []byte) (int, error) { f.s.Bytes += int64(len(p)); return len(p), nil }
func (f nullFile) Close() error                { return nil }
