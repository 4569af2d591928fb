package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/esesnap/esesnap/protocol"
)

// cancelGrace is how long Read may take to return once its context was
// cancelled.
const cancelGrace = 30 * time.Second

// discard is a ChunkWriter that accepts everything.
var discard = protocol.ChunkWriterFunc(func(int64, []byte) error { return nil })

// checkInfo: Info names the plugin and describes what Begin and Read do.
func checkInfo(ctx context.Context, tgt Target) error {
	info, err := tgt.Snapshotter.Info(ctx)
	if err != nil {
		//lint:ignore ST1005 the message begins with the protocol method that failed, Snapshotter.Info
		return fmt.Errorf("Info: %w", err)
	}
	var errs []error
	if info.Name == "" {
		errs = append(errs, errors.New("Info.Name is empty: name the plugin, such as \"esesnap-ese\""))
	}
	if info.Version == "" {
		errs = append(errs, errors.New("Info.Version is empty: give the plugin's semantic version"))
	}
	if len(info.Kinds) == 0 {
		errs = append(errs, errors.New("Info.Kinds is empty: list the backup kinds Begin accepts"))
	}
	for i, k := range info.Kinds {
		switch {
		case !k.Valid():
			errs = append(errs, fmt.Errorf("Info.Kinds lists %s, which is not a backup kind: use protocol.KindFull, KindIncremental, KindCopy or KindDifferential", k))
		case slices.Index(info.Kinds, k) != i:
			errs = append(errs, fmt.Errorf("Info.Kinds lists %s twice", k))
		}
	}
	if info.MaxChunkBytes <= 0 || info.MaxChunkBytes > protocol.MaxChunkBytes {
		errs = append(errs, fmt.Errorf("Info.MaxChunkBytes is %d: it must be in (0, %d] (protocol.MaxChunkBytes) so that every chunk fits a gRPC message at default settings", info.MaxChunkBytes, protocol.MaxChunkBytes))
	}
	return errors.Join(errs...)
}

// checkBeginRejectsKind: Begin refuses what is not a kind, and the kinds
// Info does not list.
func checkBeginRejectsKind(ctx context.Context, tgt Target) error {
	info, err := tgt.Snapshotter.Info(ctx)
	if err != nil {
		//lint:ignore ST1005 the message begins with the protocol method that failed, Snapshotter.Info
		return fmt.Errorf("Info: %w", err)
	}
	var errs []error
	try := func(k protocol.Kind, want failure, why string) {
		se, err := begin(ctx, tgt.Snapshotter, tgt.Source, k)
		if err == nil {
			se.cleanup(ctx)
		}
		if err := wantCode(err, fmt.Sprintf("Begin(%s) (%s)", k, why), want); err != nil {
			errs = append(errs, err)
		}
	}
	try(protocol.KindUnspecified, failInvalidParameter, "the zero Kind, which a host that forgot to set one sends")
	try(protocol.Kind(99), failInvalidParameter, "not a kind")
	for _, k := range []protocol.Kind{protocol.KindFull, protocol.KindIncremental, protocol.KindCopy, protocol.KindDifferential} {
		if !info.Supports(k) {
			try(k, anyTypedFailure, "a kind Info does not list")
		}
	}
	return errors.Join(errs...)
}

