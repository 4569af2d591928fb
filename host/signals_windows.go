//go:build windows

package host

import (
	"os"
	"syscall"
)

// interruptSignals are the signals HandleSignals treats as a request to
// stop: Go delivers Ctrl+C and Ctrl+Break as os.Interrupt and console close,
// logoff and shutdown as SIGTERM.
var interruptSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}
