package eseset

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/internal/durable"
	"github.com/esesnap/esesnap/protocol"
)

// ErrChainGap means the sets of a backup chain do not hold every log
// generation between the full backup and the last set.
var ErrChainGap = errors.New("the backup chain has a gap")

// Chain is a full backup and the incremental or differential sets after it,
// assembled into one directory that a restore can use: the databases of the
// full set and every log generation from its first to the last set's last.
type Chain struct {
	Dir       string
	Databases []string // names of the database copies in Dir
	Logs      protocol.LogRange
	Sets      []*backupset.Manifest
}

// AssembleChain verifies each set directory (in chain order: the full or
// copy backup first) and copies its files into dst: the databases of the
// first set, and the logs of every set, a later set's copy of a generation
// replacing an earlier one (the current log grows between backups). It then
// checks that the generations are contiguous — a gap is ErrChainGap naming
// the missing generations — and that they form one log chain. With Scratch
// it hard-links the files instead of copying them.
func AssembleChain(ctx context.Context, sets []string, dst string, opts ...backupset.ScratchOption) (*Chain, error) {
	var reps []*backupset.VerifyReport
	for i, dir := range sets {
		rep, err := backupset.Verify(ctx, dir)
		if err != nil {
			return nil, fmt.Errorf("set %d of the chain (%s): %w", i+1, dir, err)
		}
		reps = append(reps, rep)
	}
	return AssembleVerified(ctx, reps, dst, opts...)
}

// AssembleVerified is AssembleChain for set directories that were verified
// already: reps are what backupset.Verify or backupset.ExtractAndVerify
// reported without an error, one per set in chain order. The sets are not
// read again, except the logs, whose chain across the sets is checked.
func AssembleVerified(ctx context.Context, reps []*backupset.VerifyReport, dst string, opts ...backupset.ScratchOption) (*Chain, error) {
	place := durable.CopyFile
	if backupset.ScratchOf(opts) {
		place = linkInto
	}
	if len(reps) == 0 {
		return nil, errors.New("assemble chain: no backup sets")
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, err
	}
	ch := &Chain{Dir: dst}
	logs := map[uint32]string{} // generation -> source path
	var base string
	for i, rep := range reps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dir, m := rep.Path, rep.Manifest
		if InfoOf(m) == nil {
			return nil, fmt.Errorf("set %d of the chain (%s) holds no ESE files", i+1, dir)
		}
		if i == 0 && m.Kind != protocol.KindFull && m.Kind != protocol.KindCopy {
			return nil, fmt.Errorf("a chain starts with a full or copy backup, not %s (%s)", m.Kind, dir)
		}
		if i > 0 && (m.Kind == protocol.KindFull || m.Kind == protocol.KindCopy) {
			return nil, fmt.Errorf("set %d of the chain (%s) is another %s backup", i+1, dir, m.Kind)
		}
		if base != "" && !strings.EqualFold(base, InfoOf(m).BaseName) {
			return nil, fmt.Errorf("set %s uses log base name %q, the chain %q", dir, InfoOf(m).BaseName, base)
		}
		base = InfoOf(m).BaseName
		for _, f := range m.Files {
			src := filepath.Join(dir, f.Name)
			switch {
			case f.Role == protocol.RoleDatabase && i == 0:
				if err := place(src, filepath.Join(dst, f.Name)); err != nil {
					return nil, err
				}
				ch.Databases = append(ch.Databases, f.Name)
			case f.Role == protocol.RoleLog:
				logs[f.Generation] = src
			}
		}
		ch.Sets = append(ch.Sets, m)
	}
	if len(logs) == 0 {
		return nil, errors.New("assemble chain: the sets hold no logs")
	}
	gens := make([]uint32, 0, len(logs))
	for g := range logs {
		gens = append(gens, g)
	}
	sort.Slice(gens, func(i, j int) bool { return gens[i] < gens[j] })
	low, high := InfoOf(ch.Sets[0]).GenLow, gens[len(gens)-1]
	var missing []string
	for g := low; g <= high; g++ {
		if _, ok := logs[g]; !ok {
			missing = append(missing, fmt.Sprintf("%d (0x%X)", g, g))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: log generation(s) %s are in no set between %d and %d; restore an earlier point or take a full backup",
			ErrChainGap, strings.Join(missing, ", "), low, high)
	}
	var links []format.ChainLink
	for g := low; g <= high; g++ {
		name := format.LogFileName(base, g, ".log", g > 0xFFFFF)
		out := filepath.Join(dst, name)
		if err := place(logs[g], out); err != nil {
			return nil, err
		}
		lc, err := format.VerifyLogFile(out)
		if err != nil {
			return nil, err
		}
		links = append(links, format.ChainLink{Name: out, Check: lc})
	}
	if err := format.CheckChain(links, nil); err != nil {
		return nil, fmt.Errorf("the logs of the chain do not form one stream: %w", err)
	}
	ch.Logs = protocol.LogRange{GenLow: low, GenHigh: high, BaseName: base}
	return ch, nil
}

// linkInto hard-links src as dst, or copies it if it cannot.
func linkInto(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	return durable.CopyFile(src, dst)
}
