// Package restic runs the real restic binary as the sink of a backup set:
// `restic backup --stdin` fed with the set's tar stream, `restic snapshots`
// to find backup chains by tag, and `restic dump` to read a set back. The
// caller decides when a stream may become a snapshot: a failed or
// interrupted backup is stopped as Ctrl-C would stop it (SIGINT while its
// stdin is still open, so that it cancels, saves no snapshot and removes its
// lock), and killed only as a last resort, never by closing its stdin first:
// restic never saves a truncated stream.
package restic

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/restic/chunker"
)

// Options says how to run restic. Repository and password come from the
// usual RESTIC_* environment variables or from Args (for example
// --password-file); they are passed through and never logged.
type Options struct {
	Binary string   // restic executable; "restic" (found on PATH) when empty
	Repo   string   // -r; empty means RESTIC_REPOSITORY
	Args   []string // extra global options, such as --password-file F or --no-lock
	Env    []string // environment; nil means os.Environ()
	// Stderr receives restic's own error output (progress and messages are
	// not shown: restic runs with --json and its stdout is parsed).
	Stderr io.Writer
	// CacheDir is where repository configs are cached for the estimate;
	// empty means the user cache directory, "-" no cache.
	CacheDir string
	// Password, when not empty, is given to every restic run as
	// RESTIC_PASSWORD in restic's own environment only: never on a command
	// line, never in esesnap's environment (which plugins do not get
	// anyway). For a password asked for on a terminal.
	Password string
	// StopTimeout bounds the wait for a restic that was asked to stop
	// (SIGINT) to exit; it is killed after that. Zero means
	// DefaultStopTimeout.
	StopTimeout time.Duration
}

// DefaultStopTimeout is how long a restic that was asked to stop gets to
// cancel its work and remove its lock from the repository (a remote one
// may take a while) before it is killed.
const DefaultStopTimeout = 30 * time.Second

// ackTimeout bounds the wait for restic to say it received the stop
// signal. restic's Go runtime answers at once; a restic that does not
// (a wrapper that swallows its output) is killed instead.
const ackTimeout = 10 * time.Second

func (o Options) stopTimeout() time.Duration {
	if o.StopTimeout > 0 {
		return o.StopTimeout
	}
	return DefaultStopTimeout
}

func (o Options) command(ctx context.Context, args ...string) *exec.Cmd {
	bin := o.Binary
	if bin == "" {
		bin = "restic"
	}
	var all []string
	if o.Repo != "" {
		all = append(all, "-r", o.Repo)
	}
	all = append(all, o.Args...)
	all = append(all, args...)
	cmd := exec.CommandContext(ctx, bin, all...)
	ownGroup(cmd)
	// Cancelled, restic is interrupted rather than killed, so that it
	// removes its lock; Wait kills it if it has not exited in time.
	cmd.Cancel = func() error { return interruptProcess(cmd) }
	cmd.WaitDelay = o.stopTimeout()
	cmd.Env = o.environ()
	if o.Password != "" {
		cmd.Env = append(append([]string{}, cmd.Env...), "RESTIC_PASSWORD="+o.Password)
	}
	return cmd
}

// environ is the environment restic runs with: Env, or esesnap's own.
func (o Options) environ() []string {
	if o.Env != nil {
		return o.Env
	}
	return os.Environ()
}

// ExitError is a restic run that failed, with its exit code and the message
// restic gave (its exit_error JSON or last stderr lines).
type ExitError struct {
	Op      string
	Code    int
	Message string
}

func (e *ExitError) Error() string {
	what := exitMeaning[e.Code]
	if what == "" {
		what = "failed"
	}
	msg := e.Message
	if msg == "" {
		msg = "no message"
	}
	return fmt.Sprintf("restic %s: %s (exit code %d): %s", e.Op, what, e.Code, msg)
}

