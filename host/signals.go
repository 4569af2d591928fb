package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
)

// ErrInterrupted is the cause (context.Cause) of a context cancelled by
// HandleSignals.
var ErrInterrupted = errors.New("interrupted")

// HandleSignals returns a context that the first interrupt or termination
// signal (SIGINT, SIGTERM and SIGHUP on Unix; Ctrl+C, Ctrl+Break and console
// close on Windows) cancels, with an ErrInterrupted cause naming the signal:
// a Backup running under it then ends its session as aborted. A second
// signal calls kill, if not nil (the CLI passes the plugin client's Kill,
// for a plugin that no longer answers), and stops catching signals, so that
// a third one has the default effect and ends the process. stop releases
// the signal handler and cancels the context; call it when done.
func HandleSignals(parent context.Context, kill func()) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, interruptSignals...)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		n := 0
		for {
			select {
			case <-done:
				return
			case sig := <-ch:
				n++
				if n == 1 {
					cancel(fmt.Errorf("%w by signal %v", ErrInterrupted, sig))
					continue
				}
				signal.Stop(ch)
				if kill != nil {
					kill()
				}
				return
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			wg.Wait()
			cancel(nil)
		})
	}
	return ctx, stop
}
