package main

import (
	"errors"
	"fmt"

	"github.com/esesnap/esesnap/host"
	"github.com/spf13/cobra"
)

func newVerifyCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify SET",
		Short: "Re-hash a backup set and re-verify every page and the log chain offline",
		Long: `verify checks a backup set (a directory or a tar file; "-" reads a tar from
stdin): the manifest is present and complete, every file has the size and SHA-256
it records, no file is missing or extra, every streamed database verifies page
by page with a trailer that matches its header, and the logs form one chain
from gen_low to gen_high with the databases' log signature. Exit 1 when
anything fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rep *host.VerifyReport
			var err error
			if args[0] == "-" {
				rep, err = host.VerifyTar(cmd.Context(), cmd.InOrStdin())
			} else {
				rep, err = host.Verify(cmd.Context(), args[0])
			}
			out := cmd.OutOrStdout()
			if asJSON {
				v := struct {
					OK     bool               `json:"ok"`
					Report *host.VerifyReport `json:"report,omitempty"`
					Error  *errorJSON         `json:"error,omitempty"`
				}{OK: err == nil, Report: rep}
				if err != nil {
					v.Error = toErrorJSON(err)
				}
				writeJSON(out, v)
			}
			if err != nil {
				log := loggerFrom(cmd)
				for _, e := range unjoin(err) {
					log.Error("verify failed: " + e.Error())
				}
				if errors.Is(err, host.ErrTarTruncated) {
					log.Error("what to do: the tar file was cut short after its last entry (a copy or transfer that stopped early, a full disk); copy it again from where the backup wrote it, and do not restore from this one")
				} else if errors.Is(err, host.ErrBadManifest) || errors.Is(err, host.ErrManifestMismatch) {
					log.Error("what to do: the manifest does not describe these files as esesnap wrote them (edited, damaged, or from another set); do not restore from this set, use another backup")
				} else if errors.Is(err, host.ErrIncomplete) {
					log.Error("what to do: the set has no complete manifest: the backup that wrote it did not finish; do not restore from it")
				} else if h := hintFor(err); h != "" {
					log.Error("what to do: " + h)
				}
				code := ExitVerifyFailed
				if rep == nil && !errors.Is(err, host.ErrIncomplete) && exitFor(err) == ExitError && !isSetError(err) {
					code = ExitError
				}
				return withCode(code, nil)
			}
			if !asJSON {
				fmt.Fprintf(out, "verified %s: %d file(s), %d database(s) page by page, %d log(s) chained %d..%d; kind %s from %s\n",
					rep.Path, len(rep.Files), len(rep.Databases), rep.Logs, rep.GenLow, rep.GenHigh, rep.Manifest.Kind, rep.Manifest.Started.Format("2006-01-02 15:04:05Z"))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// isSetError reports whether err is a verdict on the set's content.
func isSetError(err error) bool {
	for _, target := range []error{host.ErrChecksumMismatch, host.ErrSizeMismatch, host.ErrMissingFile, host.ErrExtraFile, host.ErrIncomplete, host.ErrBadManifest, host.ErrManifestMismatch} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// unjoin lists the errors of an errors.Join, or err itself.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
