package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese/eseset"
	"github.com/esesnap/esesnap/host/catalog"
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
	// host is the host name the snapshot records (restic's --host);
	// empty means this machine's.
	host string
}

func (r *resticFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&r.repo, "restic-repo", "", "store the backup set as a snapshot in this restic repository")
	f.StringVar(&r.binary, "restic", "restic", "restic executable")
	f.StringArrayVar(&r.args, "restic-arg", nil, "extra restic global option, such as --password-file=F (repeatable)")
	f.BoolVar(&r.estimate, "restic-estimate", true, "predict per file how much restic adds, with the repository's chunker (restic list blobs, restic cat config until cached, one more hash pass)")
	f.BoolVar(&r.pageDelta, "page-delta", false, "store databases as the pages changed since a base snapshot (the first such backup is the base; restore needs it, keep it with restic forget --keep-tag esesnap:delta-base)")
	f.StringVar(&r.deltaCache, "delta-cache", "", "directory of the page indexes --page-delta keeps (default: the user cache directory)")
	f.StringVar(&r.chain, "chain", "", "backup chain id tag (default: a new id for a full backup; for the others the latest chain of this instance: this host, this source, this log stream)")
	f.StringVar(&r.host, "host", "", "with --restic-repo: the host name the snapshot records, as restic backup --host (default: this machine's)")
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
	// The instance's identity: its log stream's signature, read from its
	// checkpoint before the backup when esesnap can, and always checked
	// against the streamed set before the snapshot is saved.
	hint := instanceHint(src)
	want := hint
	if chain == "" {
		// An incremental or differential continues the latest chain of
		// this instance: same host, same source, same log stream.
		joined, err := r.latestChain(ctx, cmd, src)
		if err != nil {
			return nil, r.repo, func(bool) error { return nil }, err
		}
		chain = joined.ID
		if ci := joined.Key.Instance; ci != "" {
			if hint != "" && hint != ci {
				return nil, r.repo, func(bool) error { return nil }, otherInstance(joined.ID, ci, hint)
			}
			want = ci
		}
	}
	tags := []string{"esesnap", "esesnap:kind=" + kind.String()}
	if chain != "" {
		tags = append(tags, "esesnap:chain="+chain)
	}
	tags = append(tags, sourceTag(src.Location))
	if want != "" {
		tags = append(tags, "esesnap:instance="+catalog.Short(want))
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
		return restic.NewSink(ctx, r.options(cmd), restic.BackupOptions{Filename: name, Tags: tags, Host: r.host}, opts...)
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
	rs := resticSink{Sink: s, chain: chain}
	if want != "" {
		return &sameInstanceSink{resticSink: rs, chain: chain, want: want}, r.repo + " (restic)", func(bool) error { return nil }, nil
	}
	return rs, r.repo + " (restic)", func(bool) error { return nil }, nil
}

// hostName is the host name snapshots of this run record.
func (r *resticFlags) hostName() (string, error) {
	if r.host != "" {
		return r.host, nil
	}
	return os.Hostname()
}

// latestChain finds the chain an incremental or differential backup of
// src continues: the one holding the newest backup of src taken on this
// host. It fails when there is none, naming what the repository holds.
func (r *resticFlags) latestChain(ctx context.Context, cmd *cobra.Command, src protocol.Source) (*catalog.Chain, error) {
	host, err := r.hostName()
	if err != nil {
		return nil, fmt.Errorf("host name: %w", err)
	}
	rc, err := loadCatalog(ctx, r.options(cmd), loggerFrom(cmd))
	if err != nil {
		return nil, err
	}
	var latest *catalog.Chain
	var at time.Time
	for _, ch := range rc.Chains {
		if ch.ID == "" || ch.Key.Host != host || ch.Key.Source != src.Location {
			continue
		}
		if last := ch.Backups[len(ch.Backups)-1].Time; latest == nil || !last.Before(at) {
			latest, at = ch, last
		}
	}
	if latest == nil {
		f := catalog.Filter{Host: host, Source: src.Location}
		return nil, fmt.Errorf("%w: no full backup of %s in %s to continue (%s): run a full backup first", catalog.ErrNotFound, f, r.repo, rc.Summary())
	}
	return latest, nil
}

// errOtherInstance means a set is of another instance than the chain it
// was to join (or than its tags say).
var errOtherInstance = errors.New("the set is of another instance than the chain it continues")

// otherInstance is errOtherInstance with the chain and both identities.
func otherInstance(chain, want, got string) error {
	return fmt.Errorf("%w: chain %s belongs to instance %s, this instance's log stream is %s; take a full backup to start a chain of this instance",
		errOtherInstance, chain, catalog.Short(want), catalog.Short(got))
}

// sameInstanceSink is the restic sink of a backup whose instance is known
// before it streams (from the chain it continues or the instance's
// checkpoint): before the set is committed, it checks that the set's
// instance (its log stream's signature) is that one, so that a set never
// joins the chain of another instance that lived at the same path (a
// re-created database, a reset log stream) nor carries another instance's
// tag. A mismatch fails the backup before the snapshot is saved; the
// session then ends aborted and truncates nothing.
type sameInstanceSink struct {
	resticSink
	chain, want string
}

// Commit checks the set's instance, then commits.
func (s *sameInstanceSink) Commit(ctx context.Context, manifest []byte, modTime time.Time) error {
	m, err := backupset.ReadManifest(bytes.NewReader(manifest))
	if err != nil {
		return err
	}
	got := ""
	if e := eseset.InfoOf(m); e != nil {
		got = instanceOf(e)
	}
	if got != s.want {
		return otherInstance(s.chain, s.want, got)
	}
	return s.resticSink.Commit(ctx, manifest, modTime)
}
