package restic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/esesnap/esesnap/backupset"
)

// Sink is a backupset.Sink that streams the backup set as a tar into
// `restic backup --stdin`. Commit returns only after restic exited 0 and
// reported the snapshot id, so the plugin records the backup and truncates
// logs only once the snapshot exists. Abort stops restic before closing its
// stdin (Backup.Stop), so no truncated stream becomes a snapshot and restic
// removes its lock.
//
// With WithEstimate the sink also predicts, file by file, how much of the
// set restic will store as new data (see Estimator).
type Sink struct {
	opts Options
	run  *Backup
	tar  *backupset.TarSink
	prep *estimatePrep // nil without WithEstimate

	Summary  *Summary  // set by a successful Commit
	Estimate *Estimate // set by a successful Commit when estimating
	// EstimateErr says why a successful Commit has no Estimate although
	// one was asked for. The estimate only informs: failing to make it
	// (say, restic cat config failed) never fails the backup.
	EstimateErr error
}

var _ backupset.Sink = (*Sink)(nil)

// SinkOption configures NewSink.
type SinkOption func(*sinkOptions)

type sinkOptions struct {
	estimate bool
	config   *Config
}

// WithConfig gives the sink the repository's config when the caller has
// read it already, saving the estimate a `restic cat config`.
func WithConfig(c Config) SinkOption { return func(o *sinkOptions) { o.config = &c } }

// WithEstimate makes the sink predict restic's data_added per file of the
// set. It costs more restic calls (`list blobs` for the blobs the
// repository holds; `cat config` for the chunker polynomial until it is
// cached for the repository's location), run while restic backup starts,
// and a pass of chunking and hashing over the stream in the host (SHA-256,
// or a 64-bit hash when the repository holds no data yet).
func WithEstimate() SinkOption { return func(o *sinkOptions) { o.estimate = true } }

// NewSink starts restic for one backup set.
func NewSink(ctx context.Context, o Options, b BackupOptions, opts ...SinkOption) (*Sink, error) {
	var so sinkOptions
	for _, opt := range opts {
		opt(&so)
	}
	s := &Sink{opts: o}
	if so.estimate {
		// Both calls finish before the first byte reaches restic, so the
		// blob list cannot include blobs of this very backup. Their
		// errors end in EstimateErr, or are restic backup's own (a
		// missing repository): their stderr is not shown.
		quiet := o
		quiet.Stderr = nil
		s.prep = startEstimatePrep(ctx, quiet, so.config)
	}
	run, err := StartBackup(ctx, o, b)
	if err != nil {
		if s.prep != nil {
			s.prep.wait(ctx)
		}
		return nil, err
	}
	s.run = run
	var w io.Writer = run.Writer()
	if s.prep != nil {
		w = &estimatingWriter{ctx: ctx, prep: s.prep, restic: w}
	}
	s.tar = backupset.NewTarSink(w)
	return s, nil
}

// Create starts the next file of the tar stream.
func (s *Sink) Create(e backupset.Entry) (io.WriteCloser, error) {
	if s.prep != nil {
		s.prep.mark(e.Name)
	}
	return s.tar.Create(e)
}

// Commit ends the tar stream with the manifest, closes restic's input and
// waits for the snapshot.
func (s *Sink) Commit(ctx context.Context, manifest []byte, modTime time.Time) error {
	if s.prep != nil {
		s.prep.mark(backupset.ManifestName)
	}
	if err := s.tar.Commit(ctx, manifest, modTime); err != nil {
		s.run.Stop()
		return fmt.Errorf("stream the backup set to restic: %w", err)
	}
	var est *Estimate
	var estErr error
	if s.prep != nil {
		if e, err := s.prep.result(); err != nil {
			estErr = err
		} else {
			est = &e
		}
	}
	sum, err := s.run.Finish(ctx)
	if err != nil {
		return err
	}
	// The next incremental finds its chain by the manifests of the
	// repository's sets: this one needs no restic cat tree and cat blob.
	s.opts.cacheManifest(sum.SnapshotID, manifest)
	if est != nil {
		fromCache := s.prep.cached || s.prep.bc != nil && s.prep.bc.fromCache
		switch ok := plausible(est, sum); {
		case !ok && fromCache:
			// The location holds another repository than the cached
			// config says, or blobs the cached list lacks: forget both,
			// and report no estimate rather than a wrong one.
			s.opts.forgetConfig()
			s.prep.bc.forget()
			est = nil
		case ok && s.prep.bc != nil:
			// Every chunk of the stream is in the repository now.
			if s.prep.est.AddIDs(s.prep.blobs) {
				s.prep.bc.update(s.prep.blobs)
			}
		}
	}
	s.Summary, s.Estimate, s.EstimateErr = sum, est, estErr
	return nil
}