// exitMeaning is restic 0.18's documented exit codes.
var exitMeaning = map[int]string{
	1:   "failed",
	2:   "Go runtime error",
	3:   "some source data could not be read",
	10:  "repository does not exist",
	11:  "repository is locked",
	12:  "wrong password",
	130: "interrupted",
}

// Summary is the last JSON line of `restic backup --json`.
type Summary struct {
	SnapshotID          string  `json:"snapshot_id"`
	DataAdded           int64   `json:"data_added"`
	DataAddedPacked     int64   `json:"data_added_packed"`
	TotalBytesProcessed int64   `json:"total_bytes_processed"`
	TotalDuration       float64 `json:"total_duration"`
}

// BackupOptions describes the snapshot a stream becomes.
type BackupOptions struct {
	Filename string   // --stdin-filename: the path of the stream in the snapshot
	Tags     []string // --tag, one each
	Host     string   // --host; empty means restic's default
}

// Backup is a running `restic backup --stdin`.
type Backup struct {
	cmd         *exec.Cmd
	stdin       io.WriteCloser
	stderr      *tail
	done        chan struct{}
	once        sync.Once
	stopTimeout time.Duration
	// unwatch stops the stop that cancelling StartBackup's context starts.
	unwatch func() bool

	mu      sync.Mutex
	summary *Summary
	waitErr error
}

// StartBackup starts restic reading a stream from its stdin; write the
// stream to Writer, then call Finish, or Stop on failure. Cancelling ctx
// stops restic (see Stop).
func StartBackup(ctx context.Context, o Options, b BackupOptions) (*Backup, error) {
	args := []string{"backup", "--stdin", "--json", "--stdin-filename", b.Filename}
	for _, t := range b.Tags {
		args = append(args, "--tag", t)
	}
	if b.Host != "" {
		args = append(args, "--host", b.Host)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Not cancelled by exec: a cancelled backup is stopped by Stop, which
	// knows when restic's stdin may be closed.
	cmd := o.command(context.WithoutCancel(ctx), args...)
	pr, pw, err := stdinPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdin = pr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	bk := &Backup{cmd: cmd, stdin: pw, stderr: newTail(o.Stderr), done: make(chan struct{}), stopTimeout: o.stopTimeout()}
	cmd.Stderr = bk.stderr
	err = cmd.Start()
	pr.Close() // restic has its copy; ours would keep the pipe open after restic exits
	if err != nil {
		pw.Close()
		return nil, fmt.Errorf("start restic backup: %w", err)
	}
	go bk.readStdout(stdout)
	bk.unwatch = context.AfterFunc(ctx, func() { bk.Stop() })
	return bk, nil
}

// readStdout collects the summary line and then waits for the process.
func (b *Backup) readStdout(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var m struct {
			Type string `json:"message_type"`
		}
		if json.Unmarshal(line, &m) != nil || m.Type != "summary" {
			continue
		}
		var s Summary
		if json.Unmarshal(line, &s) == nil {
			b.mu.Lock()
			b.summary = &s
			b.mu.Unlock()
		}
	}
	io.Copy(io.Discard, r)
	err := b.cmd.Wait()
	b.mu.Lock()
	b.waitErr = err
	b.mu.Unlock()
	close(b.done)
}

// Writer is restic's stdin. A write that fails because restic has exited
// returns restic's own error (a wrong password, a missing repository)
// rather than "broken pipe".
func (b *Backup) Writer() io.Writer { return backupWriter{b} }

type backupWriter struct{ b *Backup }

func (w backupWriter) Write(p []byte) (int, error) {
	n, err := w.b.stdin.Write(p)
	if err != nil {
		return n, w.b.writeError(err)
	}
	return n, nil
}

