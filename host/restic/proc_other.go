//go:build !unix

package restic

import "os/exec"

// ownGroup leaves cmd as it is: without process groups, killProcess kills
// the restic process itself (a wrapper's children are not reached).
func ownGroup(*exec.Cmd) {}

// interruptProcess kills cmd's process: Windows has no signal that one
// console program can send another without sharing its console, so restic
// cannot remove its lock here; restic itself treats a lock of a process
// that no longer runs on the same host as stale.
func interruptProcess(cmd *exec.Cmd) error { return killProcess(cmd) }

// killProcess kills cmd's process.
func killProcess(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}
