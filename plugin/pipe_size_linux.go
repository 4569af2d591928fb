package plugin

import (
	"os"

	"golang.org/x/sys/unix"
)

// growPipe asks Linux for a pipe of pipeBytes instead of the default 64
// KiB, so that a whole chunk fits; beyond /proc/sys/fs/pipe-max-size the
// request fails and the pipe keeps its size, which only costs speed.
// SyscallConn is used rather than Fd, which would make the file blocking.
func growPipe(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.FcntlInt(fd, unix.F_SETPIPE_SZ, pipeBytes)
	})
}
