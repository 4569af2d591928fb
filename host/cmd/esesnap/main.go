// Command esesnap backs up, verifies, restores and inspects ESE (JET Blue)
// databases and their transaction logs. Each job is a subcommand; the exit
// codes are the same for all of them (see exitcode.go).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	// The "ese" set format: backup records ESE metadata, verify checks
	// every page, log and the log chain.
	"github.com/esesnap/esesnap/ese"
	_ "github.com/esesnap/esesnap/ese/eseset"
	"github.com/esesnap/esesnap/protocol"
	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
)

// The "jet" error domain: a JET_err from the plugin process comes back as
// *ese.Error (ese.FromRemote), so that errors.As and errors.Is see the
// JET_err in what backup, verify and restore return, as with an
// in-process plugin; the hints and exit codes are chosen from it.
func init() {
	protocol.RegisterDecoder(ese.Domain, ese.FromRemote)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args with the given output streams and
// returns the exit code. Ctrl-C (and SIGTERM, as a service manager stops a
// program) cancels the context the subcommands get, so that they stop
// restic cleanly and take back what they did.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	code := exitCodeFor(err)
	if code != ExitOK && ctx.Err() != nil {
		code = ExitInterrupted
	}
	var ee *exitError
	switch {
	case err == nil:
	case asExit(err, &ee) && ee.err == nil:
		// already reported by the subcommand
	case code == ExitUsage:
		fmt.Fprintf(stderr, "esesnap: %v\nRun 'esesnap --help' for usage.\n", err)
	case code == ExitInterrupted:
		newLogger(stderr, hclog.Info).Error("interrupted")
	default:
		newLogger(stderr, hclog.Info).Error(err.Error())
	}
	return code
}

// newRootCmd builds the esesnap root command with its global flags and
// registers every subcommand. Subcommands get their logger from
// loggerFrom(cmd) and write results to cmd.OutOrStdout().
func newRootCmd() *cobra.Command {
	var level string
	var showVersion bool
	root := &cobra.Command{
		Use:   "esesnap",
		Short: "Back up, verify, restore and inspect ESE databases and logs",
		Long: `esesnap works with Extensible Storage Engine (JET Blue) files: databases
(.edb, .dit, .dat, ...), transaction logs and checkpoints.

Exit codes: 0 ok, 1 verification failed, 2 usage error or nothing matches
what was asked for, 3 I/O or other error, 4 backup stored but its session did
not end cleanly, 5 restic repository cannot be opened (missing, no password,
wrong password), 130 interrupted.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			lv := hclog.LevelFromString(level)
			if lv == hclog.NoLevel {
				return usageError(fmt.Errorf("invalid --log-level %q: use trace, debug, info, warn or error", level))
			}
			cmd.SetContext(context.WithValue(cmd.Context(), loggerKey{}, newLogger(cmd.ErrOrStderr(), lv)))
			return nil
		},
		// esesnap alone shows the help; esesnap --version is esesnap version.
		RunE: func(cmd *cobra.Command, _ []string) error {
			if showVersion {
				return runVersion(cmd, &pluginFlags{}, false)
			}
			return cmd.Help()
		},
	}
	root.PersistentFlags().StringVar(&level, "log-level", "info", "stderr log level: trace, debug, info, warn, error")
	root.Flags().BoolVar(&showVersion, "version", false, "print esesnap's version and its plugin's (as esesnap version)")
	root.AddCommand(newInspectCmd(), newBackupCmd(), newVerifyCmd(), newRestoreCmd(), newPluginTestCmd(), newPluginInfoCmd(), newSnapshotsCmd(), newForgetCmd(), newVersionCmd())
	return root
}

// loggerKey is the context key of the command's logger.
type loggerKey struct{}

// newLogger returns the human-readable logger esesnap writes to stderr.
func newLogger(w io.Writer, level hclog.Level) hclog.Logger {
	// Colors only on a terminal: hclog colors any writer that is no file,
	// such as the buffer plugin-test keeps the plugin's lines in.
	color := hclog.ColorOff
	if _, ok := w.(*os.File); ok {
		color = hclog.AutoColor
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:   "esesnap",
		Level:  level,
		Output: w,
		Color:  color,
	})
}

// loggerFrom returns the logger set up for cmd by the root command, or a
// default one on cmd's stderr.
func loggerFrom(cmd *cobra.Command) hclog.Logger {
	if ctx := cmd.Context(); ctx != nil {
		if l, ok := ctx.Value(loggerKey{}).(hclog.Logger); ok {
			return l
		}
	}
	return newLogger(cmd.ErrOrStderr(), hclog.Info)
}
