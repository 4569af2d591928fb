package restic

import (
	"os"

	"golang.org/x/sys/unix"
)

// stdinPipeBytes is the size asked for restic's stdin pipe: restic reads
// its input in large bursts, and with Linux's default 64 KiB the host and
// restic run in lockstep instead of overlapping.
const stdinPipeBytes = 1 << 20

// growPipe enlarges the pipe behind f; failure only costs speed.
func growPipe(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.FcntlInt(fd, unix.F_SETPIPE_SZ, stdinPipeBytes) })
	}
}
