package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/esesnap/esesnap/host/catalog"
	"github.com/esesnap/esesnap/host/restic"
	"github.com/spf13/cobra"
)

// forgetJSON is one decision in `forget --json`.
type forgetJSON struct {
	ID       string    `json:"id"`
	Host     string    `json:"host"`
	Path     string    `json:"path"`
	Instance string    `json:"instance"`
	Time     time.Time `json:"time"`
	Kind     string    `json:"kind"`
	Keep     bool      `json:"keep"`
	Reasons  []string  `json:"reasons"`
}

func newForgetCmd() *cobra.Command {
	var f repoFlags
	var p catalog.Policy
	var dryRun, prune bool
	cmd := &cobra.Command{
		Use:   "forget --restic-repo REPO --keep-last N|--keep-hourly N|--keep-daily N|--keep-weekly N|--keep-monthly N|--keep-yearly N [--dry-run] [--prune]",
		Short: "Chain-aware retention: forget the esesnap backups no kept restore point needs",
		Long: `forget applies a retention policy to the esesnap backups of a restic repository,
instance by instance, counting restore points (a backup that restores) as restic
counts snapshots: the newest --keep-last, and the newest of each of the newest
--keep-hourly hours, --keep-daily days, --keep-weekly weeks, --keep-monthly
months and --keep-yearly years (-1: all). A kept restore point keeps every
backup its restore needs: its chain's full backup, the incrementals and
differentials before it, and the bases of page deltas. Everything else of those
instances is forgotten with restic forget (and pruned with --prune); snapshots
that are not esesnap backups are never touched, nor is anything of an instance
whose backups could not all be read.

Plain 'restic forget --keep-daily ...' counts snapshots, not restore points,
and can drop the full backup that kept incrementals need; use this instead.
--dry-run shows what would go and why.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if p.Empty() {
				return usageError(catalog.ErrEmptyPolicy)
			}
			rc, err := f.load(cmd)
			if err != nil {
				return resticCmdError(cmd, err)
			}
			plan, err := rc.Plan(p, f.filter)
			if err != nil {
				return resticCmdError(cmd, err)
			}
			var ids []string
			for _, d := range plan {
				if !d.Keep {
					ids = append(ids, d.Backup.ID)
				}
			}
			out := cmd.OutOrStdout()
			if f.json {
				list := make([]forgetJSON, 0, len(plan))
				for _, d := range plan {
					b := d.Backup
					list = append(list, forgetJSON{ID: b.ID, Host: b.Host, Path: b.Source, Instance: b.Instance, Time: b.Time, Kind: b.Kind.String(), Keep: d.Keep, Reasons: d.Reasons})
				}
				if err := writeJSON(out, struct {
					DryRun    bool         `json:"dry_run"`
					Decisions []forgetJSON `json:"decisions"`
				}{dryRun, list}); err != nil {
					return withCode(ExitError, err)
				}
			} else {
				printPlan(out, plan, dryRun)
			}
			if dryRun || len(ids) == 0 {
				return nil
			}
			loggerFrom(cmd).Info("forgetting snapshots", "count", len(ids), "prune", prune)
			if err := restic.Forget(cmd.Context(), f.rf.options(cmd), ids, prune); err != nil {
				return resticCmdError(cmd, fmt.Errorf("restic forget: %w", err))
			}
			return nil
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.IntVar(&p.Last, "keep-last", 0, "keep the newest N restore points")
	fl.IntVar(&p.Hourly, "keep-hourly", 0, "keep the newest restore point of each of the newest N hours")
	fl.IntVar(&p.Daily, "keep-daily", 0, "keep the newest restore point of each of the newest N days")
	fl.IntVar(&p.Weekly, "keep-weekly", 0, "keep the newest restore point of each of the newest N weeks")
	fl.IntVar(&p.Monthly, "keep-monthly", 0, "keep the newest restore point of each of the newest N months")
	fl.IntVar(&p.Yearly, "keep-yearly", 0, "keep the newest restore point of each of the newest N years")
	fl.BoolVar(&dryRun, "dry-run", false, "only show what would be forgotten and why")
	fl.BoolVar(&prune, "prune", false, "prune the repository after forgetting (restic forget --prune)")
	return cmd
}

// printPlan writes the retention decisions for people.
func printPlan(w io.Writer, plan []catalog.Decision, dryRun bool) {
	var key catalog.Key
	forgets := 0
	for i, d := range plan {
		if i == 0 || d.Backup.Key() != key {
			key = d.Backup.Key()
			fmt.Fprintf(w, "instance %s\n", key)
		}
		verb := "keep  "
		if !d.Keep {
			verb = "forget"
			forgets++
		}
		fmt.Fprintf(w, "  %s %s %s %-12s %s\n", verb, short8(d.Backup.ID), d.Backup.Time.Local().Format("2006-01-02 15:04:05"), d.Backup.Kind, strings.Join(d.Reasons, "; "))
	}
	switch {
	case len(plan) == 0:
		fmt.Fprintln(w, "no esesnap backups")
	case dryRun:
		fmt.Fprintf(w, "dry run: %d of %d backup(s) would be forgotten\n", forgets, len(plan))
	default:
		fmt.Fprintf(w, "forgetting %d of %d backup(s)\n", forgets, len(plan))
	}
}
