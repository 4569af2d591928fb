package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese/eseset"
	"github.com/esesnap/esesnap/host/restic"
	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
)

// chainFromRestic finds the snapshot to restore (--snapshot, or the latest
// at or before --at) and the chain that leads to it — the full backup it
// belongs to and every incremental or differential after it up to the
// target — streams each set with `restic dump`, verifies it, and assembles
// the chain under dir.
func chainFromRestic(cmd *cobra.Command, r *resticFlags, snapshot string, at time.Time, dir string) (*eseset.Chain, error) {
	ctx := cmd.Context()
	o := r.options(cmd)
	snaps, err := restic.Snapshots(ctx, o, "esesnap")
	if err != nil {
		return nil, err
	}
	target, err := pickSnapshot(snaps, snapshot, at)
	if err != nil {
		return nil, err
	}
	chain := target.Tag("esesnap:chain=")
	if chain == "" {
		return nil, fmt.Errorf("snapshot %s has no esesnap:chain tag; it was not written by esesnap backup --restic-repo", target.ShortID)
	}
	var members []restic.Snapshot
	for _, s := range snaps {
		if s.Tag("esesnap:chain=") == chain && !s.Time.After(target.Time) {
			members = append(members, s)
		}
	}
	sort.SliceStable(members, func(i, j int) bool { return members[i].Time.Before(members[j].Time) })
	// The chain starts at the last full (or copy) backup before the target.
	start := -1
	for i, s := range members {
		if k := s.Tag("esesnap:kind="); k == "full" || k == "copy" {
			start = i
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("chain %s has no full backup at or before snapshot %s", chain, target.ShortID)
	}
	members = members[start:]
	log := loggerFrom(cmd)
	var sets []string
	for i, s := range members {
		setDir := filepath.Join(dir, fmt.Sprintf("set-%02d-%s", i+1, s.ShortID))
		if err := os.MkdirAll(setDir, 0o755); err != nil {
			return nil, err
		}
		if len(s.Paths) != 1 {
			return nil, fmt.Errorf("snapshot %s holds %d paths, an esesnap snapshot one", s.ShortID, len(s.Paths))
		}
		log.Info("reading backup set from restic", "snapshot", s.ShortID, "kind", s.Tag("esesnap:kind="), "time", s.Time.Format(time.RFC3339))
		m, err := dumpInto(ctx, o, s.ID, s.Paths[0], setDir)
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", s.ShortID, err)
		}
		if err := resolveDeltas(ctx, log, o, snaps, m, setDir, filepath.Join(dir, "bases")); err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", s.ShortID, err)
		}
		sets = append(sets, setDir)
	}
	return eseset.AssembleChain(ctx, sets, filepath.Join(dir, "chain"), backupset.Scratch())
}

// pickSnapshot chooses by id (prefix), "latest", or the latest at or before at.
func pickSnapshot(snaps []restic.Snapshot, id string, at time.Time) (restic.Snapshot, error) {
	var best *restic.Snapshot
	for i := range snaps {
		s := &snaps[i]
		switch {
		case id != "" && id != "latest":
			if strings.HasPrefix(s.ID, id) {
				return *s, nil
			}
		case !at.IsZero() && s.Time.After(at):
		default:
			if best == nil || !s.Time.Before(best.Time) {
				best = s
			}
		}
	}
	if best == nil {
		if id != "" && id != "latest" {
			return restic.Snapshot{}, fmt.Errorf("no esesnap snapshot %q in the repository", id)
		}
		return restic.Snapshot{}, fmt.Errorf("no esesnap snapshot in the repository at or before %v", at)
	}
	return *best, nil
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
