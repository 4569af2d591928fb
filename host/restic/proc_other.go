//go:build !unix

package restic

import "os/exec"

// ownGroup leaves cmd as it is: without process groups, killProcess kills
// the restic process itself (a wrapper's children are not reached).
func ownGroup(*exec.Cmd) {}

// killProcess kills cmd's process.
func killProcess(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}
