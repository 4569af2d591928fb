//go:build unix

package restic

import (
	"os/exec"
	"syscall"
)

// ownGroup runs cmd in a process group of its own, so that killProcess
// reaches whatever it starts: the restic binary may be a wrapper script,
// and a restic orphaned by a killed wrapper would read EOF on its stdin
// and save the truncated stream as a snapshot.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killProcess(cmd) }
}

// killProcess kills cmd's whole process group.
func killProcess(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		return cmd.Process.Kill()
	}
	return nil
}
