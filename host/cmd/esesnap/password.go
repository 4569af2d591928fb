package main

import (
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
	fmt.Fprintf(out, "enter password for repository %s: ", where)
	pw, err := term.ReadPassword(in)
	io.WriteString(out, "\n")
	if err != nil {
		return "", fmt.Errorf("read the repository password from the terminal: %w", err)
	}
	if len(pw) == 0 {
		return "", fmt.Errorf("%w %s: an empty password was typed (restic refuses an empty password unless --insecure-no-password)", errNoPassword, where)
	}
	return string(pw), nil
}
