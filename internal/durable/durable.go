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

// CopyFile copies src to dst, a new file (an existing dst is an error
// wrapping fs.ErrExist and is left alone), syncs it and its directory
// entry. On any failure after dst was created, dst is removed, so that no
// partial copy remains under its name. Between operating-system files the
// kernel does the copying (copy_file_range on Linux).
func CopyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(dst)
			err = fmt.Errorf("copy %s to %s: %w", src, dst, err)
		}
	}()
	n, err := out.ReadFrom(io.LimitReader(in, st.Size()))
	if err != nil {
		return err
	}
	if n != st.Size() {
		return fmt.Errorf("copied %d of %d bytes", n, st.Size())
	}
	if err := out.Sync(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(dst))
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