// backupCheck takes a backup of kind k, checks every batch, every stream
// and End, and then that the session is over. It is skipped when k is not
// among the target's kinds, and for incremental and differential backups
// when the plugin answers JET_errMissingFullBackup: they need a recorded
// full backup that truncated logs, which the suite does not take.
func backupCheck(k protocol.Kind) func(ctx context.Context, tgt Target) error {
	return func(ctx context.Context, tgt Target) error {
		info, err := tgt.Snapshotter.Info(ctx)
		if err != nil {
			//lint:ignore ST1005 the message begins with the protocol method that failed, Snapshotter.Info
			return fmt.Errorf("Info: %w", err)
		}
		if !slices.Contains(targetKinds(tgt, info), k) {
			return fmt.Errorf("%w: %s is not among the kinds to exercise", ErrSkip, k)
		}
		if !info.Supports(k) {
			return fmt.Errorf("Target.Kinds lists %s but Info.Kinds %v does not", k, info.Kinds)
		}
		se, err := begin(ctx, tgt.Snapshotter, tgt.Source, k)
		if err != nil {
			if (k == protocol.KindIncremental || k == protocol.KindDifferential) && failMissingFullBackup.is(err) {
				return fmt.Errorf("%w: %v: a %s backup builds on a recorded full backup; take a full backup of Target.Source with log truncation first to exercise it", ErrSkip, err, k)
			}
			return err
		}
		defer se.cleanup(ctx)
		return backupSession(ctx, se, info)
	}
}

// backupSession reads every file of an open session and ends it
// succeeded.
func backupSession(ctx context.Context, se *session, info protocol.Info) error {
	n, err := se.readAll(ctx, info)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("the backup of %s listed no file: point Target.Source at something the plugin backs up", describe(se.src))
	}
	res, err := se.end(ctx, protocol.OutcomeSucceeded, false)
	if err != nil {
		return fmt.Errorf("End(succeeded) after all %d files were read: %w", n, err)
	}
	if len(res.Truncated) > 0 {
		return fmt.Errorf("End(succeeded) without TruncateLogs deleted %v: truncate logs only when the host asks", res.Truncated)
	}
	if _, err := se.s.Files(ctx, se.id); err != nil {
		return wantCode(err, "Files after End", anyTypedFailure)
	}
	//lint:ignore ST1005 the message begins with the protocol method that failed, Snapshotter.Files
	return errors.New("Files after End succeeded: an ended session must refuse further calls with a typed error (JET_errNoBackup, or gRPC FailedPrecondition)")
}

// abortPhase is where an abort check ends its session.
type abortPhase int

const (
	abortAfterBegin     abortPhase = iota // before any Files
	abortAfterFiles                       // the first batch listed, nothing read
	abortMidRead                          // the ChunkWriter failed on the first chunk
	abortAfterLastFiles                   // everything read, the empty batch returned
)

var abortPhaseNames = map[abortPhase]string{
	abortAfterBegin:     "right after Begin",
	abortAfterFiles:     "after the first Files",
	abortMidRead:        "after the ChunkWriter failed in the middle of a Read",
	abortAfterLastFiles: "after the last (empty) Files",
}

// abortCheck: End(aborted) in the given phase returns without error,
// records and truncates nothing, and frees the source for a new session.
func abortCheck(phase abortPhase) func(ctx context.Context, tgt Target) error {
	when := abortPhaseNames[phase]
	return func(ctx context.Context, tgt Target) error {
		p, err := prepare(ctx, tgt)
		if err != nil {
			return err
		}
		se, err := begin(ctx, tgt.Snapshotter, tgt.Source, p.kind)
		if err != nil {
			return err
		}
		defer se.cleanup(ctx)
		switch phase {
		case abortAfterFiles:
			if _, err := se.files(ctx); err != nil {
				return err
			}
		case abortMidRead:
			stop := errors.New("conformance: the host stopped receiving")
			file, err := se.readUntilChunk(ctx, ctx, func(int64, []byte) error { return stop })
			switch {
			case file == "" && err != nil:
				return err
			case !errors.Is(err, stop):
				//lint:ignore ST1005 the message begins with the protocol method that failed, Snapshotter.Read
				return fmt.Errorf("Read %q returned %v after its ChunkWriter failed with %q: stop at once and return the writer's error unchanged, so that the host sees why the stream ended", file, err, stop)
			}
		case abortAfterLastFiles:
			if _, err := se.readAll(ctx, p.info); err != nil {
				return err
			}
		}
		res, err := se.end(ctx, protocol.OutcomeAborted, false)
		if err != nil {
			return fmt.Errorf("End(aborted) %s: %w: End must accept an abort in any state of the session, since the host sends one on every failure path", when, err)
		}
		if res.Recorded != "" || len(res.Truncated) > 0 {
			return fmt.Errorf("End(aborted) %s recorded %q and truncated %v: an aborted backup records and truncates nothing", when, res.Recorded, res.Truncated)
		}
		return beginAgain(ctx, tgt.Snapshotter, tgt.Source, p.kind, "End(aborted) "+when)
	}
}

