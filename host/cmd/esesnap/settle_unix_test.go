//go:build unix

package main

import "syscall"

// settle writes back what the previous benchmark run left dirty (a restic
// run writes the whole repository), so that no timed run pays for
// another's writeback.
func settle() { syscall.Sync() }