// writeError explains a failed write: when restic exited (or exits soon),
// its exit error says why; otherwise the write error stands.
func (b *Backup) writeError(err error) error {
	select {
	case <-b.done:
	case <-time.After(b.stopTimeout):
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.waitErr != nil {
		return b.exitError("backup", b.waitErr)
	}
	return err
}

// Finish closes restic's stdin (the stream is complete), waits for restic
// to exit and returns the summary. It fails unless restic exited 0 and
// reported a snapshot id. If ctx is cancelled meanwhile, restic is
// interrupted; if it had saved its snapshot all the same, Finish returns
// the summary (the set is stored), else ctx's error.
func (b *Backup) Finish(ctx context.Context) (*Summary, error) {
	if !b.unwatch() {
		b.Stop() // being stopped already
		return nil, b.stoppedError(ctx)
	}
	if err := b.stdin.Close(); err != nil {
		b.Stop()
		return nil, fmt.Errorf("close restic's input: %w", err)
	}
	select {
	case <-b.done:
	case <-ctx.Done():
		b.once.Do(func() {
			// Its stdin is closed: an interrupted restic either saved the
			// snapshot already or saves none.
			interruptProcess(b.cmd)
			b.waitOrKill()
		})
		<-b.done
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.waitErr != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w (%w)", context.Cause(ctx), b.exitError("backup", b.waitErr))
		}
		return nil, b.exitError("backup", b.waitErr)
	}
	if b.summary == nil || b.summary.SnapshotID == "" {
		return nil, &ExitError{Op: "backup", Message: "restic exited 0 without reporting a snapshot id"}
	}
	return b.summary, nil
}

// stoppedError is Finish's error for a backup that was stopped.
func (b *Backup) stoppedError(ctx context.Context) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return errors.New("restic backup was stopped")
}

// Stop stops restic BEFORE its stdin is closed, so that it sees no end of
// stream and saves no snapshot, the way Ctrl-C stops restic: it sends
// SIGINT to restic's process group and waits until restic says it is
// cleaning up (it then cancels the backup, so end of stream can no longer
// become a snapshot, and removes its lock). Only then is restic's stdin
// closed, which releases restic's read, and restic exits. A restic that
// does not answer the signal, or does not exit within the stop timeout, is
// killed. Safe to call twice, concurrently and after Finish.
func (b *Backup) Stop() error {
	b.once.Do(func() {
		select {
		case <-b.done:
			// Kill the group even when restic's process has exited: what it
			// started (a wrapper's restic) may still read the stream.
			killProcess(b.cmd)
			b.stdin.Close()
			return
		default:
		}
		interruptProcess(b.cmd)
		select {
		case <-b.done:
		case <-b.stderr.interrupted:
		case <-time.After(ackTimeout):
			// No answer: end of stream might still become a snapshot.
			killProcess(b.cmd)
		}
		b.stdin.Close()
		b.waitOrKill()
	})
	<-b.done
	return nil
}

// waitOrKill waits for restic to exit, killing it after the stop timeout.
func (b *Backup) waitOrKill() {
	select {
	case <-b.done:
	case <-time.After(b.stopTimeout):
		killProcess(b.cmd)
		<-b.done
	}
}

func (b *Backup) exitError(op string, err error) error {
	return &ExitError{Op: op, Code: exitCode(err), Message: b.stderr.message()}
}

// tail keeps what restic wrote to stderr, to put restic's own explanation
// into errors: its exit_error JSON, else its "Fatal:" message with the
// lines after it, else its last line. It forwards the other lines, so that
// restic's warnings are seen but its fatal error is printed once, by
// esesnap, as part of the error it reports. restic's "signal ... received,
// cleaning up" closes interrupted and is not forwarded: esesnap sent that
// signal itself.
type tail struct {
	mu          sync.Mutex
	w           io.Writer
	buf         []byte
	last        string
	fatal       []string // "Fatal: ..." and the lines after it
	exitErr     string   // the message of an exit_error JSON line
	interrupted chan struct{}
	ackOnce     sync.Once
}

func newTail(w io.Writer) *tail { return &tail{w: w, interrupted: make(chan struct{})} }

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	for {
		i := bytes.IndexByte(t.buf, '\n')
		if i < 0 {
			break
		}
		raw := string(t.buf[:i+1])
		t.buf = t.buf[i+1:]
		t.line(raw)
	}
	if len(t.buf) > 64<<10 {
		t.buf = t.buf[len(t.buf)-64<<10:]
	}
	return len(p), nil
}

