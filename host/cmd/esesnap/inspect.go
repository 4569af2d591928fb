package main

import (
	"errors"
	"fmt"

	"github.com/esesnap/esesnap/ese/inspect"
	"github.com/spf13/cobra"
)

// asExit is errors.As for *exitError.
func asExit(err error, target **exitError) bool { return errors.As(err, target) }

// exactArgs is cobra.ExactArgs with the failure marked as a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError(err)
		}
		return nil
	}
}

// maxLoggedProblems is how many errors (and warnings) inspect repeats on
// stderr; the report on stdout has them all.
const maxLoggedProblems = 10

// logProblems logs the first maxLoggedProblems problems, then their count.
func logProblems(logf func(string, ...any), what string, ps []inspect.Problem) {
	for i, p := range ps {
		if i == maxLoggedProblems {
			logf(fmt.Sprintf("%d more %s, see the report", len(ps)-i, what))
			return
		}
		logf(p.String())
	}
}

// newInspectCmd builds `esesnap inspect PATH`.
func newInspectCmd() *cobra.Command {
	var opts inspect.Options
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect PATH",
		Short: "Dump headers and verify every page and log of ESE files (esentutl /mh /ml /mk /k)",
		Long: `inspect examines a file or a directory (recursively). It recognises
databases, temp databases, flush maps (.jfm), transaction logs (archived,
current, tmp, reserve) and checkpoints by their content, dumps their
headers, verifies the checksum of every database page and log segment,
checks the generation chain of each log stream (tmp and reserve logs are
never part of it) and matches each database's log signature with the logs
and checkpoint next to it. A .gz file is unpacked into a temporary file
and inspected from there.

The report goes to stdout: text, or JSON with --json (schema documented in
package ese/inspect). Errors name the file, the page and the JET_err.

Exit codes: 0 everything verified, 1 a page, log, header or chain link
failed verification, 2 usage error, 3 a file could not be read.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log := loggerFrom(cmd)
			log.Debug("inspecting", "path", args[0], "verify", !opts.NoVerify)
			rep, err := inspect.Inspect(cmd.Context(), args[0], opts)
			if err != nil {
				if cmd.Context().Err() != nil {
					return withCode(ExitInterrupted, err)
				}
				return withCode(ExitError, err)
			}
			for _, d := range rep.Databases {
				if d.Gunzipped {
					log.Info("gunzipped to a temporary file for inspection", "file", d.File)
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				err = writeJSON(out, rep)
			} else {
				err = inspect.WriteText(out, rep)
			}
			if err != nil {
				return withCode(ExitError, fmt.Errorf("write report: %w", err))
			}
			logProblems(log.Warn, "warnings", rep.Warnings)
			logProblems(log.Error, "errors", rep.Errors)
			switch {
			case rep.HasVerifyErrors():
				log.Error("verification failed", "errors", len(rep.Errors), "path", rep.Path)
				return withCode(ExitVerifyFailed, nil)
			case rep.HasIOErrors():
				log.Error("some files could not be read", "errors", len(rep.Errors), "path", rep.Path)
				return withCode(ExitError, nil)
			}
			log.Info(inspect.Summary(rep))
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.BoolVar(&opts.NoVerify, "no-verify", false, "read headers only: no page checksums, no log segments")
	f.BoolVar(&opts.Pages, "pages", false, "list the status of every database page (as runs)")
	f.StringVar(&opts.TempDir, "temp-dir", "", "directory for unpacking .gz files (default: system temp dir)")
	return cmd
}
