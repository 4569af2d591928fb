package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/esesnap/esesnap/host/catalog"
	"github.com/esesnap/esesnap/host/restic"
	"github.com/spf13/cobra"
)

// repoFlags are the flags of the commands that read a restic repository's
// esesnap backups: the repository and which instances.
type repoFlags struct {
	rf     resticFlags
	filter catalog.Filter
	json   bool
}

func (f *repoFlags) register(cmd *cobra.Command) {
	f.rf.registerRepo(cmd, "the restic repository (default: RESTIC_REPOSITORY or RESTIC_REPOSITORY_FILE)")
	fl := cmd.Flags()
	fl.StringVar(&f.filter.Host, "host", "", "only backups taken on this host")
	fl.StringVar(&f.filter.Source, "path", "", "only backups of this source location (absolute, as backed up)")
	fl.StringVar(&f.filter.Instance, "instance", "", "only backups of this instance (a prefix of its id)")
	fl.BoolVar(&f.json, "json", false, "print JSON on stdout")
}

// load reads the repository's catalog.
func (f *repoFlags) load(cmd *cobra.Command) (*repoCatalog, error) {
	if !f.rf.named(cmd) {
		return nil, usageError(errors.New("give a restic repository: -r/--restic-repo REPO, --repository-file FILE, or RESTIC_REPOSITORY / RESTIC_REPOSITORY_FILE in the environment"))
	}
	if err := f.rf.prepare(cmd); err != nil {
		return nil, err
	}
	return loadCatalog(cmd.Context(), f.rf.options(cmd), loggerFrom(cmd))
}

// snapshotJSON is one backup in `snapshots --json`.
type snapshotJSON struct {
	ID         string    `json:"id"`
	ShortID    string    `json:"short_id"`
	Time       time.Time `json:"time"`
	Kind       string    `json:"kind"`
	GenLow     uint32    `json:"gen_low,omitempty"`
	GenHigh    uint32    `json:"gen_high,omitempty"`
	Bases      []string  `json:"delta_bases,omitempty"`
	Restorable bool      `json:"restorable"`
	Problem    string    `json:"problem,omitempty"`
	Needs      []string  `json:"needs"`
}

// chainJSON is one chain in `snapshots --json`.
type chainJSON struct {
	ID string `json:"id"`
	// CommandMode is true for a set restic stored in command mode,
	// outside esesnap's chains.
	CommandMode bool           `json:"command_mode,omitempty"`
	Restorable  bool           `json:"restorable"`
	Backups     []snapshotJSON `json:"backups"`
}

// instanceJSON is one instance in `snapshots --json`.
type instanceJSON struct {
	Host     string      `json:"host"`
	Path     string      `json:"path"`
	Instance string      `json:"instance"`
	Chains   []chainJSON `json:"chains"`
}

func newSnapshotsCmd() *cobra.Command {
	var f repoFlags
	cmd := &cobra.Command{
		Use:   "snapshots --restic-repo REPO [--host H] [--path P] [--instance I] [--json]",
		Short: "List the esesnap backups of a restic repository by instance and chain, and whether each restores",
		Long: `snapshots lists the esesnap backups in a restic repository per instance (a host,
a source path and the instance's log stream), each instance's chains (a full
backup and the incrementals and differentials after it) and every backup's kind,
time, log generations, page-delta bases and whether a restore of it works: its
chain holds the full backup before it, every set in between, every delta base
and every log generation. Sets stored by restic's command mode are listed as
chains of their own.

Each set's details come from its manifest, read from the last blobs of its tar
and cached by snapshot id, so the first listing of a large repository takes a
few restic runs per snapshot and later ones almost none.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rc, err := f.load(cmd)
			if err != nil {
				return resticCmdError(cmd, err)
			}
			instances := describe(rc, f.filter)
			if f.json {
				if instances == nil {
					instances = []instanceJSON{}
				}
				return writeJSON(cmd.OutOrStdout(), instances)
			}
			printSnapshots(cmd.OutOrStdout(), instances)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// describe turns the catalog into the listing.
func describe(rc *repoCatalog, filter catalog.Filter) []instanceJSON {
	var out []instanceJSON
	for _, ch := range rc.Chains {
		if !filter.Matches(ch.Key) {
			continue
		}
		if len(out) == 0 || out[len(out)-1].Host != ch.Key.Host || out[len(out)-1].Path != ch.Key.Source || out[len(out)-1].Instance != ch.Key.Instance {
			out = append(out, instanceJSON{Host: ch.Key.Host, Path: ch.Key.Source, Instance: ch.Key.Instance})
		}
		cj := chainJSON{ID: ch.ID, CommandMode: ch.ID == "", Restorable: true}
		for _, p := range rc.Points(ch) {
			b := p.Backup
			sj := snapshotJSON{ID: b.ID, ShortID: short8(b.ID), Time: b.Time, Kind: b.Kind.String(),
				GenLow: b.GenLow, GenHigh: b.GenHigh, Bases: b.Bases, Restorable: p.Restorable(), Problem: p.Problem, Needs: p.Needs()}
			if s, ok := rc.snaps[b.ID]; ok && s.ShortID != "" {
				sj.ShortID = s.ShortID
			}
			cj.Restorable = cj.Restorable && p.Restorable()
			cj.Backups = append(cj.Backups, sj)
		}
		last := &out[len(out)-1]
		last.Chains = append(last.Chains, cj)
	}
	return out
}

// printSnapshots writes the listing for people.
func printSnapshots(w io.Writer, instances []instanceJSON) {
	if len(instances) == 0 {
		fmt.Fprintln(w, "no esesnap backups")
		return
	}
	for i, in := range instances {
		if i > 0 {
			fmt.Fprintln(w)
		}
		key := catalog.Key{Host: in.Host, Source: in.Path, Instance: in.Instance}
		fmt.Fprintf(w, "instance %s\n", key)
		for _, ch := range in.Chains {
			name := "chain " + ch.ID
			if ch.CommandMode {
				name = "set stored by restic command mode (no chain)"
			}
			fmt.Fprintf(w, "  %s\n", name)
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "    ID\tTIME\tKIND\tLOGS\tRESTORES")
			for _, b := range ch.Backups {
				gens := "-"
				if b.GenHigh != 0 {
					gens = fmt.Sprintf("%#x-%#x", b.GenLow, b.GenHigh)
				}
				restores := "yes"
				if !b.Restorable {
					restores = "no: " + b.Problem
				}
				kind := b.Kind
				if len(b.Bases) > 0 {
					kind += " (page delta on " + shortList(b.Bases) + ")"
				}
				fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\n", b.ShortID, b.Time.Local().Format("2006-01-02 15:04:05"), kind, gens, restores)
			}
			tw.Flush()
		}
	}
}

// short8 is the first 8 characters of an id, as restic shows snapshots.
func short8(id string) string { return id[:min(8, len(id))] }

// shortList writes ids as their short forms.
func shortList(ids []string) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = short8(id)
	}
	return strings.Join(s, ", ")
}

// resticCmdError reports a failure of a command that reads a restic
// repository with the exit code it deserves.
func resticCmdError(cmd *cobra.Command, err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	var rerr *restic.ExitError
	switch {
	case cmd.Context().Err() != nil:
		return withCode(ExitInterrupted, err)
	case errors.Is(err, catalog.ErrNotFound), errors.Is(err, catalog.ErrAmbiguous), errors.Is(err, catalog.ErrEmptyPolicy):
		return usageError(err)
	case errors.As(err, &rerr):
		return withCode(exitFor(err), err)
	}
	return withCode(ExitError, err)
}