// line takes one whole line of restic's stderr, its newline included.
func (t *tail) line(raw string) {
	// Drop the terminal control sequence restic puts before its messages.
	line := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(raw), "\x1b[2K"))
	var m struct {
		Type    string `json:"message_type"`
		Message string `json:"message"`
	}
	switch {
	case strings.HasPrefix(line, "signal ") && strings.HasSuffix(line, "received, cleaning up"):
		t.ackOnce.Do(func() { close(t.interrupted) })
		return
	case json.Unmarshal([]byte(line), &m) == nil && m.Type == "exit_error":
		t.exitErr = m.Message
		return
	case strings.HasPrefix(line, "Fatal: ") || len(t.fatal) > 0:
		if line != "" {
			t.fatal = append(t.fatal, line)
		}
		return
	}
	if line != "" {
		t.last = line
	}
	if t.w != nil {
		t.w.Write([]byte(raw))
	}
}

func (t *tail) message() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.exitErr != "":
		return strings.TrimPrefix(strings.Join(strings.Fields(t.exitErr), " "), "Fatal: ")
	case len(t.fatal) > 0:
		return strings.TrimPrefix(strings.Join(t.fatal, " "), "Fatal: ")
	}
	if s := strings.TrimSpace(string(t.buf)); s != "" {
		return s
	}
	return t.last
}

// Snapshot is one entry of `restic snapshots --json`.
type Snapshot struct {
	ID       string    `json:"id"`
	ShortID  string    `json:"short_id"`
	Time     time.Time `json:"time"`
	Paths    []string  `json:"paths"`
	Tags     []string  `json:"tags"`
	Hostname string    `json:"hostname"`
}

// Tag returns the value of the first tag "key=value"-style tag with the
// given prefix (for example "esesnap:kind="), or "".
func (s Snapshot) Tag(prefix string) string {
	for _, t := range s.Tags {
		if v, ok := strings.CutPrefix(t, prefix); ok {
			return v
		}
	}
	return ""
}

// HasTag reports whether the snapshot carries tag exactly.
func (s Snapshot) HasTag(tag string) bool { return slices.Contains(s.Tags, tag) }

// Snapshots lists the snapshots carrying every one of tags, oldest first.
func Snapshots(ctx context.Context, o Options, tags ...string) ([]Snapshot, error) {
	args := []string{"snapshots", "--json"}
	if len(tags) > 0 {
		args = append(args, "--tag", strings.Join(tags, ","))
	}
	var out bytes.Buffer
	if err := o.run(ctx, "snapshots", &out, args...); err != nil {
		return nil, err
	}
	var snaps []Snapshot
	if err := json.Unmarshal(out.Bytes(), &snaps); err != nil {
		return nil, fmt.Errorf("restic snapshots: unreadable output: %w", err)
	}
	return snaps, nil
}

// Dump streams one file of a snapshot (`restic dump ID PATH`) into w.
func Dump(ctx context.Context, o Options, snapshot, path string, w io.Writer) error {
	return DumpWith(ctx, o, snapshot, path, func(r io.Reader) error {
		_, err := io.Copy(w, r)
		return err
	})
}

