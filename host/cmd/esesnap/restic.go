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
	"strconv"
	"strings"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese/eseset"
	"github.com/esesnap/esesnap/host/catalog"
	"github.com/esesnap/esesnap/host/restic"
	"github.com/esesnap/esesnap/protocol"
	"github.com/spf13/cobra"
)

// resticFlags choose the restic repository and binary, the way restic
// does: -r/--repo (or --restic-repo), --repository-file, or
// RESTIC_REPOSITORY / RESTIC_REPOSITORY_FILE; the password from
// --password-file, --password-command, RESTIC_PASSWORD(_FILE|_COMMAND), or
// asked once on the terminal. Repository, password and options are passed
// to restic only, never to the plugin, and never logged.
type resticFlags struct {
	repo   string
	binary string
	args   []string
	global map[string]any // restic's own global flags: *string, *bool or *[]string
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

	// password is the one asked for on the terminal, given to every
	// restic of this run (prepare).
	password string
}

// resticGlobalFlags are restic's global flags that esesnap takes under
// restic's own names and passes to every restic it runs. restic's -o
// KEY=VALUE is --restic-option here: --option is the plugin's.
var resticGlobalFlags = []struct {
	name, restic string
	value        any // zero value of the flag's type: "", false or []string
	help         string
}{
	{"repository-file", "repository-file", "", "file holding the restic repository location (restic's --repository-file; RESTIC_REPOSITORY_FILE)"},
	{"password-file", "password-file", "", "file holding the repository password (RESTIC_PASSWORD_FILE)"},
	{"password-command", "password-command", "", "command that prints the repository password (RESTIC_PASSWORD_COMMAND)"},
	{"insecure-no-password", "insecure-no-password", false, "use an empty password for the repository"},
	{"key-hint", "key-hint", "", "restic key ID to try first (RESTIC_KEY_HINT)"},
	{"cacert", "cacert", []string{}, "file of a root certificate to trust for the repository's server (repeatable; RESTIC_CACERT)"},
	{"tls-client-cert", "tls-client-cert", "", "TLS client certificate and key file (RESTIC_TLS_CLIENT_CERT)"},
	{"insecure-tls", "insecure-tls", false, "skip TLS certificate verification of the repository's server"},
	{"cache-dir", "cache-dir", "", "restic's cache directory (RESTIC_CACHE_DIR)"},
	{"no-cache", "no-cache", false, "run restic without its local cache"},
	{"limit-upload", "limit-upload", "", "limit restic's uploads to this many KiB/s (RESTIC_LIMIT_UPLOAD)"},
	{"limit-download", "limit-download", "", "limit restic's downloads to this many KiB/s (RESTIC_LIMIT_DOWNLOAD)"},
	{"compression", "compression", "", "restic's compression mode: auto, off, max (RESTIC_COMPRESSION)"},
	{"pack-size", "pack-size", "", "restic's target pack size in MiB (RESTIC_PACK_SIZE)"},
	{"retry-lock", "retry-lock", "", "retry to lock the repository for this long, such as 5m"},
	{"restic-option", "option", []string{}, "KEY=VALUE restic extended option, restic's -o (repeatable)"},
}

// registerRepo adds the flags that reach a restic repository.
func (r *resticFlags) registerRepo(cmd *cobra.Command, repoHelp string) {
	f := cmd.Flags()
	f.StringVar(&r.repo, "restic-repo", "", repoHelp)
	f.StringVarP(&r.repo, "repo", "r", "", "the same as --restic-repo, by restic's name (RESTIC_REPOSITORY)")
	f.StringVar(&r.binary, "restic", "restic", "restic executable")
	f.StringArrayVar(&r.args, "restic-arg", nil, "extra restic global option, such as --password-file=F (repeatable)")
	r.global = map[string]any{}
	for _, g := range resticGlobalFlags {
		switch v := g.value.(type) {
		case string:
			p := new(string)
			f.StringVar(p, g.name, v, g.help)
			r.global[g.name] = p
		case bool:
			p := new(bool)
			f.BoolVar(p, g.name, v, g.help)
			r.global[g.name] = p
		case []string:
			p := new([]string)
			f.StringArrayVar(p, g.name, nil, g.help)
			r.global[g.name] = p
		}
	}
}

func (r *resticFlags) register(cmd *cobra.Command) {
	r.registerRepo(cmd, "store the backup set as a snapshot in this restic repository (default: RESTIC_REPOSITORY or RESTIC_REPOSITORY_FILE, when neither --out nor --tar is given)")
	f := cmd.Flags()
	f.BoolVar(&r.estimate, "restic-estimate", true, "predict per file how much restic adds, with the repository's chunker (restic list blobs, restic cat config until cached, one more hash pass)")
	f.BoolVar(&r.pageDelta, "page-delta", false, "store databases as the pages changed since a base snapshot (the first such backup is the base; restore needs it, keep it with restic forget --keep-tag esesnap:delta-base)")
	f.StringVar(&r.deltaCache, "delta-cache", "", "directory of the page indexes --page-delta keeps (default: the user cache directory)")
	f.StringVar(&r.chain, "chain", "", "backup chain id tag (default: a new id for a full backup; for the others the latest chain of this instance: this host, this source, this log stream)")
	f.StringVar(&r.host, "host", "", "with restic: the host name the snapshot records, as restic backup --host (default: this machine's)")
}

