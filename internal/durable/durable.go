// Package durable writes, copies and moves files so that they survive a
// crash: file contents are synced before they get their final name, the
// directory entry is synced after it, and a failed copy or write leaves no
// partial file behind under the destination's name.
package durable

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// SyncDir makes the entries of dir (files created, renamed or removed in
// it) durable. Windows cannot sync a directory handle and NTFS journals
// its metadata itself, so there it does nothing.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	if err := errors.Join(d.Sync(), d.Close()); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// MkdirAll creates dir and any missing parents, like os.MkdirAll, and
// syncs each directory it created into its parent, so that after a crash
// the new directories exist as surely as what is later synced inside them.
func MkdirAll(dir string, perm os.FileMode) error {
	dir = filepath.Clean(dir)
	var created []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		}
		created = append(created, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, perm); err != nil {
		return err
	}
	for _, d := range created {
		if err := SyncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

// WriteFileAtomic replaces path with data as a whole or not at all: it
// writes a temporary file beside path, syncs it, renames it over path and
// syncs the directory, which it creates (mode 0700, MkdirAll) when missing. On
// failure the temporary file is removed and path is left as it was.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	err = errors.Join(err, tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return SyncDir(dir)
}

// File is an open file as CopyFileFS needs it: positioned reads and
// writes, its size, sync and close. *os.File is one, and so is the file of
// a caller's file system (the ESE engine's, whose tests inject faults).
type File interface {
	io.ReaderAt
	io.WriterAt
	Stat() (fs.FileInfo, error)
	Sync() error
	Close() error
}

// FS is the file system CopyFileFS copies on.
type FS interface {
	// Open opens an existing file for reading.
	Open(name string) (File, error)
	// CreateNew creates a new, empty file; an existing one is an error
	// wrapping fs.ErrExist and is left alone.
	CreateNew(name string) (File, error)
	// Remove removes a file.
	Remove(name string) error
	// SyncDir makes the entries of a directory durable.
	SyncDir(dir string) error
}

// OS is the operating system's file system.
var OS FS = osFS{}

type osFS struct{}

func (osFS) Open(name string) (File, error) { return os.Open(name) }
func (osFS) CreateNew(name string) (File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}
func (osFS) Remove(name string) error { return os.Remove(name) }
func (osFS) SyncDir(dir string) error { return SyncDir(dir) }

// CopyFile copies src to dst, a new file (an existing dst is an error
// wrapping fs.ErrExist and is left alone), syncs it and its directory
// entry. On any failure after dst was created, dst is removed, so that no
// partial copy remains under its name. Between operating-system files the
// kernel does the copying (copy_file_range on Linux).
func CopyFile(src, dst string) error { return CopyFileFS(OS, src, dst, nil) }

// CopyFileFS is CopyFile on fsys. created, if not nil, is called once dst
// exists, so that a caller that stages several files can take all of them
// back when a later step fails.
func CopyFileFS(fsys FS, src, dst string, created func()) (err error) {
	in, err := fsys.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	out, err := fsys.CreateNew(dst)
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if created != nil {
		created()
	}
	defer func() {
		if err != nil {
			out.Close()
			fsys.Remove(dst)
			err = fmt.Errorf("copy %s to %s: %w", src, dst, err)
		}
	}()
	if err := copyContents(out, in, st.Size()); err != nil {
		return err
	}
	if err := out.Sync(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return fsys.SyncDir(filepath.Dir(dst))
}

// copyContents copies size bytes from in to out, both at offset 0: by the
// kernel between operating-system files (copy_file_range on Linux, several
// times faster for a database of gigabytes), else through a 1 MiB buffer.
func copyContents(out, in File, size int64) error {
	if of, ok := out.(*os.File); ok {
		if inf, ok := in.(*os.File); ok {
			n, err := of.ReadFrom(io.LimitReader(inf, size))
			if err == nil && n != size {
				err = fmt.Errorf("copied %d of %d bytes", n, size)
			}
			return err
		}
	}
	n, err := io.CopyBuffer(io.NewOffsetWriter(out, 0), io.NewSectionReader(in, 0, size), make([]byte, 1<<20))
	if err == nil && n != size {
		err = fmt.Errorf("copied %d of %d bytes", n, size)
	}
	return err
}

// Move moves src to dst, which must not exist, when both are on one file
// system: a hard link, dst and its directory entry synced, then src
// removed (a crash before that removal leaves src as a second link, which
// costs nothing). It returns false, leaving src as it is and creating nothing,
// when they are on different file systems (the caller copies then). An
// existing dst is an error wrapping fs.ErrExist: nothing is overwritten.
func Move(src, dst string) (bool, error) {
	if err := os.Link(src, dst); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, fmt.Errorf("move %s to %s: %w", src, dst, err)
		}
		return false, nil
	}
	f, err := os.OpenFile(dst, os.O_RDWR, 0)
	if err == nil {
		err = errors.Join(f.Sync(), f.Close())
	}
	if err == nil {
		err = SyncDir(filepath.Dir(dst))
	}
	if err == nil {
		err = os.Remove(src)
	}
	if err != nil {
		os.Remove(dst)
		return false, fmt.Errorf("move %s to %s: %w", src, dst, err)
	}
	return true, nil
}
