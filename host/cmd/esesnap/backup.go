package main

import (
	"context"

	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/eseset"
	"github.com/esesnap/esesnap/host"
	"github.com/esesnap/esesnap/host/restic"
	"github.com/esesnap/esesnap/internal/durable"
	"github.com/esesnap/esesnap/protocol"
	"github.com/spf13/cobra"
)

// backupFlags are the flags of `esesnap backup`.
type backupFlags struct {
	plugin    pluginFlags
	src       sourceFlags
	source    protocol.Source // built from src by runBackup
	kind      string
	truncate  bool
	out       string
	tar       string
	chunk     int
	json      bool
	progress  string
	describe  string
	resticCfg resticFlags
	useRestic bool // the set goes to restic (runBackup decides)
}

func newBackupCmd() *cobra.Command {
	var f backupFlags
	cmd := &cobra.Command{
		Use:   "backup --source DIR (--out DIR | --tar FILE|- | -r/--restic-repo REPO | RESTIC_REPOSITORY set)",
		Short: "Back up an ESE instance through a plugin into a verified backup set",
		Long: `backup starts the plugin, runs ESE's external backup sequence (every page
and every log verified while it streams), and stores the result as a backup set:
a directory (--out), a tar stream (--tar, "-" for stdout) or a restic snapshot
(-r/--restic-repo, --repository-file, or with neither --out nor --tar the
repository RESTIC_REPOSITORY or RESTIC_REPOSITORY_FILE names: an explicit --out
or --tar wins over the environment). restic's password comes from
--password-file, --password-command or RESTIC_PASSWORD(_FILE|_COMMAND), or is
asked once on the terminal. The manifest is written last, and the plugin records the backup
and truncates logs (--truncate-logs) only after the set is durably stored. On any
failure, Ctrl-C included, the ESE session is ended aborted, no log is truncated,
and no set that looks complete is left behind. A second Ctrl-C kills the plugin.

The plugin describes the options it takes (esesnap plugin-info [PLUGIN] lists
them); give them as --option KEY=VALUE. For the ESE plugin --log-dir,
--system-dir, --base-name, --database and --writable set the options of those
names. An option the plugin does not describe is a usage error (exit 2) before
anything is backed up.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBackup(cmd, &f) },
	}
	fl := cmd.Flags()
	f.plugin.register(cmd)
	f.src.register(cmd, "what to back up, the plugin's location: for ESE the instance directory (databases, logs and checkpoint; required)")
	fl.StringVar(&f.kind, "kind", "full", "backup kind: full, incremental, copy or differential")
	fl.BoolVar(&f.truncate, "truncate-logs", false, "after the set is stored, delete the logs the backup made unnecessary (full and incremental; needs --writable)")
	fl.StringVar(&f.out, "out", "", "write the backup set to this new directory")
	fl.StringVar(&f.tar, "tar", "", `write the backup set as a tar stream to this file ("-" for stdout)`)
	fl.IntVar(&f.chunk, "chunk-size", 0, "chunk size proposed to the plugin in bytes (default: the plugin's)")
	fl.BoolVar(&f.json, "json", false, "print the result as JSON (to stdout, or stderr when the set goes to stdout)")
	fl.StringVar(&f.progress, "progress", "auto", "progress bar on stderr: auto (on a terminal), always, never")
	fl.StringVar(&f.describe, "description", "", "free text recorded in the manifest")
	f.resticCfg.register(cmd)
	return cmd
}

// backupSummary is what `backup --json` prints.
type backupSummary struct {
	OK            bool                `json:"ok"`
	Kind          string              `json:"kind"`
	Set           string              `json:"set"`
	Files         int                 `json:"files"`
	Bytes         int64               `json:"bytes"`
	Pages         int64               `json:"verified_pages"`
	GenLow        uint32              `json:"gen_low,omitempty"`
	GenHigh       uint32              `json:"gen_high,omitempty"`
	BaseName      string              `json:"base_name,omitempty"`
	Recorded      string              `json:"recorded,omitempty"`
	TruncatedLogs []string            `json:"truncated_logs"`
	Warnings      []string            `json:"warnings"`
	Stored        bool                `json:"stored"`
	EndFailure    []string            `json:"end_failure,omitempty"`
	Restic        *resticSummary      `json:"restic,omitempty"`
	Manifest      *backupset.Manifest `json:"manifest,omitempty"`
	Error         *errorJSON          `json:"error,omitempty"`
	Elapsed       float64             `json:"elapsed_seconds"`
	Extra         map[string]string   `json:"extra,omitempty"`
}

func runBackup(cmd *cobra.Command, f *backupFlags) error {
	log := loggerFrom(cmd)
	if f.src.location == "" {
		return usageError(errors.New("--source is required: the ESE instance directory"))
	}
	// An explicit target wins; the environment's repository is the
	// target only when the command line names none.
	targets := 0
	for _, given := range []bool{f.out != "", f.tar != "", f.resticCfg.explicit(cmd)} {
		if given {
			targets++
		}
	}
	switch {
	case targets > 1:
		return usageError(errors.New("give only one of --out DIR, --tar FILE|- and a restic repository (-r/--restic-repo REPO, --repository-file FILE)"))
	case targets == 0 && !f.resticCfg.named(cmd):
		return usageError(errors.New("give --out DIR, --tar FILE|- or a restic repository (-r/--restic-repo REPO, --repository-file FILE, or RESTIC_REPOSITORY / RESTIC_REPOSITORY_FILE in the environment)"))
	}
	if f.tar == "-" && isTerminal(cmd.OutOrStdout()) {
		return usageError(errors.New("--tar - writes the backup set to stdout, which is a terminal: redirect it (--tar - > set.tar, or into a pipe) or give --tar FILE"))
	}
	f.useRestic = f.out == "" && f.tar == ""
	if f.resticCfg.pageDelta && !f.useRestic {
		return usageError(errors.New("--page-delta needs a restic repository: the base of the deltas is a restic snapshot"))
	}
	kind, err := protocol.ParseKind(f.kind)
	if err != nil {
		return usageError(err)
	}
	if f.truncate && !kind.TruncatesLogs() {
		return usageError(fmt.Errorf("--truncate-logs: a %s backup never truncates logs (use full or incremental)", kind))
	}
	if f.source, err = f.src.source(); err != nil {
		return usageError(err)
	}
	hostName, err := f.resticCfg.hostName()
	if err != nil {
		return withCode(ExitError, fmt.Errorf("host name: %w", err))
	}
	if f.useRestic {
		// Before the plugin starts: a missing password or repository is
		// one clear error, and the password prompt is not mixed with
		// the backup's output.
		if err := f.resticCfg.prepare(cmd); err != nil {
			return err
		}
	}
	dataOut := cmd.OutOrStdout()
	report := cmd.OutOrStdout()
	if f.tar == "-" {
		report = cmd.ErrOrStderr() // stdout carries the set
	}

	start := time.Now()
	ctx, stopSignals := host.HandleSignals(cmd.Context(), nil)
	defer stopSignals()
	client, err := f.plugin.launch(ctx, cmd)
	if err != nil {
		return failBackup(cmd, f, report, kind, "", start, err)
	}
	defer client.Close()
	info, err := client.Snapshotter().Info(ctx)
	if err != nil {
		return failBackup(cmd, f, report, kind, "", start, fmt.Errorf("plugin info: %w", err))
	}
	if err := checkSourceOptions(info, &f.source, f.src.repeatedKeys()); err != nil {
		return usageError(err)
	}
	// A plugin with a writable option (the ESE plugin's engine and esent
	// backends) opens the source read-only without it and cannot
	// truncate; one without (the vss backend, whose writer truncates) can.
	takesWritable := slices.ContainsFunc(info.Options, func(o protocol.OptionSpec) bool { return o.Name == "writable" })
	if f.truncate && takesWritable && !f.src.writable && f.src.optionValue("writable") != "true" {
		return usageError(errors.New("--truncate-logs needs --writable: the plugin opens the source read-only otherwise"))
	}
	stopSignals()
	ctx, stopSignals = host.HandleSignals(cmd.Context(), client.Kill)
	defer stopSignals()

	sink, setName, closeSink, err := f.openSink(ctx, cmd, dataOut, kind)
	if err != nil {
		return failBackup(cmd, f, report, kind, setName, start, err)
	}
	opts := []host.Option{host.WithTool("esesnap", version())}
	if p := newProgress(cmd.ErrOrStderr(), f.progress); p != nil {
		opts = append(opts, host.WithProgress(p))
		defer p.finish()
	}
	req := host.BackupRequest{Kind: kind, Source: f.source, TruncateLogs: f.truncate, ChunkBytes: f.chunk, Description: f.describe, Host: hostName}
	res, err := host.Backup(ctx, client.Snapshotter(), req, sink, opts...)
	// A committed set is kept whatever happened after the commit: ending
	// the session may have truncated logs, and then it holds their only copy.
	if cerr := closeSink(res != nil); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil && res == nil {
		return failBackup(cmd, f, report, kind, setName, start, err)
	}
	sum := summarize(res, kind, setName, start)
	if rs, ok := sink.(resticSummarizer); ok {
		if sum.Restic = rs.resticSummary(); sum.Restic != nil {
			sum.Warnings = append(sum.Warnings, sum.Restic.warnings...)
		}
	}
	if err != nil {
		// The set is stored, but ending the session failed (for example the
		// truncation): say so and fail.
		sum.OK = false
		sum.Stored = true
		sum.Error = toErrorJSON(err)
		sum.EndFailure = endFailureReport(storedAt(setName, sum.Restic), kind, err)
	}
	if f.json {
		if eerr := writeJSON(report, sum); eerr != nil {
			return withCode(ExitError, eerr)
		}
	} else {
		printSummary(report, sum)
	}
	if err != nil {
		for _, line := range sum.EndFailure {
			log.Error(line)
		}
		if h := hintFor(err); h != "" {
			log.Error("what to do: " + h)
		}
		code := ExitEndFailed
		if cmd.Context().Err() != nil || errors.Is(err, host.ErrInterrupted) || errors.Is(err, context.Canceled) {
			code = ExitInterrupted
		}
		return withCode(code, nil)
	}
	return nil
}

// endFailureReport tells, line by line, what a backup whose set was stored
// but whose session did not end cleanly left behind: where the set is, the
// JET_err End failed with, which logs were truncated, and what that means
// for the next backup.
func endFailureReport(set string, kind protocol.Kind, err error) []string {
	var ee *host.EndError
	if !errors.As(err, &ee) {
		return []string{fmt.Sprintf("the backup set is stored at %s, but the backup did not finish: %v", set, err)}
	}
	why := ee.Err.Error()
	if code, ok := ese.CodeOf(ee.Err); ok {
		why = code.String()
	}
	lines := []string{fmt.Sprintf("the backup set is stored at %s and is complete; keep it. Ending the ESE session failed with %s", set, why)}
	if n := len(ee.End.Truncated); n > 0 {
		lines = append(lines, fmt.Sprintf("%d log(s) were truncated from the source before End failed (%s): this set holds the only copy of their records", n, logRange(ee.End.Truncated)))
	} else {
		lines = append(lines, "nothing was truncated: every log is still in the source")
	}
	if ee.End.Recorded != "" {
		lines = append(lines, fmt.Sprintf("the database headers record this backup (%s)", ee.End.Recorded))
	} else {
		switch kind {
		case protocol.KindFull, protocol.KindIncremental:
			lines = append(lines, "the database headers do not record this backup, so the next incremental backup builds on the last backup they do record (or fails with JET_errMissingFullBackup if there is none): take a full backup with --writable --truncate-logs to start a chain the headers know")
		default:
			lines = append(lines, "the database headers do not record this backup")
		}
	}
	return lines
}

// storedAt names where a committed set is: the restic snapshot when
// restic stored it, else the sink's name.
func storedAt(set string, r *resticSummary) string {
	if r == nil || r.SnapshotID == "" {
		return set
	}
	return fmt.Sprintf("restic snapshot %.8s (%s)", r.SnapshotID, set)
}

// logRange names truncated logs compactly: "SRU00003.log..SRU00008.log".
func logRange(paths []string) string {
	names := baseNames(paths)
	if len(names) == 1 {
		return names[0]
	}
	return names[0] + ".." + names[len(names)-1]
}

// failBackup reports a backup that produced no set.
func failBackup(cmd *cobra.Command, f *backupFlags, report io.Writer, kind protocol.Kind, set string, start time.Time, err error) error {
	var ee *exitError
	if errors.As(err, &ee) && ee.code == ExitUsage {
		return err
	}
	log := loggerFrom(cmd)
	code := exitFor(err)
	if cmd.Context().Err() != nil || errors.Is(err, host.ErrInterrupted) {
		code = ExitInterrupted
	}
	if f.json {
		sum := backupSummary{Kind: kind.String(), Set: set, Error: toErrorJSON(err), TruncatedLogs: []string{}, Warnings: []string{}, Elapsed: time.Since(start).Seconds()}
		writeJSON(report, sum) // the exit code and the log say it failed either way
	}
	log.Error("backup failed: " + err.Error())
	if h := hintFor(err); h != "" {
		log.Error("what to do: " + h)
	}
	log.Error("no backup set was kept and no log was truncated")
	return withCode(code, nil)
}

func summarize(res *host.Result, kind protocol.Kind, set string, start time.Time) backupSummary {
	sum := backupSummary{OK: true, Stored: true, Kind: kind.String(), Set: set, Manifest: res.Manifest,
		Recorded: res.End.Recorded, TruncatedLogs: res.End.Truncated, Elapsed: time.Since(start).Seconds()}
	sum.Warnings = append(append([]string{}, res.Warnings...), res.End.Warnings...)
	if sum.TruncatedLogs == nil {
		sum.TruncatedLogs = []string{}
	}
	for _, mf := range res.Manifest.Files {
		sum.Files++
		sum.Bytes += mf.Size
		ps := mf.PageSize
		if info := eseset.InfoOf(res.Manifest); ps == 0 && info != nil {
			ps = info.PageSize
		}
		if mf.Role == protocol.RoleDatabase && ps > 0 {
			sum.Pages += mf.Size / int64(ps)
		}
	}
	if e := eseset.InfoOf(res.Manifest); e != nil {
		sum.GenLow, sum.GenHigh, sum.BaseName = e.GenLow, e.GenHigh, e.BaseName
	}
	if res.End.LogRange().GenHigh != 0 {
		sum.GenLow, sum.GenHigh, sum.BaseName = res.End.LogRange().GenLow, res.End.LogRange().GenHigh, res.End.LogRange().BaseName
	}
	return sum
}

func printSummary(w io.Writer, s backupSummary) {
	fmt.Fprintf(w, "backup %s: %s\n", s.Kind, s.Set)
	fmt.Fprintf(w, "  files:     %d (%s), every page and log verified\n", s.Files, byteSize(s.Bytes))
	if s.Pages > 0 {
		fmt.Fprintf(w, "  pages:     %d pages of database streams verified\n", s.Pages)
	}
	if s.GenHigh != 0 {
		fmt.Fprintf(w, "  logs:      %s generations %d..%d (0x%X..0x%X)\n", s.BaseName, s.GenLow, s.GenHigh, s.GenLow, s.GenHigh)
	}
	switch {
	case strings.HasPrefix(s.Recorded, "bkinfo"):
		fmt.Fprintf(w, "  recorded:  %s in the database headers\n", s.Recorded)
	case s.Recorded != "":
		// Another backend's record, such as a VSS writer's.
		fmt.Fprintf(w, "  recorded:  %s\n", s.Recorded)
	}
	if len(s.TruncatedLogs) > 0 {
		fmt.Fprintf(w, "  truncated: %d log(s): %s\n", len(s.TruncatedLogs), strings.Join(baseNames(s.TruncatedLogs), " "))
	}
	if s.Restic != nil {
		fmt.Fprintf(w, "  restic:    snapshot %s, %s added to the repository\n", s.Restic.SnapshotID, byteSize(s.Restic.DataAdded))
		if e := s.Restic.Estimate; e != nil {
			fmt.Fprintf(w, "  predicted: %s new of %s (%d of %d chunks)%s\n", byteSize(e.NewBytes), byteSize(e.Bytes), e.NewChunks, e.Chunks, newByPart(e.Parts))
		} else if s.Restic.EstimateError != "" {
			fmt.Fprintf(w, "  predicted: no estimate (%s)\n", s.Restic.EstimateError)
		}
	}
	for _, warn := range s.Warnings {
		fmt.Fprintf(w, "  warning:   %s\n", warn)
	}
	fmt.Fprintf(w, "  took:      %.1fs\n", s.Elapsed)
}

// newByPart says where the new data of an estimate is: each database on
// its own, the logs and the rest summed.
func newByPart(parts []restic.PartEstimate) string {
	var out []string
	var logs, other int64
	for _, p := range parts {
		switch {
		case p.NewBytes == 0:
		case strings.HasSuffix(strings.ToLower(p.Name), ".log"):
			logs += p.NewBytes
		case p.Name == backupset.ManifestName || strings.HasSuffix(strings.ToLower(p.Name), ".chk") || p.Name == "":
			other += p.NewBytes
		default:
			out = append(out, p.Name+" "+byteSize(p.NewBytes))
		}
	}
	if logs > 0 {
		out = append(out, "logs "+byteSize(logs))
	}
	if other > 0 {
		out = append(out, "other "+byteSize(other))
	}
	if len(out) == 0 {
		return ""
	}
	return ": " + strings.Join(out, ", ")
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = backupset.BaseName(p)
	}
	return out
}

func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// openSink opens the sink the flags choose. closeSink(ok) finishes what
// the sink holds outside the set (the tar file), removing it when !ok.
func (f *backupFlags) openSink(ctx context.Context, cmd *cobra.Command, stdout io.Writer, kind protocol.Kind) (backupset.Sink, string, func(ok bool) error, error) {
	noop := func(bool) error { return nil }
	switch {
	case f.out != "":
		s, err := backupset.NewDirSink(f.out)
		return s, f.out, noop, err
	case f.tar == "-":
		return backupset.NewTarSink(stdout), "stdout (tar)", noop, nil
	case f.tar != "":
		// A new regular file, never an existing one; devices and pipes
		// (/dev/null, a FIFO read by another tool) are written as they are.
		flags, regular := os.O_WRONLY|os.O_CREATE|os.O_EXCL, true
		if st, err := os.Stat(f.tar); err == nil && !st.Mode().IsRegular() {
			flags, regular = os.O_WRONLY, false
		}
		file, err := os.OpenFile(f.tar, flags, 0o644)
		if err != nil {
			return nil, f.tar, noop, err
		}
		if regular {
			// The new file's directory entry must be durable before the
			// backup is recorded; TarSink.Commit syncs its contents.
			if err := durable.SyncDir(filepath.Dir(f.tar)); err != nil {
				file.Close()
				os.Remove(f.tar)
				return nil, f.tar, noop, err
			}
		}
		closeFile := func(ok bool) error {
			err := file.Close()
			if !ok && regular {
				os.Remove(f.tar) // a failed backup leaves no file that looks like a set
			}
			return err
		}
		return backupset.NewTarSink(file), f.tar, closeFile, nil
	case f.useRestic:
		return f.resticCfg.sink(ctx, cmd, kind, f.source)
	}
	return nil, "", noop, errors.New("no target for the backup set")
}

// errorJSON is an error in --json output. An ESE error fills jet_err; an
// error of another plugin's domain fills domain and code instead, and one
// without a domain only its location.
type errorJSON struct {
	Message string `json:"message"`
	JetErr  int32  `json:"jet_err,omitempty"`
	Domain  string `json:"domain,omitempty"`
	Code    int64  `json:"code,omitempty"`
	Name    string `json:"name,omitempty"`
	Op      string `json:"op,omitempty"`
	File    string `json:"file,omitempty"`
	Offset  int64  `json:"offset,omitempty"`
	Page    int64  `json:"page,omitempty"`
	Hint    string `json:"hint,omitempty"`
}

// writeJSON prints v as indented JSON, the form of every --json.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func toErrorJSON(err error) *errorJSON {
	e := &errorJSON{Message: err.Error(), Hint: hintFor(err)}
	var ee *ese.Error
	var pe *protocol.Error
	switch {
	case errors.As(err, &ee):
		e.JetErr, e.Name, e.Op, e.File, e.Page = int32(ee.Code), ee.Code.Name(), ee.Op, ee.File, ee.Page
	case errors.As(err, &pe):
		e.Domain, e.Code, e.Name, e.Op, e.File, e.Offset, e.Page = pe.Domain, pe.Code, pe.Name, pe.Op, pe.File, pe.Offset, pe.Page
	}
	return e
}
