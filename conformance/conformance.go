package conformance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/esesnap/esesnap/protocol"
)

// Target is the plugin under test and something it can back up.
//
// The checks take real backups of Source: every kind in Kinds is backed up
// and ended succeeded, which a plugin may record (ESE writes the backup into
// the database headers). Logs are never truncated. Point Source at a copy
// made for the test, not at data that matters.
type Target struct {
	// Snapshotter is the plugin: the implementation itself in-process, or
	// the client side of a launched plugin process.
	Snapshotter protocol.Snapshotter
	// Source is what every session backs up. It must yield at least one
	// file with data. Across a process boundary, give it a file of a few
	// MiB: the cancellation check cancels a stream on its first chunk and
	// needs the plugin to still be sending when the cancellation arrives.
	Source protocol.Source
	// Kinds are the backup kinds to exercise; empty means every kind Info
	// lists. Each has its backup check (the others are skipped); the other
	// checks use one kind of the list, preferring copy, then full (those
	// that start with the databases and change nothing later backups
	// build on). An incremental or differential backup needs a recorded
	// full backup with log truncation, which the suite does not take: its
	// backup check is skipped when Begin answers JET_errMissingFullBackup.
	Kinds []protocol.Kind
	// Restart, if set, stops the plugin the way a crash would, without
	// ending its sessions, starts it again and returns the new
	// Snapshotter. The restart check then verifies that the new plugin
	// serves the source although the old one died in the middle of a
	// session. It is the last check, so no check uses the old Snapshotter
	// afterwards. Nil skips the restart check.
	Restart func() (protocol.Snapshotter, error)
}

// Check is one conformance check. Run returns nil when the plugin behaves
// as the protocol requires, an error wrapping ErrSkip when the check does
// not apply to the target, and otherwise an error saying what the plugin
// did and what it should have done.
type Check struct {
	Name string
	Run  func(ctx context.Context, tgt Target) error
}

// ErrSkip marks a check that does not apply to a target (for example the
// restart check without Target.Restart); RunAll does not count it as
// failed, and conformancetest.Run skips the subtest.
var ErrSkip = errors.New("check skipped")

// Checks returns every check, in the order RunAll (and conformancetest.Run)
// runs them. Each
// check starts its own sessions and ends them before it returns, so checks
// can also run one by one.
func Checks() []Check {
	return []Check{
		{"info", checkInfo},
		{"begin-rejects-kind", checkBeginRejectsKind},
		{"backup-full", backupCheck(protocol.KindFull)},
		{"backup-copy", backupCheck(protocol.KindCopy)},
		{"backup-incremental", backupCheck(protocol.KindIncremental)},
		{"backup-differential", backupCheck(protocol.KindDifferential)},
		{"abort-after-begin", abortCheck(abortAfterBegin)},
		{"abort-after-files", abortCheck(abortAfterFiles)},
		{"abort-mid-read", abortCheck(abortMidRead)},
		{"abort-after-last-files", abortCheck(abortAfterLastFiles)},
		{"unknown-session", checkUnknownSession},
		{"read-outside-batch", checkReadOutsideBatch},
		{"read-twice", checkReadTwice},
		{"files-before-batch-read", checkFilesBeforeBatchRead},
		{"end-succeeded-early", checkEndSucceededEarly},
		{"end-twice", checkEndTwice},
		{"cancel-mid-read", checkCancelMidRead},
		{"keepalive", checkKeepalive},
		{"restart", checkRestart},
	}
}

// RunAll runs every check against tgt in order and calls report, if not
// nil, after each with the check's name, its error (nil when it passed, an
// error wrapping ErrSkip when it did not apply) and how long it took. It
// returns how many checks failed. It is the engine of `esesnap
// plugin-test`.
func RunAll(ctx context.Context, tgt Target, report func(name string, err error, elapsed time.Duration)) (failed int) {
	for _, c := range Checks() {
		start := time.Now()
		var err error
		if tgt.Snapshotter == nil {
			err = errors.New("Target.Snapshotter is nil")
		} else {
			err = runCheck(ctx, c, tgt)
		}
		if err != nil && !errors.Is(err, ErrSkip) {
			failed++
		}
		if report != nil {
			report(c.Name, err, time.Since(start))
		}
	}
	return failed
}

// runCheck runs one check and turns a panic of the plugin (in-process) into
// a failure, so that one broken call does not hide the other checks.
func runCheck(ctx context.Context, c Check, tgt Target) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return c.Run(ctx, tgt)
}