// explicit reports whether the command line names a restic repository.
func (r *resticFlags) explicit(cmd *cobra.Command) bool {
	return r.repo != "" || cmd.Flags().Changed("repository-file")
}

// named reports whether the command line or the environment names a
// restic repository.
func (r *resticFlags) named(cmd *cobra.Command) bool {
	return r.explicit(cmd) || os.Getenv("RESTIC_REPOSITORY") != "" || os.Getenv("RESTIC_REPOSITORY_FILE") != ""
}

// where names the repository for messages, as the user gave it.
func (r *resticFlags) where(cmd *cobra.Command) string {
	switch {
	case r.repo != "":
		return r.repo
	case cmd.Flags().Changed("repository-file"):
		return "the repository in " + *r.global["repository-file"].(*string)
	case os.Getenv("RESTIC_REPOSITORY") != "":
		return os.Getenv("RESTIC_REPOSITORY")
	case os.Getenv("RESTIC_REPOSITORY_FILE") != "":
		return "the repository in " + os.Getenv("RESTIC_REPOSITORY_FILE")
	}
	return "the restic repository"
}

// globalArgs are the restic global flags given to esesnap, as restic
// takes them, then --restic-arg.
func (r *resticFlags) globalArgs(cmd *cobra.Command) []string {
	var args []string
	for _, g := range resticGlobalFlags {
		if !cmd.Flags().Changed(g.name) {
			continue
		}
		switch p := r.global[g.name].(type) {
		case *string:
			args = append(args, "--"+g.restic+"="+*p)
		case *bool:
			args = append(args, "--"+g.restic+"="+strconv.FormatBool(*p))
		case *[]string:
			for _, v := range *p {
				args = append(args, "--"+g.restic+"="+v)
			}
		}
	}
	return append(args, r.args...)
}

func (r *resticFlags) options(cmd *cobra.Command) restic.Options {
	return restic.Options{Binary: r.binary, Repo: r.repo, Args: r.globalArgs(cmd), Stderr: cmd.ErrOrStderr(), Password: r.password}
}

// hasPassword reports whether restic will find a password of its own:
// a flag, --restic-arg or the environment gives one.
func (r *resticFlags) hasPassword(cmd *cobra.Command) bool {
	for _, k := range []string{"RESTIC_PASSWORD", "RESTIC_PASSWORD_FILE", "RESTIC_PASSWORD_COMMAND"} {
		if os.Getenv(k) != "" {
			return true
		}
	}
	for _, f := range []string{"password-file", "password-command", "insecure-no-password"} {
		if cmd.Flags().Changed(f) {
			return true
		}
	}
	for _, a := range r.args {
		for _, f := range []string{"--password-file", "--password-command", "--insecure-no-password", "-p"} {
			if a == f || strings.HasPrefix(a, f+"=") || f == "-p" && strings.HasPrefix(a, "-p") {
				return true
			}
		}
	}
	return false
}

// prepare checks, before anything is backed up or staged, what can be
// checked without running restic: that restic will have a password (else
// it asks once on the terminal, or fails saying how to give one) and that
// a local repository exists. Its errors exit with ExitRepository.
func (r *resticFlags) prepare(cmd *cobra.Command) error {
	where := r.where(cmd)
	if !r.hasPassword(cmd) {
		pw, err := askPassword(cmd, where)
		if err != nil {
			return withCode(ExitRepository, err)
		}
		r.password = pw
	}
	if err := r.options(cmd).CheckLocal(); err != nil {
		if errors.Is(err, restic.ErrNotARepository) {
			return withCode(ExitRepository, fmt.Errorf("%w: check -r/--restic-repo or RESTIC_REPOSITORY, or create a repository there with 'restic init'", err))
		}
		return withCode(ExitRepository, fmt.Errorf("%w: check the repository's permissions", err))
	}
	return nil
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
			return nil, r.where(cmd), func(bool) error { return nil }, err
		}
		chain = joined.ID
		if ci := joined.Key.Instance; ci != "" {
			if hint != "" && hint != ci {
				return nil, r.where(cmd), func(bool) error { return nil }, otherInstance(joined.ID, ci, hint)
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
			return nil, r.where(cmd), func(bool) error { return nil }, err
		}
		ds.chain, ds.warnings = chain, warnings
		for _, w := range warnings {
			loggerFrom(cmd).Warn(w)
		}
		return ds, r.where(cmd) + " (restic)", ds.finish, nil
	}
	s, err := start(tags, restic.Config{})
	if err != nil {
		return nil, r.where(cmd), func(bool) error { return nil }, err
	}
	rs := resticSink{Sink: s, chain: chain}
	if want != "" {
		return &sameInstanceSink{resticSink: rs, chain: chain, want: want}, r.where(cmd) + " (restic)", func(bool) error { return nil }, nil
	}
	return rs, r.where(cmd) + " (restic)", func(bool) error { return nil }, nil
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
		return nil, fmt.Errorf("%w: no full backup of %s in %s to continue (%s): run a full backup first", catalog.ErrNotFound, f, r.where(cmd), rc.Summary())
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