// checkUnknownSession: calls naming a session the plugin never started
// fail with JET_errNoBackup, also while another session is open, and do
// not disturb that session.
func checkUnknownSession(ctx context.Context, tgt Target) error {
	p, err := prepare(ctx, tgt)
	if err != nil {
		return err
	}
	se, err := begin(ctx, tgt.Snapshotter, tgt.Source, p.kind)
	if err != nil {
		return err
	}
	defer se.cleanup(ctx)
	bogus := "conformance-unknown-" + se.id
	var errs []error
	_, err = tgt.Snapshotter.Files(ctx, bogus)
	errs = append(errs, wantCode(err, "Files on an unknown session id", failNoBackup))
	err = tgt.Snapshotter.Read(ctx, bogus, "conformance-no-such-file", 0, discard)
	errs = append(errs, wantCode(err, "Read on an unknown session id", failNoBackup))
	_, err = tgt.Snapshotter.End(ctx, bogus, protocol.EndRequest{Outcome: protocol.OutcomeAborted})
	errs = append(errs, wantCode(err, "End(aborted) on an unknown session id", failNoBackup))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if _, err := se.files(ctx); err != nil {
		return fmt.Errorf("the open session broke after calls on an unknown session id: %w: act only on the session the id names", err)
	}
	return nil
}

// checkReadOutsideBatch: Read of a name that is not in the current batch
// fails, before the first Files and after it.
func checkReadOutsideBatch(ctx context.Context, tgt Target) error {
	p, err := prepare(ctx, tgt)
	if err != nil {
		return err
	}
	se, err := begin(ctx, tgt.Snapshotter, tgt.Source, p.kind)
	if err != nil {
		return err
	}
	defer se.cleanup(ctx)
	const name = "conformance-not-listed"
	err = se.s.Read(ctx, se.id, name, 0, discard)
	if err := wantCode(err, fmt.Sprintf("Read %q before any Files", name), anyTypedFailure); err != nil {
		return err
	}
	// The plugin may end a session on a misuse; use a fresh one.
	se.cleanup(ctx)
	if se, err = begin(ctx, tgt.Snapshotter, tgt.Source, p.kind); err != nil {
		return err
	}
	defer se.cleanup(ctx)
	files, err := se.files(ctx)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(files, func(f protocol.File) bool { return f.Name == name }) {
		return fmt.Errorf("the source has a file named %q; use another source", name)
	}
	err = se.s.Read(ctx, se.id, name, 0, discard)
	return wantCode(err, fmt.Sprintf("Read %q, a name the batch does not list", name), anyTypedFailure)
}

// firstBatch begins a session and returns it with its first non-empty
// batch.
func firstBatch(ctx context.Context, tgt Target, kind protocol.Kind) (*session, []protocol.File, error) {
	se, err := begin(ctx, tgt.Snapshotter, tgt.Source, kind)
	if err != nil {
		return nil, nil, err
	}
	files, err := se.files(ctx)
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("the first batch of a %s backup of %s is empty, so the check has nothing to read: give Target.Source at least one file", kind, describe(tgt.Source))
	}
	return se, files, err
}

