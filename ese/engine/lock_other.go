//go:build !unix && !windows

package engine

// lockFile is a no-op where the platform offers no advisory lock; the
// in-process session state still refuses a second backup.
func lockFile(path string) (unlock func(), err error) { return func() {}, nil }
