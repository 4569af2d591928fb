//go:build unix

package restic

import (
	"os/exec"
	"syscall"
)

// ownGroup runs cmd in a process group of its own, so that a signal reaches
// whatever it starts: the restic binary may be a wrapper script, and a
// restic orphaned by a killed wrapper would read EOF on its stdin and save
// the truncated stream as a snapshot. A terminal's Ctrl-C therefore reaches
// esesnap only, which then stops restic itself (see interruptProcess).
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// interruptProcess sends SIGINT to cmd's process group, as Ctrl-C on a
// terminal would: restic cancels its work, saves no snapshot and removes
// its lock before it exits.
func interruptProcess(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		return cmd.Process.Signal(syscall.SIGINT)
	}
	return nil
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