// checkReadTwice: a file that was read is not read again in the same
// session.
func checkReadTwice(ctx context.Context, tgt Target) error {
	p, err := prepare(ctx, tgt)
	if err != nil {
		return err
	}
	se, files, err := firstBatch(ctx, tgt, p.kind)
	defer se.cleanup(ctx)
	if err != nil {
		return err
	}
	f := files[0]
	if err := se.readChecked(ctx, p.info, f, 0); err != nil {
		return err
	}
	err = se.s.Read(ctx, se.id, f.Name, 0, discard)
	return wantCode(err, fmt.Sprintf("a second Read of %q in the same session", f.Name), anyTypedFailure)
}

// checkFilesBeforeBatchRead: each batch is returned once, and the next one
// only after every file of the current one was read, so Files before that
// fails with JET_errInvalidBackupSequence.
func checkFilesBeforeBatchRead(ctx context.Context, tgt Target) error {
	p, err := prepare(ctx, tgt)
	if err != nil {
		return err
	}
	se, files, err := firstBatch(ctx, tgt, p.kind)
	defer se.cleanup(ctx)
	if err != nil {
		return err
	}
	_, err = se.s.Files(ctx, se.id)
	if err := wantCode(err, "Files before any file of the current batch was read", failInvalidBackupSequence); err != nil {
		return err
	}
	if len(files) < 2 {
		return nil
	}
	// Once more with the batch half read, on a new session in case the
	// plugin ended the first one.
	se.cleanup(ctx)
	if se, files, err = firstBatch(ctx, tgt, p.kind); err != nil {
		return err
	}
	defer se.cleanup(ctx)
	if err := se.readChecked(ctx, p.info, files[0], 0); err != nil {
		return err
	}
	_, err = se.s.Files(ctx, se.id)
	return wantCode(err, fmt.Sprintf("Files after reading 1 of the %d files of the current batch", len(files)), failInvalidBackupSequence)
}

// checkEndSucceededEarly: End(succeeded) with files left unread fails and
// records nothing; the host's End(aborted) that follows is accepted and
// the source is free again.
func checkEndSucceededEarly(ctx context.Context, tgt Target) error {
	p, err := prepare(ctx, tgt)
	if err != nil {
		return err
	}
	se, _, err := firstBatch(ctx, tgt, p.kind)
	defer se.cleanup(ctx)
	if err != nil {
		return err
	}
	res, err := se.end(ctx, protocol.OutcomeSucceeded, false)
	if err := wantCode(err, "End(succeeded) before the files of the batch were read", anyTypedFailure); err != nil {
		return fmt.Errorf("%w (the backup is incomplete; JET_errInvalidBackupSequence says so)", err)
	}
	if res.Recorded != "" || len(res.Truncated) > 0 {
		return fmt.Errorf("End(succeeded) failed but recorded %q and truncated %v: an incomplete backup records and truncates nothing", res.Recorded, res.Truncated)
	}
	if _, err := se.end(ctx, protocol.OutcomeAborted, false); err != nil {
		return fmt.Errorf("End(aborted) after a failed End(succeeded): %w: End must accept an abort in any state of the session", err)
	}
	return beginAgain(ctx, tgt.Snapshotter, tgt.Source, p.kind, "a refused End(succeeded)")
}

