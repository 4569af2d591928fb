//go:build unix

package host

import (
	"os"
	"syscall"
)

// interruptSignals are the signals HandleSignals treats as a request to stop.
var interruptSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}
