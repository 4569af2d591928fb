package main

import (
	"context"
	"errors"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese/eseset"
	"github.com/esesnap/esesnap/host/catalog"
	"github.com/esesnap/esesnap/host/restic"
	"github.com/esesnap/esesnap/protocol"
	"github.com/hashicorp/go-hclog"
)

// Tags esesnap gives its restic snapshots.
const (
	tagESESnap = "esesnap"
	tagKind    = "esesnap:kind="
	tagChain   = "esesnap:chain="
)

// repoCatalog is a restic repository's esesnap backups, with the
// snapshots they are.
type repoCatalog struct {
	*catalog.Catalog
	snaps map[string]restic.Snapshot // by id
}

// manifestWorkers is how many snapshots' manifests are read at once the
// first time a repository is listed (each is two or three short restic
// runs; later listings read them from the cache).
const manifestWorkers = 4

// loadCatalog lists the repository's snapshots and reads the manifest of
// each esesnap set from the end of its tar: snapshots esesnap tagged, and
// untagged snapshots of one .tar file (restic's command mode) that turn
// out to hold a set. A tagged snapshot whose manifest cannot be read is
// kept with what its tags say and the reason (catalog.Backup.Unknown).
func loadCatalog(ctx context.Context, o restic.Options, log hclog.Logger) (*repoCatalog, error) {
	snaps, err := restic.Snapshots(ctx, o)
	if err != nil {
		return nil, err
	}
	rc := &repoCatalog{snaps: map[string]restic.Snapshot{}}
	var (
		mu      sync.Mutex
		backups []catalog.Backup
		wg      sync.WaitGroup
		sem     = make(chan struct{}, manifestWorkers)
	)
	for _, s := range snaps {
		rc.snaps[s.ID] = s
		tagged := s.HasTag(tagESESnap)
		if !tagged && (len(s.Paths) != 1 || !strings.HasSuffix(s.Paths[0], ".tar")) {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			m, err := restic.ReadManifest(ctx, o, s)
			if err != nil && !tagged {
				if !errors.Is(err, restic.ErrNoManifest) {
					log.Debug("snapshot skipped: its manifest could not be read", "snapshot", s.ShortID, "error", err)
				}
				return
			}
			b := backupOf(s, m, err)
			mu.Lock()
			backups = append(backups, b)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rc.Catalog = catalog.New(backups)
	return rc, nil
}

// backupOf is what the catalog knows of snapshot s: from its manifest m,
// or, when that could not be read (err), from its tags.
func backupOf(s restic.Snapshot, m *backupset.Manifest, err error) catalog.Backup {
	b := catalog.Backup{ID: s.ID, Time: s.Time, Host: s.Hostname, Chain: s.Tag(tagChain)}
	if err != nil {
		b.Unknown = err
		b.Kind, _ = protocol.ParseKind(s.Tag(tagKind))
		b.Source = strings.TrimSuffix(path.Base(s.Paths[0]), ".tar")
		return b
	}
	b.Kind = m.Kind
	b.Source = m.Source.Source().Location
	if e := eseset.InfoOf(m); e != nil {
		b.GenLow, b.GenHigh = e.GenLow, e.GenHigh
		b.Instance = instanceOf(e)
	}
	for _, f := range m.Files {
		if f.Delta != nil && !slices.Contains(b.Bases, f.Delta.Base) {
			b.Bases = append(b.Bases, f.Delta.Base)
		}
	}
	if !s.Time.Equal(m.Started) && !m.Started.IsZero() {
		b.Time = m.Started
	}
	return b
}

// instanceOf is an ESE set's instance identity: its log stream's
// signature, from the manifest or else its first database's.
func instanceOf(e *eseset.Info) string {
	if e.SignLog != nil {
		return e.SignLog.Hex
	}
	if len(e.Databases) > 0 {
		return e.Databases[0].SignLog.Hex
	}
	return ""
}
