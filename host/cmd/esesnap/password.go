package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// errNoPassword is the error of a restic repository without a password
// when there is no terminal to ask for one.
var errNoPassword = errors.New("no password for the restic repository")

// askPassword asks for the repository's password once, as restic does,
// when esesnap runs on a terminal (its stdin is one): the prompt and the
// typed password go through /dev/tty where it opens, else stdin and
// stderr, without echo. The password is then handed to each restic of this
// run in restic's own environment only (restic.Options.Password). Without
// a terminal it fails saying how to give a password.
func askPassword(cmd *cobra.Command, where string) (string, error) {
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return "", fmt.Errorf("%w %s, and no terminal to ask for one: set RESTIC_PASSWORD_FILE (or RESTIC_PASSWORD, RESTIC_PASSWORD_COMMAND) or pass --password-file or --password-command", errNoPassword, where)
	}
	in, out := int(os.Stdin.Fd()), cmd.ErrOrStderr()
	if tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
		defer tty.Close()
		in, out = int(tty.Fd()), tty
	}
	// Ctrl-C at the prompt is caught (the command's context ends), not
	// fatal: stop waiting for the password then, and put the terminal's
	// echo back, which ReadPassword would only do once a line is typed.
	state, _ := term.GetState(in)
	type typed struct {
		pw  []byte
		err error
	}
	got := make(chan typed, 1)
	fmt.Fprintf(out, "enter password for repository %s: ", where)
	go func() {
		pw, err := term.ReadPassword(in)
		got <- typed{pw, err}
	}()
	var pw []byte
	select {
	case t := <-got:
		io.WriteString(out, "\n")
		if t.err != nil {
			return "", fmt.Errorf("read the repository password from the terminal: %w", t.err)
		}
		pw = t.pw
	case <-cmd.Context().Done():
		if state != nil {
			term.Restore(in, state)
		}
		io.WriteString(out, "\n")
		return "", fmt.Errorf("asking for the repository password: %w", context.Cause(cmd.Context()))
	}
	if len(pw) == 0 {
		return "", fmt.Errorf("%w %s: an empty password was typed (restic refuses an empty password unless --insecure-no-password)", errNoPassword, where)
	}
	return string(pw), nil
}
