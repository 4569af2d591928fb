package engine

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
)

// faultFS is a test double for fault injection: the real file system, except
// that writes to files whose name contains failWrite fail (only those at or
// beyond offset failFrom), and reads of files whose name contains block
// wait until release is closed (entered is closed when the first such read
// starts). Each write and sync of a failWrite file is recorded in ops.
type faultFS struct {
	OSFS
	failWrite string
	failFrom  int64
	ops       []string
	block     string
	entered   chan struct{}
	release   chan struct{}
	once      sync.Once
}

var errInjected = errors.New("injected I/O error (test double)")

func (f *faultFS) Open(name string) (File, error) {
	file, err := f.OSFS.Open(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, name: filepath.Base(name)}, nil
}

func (f *faultFS) OpenRW(name string) (File, error) {
	file, err := f.OSFS.OpenRW(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, name: filepath.Base(name)}, nil
}

type faultFile struct {
	File
	fs   *faultFS
	name string
}

func (f *faultFile) ReadAt(p []byte, off int64) (int, error) {
	if f.fs.block != "" && strings.Contains(f.name, f.fs.block) && off > 0 {
		f.fs.once.Do(func() { close(f.fs.entered) })
		<-f.fs.release
	}
	return f.File.ReadAt(p, off)
}

func (f *faultFile) watched() bool {
	return f.fs.failWrite != "" && strings.Contains(f.name, f.fs.failWrite)
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	if f.watched() {
		if off >= f.fs.failFrom {
			f.fs.ops = append(f.fs.ops, fmt.Sprintf("write %d failed", off))
			return 0, errInjected
		}
		f.fs.ops = append(f.fs.ops, fmt.Sprintf("write %d", off))
	}
	return f.File.WriteAt(p, off)
}

func (f *faultFile) Sync() error {
	if f.watched() {
		f.fs.ops = append(f.fs.ops, "sync")
	}
	return f.File.Sync()
}

func newBlockingFS(name string) *faultFS {
	return &faultFS{block: name, entered: make(chan struct{}), release: make(chan struct{})}
}