// checkEndTwice: a second End never turns an aborted session into a
// successful backup, and never changes what the first End reported.
func checkEndTwice(ctx context.Context, tgt Target) error {
	p, err := prepare(ctx, tgt)
	if err != nil {
		return err
	}
	// Aborted, then succeeded.
	se, err := begin(ctx, tgt.Snapshotter, tgt.Source, p.kind)
	if err != nil {
		return err
	}
	defer se.cleanup(ctx)
	if _, err := se.end(ctx, protocol.OutcomeAborted, false); err != nil {
		return fmt.Errorf("End(aborted) right after Begin: %w", err)
	}
	res, err := se.end(ctx, protocol.OutcomeSucceeded, false)
	if err != nil {
		if err := wantCode(err, "End(succeeded) after End(aborted)", anyTypedFailure); err != nil {
			return err
		}
	} else if res.Recorded != "" || len(res.Truncated) > 0 {
		return fmt.Errorf("End(succeeded) after End(aborted) recorded %q and truncated %v: a session that was aborted stays aborted; fail the second End or repeat the first one's result", res.Recorded, res.Truncated)
	}
	if err := beginAgain(ctx, tgt.Snapshotter, tgt.Source, p.kind, "End(aborted) and a second End"); err != nil {
		return err
	}

	// Succeeded, then aborted.
	se, err = begin(ctx, tgt.Snapshotter, tgt.Source, p.kind)
	if err != nil {
		return err
	}
	defer se.cleanup(ctx)
	if _, err := se.readAll(ctx, p.info); err != nil {
		return err
	}
	first, err := se.end(ctx, protocol.OutcomeSucceeded, false)
	if err != nil {
		return fmt.Errorf("End(succeeded) after every file was read: %w", err)
	}
	again, err := se.end(ctx, protocol.OutcomeAborted, false)
	if err != nil {
		if err := wantCode(err, "End(aborted) after End(succeeded)", anyTypedFailure); err != nil {
			return err
		}
	} else if again.Recorded != first.Recorded || !slices.Equal(again.Truncated, first.Truncated) {
		return fmt.Errorf("End(aborted) after End(succeeded) reported recorded %q, truncated %v where the first End reported %q, %v: a repeated End returns the first one's result or fails", again.Recorded, again.Truncated, first.Recorded, first.Truncated)
	}
	return beginAgain(ctx, tgt.Snapshotter, tgt.Source, p.kind, "End(succeeded) and a second End")
}

// checkCancelMidRead: cancelling the context of a Read ends the stream
// with an error and the session with it; the host's End(aborted) is
// accepted and the source is free again.
func checkCancelMidRead(ctx context.Context, tgt Target) error {
	p, err := prepare(ctx, tgt)
	if err != nil {
		return err
	}
	se, err := begin(ctx, tgt.Snapshotter, tgt.Source, p.kind)
	if err != nil {
		return err
	}
	defer se.cleanup(ctx)
	readCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		file string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		file, err := se.readUntilChunk(ctx, readCtx, func(int64, []byte) error {
			cancel()
			return nil
		})
		done <- result{file, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(cancelGrace):
		//lint:ignore ST1005 the message begins with the protocol method that failed, Snapshotter.Read
		return fmt.Errorf("Read did not return within %s after its context was cancelled: check ctx.Done() between chunks and return ctx.Err()", cancelGrace)
	}
	switch {
	case r.file == "" && r.err != nil:
		return r.err
	case r.err == nil:
		//lint:ignore ST1005 the message begins with the protocol method that failed, Snapshotter.Read
		return fmt.Errorf("Read %q returned nil although its context was cancelled on its first chunk (asked for chunks of %d bytes): check ctx between chunks and return ctx.Err()", r.file, protocol.MinChunkBytes)
	}
	// The file is still unread, so Files would fail in a live session too;
	// reading the file again tells an ended session from a live one.
	err = se.s.Read(ctx, se.id, r.file, 0, discard)
	if err := wantCode(err, fmt.Sprintf("Read of %q again after its first Read was cancelled", r.file), anyTypedFailure); err != nil {
		return fmt.Errorf("%w: a cancelled stream ends the session (ESE cannot resume a file), so later calls fail", err)
	}
	_, err = se.s.Files(ctx, se.id)
	if err := wantCode(err, fmt.Sprintf("Files after the Read of %q was cancelled", r.file), anyTypedFailure); err != nil {
		return fmt.Errorf("%w: a cancelled stream ends the session, so later calls fail", err)
	}
	if k, ok := tgt.Snapshotter.(protocol.SessionKeeper); ok && p.info.Has(protocol.CapabilityKeepalive) {
		err := k.Keepalive(ctx, se.id)
		if err := wantCode(err, "Keepalive of the session ended by a cancelled Read", anyTypedFailure); err != nil {
			return fmt.Errorf("%w: Keepalive tells the host that End cannot succeed", err)
		}
	}
	res, err := se.s.End(ctx, se.id, protocol.EndRequest{Outcome: protocol.OutcomeSucceeded})
	if err := wantCode(err, "End(succeeded) of the session ended by a cancelled Read", anyTypedFailure); err != nil {
		return fmt.Errorf("%w: a session the plugin aborted never ends succeeded", err)
	}
	if res.Recorded != "" || len(res.Truncated) > 0 {
		return fmt.Errorf("End(succeeded) of an aborted session failed but recorded %q and truncated %v", res.Recorded, res.Truncated)
	}
	if _, err := se.end(ctx, protocol.OutcomeAborted, false); err != nil {
		return fmt.Errorf("End(aborted) after a cancelled Read: %w: End must accept an abort in any state of the session", err)
	}
	return beginAgain(ctx, tgt.Snapshotter, tgt.Source, p.kind, "a cancelled Read")
}

