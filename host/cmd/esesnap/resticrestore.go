package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese/eseset"
	"github.com/esesnap/esesnap/host/catalog"
	"github.com/esesnap/esesnap/host/restic"
	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
)

// errNotRestorable means the chosen backup cannot be restored from what
// the repository holds (a missing full backup, a log gap, a forgotten
// page-delta base): a verdict on the stored data.
var errNotRestorable = errors.New("the backup does not restore")

// chainFromRestic chooses the restore point (--snapshot, or the newest
// restorable backup at or before --at of the one instance the filter
// leaves), streams every set its restore needs with restic dump — the
// full backup and every incremental or differential after it up to the
// point, and the bases of page deltas — verifies each, and assembles the
// chain under dir.
func chainFromRestic(cmd *cobra.Command, r *resticFlags, f catalog.Filter, snapshot string, at time.Time, dir string) (*eseset.Chain, error) {
	ctx := cmd.Context()
	o := r.options(cmd)
	log := loggerFrom(cmd)
	rc, err := loadCatalog(ctx, o, log)
	if err != nil {
		return nil, err
	}
	choice, err := rc.Select(f, snapshot, at)
	if err != nil {
		return nil, err
	}
	for _, p := range choice.Skipped {
		log.Warn("a newer backup of this instance does not restore and was passed over", "snapshot", catalog.Short(p.Backup.ID), "time", p.Backup.Time.Format(time.RFC3339), "problem", p.Problem)
	}
	pt := choice.Point
	if !pt.Restorable() {
		return nil, fmt.Errorf("%w: snapshot %s (%s): %s", errNotRestorable, catalog.Short(pt.Backup.ID), pt.Backup.Kind, pt.Problem)
	}
	log.Info("restore point chosen", "snapshot", catalog.Short(pt.Backup.ID), "instance", pt.Backup.Key().String(), "kind", pt.Backup.Kind, "time", pt.Backup.Time.Format(time.RFC3339), "sets", len(pt.Needs()))
	snaps := make([]restic.Snapshot, 0, len(rc.snaps))
	for _, s := range rc.snaps {
		snaps = append(snaps, s)
	}
	var sets []*backupset.VerifyReport
	// The members, in chain order; resolveDeltas reads the bases.
	for _, id := range pt.Members {
		s := rc.snaps[id]
		setDir := filepath.Join(dir, fmt.Sprintf("set-%02d-%s", len(sets)+1, s.ShortID))
		if err := os.MkdirAll(setDir, 0o755); err != nil {
			return nil, err
		}
		log.Info("reading backup set from restic", "snapshot", s.ShortID, "time", s.Time.Format(time.RFC3339))
		rep, err := dumpVerified(ctx, o, s.ID, s.Paths[0], setDir)
		if errors.Is(err, backupset.ErrDeltaSet) && rep != nil {
			// Its databases are rebuilt from their base first, then the
			// whole set is verified.
			if err := resolveDeltas(ctx, log, o, snaps, rep.Manifest, setDir, filepath.Join(dir, "bases")); err != nil {
				return nil, fmt.Errorf("snapshot %s: %w", s.ShortID, err)
			}
			rep, err = backupset.Verify(ctx, setDir)
		}
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", s.ShortID, err)
		}
		sets = append(sets, rep)
	}
	return eseset.AssembleVerified(ctx, sets, filepath.Join(dir, "chain"), backupset.Scratch())
}

// resolveDeltas rebuilds the databases a --page-delta set stores as page
// deltas: it reads their base snapshot from restic (once, into basesDir),
// applies the deltas and checks every rebuilt file against the manifest.
func resolveDeltas(ctx context.Context, log hclog.Logger, o restic.Options, snaps []restic.Snapshot, m *backupset.Manifest, setDir, basesDir string) error {
	_, err := backupset.ResolveDeltas(setDir, m, func(f backupset.ManifestFile) (string, error) {
		var base *restic.Snapshot
		for i := range snaps {
			if snaps[i].ID == f.Delta.Base {
				base = &snaps[i]
			}
		}
		if base == nil || len(base.Paths) != 1 {
			return "", fmt.Errorf("base snapshot %.8s is not in the repository (was it forgotten? keep bases with --keep-tag esesnap:delta-base)", f.Delta.Base)
		}
		dir := filepath.Join(basesDir, base.ShortID)
		if _, err := os.Stat(filepath.Join(dir, backupset.ManifestName)); err != nil {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return "", err
			}
			log.Info("reading the base of a page delta from restic", "snapshot", base.ShortID)
			if _, err := dumpInto(ctx, o, base.ID, base.Paths[0], dir); err != nil {
				return "", fmt.Errorf("base snapshot %s: %w", base.ShortID, err)
			}
		}
		return filepath.Join(dir, f.Name), nil
	})
	return err
}

// dumpVerified streams one snapshot's tar through restic dump into dir and
// verifies it (backupset.ExtractAndVerify: every byte hashed once, as it is
// written). It returns Verify's report and error; a nil report means the
// stream could not be extracted.
func dumpVerified(ctx context.Context, o restic.Options, id, path, dir string) (*backupset.VerifyReport, error) {
	var rep *backupset.VerifyReport
	var verr error
	err := restic.DumpWith(ctx, o, id, path, func(r io.Reader) error {
		rep, verr = backupset.ExtractAndVerify(ctx, r, dir, backupset.Scratch())
		if rep == nil {
			return verr // not extracted: restic is stopped
		}
		return nil // the whole stream was read: restic ends by itself
	})
	if err != nil {
		return nil, err
	}
	return rep, verr
}

// dumpInto streams one snapshot's tar through restic dump into dir.
func dumpInto(ctx context.Context, o restic.Options, id, path, dir string) (*backupset.Manifest, error) {
	var m *backupset.Manifest
	err := restic.DumpWith(ctx, o, id, path, func(r io.Reader) (err error) {
		m, err = backupset.ExtractTar(ctx, r, dir, backupset.Scratch())
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}
