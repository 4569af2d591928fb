//go:build unix

package plugin

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"github.com/hashicorp/go-hclog"
)

// envDataFD names the environment variable that tells the plugin which
// inherited file descriptor is its end of the data pipe.
const envDataFD = "ESESNAP_DATA_FD"

// newHostPipe makes the data pipe for a plugin about to be started by cmd:
// the write end goes to the child as an extra file, its descriptor number
// in ESESNAP_DATA_FD. The caller closes the returned child end as soon as
// the child has started (or failed to), so that the host's read end sees
// EOF when the plugin dies instead of waiting forever on its own copy.
func newHostPipe(cmd *exec.Cmd, log hclog.Logger) (r *pipeReader, childEnd *os.File, err error) {
	rf, wf, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("create the data pipe: %w", err)
	}
	growPipe(rf)
	cmd.ExtraFiles = append(cmd.ExtraFiles, wf)
	// ExtraFiles[i] becomes descriptor 3+i in the child.
	fd := 3 + len(cmd.ExtraFiles) - 1
	cmd.Env = append(cmd.Env, envDataFD+"="+strconv.Itoa(fd))
	return &pipeReader{pipeFile: pipeFile{f: rf, log: log}}, wf, nil
}

// openPluginPipe takes over the data pipe the host passed to this plugin
// process, or returns nil when there is none. The descriptor is made
// close-on-exec, so processes the plugin starts do not inherit it, and
// non-blocking, so that Go's poller serves it and a cancelled Read can
// interrupt a blocked write with a deadline.
func openPluginPipe() (*pipeWriter, error) {
	v, ok := os.LookupEnv(envDataFD)
	if !ok {
		return nil, nil
	}
	os.Unsetenv(envDataFD)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("%s=%q is not an inherited file descriptor", envDataFD, v)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("%s=%d: %w", envDataFD, fd, err)
	}
	if uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFIFO {
		return nil, fmt.Errorf("%s=%d is not a pipe", envDataFD, fd)
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("%s=%d: set non-blocking: %w", envDataFD, fd, err)
	}
	f := os.NewFile(uintptr(fd), "esesnap-data-pipe")
	if f == nil {
		return nil, fmt.Errorf("%s=%d: not a valid descriptor", envDataFD, fd)
	}
	growPipe(f)
	return &pipeWriter{pipeFile: pipeFile{f: f}}, nil
}
