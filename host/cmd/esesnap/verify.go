package main

import (
	"errors"
	"fmt"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese/eseset"
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
			var rep *backupset.VerifyReport
			var err error
			if args[0] == "-" {
				rep, err = backupset.VerifyTar(cmd.Context(), cmd.InOrStdin())
			} else {
				rep, err = backupset.Verify(cmd.Context(), args[0])
			}
			out := cmd.OutOrStdout()
			if asJSON {
				v := struct {
					OK     bool                    `json:"ok"`
					Report *backupset.VerifyReport `json:"report,omitempty"`
					Error  *errorJSON              `json:"error,omitempty"`
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
				if errors.Is(err, backupset.ErrTarTruncated) {
					log.Error("what to do: the tar file was cut short after its last entry (a copy or transfer that stopped early, a full disk); copy it again from where the backup wrote it, and do not restore from this one")
				} else if errors.Is(err, backupset.ErrBadManifest) || errors.Is(err, backupset.ErrManifestMismatch) {
					log.Error("what to do: the manifest does not describe these files as esesnap wrote them (edited, damaged, or from another set); do not restore from this set, use another backup")
				} else if errors.Is(err, backupset.ErrIncomplete) {
					log.Error("what to do: the set has no complete manifest: the backup that wrote it did not finish; do not restore from it")
				} else if h := hintFor(err); h != "" {
					log.Error("what to do: " + h)
				}
				code := ExitVerifyFailed
				if rep == nil && !errors.Is(err, backupset.ErrIncomplete) && exitFor(err) == ExitError && !isSetError(err) {
					code = ExitError
				}
				return withCode(code, nil)
			}
			if !asJSON {
				if r := eseset.ReportOf(rep); r != nil {
					fmt.Fprintf(out, "verified %s: %d file(s), %d database(s) page by page, %d log(s) chained %d..%d; kind %s from %s\n",
						rep.Path, len(rep.Files), len(r.Databases), r.Logs, r.GenLow, r.GenHigh, rep.Manifest.Kind, rep.Manifest.Started.Format("2006-01-02 15:04:05Z"))
				} else {
					fmt.Fprintf(out, "verified %s: %d file(s) by size and SHA-256; kind %s from %s\n",
						rep.Path, len(rep.Files), rep.Manifest.Kind, rep.Manifest.Started.Format("2006-01-02 15:04:05Z"))
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// isSetError reports whether err is a verdict on the set's content.
func isSetError(err error) bool {
	for _, target := range []error{backupset.ErrChecksumMismatch, backupset.ErrSizeMismatch, backupset.ErrMissingFile, backupset.ErrExtraFile, backupset.ErrIncomplete, backupset.ErrBadManifest, backupset.ErrManifestMismatch} {
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