// plausible says whether an estimate agrees with what restic reported:
// within 1 MiB plus 5%. A wrong polynomial puts every chunk boundary
// elsewhere, so a repository that holds the unchanged data would add far
// less than predicted.
func plausible(e *Estimate, s *Summary) bool {
	d := e.NewBytes + e.TreeBytes - s.DataAdded
	return max(d, -d) <= 1<<20+s.DataAdded/20
}

// Config returns the repository config the estimate read, if it did.
func (s *Sink) Config() (Config, bool) {
	if s.prep == nil || !s.prep.ready() {
		return Config{}, false
	}
	return s.prep.cfg, true
}

// Abort stops restic first, then drops the stream.
func (s *Sink) Abort() error {
	kerr := s.run.Stop()
	if s.prep != nil {
		s.prep.abort()
	}
	return errors.Join(kerr, s.tar.Abort())
}

// estimatePrep gets the repository's polynomial and blob list, then runs
// the Estimator over the stream.
type estimatePrep struct {
	done   chan struct{}
	err    error
	cfg    Config
	cached bool // cfg came from the config cache
	blobs  BlobSet
	bc     *blobCache // nil without a cache directory (esesnap's, or restic's for a remote repository)
	est    *Estimator

	mu    sync.Mutex
	marks []string // names marked before the estimator existed
}

func startEstimatePrep(ctx context.Context, o Options, known *Config) *estimatePrep {
	p := &estimatePrep{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		var cfg Config
		var cerr, berr error
		var wg sync.WaitGroup
		switch c, ok := o.CachedConfig(); {
		case known != nil:
			cfg = *known
		case ok:
			cfg, p.cached = c, true
		default:
			wg.Go(func() {
				file := o.configFileSum() // before restic reads it: a repository replaced meanwhile then misses the cache
				if cfg, cerr = RepoConfig(ctx, o); cerr == nil {
					o.cacheConfig(cfg, file)
				}
			})
		}
		wg.Go(func() { p.blobs, p.bc, berr = o.knownBlobs(ctx) })
		wg.Wait()
		if p.err = errors.Join(cerr, berr); p.err != nil {
			return
		}
		if p.bc == nil && o.localDir() == "" {
			// A remote repository's first backup from here: the id that
			// names restic's cache directory came with the config.
			p.bc = o.remoteBlobCache(cfg.ID)
			p.bc.listed(p.blobs)
		}
		p.cfg = cfg
		if len(p.blobs) == 0 {
			p.est = NewLocalEstimator(cfg.ChunkerPolynomial)
		} else {
			p.est = NewEstimator(cfg.ChunkerPolynomial)
		}
	}()
	return p
}

// wait blocks until the polynomial and blob list are known.
func (p *estimatePrep) wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ready reports whether the estimator runs, without blocking.
func (p *estimatePrep) ready() bool {
	select {
	case <-p.done:
		return p.err == nil
	default:
		return false
	}
}

func (p *estimatePrep) mark(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ready() {
		p.flushMarks()
		p.est.Mark(name)
		return
	}
	p.marks = append(p.marks, name)
}

// flushMarks hands marks made before the first byte to the estimator; at
// that point no byte was written, so they all start at 0 and only the
// last one owns bytes.
func (p *estimatePrep) flushMarks() {
	for _, m := range p.marks {
		p.est.Mark(m)
	}
	p.marks = nil
}

func (p *estimatePrep) result() (Estimate, error) {
	<-p.done
	if p.err != nil {
		return Estimate{}, fmt.Errorf("prepare the estimate of restic's new data: %w", p.err)
	}
	p.mu.Lock()
	p.flushMarks()
	p.mu.Unlock()
	if err := p.est.Close(); err != nil {
		return Estimate{}, err
	}
	return p.est.Result(p.blobs), nil
}

func (p *estimatePrep) abort() {
	go func() {
		<-p.done
		if p.est != nil {
			p.est.Close()
		}
	}()
}

// estimatingWriter holds the stream back until the estimator is ready,
// then writes every byte to restic and to the estimator. If the estimate
// could not be prepared, the stream goes on without it.
type estimatingWriter struct {
	ctx    context.Context
	prep   *estimatePrep
	restic io.Writer
	ready  bool
}

func (w *estimatingWriter) Write(b []byte) (int, error) {
	if !w.ready {
		if err := w.prep.wait(w.ctx); err != nil {
			if w.ctx.Err() != nil {
				return 0, err
			}
			// No estimator: Commit reports prep's error as EstimateErr.
		} else {
			w.prep.mu.Lock()
			w.prep.flushMarks()
			w.prep.mu.Unlock()
		}
		w.ready = true
	}
	if w.prep.est != nil {
		if _, err := w.prep.est.Write(b); err != nil {
			return 0, fmt.Errorf("estimate restic's new data: %w", err)
		}
	}
	return w.restic.Write(b)
}