// DumpWith runs `restic dump` and hands its output, the read end of the
// pipe restic writes, to consume, with no copy in between. What consume
// leaves unread is drained, so restic can finish. If consume fails, restic
// is interrupted (it then stops and removes its lock; it is killed if it
// has not exited after the stop timeout) and consume's error returned, with
// restic's own message added when restic had failed first (its early end
// of output is then what consume saw).
func DumpWith(ctx context.Context, o Options, snapshot, path string, consume func(io.Reader) error) error {
	cmd := o.command(ctx, "dump", snapshot, path)
	t := newTail(o.Stderr)
	cmd.Stderr = t
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start restic dump: %w", err)
	}
	cerr := consume(out)
	if cerr != nil {
		// Drained rather than closed: restic would die of SIGPIPE on its
		// next write, before removing its lock.
		interruptProcess(cmd)
		kill := time.AfterFunc(o.stopTimeout(), func() { killProcess(cmd) })
		defer kill.Stop()
	}
	io.Copy(io.Discard, out)
	werr := cmd.Wait()
	switch {
	case cerr != nil && t.message() != "":
		return fmt.Errorf("%w (restic dump: %s)", cerr, t.message())
	case cerr != nil:
		return cerr
	case werr != nil:
		return &ExitError{Op: "dump", Code: exitCode(werr), Message: t.message()}
	}
	return nil
}

// Init creates a repository (`restic init`), for tests and first runs.
func Init(ctx context.Context, o Options) error {
	return o.run(ctx, "init", io.Discard, "init")
}

// run runs one restic command to completion with stdout going to w.
func (o Options) run(ctx context.Context, op string, w io.Writer, args ...string) error {
	cmd := o.command(ctx, args...)
	t := newTail(o.Stderr)
	cmd.Stdout, cmd.Stderr = w, t
	if err := cmd.Run(); err != nil {
		return &ExitError{Op: op, Code: exitCode(err), Message: t.message()}
	}
	return nil
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// Config is the part of a repository's config (`restic cat config`) the
// host needs: its id and the polynomial restic chunks files with.
type Config struct {
	ID                string      `json:"id"`
	Version           int         `json:"version"`
	ChunkerPolynomial chunker.Pol `json:"chunker_polynomial"`
}

// RepoConfig reads the repository's config with `restic cat config`.
func RepoConfig(ctx context.Context, o Options) (Config, error) {
	var out bytes.Buffer
	if err := o.run(ctx, "cat config", &out, "cat", "config"); err != nil {
		return Config{}, err
	}
	var c Config
	if err := json.Unmarshal(out.Bytes(), &c); err != nil {
		return Config{}, fmt.Errorf("restic cat config: unreadable output: %w", err)
	}
	if c.ChunkerPolynomial == 0 || !c.ChunkerPolynomial.Irreducible() {
		return Config{}, fmt.Errorf("restic cat config: chunker polynomial %v is not irreducible", c.ChunkerPolynomial)
	}
	return c, nil
}

// DataBlobs lists the ids of every data blob in the repository's index
// (`restic list blobs`), the blobs a new backup does not store again.
func DataBlobs(ctx context.Context, o Options) (BlobSet, error) {
	cmd := o.command(ctx, "list", "blobs")
	t := newTail(o.Stderr)
	cmd.Stderr = t
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start restic list blobs: %w", err)
	}
	set := BlobSet{}
	var perr error
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		kind, hexID, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			perr = fmt.Errorf("restic list blobs: unreadable line %q", sc.Text())
			break
		}
		if kind != "data" {
			continue
		}
		var id BlobID
		if n, err := hex.Decode(id[:], []byte(hexID)); err != nil || n != len(id) {
			perr = fmt.Errorf("restic list blobs: unreadable blob id %q", hexID)
			break
		}
		set[id] = struct{}{}
	}
	io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		return nil, &ExitError{Op: "list blobs", Code: exitCode(err), Message: t.message()}
	}
	if perr != nil {
		return nil, perr
	}
	return set, nil
}

// Forget removes the given snapshots (`restic forget ID...`) and, with
// prune, the data only they referenced (`--prune`). Nothing else is
// touched: retention is decided by the caller, snapshot by snapshot.
func Forget(ctx context.Context, o Options, ids []string, prune bool) error {
	if len(ids) == 0 {
		return nil
	}
	args := append([]string{"forget"}, ids...)
	if prune {
		args = append(args, "--prune")
	}
	return o.run(ctx, "forget", io.Discard, args...)
}
