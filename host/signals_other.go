//go:build !unix && !windows

package host

import "os"

// interruptSignals are the signals HandleSignals treats as a request to stop.
var interruptSignals = []os.Signal{os.Interrupt}
