package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/host/restic"
	"github.com/esesnap/esesnap/internal/durable"
	"github.com/esesnap/esesnap/protocol"
)

// deltaRebasePercent: once a delta holds more than this share of a
// database's pages, the next backup stores the database whole again and
// becomes the new base, so deltas (each made against the base) stay small.
const deltaRebasePercent = 50

// deltaCache is what --page-delta keeps on the backup host between runs:
// the block index of each database of the base snapshot. Without it (a
// new host, a wiped cache, another repository) the next backup simply
// stores the databases whole and becomes the base.
type deltaCache struct {
	Version int
	RepoID  string
	Source  string
	Base    string // restic snapshot id of the base set
	Indexes map[string]*backupset.BlockIndex
}

const deltaCacheVersion = 1

// deltaCachePath is the cache file of one source in one repository,
// found by the repository's location so that a first backup needs no
// restic call to find it; the repository id inside is checked when it is
// used.
func deltaCachePath(dir, location, source string) string {
	sum := sha256.Sum256([]byte(location + "\x00" + source))
	return filepath.Join(dir, hex.EncodeToString(sum[:16])+".idx")
}

// loadDeltaCache reads a cache file; a missing, unreadable or foreign file
// is reported as an error, and the caller then makes a new base.
func loadDeltaCache(path, source string) (*deltaCache, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < sha256.Size {
		return nil, fmt.Errorf("%s is cut short", path)
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, fmt.Errorf("%s is damaged (checksum mismatch)", path)
	}
	var c deltaCache
	if err := gob.NewDecoder(bytes.NewReader(body)).Decode(&c); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if c.Version != deltaCacheVersion || c.Source != source || c.Base == "" || c.RepoID == "" {
		return nil, fmt.Errorf("%s belongs to another source or version", path)
	}
	for name, idx := range c.Indexes {
		if idx == nil || idx.BlockSize <= 0 || len(idx.SHA256) != 64 || int64(len(idx.Hashes)) != (idx.Size+int64(idx.BlockSize)-1)/int64(idx.BlockSize) {
			return nil, fmt.Errorf("%s: the index of %s is inconsistent", path, name)
		}
	}
	return &c, nil
}

// save writes the cache atomically (temporary file, sync, rename).
func (c *deltaCache) save(path string) error {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(c); err != nil {
		return err
	}
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:])
	if err := durable.WriteFileAtomic(path, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("save page index: %w", err)
	}
	return nil
}

// deltaResticSink stores a set in restic with its databases as page deltas
// against the base snapshot when one is known, or whole (making this set
// the new base) otherwise.
type deltaResticSink struct {
	*backupset.DeltaSink
	rs        *restic.Sink
	chain     string
	cachePath string
	cache     *deltaCache // nil: this set is a new base
	source    string
	ctx       context.Context
	opts      restic.Options
	cfg       restic.Config // when read before the backup
	warnings  []string      // why this set is a new base, for the summary
}

func (s *deltaResticSink) resticSummary() *resticSummary {
	sum := resticSink{Sink: s.rs, chain: s.chain}.resticSummary()
	if sum != nil {
		sum.warnings = s.warnings
	}
	return sum
}

// finish updates the cache once the snapshot exists: a new base records
// its indexes; a delta that grew past deltaRebasePercent drops the cache,
// so the next backup is a new base.
func (s *deltaResticSink) finish(ok bool) error {
	if !ok || s.rs.Summary == nil {
		return nil
	}
	if s.cache == nil {
		cfg, ok := s.rs.Config()
		if !ok && s.cfg.ID != "" {
			cfg, ok = s.cfg, true
		}
		if !ok {
			var err error
			if cfg, err = restic.RepoConfig(s.ctx, s.opts); err != nil {
				return fmt.Errorf("the base snapshot is stored, but its page index is not: %w", err)
			}
		}
		c := &deltaCache{Version: deltaCacheVersion, RepoID: cfg.ID, Source: s.source, Base: s.rs.Summary.SnapshotID, Indexes: s.DeltaSink.Indexes}
		return c.save(s.cachePath)
	}
	if len(s.DeltaSink.Indexes) > 0 {
		// A database new since the base was stored whole: the next
		// backup becomes a base that indexes it too.
		return os.Remove(s.cachePath)
	}
	for name := range s.cache.Indexes {
		if d := s.DeltaSink.FileDelta(name); d != nil && d.Blocks > 0 && d.Changed*100 > d.Blocks*deltaRebasePercent {
			return os.Remove(s.cachePath)
		}
	}
	return nil
}

// deltaSink wraps the restic sink for --page-delta: it reads the cached
// index of the base, checks that the base snapshot is still in the
// repository, and tags the snapshot esesnap:base=ID (a delta) or
// esesnap:delta-base (a new base).
func (r *resticFlags) deltaSink(ctx context.Context, o restic.Options, src protocol.Source, name string, tags []string, start func(tags []string, cfg restic.Config) (*restic.Sink, error)) (*deltaResticSink, []string, error) {
	dir := r.deltaCache
	if dir == "" {
		ucd, err := os.UserCacheDir()
		if err != nil {
			return nil, nil, fmt.Errorf("--page-delta needs a cache directory (--delta-cache): %w", err)
		}
		dir = filepath.Join(ucd, "esesnap", "delta")
	}
	s := &deltaResticSink{cachePath: deltaCachePath(dir, o.Location(), src.Location), source: src.Location, ctx: ctx, opts: o}
	var warnings []string
	var cfg restic.Config
	cache, err := loadDeltaCache(s.cachePath, src.Location)
	switch {
	case errors.Is(err, os.ErrNotExist):
		// No base yet: this backup is one, and needs no restic call first.
	case err != nil:
		warnings = append(warnings, fmt.Sprintf("page index: %v; storing the databases whole as a new base", err))
	default:
		// The repository id (is the index of this repository?) and the
		// snapshot list (is the base still there?): read both at once.
		var snaps []restic.Snapshot
		var cerr, serr error
		var wg sync.WaitGroup
		if c, ok := o.CachedConfig(); ok {
			cfg = c // a wrong cached id only costs a new base: the base snapshot is looked up too
		} else {
			wg.Go(func() { cfg, cerr = restic.RepoConfig(ctx, o) })
		}
		wg.Go(func() { snaps, serr = restic.Snapshots(ctx, o, "esesnap") })
		wg.Wait()
		if err := errors.Join(cerr, serr); err != nil {
			return nil, nil, err
		}
		for _, sn := range snaps {
			if sn.ID == cache.Base && len(sn.Paths) == 1 && sn.Paths[0] == "/"+name {
				s.cache = cache
			}
		}
		switch {
		case cache.RepoID != cfg.ID:
			s.cache = nil
			warnings = append(warnings, fmt.Sprintf("page index %s belongs to another repository; storing the databases whole as a new base", s.cachePath))
		case s.cache == nil:
			warnings = append(warnings, fmt.Sprintf("base snapshot %.8s of the page index is gone from the repository; storing the databases whole as a new base", cache.Base))
		}
	}
	if s.cache != nil {
		tags = append(tags, "esesnap:base="+s.cache.Base)
	} else {
		tags = append(tags, "esesnap:delta-base")
	}
	rs, err := start(tags, cfg)
	if err != nil {
		return nil, nil, err
	}
	s.rs, s.cfg = rs, cfg
	s.DeltaSink = &backupset.DeltaSink{Sink: rs}
	if s.cache != nil {
		s.DeltaSink.Base, s.DeltaSink.Bases = s.cache.Base, s.cache.Indexes
	}
	return s, warnings, nil
}
