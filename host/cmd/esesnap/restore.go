package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/driver"
	"github.com/esesnap/esesnap/ese/eseset"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/host/catalog"
	"github.com/esesnap/esesnap/host/restic"
	"github.com/esesnap/esesnap/internal/durable"
	"github.com/esesnap/esesnap/protocol"
	"github.com/spf13/cobra"
)

func newRestoreCmd() *cobra.Command {
	var pf pluginFlags
	var rf resticFlags
	var sets []string
	var filter catalog.Filter
	var to, logDir, systemDir, snapshot, at string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "restore (--set SET... | -r/--restic-repo REPO [--host H] [--path P] [--instance I] [--snapshot ID | --at TIME]) --to DIR",
		Short: "Verify a backup set and stage it for ESE recovery through the plugin's Restore",
		Long: `restore verifies SET (a directory or a tar file) completely, then asks the
plugin to stage it: every database copy to DIR, the logs gen_low..gen_high to
--log-dir (default DIR/logs), the checkpoint directory --system-dir (default DIR).
It prints the command that finishes recovery. Nothing is overwritten.

Several --set (or one directory holding the sets) are a chain: a full or copy
backup and the incrementals or differentials after it, in any order; each is
verified, the logs must be contiguous and form one stream, and the chain is
staged as one.

From restic (-r/--restic-repo, --repository-file, or without --set the
repository RESTIC_REPOSITORY or RESTIC_REPOSITORY_FILE names; the password as
restic takes it, or asked once on the terminal) it finds the restore point (--snapshot ID, or the newest
restorable backup, at or before --at "2006-01-02 15:04:05" if given, of the one
instance --host, --path and --instance leave; when several instances match, it
names them), the full backup of its chain and every incremental or differential
after it, streams each with restic dump, verifies every set, checks that the log
generations are contiguous (a gap is an error naming the missing generations)
and stages the chain. 'esesnap snapshots' lists what there is.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := loggerFrom(cmd)
			// An explicit --set wins over the environment's repository.
			fromRestic := len(sets) == 0 && rf.named(cmd)
			switch {
			case to == "":
				return usageError(errors.New("give --to DIR: where the databases are restored"))
			case len(sets) > 0 && rf.explicit(cmd):
				return usageError(errors.New("give only one of --set and a restic repository (-r/--restic-repo, --repository-file)"))
			case len(sets) == 0 && !fromRestic:
				return usageError(errors.New("give --set SET (repeatable) or a restic repository (-r/--restic-repo REPO, --repository-file FILE, or RESTIC_REPOSITORY / RESTIC_REPOSITORY_FILE in the environment)"))
			case !fromRestic && (filter != catalog.Filter{} || cmd.Flags().Changed("snapshot") || at != ""):
				return usageError(errors.New("--host, --path, --instance, --snapshot and --at choose among the backups of a restic repository; give one (-r/--restic-repo) instead of --set"))
			case cmd.Flags().Changed("snapshot") && snapshot != "latest" && at != "":
				return usageError(errors.New("give only one of --snapshot ID and --at TIME"))
			}
			if fromRestic {
				if err := rf.prepare(cmd); err != nil {
					return err
				}
			}
			if logDir == "" {
				logDir = filepath.Join(to, "logs")
			}
			if systemDir == "" {
				systemDir = to
			}
			// A failed restore leaves the target as it found it: the
			// directories it made, the scratch directories and every file
			// it may have staged are removed again (ok says it succeeded).
			guard := newRestoreGuard(to, logDir, systemDir)
			var scratch []string
			ok := false
			defer func() {
				for _, d := range scratch {
					os.RemoveAll(d)
				}
				if !ok {
					guard.undo()
				}
			}()
			if err := os.MkdirAll(to, 0o755); err != nil {
				return withCode(ExitError, err)
			}
			var setDir string
			var m *backupset.Manifest
			var err error
			var li protocol.LogRange
			nsets := 1
			if fromRestic {
				var when time.Time
				if at != "" {
					if when, err = time.ParseInLocation("2006-01-02 15:04:05", at, time.Local); err != nil {
						return usageError(fmt.Errorf("--at %q: want \"2006-01-02 15:04:05\"", at))
					}
				}
				var ch *eseset.Chain
				work := filepath.Join(to, ".esesnap-restic")
				// The sets read from restic (and the bases of page deltas)
				// are scratch, unsynced: staging takes what it needs from
				// them. A crashed restore's leftovers are removed first,
				// never reused.
				if err := os.RemoveAll(work); err != nil {
					return withCode(ExitError, fmt.Errorf("remove the scratch directory of an earlier restore: %w", err))
				}
				scratch = append(scratch, work)
				ch, err = chainFromRestic(cmd, &rf, filter, snapshot, when, work)
				if err == nil {
					setDir, m, li, nsets = ch.Dir, ch.Sets[0], ch.Logs, len(ch.Sets)
					log.Info("backup chain assembled", "sets", len(ch.Sets), "logs", fmt.Sprintf("%d..%d", li.GenLow, li.GenHigh))
				}
			} else if chainSets, cerr := expandSets(sets); cerr != nil {
				err = cerr
			} else if len(chainSets) > 1 {
				work := filepath.Join(to, ".esesnap-sets")
				if err := os.RemoveAll(work); err != nil {
					return withCode(ExitError, fmt.Errorf("remove the scratch directory of an earlier restore: %w", err))
				}
				scratch = append(scratch, work)
				var ch *eseset.Chain
				ch, err = chainFromSets(cmd, chainSets, work)
				if err == nil {
					setDir, m, li, nsets = ch.Dir, ch.Sets[0], ch.Logs, len(ch.Sets)
					log.Info("backup chain assembled", "sets", len(ch.Sets), "logs", fmt.Sprintf("%d..%d", li.GenLow, li.GenHigh))
				}
			} else {
				var tmp string
				setDir, m, tmp, err = prepareSet(cmd, chainSets[0], to)
				if tmp != "" {
					scratch = append(scratch, tmp)
				}
				if err == nil {
					e := eseset.InfoOf(m)
					li = protocol.LogRange{GenLow: e.GenLow, GenHigh: e.GenHigh, BaseName: e.BaseName}
				}
			}
			out := cmd.OutOrStdout()
			fail := func(code int, what string, err error) error {
				log.Error("restore: " + what + ": " + err.Error())
				if h := hintFor(err); h != "" {
					log.Error("what to do: " + h)
				}
				if asJSON {
					writeJSON(out, restoreSummary{Error: toErrorJSON(err), Staged: []string{}, Warnings: []string{}})
				}
				return withCode(code, nil)
			}
			if err != nil {
				if cmd.Context().Err() != nil {
					return fail(ExitInterrupted, "interrupted", err)
				}
				var rerr *restic.ExitError
				switch {
				case errors.Is(err, catalog.ErrNotFound), errors.Is(err, catalog.ErrAmbiguous):
					return fail(ExitUsage, "no backup to restore", err)
				case errors.As(err, &rerr):
					return fail(exitFor(err), "reading from restic failed", err)
				}
				return fail(ExitVerifyFailed, "the backup set does not verify", err)
			}
			guard.expect(m, li)
			// Databases assembled from restic or extracted from a tar are
			// scratch: they are moved into place rather than copied.
			res, err := stageRestore(cmd, &pf, setDir, m, li, to, logDir, systemDir, fromRestic || len(scratch) > 0)
			if err != nil {
				if cmd.Context().Err() != nil {
					return fail(ExitInterrupted, "interrupted", err)
				}
				return fail(exitFor(err), "staging failed", err)
			}
			ok = true
			if asJSON {
				sum := restoreSummary{OK: true, Kind: m.Kind.String(), Started: m.Started, Sets: nsets, GenLow: li.GenLow, GenHigh: li.GenHigh, BaseName: li.BaseName,
					Staged: res.Staged, RecoveryCommand: res.RecoveryCommand, Warnings: res.Warnings}
				if sum.Warnings == nil {
					sum.Warnings = []string{}
				}
				if err := writeJSON(out, sum); err != nil {
					return withCode(ExitError, err)
				}
				return nil
			}
			fmt.Fprintf(out, "staged for recovery (%s backup of %s, logs %d..%d):\n", m.Kind, m.Started.Format("2006-01-02 15:04:05Z"), li.GenLow, li.GenHigh)
			for _, s := range res.Staged {
				fmt.Fprintf(out, "  %s\n", s)
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(out, "warning: %s\n", w)
			}
			if len(res.RecoveryCommand) > 0 {
				fmt.Fprintf(out, "finish recovery on Windows with:\n  %s\n", strings.Join(res.RecoveryCommand, " "))
			}
			return nil
		},
	}
	pf.register(cmd)
	f := cmd.Flags()
	f.StringArrayVar(&sets, "set", nil, "backup set: a directory or a tar file; repeat it for a chain (full, then incrementals or differentials), or give a directory holding the sets of a chain")
	f.StringVar(&to, "to", "", "directory that receives the databases")
	f.StringVar(&logDir, "log-dir", "", "directory that receives the logs (default: DIR/logs)")
	f.StringVar(&systemDir, "system-dir", "", "checkpoint directory for recovery (default: DIR)")
	f.StringVar(&snapshot, "snapshot", "latest", "from restic: the snapshot to restore (id prefix or latest)")
	f.StringVar(&filter.Host, "host", "", "from restic: only backups taken on this host")
	f.StringVar(&filter.Source, "path", "", "from restic: only backups of this source location (as backed up, absolute)")
	f.StringVar(&filter.Instance, "instance", "", "from restic: only backups of this instance (a prefix of its id, as esesnap snapshots shows it)")
	f.StringVar(&at, "at", "", `from restic: restore the latest snapshot at or before this local time ("2006-01-02 15:04:05")`)
	rf.registerRepo(cmd, "restore from this restic repository (default: RESTIC_REPOSITORY or RESTIC_REPOSITORY_FILE, when --set is not given)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON on stdout (logs stay on stderr)")
	return cmd
}

// restoreSummary is `restore --json`.
type restoreSummary struct {
	OK       bool      `json:"ok"`
	Kind     string    `json:"kind,omitempty"`    // of the (first) set: full, copy
	Started  time.Time `json:"started,omitzero"`  // when that backup started
	Sets     int       `json:"sets,omitempty"`    // sets in the chain, 1 without restic
	GenLow   uint32    `json:"gen_low,omitempty"` // log range staged for recovery
	GenHigh  uint32    `json:"gen_high,omitempty"`
	BaseName string    `json:"base_name,omitempty"`
	Staged   []string  `json:"staged"`
	// RecoveryCommand finishes recovery; empty when the plugin did.
	RecoveryCommand []string   `json:"recovery_command,omitempty"`
	Warnings        []string   `json:"warnings"`
	Error           *errorJSON `json:"error,omitempty"`
}

// prepareSet verifies the set and returns a directory holding its files: the
// set itself, or for a tar its extraction under DIR/.esesnap-set, which it
// also returns as scratch for the caller to remove (a leftover of a crashed
// restore is removed first, never reused).
func prepareSet(cmd *cobra.Command, set, to string) (dir string, m *backupset.Manifest, scratch string, err error) {
	ctx := cmd.Context()
	st, err := os.Stat(set)
	if err != nil {
		return "", nil, "", err
	}
	dir = set
	var rep *backupset.VerifyReport
	if st.IsDir() {
		rep, err = backupset.Verify(ctx, dir)
	} else {
		dir = filepath.Join(to, ".esesnap-set")
		if err := os.RemoveAll(dir); err != nil {
			return "", nil, "", fmt.Errorf("remove the scratch directory of an earlier restore: %w", err)
		}
		if err := os.Mkdir(dir, 0o755); err != nil {
			return "", nil, "", err
		}
		scratch = dir
		f, oerr := os.Open(set)
		if oerr != nil {
			return "", nil, scratch, oerr
		}
		defer f.Close()
		// Scratch: the databases are moved into place and synced there,
		// the logs copied (and synced) by the plugin.
		if rep, err = backupset.ExtractAndVerify(ctx, f, dir, backupset.Scratch()); rep == nil {
			return "", nil, scratch, fmt.Errorf("%s: %w", set, err)
		}
	}
	if err != nil {
		return "", nil, scratch, err
	}
	if eseset.InfoOf(rep.Manifest) == nil {
		return "", nil, scratch, errors.New("the set holds no ESE databases and logs")
	}
	abs, err := filepath.Abs(dir)
	return abs, rep.Manifest, scratch, err
}

// restoreGuard remembers what the target looked like before a restore so
// that a failed one can be taken back: the directories the restore creates
// (DIR, the log and checkpoint directories and their missing parents) and
// the files it may stage (each database, each log of the range, the
// checkpoint and current log ESE's recovery may start) that did not exist.
// Only those paths are removed, and directories only when empty: whatever
// was there before, or was put there by someone else, stays.
type restoreGuard struct {
	to, logDir, systemDir string
	dirs                  []string        // missing before the restore, parents first
	files                 map[string]bool // paths the restore may create -> existed before
}

func newRestoreGuard(to, logDir, systemDir string) *restoreGuard {
	g := &restoreGuard{to: to, logDir: logDir, systemDir: systemDir, files: map[string]bool{}}
	seen := map[string]bool{}
	for _, dir := range []string{to, systemDir, logDir} {
		var missing []string
		for d := filepath.Clean(dir); !seen[d]; d = filepath.Dir(d) {
			if _, err := os.Lstat(d); err == nil {
				break
			}
			seen[d] = true
			missing = append(missing, d)
			if filepath.Dir(d) == d {
				break
			}
		}
		for i := len(missing) - 1; i >= 0; i-- {
			g.dirs = append(g.dirs, missing[i])
		}
	}
	return g
}

// expect records the files staging m (logs li) may create.
func (g *restoreGuard) expect(m *backupset.Manifest, li protocol.LogRange) {
	add := func(p string) {
		if _, known := g.files[p]; !known {
			_, err := os.Lstat(p)
			g.files[p] = err == nil
		}
	}
	for _, f := range m.Files {
		switch f.Role {
		case protocol.RoleDatabase:
			add(filepath.Join(g.to, f.Name))
		case protocol.RoleLog:
			add(filepath.Join(g.logDir, f.Name))
		}
	}
	for gen := li.GenLow; gen <= li.GenHigh && gen != 0; gen++ {
		add(filepath.Join(g.logDir, format.LogFileName(li.BaseName, gen, ".log", gen > 0xFFFFF)))
	}
	if li.BaseName != "" {
		add(filepath.Join(g.logDir, li.BaseName+".log"))
		add(filepath.Join(g.systemDir, li.BaseName+".chk"))
	}
}

// undo removes what the restore created: new files, then new directories
// that are empty.
func (g *restoreGuard) undo() {
	for p, existed := range g.files {
		if !existed {
			os.Remove(p)
		}
	}
	for i := len(g.dirs) - 1; i >= 0; i-- {
		os.Remove(g.dirs[i])
	}
}

// stageRestore asks the plugin to stage the set in setDir. With move, the
// databases (scratch files of this restore) are first moved to their place
// in to, synced, as ESE's JetExternalRestore expects of a backup program:
// no second copy of a database of gigabytes, in time or in disk space. If
// the plugin then refuses the restore, they are removed again.
func stageRestore(cmd *cobra.Command, pf *pluginFlags, setDir string, m *backupset.Manifest, li protocol.LogRange, to, logDir, systemDir string, move bool) (protocol.RestoreResult, error) {
	client, err := pf.launch(cmd.Context(), cmd)
	if err != nil {
		return protocol.RestoreResult{}, err
	}
	defer client.Close()
	to, _ = filepath.Abs(to)
	logDir, _ = filepath.Abs(logDir)
	systemDir, _ = filepath.Abs(systemDir)
	req := protocol.RestoreRequest{
		Location:     to,
		BackupSetDir: setDir,
		Metadata:     []protocol.Metadata{driver.LogRangeMetadata(ese.LogInfo(li))},
		Options:      map[string]string{driver.OptLogDir: logDir, driver.OptSystemDir: systemDir},
	}
	var placed []string
	for _, f := range m.Files {
		if f.Role == protocol.RoleDatabase {
			src, dst := filepath.Join(setDir, f.Name), filepath.Join(to, restorePath(f, m.Source))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				removeAll(placed)
				return protocol.RestoreResult{}, err
			}
			if move {
				moved, err := moveFile(src, dst)
				if err != nil {
					removeAll(placed)
					return protocol.RestoreResult{}, err
				}
				if moved {
					placed = append(placed, dst)
				}
			}
			req.Databases = append(req.Databases, protocol.RestoreMap{DatabaseName: src, NewDatabaseName: dst})
		}
	}
	res, err := client.Snapshotter().Restore(cmd.Context(), req)
	if err != nil {
		removeAll(placed)
	}
	return res, err
}

// restorePath is where a database of the set goes under the restore
// directory: its path relative to the instance it was backed up from (the
// original path the manifest keeps, under the recorded log, system or
// instance directory, compared component by component and
// case-insensitively, either separator), so that databases kept in
// subdirectories ({GUID}\catdb) go back into them. A file that was not under
// those directories, or whose relative path has a component a set name could
// not have, goes to the top with its set name. A single database directly in
// the instance directory keeps its name, as always.
func restorePath(f backupset.ManifestFile, si backupset.SourceInfo) string {
	orig := splitPath(f.OriginalName)
	var best []string
	src := si.Source()
	for _, d := range []string{src.Options[protocol.OptLogDir], src.Options[protocol.OptSystemDir], src.Location} {
		dc := splitPath(d)
		if d == "" || len(dc) >= len(orig) || (best != nil && len(orig)-len(dc) >= len(best)) {
			continue
		}
		match := true
		for i := range dc {
			if !strings.EqualFold(dc[i], orig[i]) {
				match = false
				break
			}
		}
		if match {
			best = orig[len(dc):]
		}
	}
	if len(best) == 0 {
		return f.Name
	}
	for _, c := range best {
		if backupset.ValidateName(c) != nil {
			return f.Name
		}
	}
	return filepath.Join(best...)
}

// splitPath splits a path at either separator, dropping empty components;
// a volume name stays a component.
func splitPath(p string) []string {
	return strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' })
}

func removeAll(paths []string) {
	for _, p := range paths {
		os.Remove(p)
	}
}

// moveFile moves a restored file into place with durable.Move; an
// existing dst is JET_errFileAlreadyExists (-1814), since a restore never
// overwrites.
func moveFile(src, dst string) (bool, error) {
	moved, err := durable.Move(src, dst)
	if errors.Is(err, fs.ErrExist) {
		return false, &ese.Error{Code: ese.ErrFileAlreadyExists, Op: "restore", File: dst, Err: errors.New("already exists; nothing is overwritten")}
	}
	return moved, err
}
