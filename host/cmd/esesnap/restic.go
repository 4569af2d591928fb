package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/host/restic"
	"github.com/esesnap/esesnap/protocol"
	"github.com/spf13/cobra"
)

// resticFlags choose the restic repository and binary. Password and other
// repository options come from the RESTIC_* environment as usual (or
// --restic-arg --password-file=F); they are passed to restic only, never
// to the plugin, and never logged.
type resticFlags struct {
	repo   string
	binary string
	args   []string
	chain  string
	// estimate predicts restic's new data per file (restic.WithEstimate).
	estimate bool
	// pageDelta stores databases as page deltas against a base snapshot,
	// whose page index is kept in deltaCache.
	pageDelta  bool
	deltaCache string
}

func (r *resticFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&r.repo, "restic-repo", "", "store the backup set as a snapshot in this restic repository")
	f.StringVar(&r.binary, "restic", "restic", "restic executable")
	f.StringArrayVar(&r.args, "restic-arg", nil, "extra restic global option, such as --password-file=F (repeatable)")
	f.BoolVar(&r.estimate, "restic-estimate", true, "predict per file how much restic adds, with the repository's chunker (restic list blobs, restic cat config until cached, one more hash pass)")
	f.BoolVar(&r.pageDelta, "page-delta", false, "store databases as the pages changed since a base snapshot (the first such backup is the base; restore needs it, keep it with restic forget --keep-tag esesnap:delta-base)")
	f.StringVar(&r.deltaCache, "delta-cache", "", "directory of the page indexes --page-delta keeps (default: the user cache directory)")
	f.StringVar(&r.chain, "chain", "", "backup chain id tag (default: a new id for a full backup; the latest chain for the others)")
}

func (r *resticFlags) options(cmd *cobra.Command) restic.Options {
	return restic.Options{Binary: r.binary, Repo: r.repo, Args: r.args, Stderr: cmd.ErrOrStderr()}
}

// resticSummary is the restic part of `backup --json`.
type resticSummary struct {
	SnapshotID string `json:"snapshot_id"`
	DataAdded  int64  `json:"data_added"`
	Chain      string `json:"chain"`
	// Estimate is esesnap's own prediction of DataAdded, per file of the
	// set, made with restic's chunker before restic reported.
	Estimate *restic.Estimate `json:"estimate,omitempty"`
	// EstimateError says why there is no estimate although one was asked
	// for; the backup itself succeeded.
	EstimateError string `json:"estimate_error,omitempty"`
	// warnings go to the summary's own warnings.
	warnings []string
}

type resticSummarizer interface{ resticSummary() *resticSummary }

type resticSink struct {
	*restic.Sink
	chain string
}

func (s resticSink) resticSummary() *resticSummary {
	if s.Summary == nil {
		return nil
	}
	sum := &resticSummary{SnapshotID: s.Summary.SnapshotID, DataAdded: s.Summary.DataAdded, Chain: s.chain, Estimate: s.Estimate}
	if s.EstimateErr != nil {
		sum.EstimateError = s.EstimateErr.Error()
	}
	return sum
}

// sink starts `restic backup --stdin` for one set, tagged so that restore
// can find the chain: esesnap, esesnap:kind=K, esesnap:chain=ID.
func (r *resticFlags) sink(ctx context.Context, cmd *cobra.Command, kind protocol.Kind, src protocol.Source) (backupset.Sink, string, func(bool) error, error) {
	chain := r.chain
	if chain == "" && (kind == protocol.KindFull || kind == protocol.KindCopy) {
		var b [6]byte
		rand.Read(b[:])
		chain = hex.EncodeToString(b[:])
	}
	name := filepath.Base(filepath.Clean(src.Location)) + ".tar"
	if chain == "" {
		// An incremental or differential continues the latest chain of the
		// same source in the repository.
		snaps, err := restic.Snapshots(ctx, r.options(cmd), "esesnap")
		if err != nil {
			return nil, r.repo, func(bool) error { return nil }, err
		}
		for _, s := range snaps {
			if c := s.Tag("esesnap:chain="); c != "" && len(s.Paths) == 1 && s.Paths[0] == "/"+name {
				chain = c // snapshots come oldest first: the last match wins
			}
		}
		if chain == "" {
			return nil, r.repo, func(bool) error { return nil }, fmt.Errorf("no full backup of %s in %s to continue: run a full backup first", name, r.repo)
		}
	}
	tags := []string{"esesnap", "esesnap:kind=" + kind.String()}
	if chain != "" {
		tags = append(tags, "esesnap:chain="+chain)
	}
	var opts []restic.SinkOption
	if r.estimate {
		opts = append(opts, restic.WithEstimate())
	}
	start := func(tags []string, cfg restic.Config) (*restic.Sink, error) {
		opts := opts
		if cfg.ID != "" {
			opts = append(opts, restic.WithConfig(cfg))
		}
		return restic.NewSink(ctx, r.options(cmd), restic.BackupOptions{Filename: name, Tags: tags}, opts...)
	}
	// Only full and copy backups hold databases; incrementals and
	// differentials hold logs, which are stored whole anyway.
	if r.pageDelta && (kind == protocol.KindFull || kind == protocol.KindCopy) {
		ds, warnings, err := r.deltaSink(ctx, r.options(cmd), src, name, tags, start)
		if err != nil {
			return nil, r.repo, func(bool) error { return nil }, err
		}
		ds.chain, ds.warnings = chain, warnings
		for _, w := range warnings {
			loggerFrom(cmd).Warn(w)
		}
		return ds, r.repo + " (restic)", ds.finish, nil
	}
	s, err := start(tags, restic.Config{})
	if err != nil {
		return nil, r.repo, func(bool) error { return nil }, err
	}
	return resticSink{Sink: s, chain: chain}, r.repo + " (restic)", func(bool) error { return nil }, nil
}