// checkKeepalive: a plugin that lists the keepalive capability accepts
// Keepalive for a live session (also between the last batch and End, when
// the host commits its set) and refuses it after End.
func checkKeepalive(ctx context.Context, tgt Target) error {
	p, err := prepare(ctx, tgt)
	if err != nil {
		return err
	}
	k, ok := tgt.Snapshotter.(protocol.SessionKeeper)
	if !ok || !p.info.Has(protocol.CapabilityKeepalive) {
		return fmt.Errorf("%w: the plugin does not list the %q capability", ErrSkip, protocol.CapabilityKeepalive)
	}
	se, err := begin(ctx, tgt.Snapshotter, tgt.Source, p.kind)
	if err != nil {
		return err
	}
	defer se.cleanup(ctx)
	if err := k.Keepalive(ctx, se.id); err != nil {
		//lint:ignore ST1005 the message begins with the protocol method that failed, Snapshotter.Keepalive
		return fmt.Errorf("Keepalive right after Begin: %w", err)
	}
	if _, err := se.readAll(ctx, p.info); err != nil {
		return err
	}
	if err := k.Keepalive(ctx, se.id); err != nil {
		//lint:ignore ST1005 the message begins with the protocol method that failed, Snapshotter.Keepalive
		return fmt.Errorf("Keepalive after the last batch, before End: %w: the host sends it while its sink commits", err)
	}
	if _, err := se.end(ctx, protocol.OutcomeAborted, false); err != nil {
		return fmt.Errorf("End(aborted): %w", err)
	}
	err = k.Keepalive(ctx, se.id)
	return wantCode(err, "Keepalive after End", anyTypedFailure)
}

// checkRestart: a plugin restarted while a session was open (as after a
// crash) does not know that session, and serves the source again.
func checkRestart(ctx context.Context, tgt Target) error {
	if tgt.Restart == nil {
		return fmt.Errorf("%w: Target.Restart is nil", ErrSkip)
	}
	p, err := prepare(ctx, tgt)
	if err != nil {
		return err
	}
	se, err := begin(ctx, tgt.Snapshotter, tgt.Source, p.kind)
	if err != nil {
		return err
	}
	if _, err := se.files(ctx); err != nil {
		se.cleanup(ctx)
		return err
	}
	se.ended = true // the plugin is about to die with it
	s2, err := tgt.Restart()
	if err != nil {
		return fmt.Errorf("Target.Restart: %w", err)
	}
	if s2 == nil {
		return errors.New("Target.Restart returned a nil Snapshotter")
	}
	_, err = s2.Files(ctx, se.id)
	if err := wantCode(err, "Files after a restart on a session of the previous plugin", failNoBackup); err != nil {
		return err
	}
	return beginAgain(ctx, s2, tgt.Source, p.kind, "a restart of the plugin in the middle of a session")
}
