package engine

import (
	"io/fs"
	"os"

	"github.com/esesnap/esesnap/internal/durable"
)

// File is the part of *os.File the engine uses: positioned reads and
// writes, size, sync and close, the same file durable copies with.
type File = durable.File

// FS is the file system the engine reads and, when writable, changes. The
// default is the operating system's; tests substitute a fault-injecting
// double to produce I/O errors and blocked calls.
type FS interface {
	Open(name string) (File, error)
	OpenRW(name string) (File, error)
	Create(name string) (File, error)
	Remove(name string) error
	Stat(name string) (fs.FileInfo, error)
	ReadDir(name string) ([]fs.DirEntry, error)
	MkdirAll(name string) error
}

// OSFS is the operating system's file system.
type OSFS struct{}

func (OSFS) Open(name string) (File, error)   { return os.Open(name) }
func (OSFS) OpenRW(name string) (File, error) { return os.OpenFile(name, os.O_RDWR, 0) }
func (OSFS) Create(name string) (File, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
}
func (OSFS) Remove(name string) error                   { return os.Remove(name) }
func (OSFS) Stat(name string) (fs.FileInfo, error)      { return os.Stat(name) }
func (OSFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }
func (OSFS) MkdirAll(name string) error                 { return os.MkdirAll(name, 0o755) }
