package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese/eseset"
	"github.com/spf13/cobra"
)

// expandSets returns the sets --set names: each as given, except that a
// single directory without a manifest of its own is a directory of sets,
// whose entries holding a manifest (set directories) or ending in .tar
// are the sets of one chain.
func expandSets(sets []string) ([]string, error) {
	if len(sets) != 1 {
		return sets, nil
	}
	dir := sets[0]
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return sets, nil
	}
	if _, err := os.Stat(filepath.Join(dir, backupset.ManifestName)); err == nil {
		return sets, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir():
			if _, err := os.Stat(filepath.Join(p, backupset.ManifestName)); err == nil {
				out = append(out, p)
			}
		case strings.HasSuffix(e.Name(), ".tar"):
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		// Verify then says what is wrong with the directory as a set.
		return sets, nil
	}
	return out, nil
}

// chainFromSets verifies directory and tar sets given as a chain, orders
// them by the time each backup began (the full or copy backup first) and
// assembles the chain under work, exactly as a chain read from restic: one
// instance's log stream, no gap in the generations.
func chainFromSets(cmd *cobra.Command, sets []string, work string) (*eseset.Chain, error) {
	ctx := cmd.Context()
	log := loggerFrom(cmd)
	type found struct {
		dir string
		m   *backupset.Manifest
	}
	var dirs []found
	allTar := true
	for i, set := range sets {
		st, err := os.Stat(set)
		if err != nil {
			return nil, err
		}
		dir := set
		allTar = allTar && !st.IsDir()
		if !st.IsDir() {
			dir = filepath.Join(work, fmt.Sprintf("tar-%02d", i+1))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
			f, err := os.Open(set)
			if err != nil {
				return nil, err
			}
			_, err = backupset.ExtractTar(ctx, f, dir, backupset.Scratch())
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", set, err)
			}
		}
		b, err := os.ReadFile(filepath.Join(dir, backupset.ManifestName))
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %w", set, backupset.ErrIncomplete, err)
		}
		m, err := backupset.ReadManifest(strings.NewReader(string(b)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", set, err)
		}
		log.Info("backup set of the chain", "set", set, "kind", m.Kind, "started", m.Started)
		dirs = append(dirs, found{dir, m})
	}
	slices.SortStableFunc(dirs, func(a, b found) int { return a.m.Started.Compare(b.m.Started) })
	ordered := make([]string, len(dirs))
	for i, d := range dirs {
		ordered[i] = d.dir
	}
	if len(ordered) == 0 {
		return nil, errors.New("no backup sets")
	}
	// Files extracted from tars are scratch and may be linked into the
	// chain (and moved into place); a set directory of the user's is
	// copied, since the restore moves the chain's databases and recovery
	// then writes them.
	var opts []backupset.ScratchOption
	if allTar {
		opts = append(opts, backupset.Scratch())
	}
	return eseset.AssembleChain(ctx, ordered, filepath.Join(work, "chain"), opts...)
}
