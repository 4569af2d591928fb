package main

import (
	"context"
	"errors"
	"strconv"
)

// Exit codes of esesnap, the same for every subcommand:
//
//	0    ok: the command did what was asked and everything it checked verified
//	1    verification failed: a page, log, header, chain link or backup set is bad
//	2    usage error: unknown command or flag, wrong number of arguments;
//	     or nothing matches what was asked for (an unknown snapshot id,
//	     --at before the first backup, no esesnap snapshot in the
//	     repository, no full backup for an incremental to continue)
//	3    I/O or other error: the command could not be completed
//	4    backup stored, but the session did not end cleanly: the set is
//	     complete and kept, but ending the backup session failed, so the
//	     backup may not be recorded and logs may or may not be truncated
//	     (the report says which)
//	5    the restic repository cannot be opened: it does not exist, no
//	     password was given (and there is no terminal to ask), or the
//	     password is wrong
//	130  interrupted (SIGINT / Ctrl-C) before completion
//
// When a run finds bad data and also hits an I/O error, 1 wins: it is a
// definite verdict on the data.
const (
	ExitOK           = 0
	ExitVerifyFailed = 1
	ExitUsage        = 2
	ExitError        = 3
	ExitEndFailed    = 4
	ExitRepository   = 5
	ExitInterrupted  = 130
)

// exitError carries the exit code a subcommand chose. err may be nil when
// the command has already told the user what went wrong.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return "exit status " + strconv.Itoa(e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// withCode makes err end the program with code. A nil err means the
// failure was already reported and main prints nothing more.
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// usageError marks a command-line mistake (exit code 2).
func usageError(err error) error { return withCode(ExitUsage, err) }

// exitCodeFor maps the error returned by the root command to an exit code.
// Errors that carry no code come from cobra itself (unknown command, bad
// flag or argument count), so they are usage errors.
func exitCodeFor(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	}
	return ExitUsage
}
