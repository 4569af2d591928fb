//go:build !linux

package restic

import "os"

// stdinPipe returns the two ends of restic's stdin: a pipe.
func stdinPipe() (r, w *os.File, err error) { return os.Pipe() }
