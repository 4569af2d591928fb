//go:build unix

package host

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestHandleSignals(t *testing.T) {
	killed := make(chan struct{})
	ctx, stop := HandleSignals(context.Background(), func() { close(killed) })
	defer stop()

	// The first signal cancels the context, naming the signal.
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGINT did not cancel the context")
	}
	cause := context.Cause(ctx)
	if !errors.Is(cause, ErrInterrupted) || !strings.Contains(cause.Error(), "interrupt") {
		t.Fatalf("cause %v", cause)
	}
	select {
	case <-killed:
		t.Fatal("the first signal killed the plugin")
	default:
	}

	// The second one calls kill. (A third would end the test binary.)
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-killed:
	case <-time.After(5 * time.Second):
		t.Fatal("the second signal did not call kill")
	}
}

func TestHandleSignalsStop(t *testing.T) {
	ctx, stop := HandleSignals(context.Background(), nil)
	if ctx.Err() != nil {
		t.Fatal("context cancelled before any signal")
	}
	stop()
	stop() // idempotent
	if ctx.Err() == nil {
		t.Fatal("stop did not cancel the context")
	}
	if context.Cause(ctx) != context.Canceled {
		t.Fatalf("cause after stop %v, want context.Canceled", context.Cause(ctx))
	}
}
