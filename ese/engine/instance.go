package engine

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/hashicorp/go-hclog"
)

var (
	errNoMode   = errors.New("no instance mode set: call JetInit or JetCreateInstance first")
	errLocked   = errors.New("another process is backing up this instance")
	errReadOnly = errors.New("instance opened read-only: the source is never changed unless it is opened writable")
)

// Config describes an ESE instance as ESE configures one: where its logs and
// checkpoint live, the log base name, and the attached databases.
type Config struct {
	// Name is a label for logs and errors (JET_paramInstanceName).
	Name string
	// LogDir is JET_paramLogFilePath: the current and archived logs.
	LogDir string
	// SystemDir is JET_paramSystemPath: the checkpoint file. Defaults to LogDir.
	SystemDir string
	// BaseName is JET_paramBaseName, three characters. Empty means: infer it
	// from the single <base>.chk in SystemDir, else "edb".
	BaseName string
	// Databases are the attached databases. Empty means: every ESE database
	// in LogDir and SystemDir whose log signature matches the log stream.
	Databases []string
	// Writable allows End to record the backup in the database headers and
	// TruncateLog to delete archived logs. Without it the source is never
	// changed.
	Writable bool
	// ReadRetries is how often a page that fails verification is read again
	// before JET_errReadVerifyFailure (ESE retries 16 times over about 13.6 s
	// because a live page can be mid-write; at rest a retry rarely helps).
	ReadRetries int
	// RetryDelay is the pause before the first retry; later ones grow linearly.
	RetryDelay time.Duration
	// Logger receives the events ESE would write to the event log.
	Logger hclog.Logger
	// Now is the clock for backup marks; defaults to time.Now.
	Now func() time.Time
	// FS is the file system; defaults to the operating system's.
	FS FS
}

// State is an instance's lifecycle state, mirroring ESE's: the API-entry
// check of every call maps it to the JET_err ESE returns.
type State int

// Lifecycle states.
const (
	StateCreated     State = iota // JetCreateInstance done, JetInit not yet: JET_errNotInitialized
	StateRunning                  // serving calls
	StateStopService              // JetStopServiceInstance called: JET_errClientRequestToStopJetService
	StateTerminating              // JetTerm in progress: JET_errTermInProgress
	StateTerminated               // JetTerm done: JET_errNotInitialized
	StateRestoring                // a restore holds the instance: JET_errRestoreInProgress
	StateFailed                   // a fatal error (a failed header write): JET_errInstanceUnavailable
)

var stateNames = [...]string{"created", "running", "stop-service", "terminating", "terminated", "restoring", "failed"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Instance is one ESE instance over files at rest. It implements
// ese.BackupAPI; its methods are safe for concurrent use (StopBackup may be
// called while a read is running).
type Instance struct {
	rt  *Runtime
	cfg Config
	fs  FS
	log hclog.Logger

	// ioMu serialises the backup calls of the session; mu guards the state
	// below and is never held during file I/O, so StopBackup, StopService
	// and Term are never stuck behind a slow read.
	ioMu sync.Mutex
	mu   sync.Mutex

	state         State
	backupAllowed bool
	stopFlag      bool
	calls         sync.WaitGroup // in-flight API calls, drained by Term
	sess          *session
	failure       error // why the instance is unavailable
	lastEnd       ese.EndReport

	base     string
	pageSize int
	dbs      []*database
}

// database is one attached database.
type database struct {
	path string
	hdr  *format.DBHeader
}

func newInstance(rt *Runtime, cfg Config) *Instance {
	if cfg.SystemDir == "" {
		cfg.SystemDir = cfg.LogDir
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FS == nil {
		cfg.FS = OSFS{}
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.RetryDelay == 0 {
		cfg.RetryDelay = 100 * time.Millisecond
	}
	return &Instance{rt: rt, cfg: cfg, fs: cfg.FS, log: cfg.Logger.Named("engine"), state: StateCreated}
}

// Open is the usual way to get an instance: a new runtime, JetCreateInstance
// and JetInit in one call.
func Open(cfg Config) (*Instance, error) {
	in, err := NewRuntime().NewInstance(cfg)
	if err != nil {
		return nil, err
	}
	if err := in.Init(); err != nil {
		return nil, err
	}
	return in, nil
}

// Init is JetInit for the instance: it checks the configuration (log
// directory, base name, databases and their page size) and starts serving.
func (in *Instance) Init() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.state != StateCreated {
		return &ese.Error{Code: ese.ErrAlreadyInitialized, Op: "JetInit"}
	}
	if in.cfg.LogDir == "" {
		return &ese.Error{Code: ese.ErrInvalidPath, Op: "JetInit", Err: errors.New("no log directory given")}
	}
	base, err := in.resolveBase()
	if err != nil {
		return err
	}
	in.base = base
	dbs, err := in.resolveDatabases()
	if err != nil {
		return err
	}
	in.dbs = dbs
	in.state = StateRunning
	in.backupAllowed = true
	in.log.Debug("instance initialised", "log_dir", in.cfg.LogDir, "base", base, "databases", len(dbs), "page_size", in.pageSize, "writable", in.cfg.Writable)
	return nil
}

// State returns the lifecycle state.
func (in *Instance) State() State {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.state
}

// BaseName returns the log base name the instance uses.
func (in *Instance) BaseName() string { return in.base }

// PageSize returns the database page size of the instance.
func (in *Instance) PageSize() int { return in.pageSize }

// Databases returns the absolute paths of the attached databases.
func (in *Instance) Databases() []string {
	out := make([]string, len(in.dbs))
	for i, db := range in.dbs {
		out[i] = db.path
	}
	return out
}

// AttachDatabase is JetAttachDatabase2: it adds a database to the
// instance. ESE refuses it while a backup runs (JET_errBackupInProgress);
// a database that is already attached is JET_wrnDatabaseAttached.
func (in *Instance) AttachDatabase(path string) (ese.Code, error) {
	const op = "JetAttachDatabase2"
	release, err := in.enter(op)
	if err != nil {
		return 0, err
	}
	defer release()
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.sess != nil {
		return 0, &ese.Error{Code: ese.ErrBackupInProgress, Op: op, File: path}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, &ese.Error{Code: ese.ErrInvalidPath, Op: op, File: path, Err: err}
	}
	for _, db := range in.dbs {
		if pathKey(db.path) == pathKey(abs) {
			return ese.WrnDatabaseAttached, nil
		}
	}
	hr, err := in.readDBHeader(op, abs)
	if err != nil {
		return 0, err
	}
	if len(in.dbs) > 0 && hr.PageSize != in.pageSize {
		return 0, &ese.Error{Code: ese.ErrPageSizeMismatch, Op: op, File: abs, Err: fmt.Errorf("page size %d, the instance uses %d", hr.PageSize, in.pageSize)}
	}
	in.pageSize = hr.PageSize
	in.dbs = append(in.dbs, &database{path: abs, hdr: hr.Header})
	return 0, nil
}

// StopService is JetStopServiceInstance: from now on every API call of the
// instance, End included, fails with JET_errClientRequestToStopJetService.
func (in *Instance) StopService() error {
	release, err := in.enter("JetStopServiceInstance")
	if err != nil {
		return err
	}
	defer release()
	in.mu.Lock()
	in.state = StateStopService
	in.mu.Unlock()
	return nil
}

// Term is JetTerm2. With TermComplete and an active backup it fails with
// JET_errBackupInProgress and leaves the session running, but no new backup
// may begin (JET_errBackupNotAllowedYet). Otherwise an active session is torn
// down as aborted by the server, in-flight calls are drained (callers see
// JET_errTermInProgress meanwhile) and the instance ends up terminated.
func (in *Instance) Term(grbit ese.Grbit) error {
	in.mu.Lock()
	switch in.state {
	case StateCreated, StateTerminated:
		in.mu.Unlock()
		return &ese.Error{Code: ese.ErrNotInitialized, Op: "JetTerm"}
	case StateTerminating:
		in.mu.Unlock()
		return &ese.Error{Code: ese.ErrTermInProgress, Op: "JetTerm"}
	}
	in.backupAllowed = false
	if in.sess != nil && grbit&(ese.TermAbrupt|ese.TermStopBackup) == 0 {
		in.mu.Unlock()
		return &ese.Error{Code: ese.ErrBackupInProgress, Op: "JetTerm", Err: errors.New("a backup session is active; end it or terminate abruptly")}
	}
	in.state = StateTerminating
	in.stopFlag = true // a read in flight returns at its next check
	in.mu.Unlock()

	in.calls.Wait()

	in.ioMu.Lock()
	in.mu.Lock()
	if in.sess != nil {
		in.log.Warn("backup aborted by the server: instance terminating")
		in.sess.release()
		in.sess = nil
	}
	in.state = StateTerminated
	in.mu.Unlock()
	in.ioMu.Unlock()
	return nil
}

// fail makes the instance unavailable after a fatal error, as ESE does when
// it can no longer write what it must.
func (in *Instance) fail(cause error) {
	in.mu.Lock()
	in.state = StateFailed
	in.failure = cause
	in.mu.Unlock()
	in.log.Error("instance unavailable after a fatal error", "error", cause)
}

// enter performs ESE's API-entry checks (§5.1 of the API notes) and counts
// the call as in flight; release must be called when the call returns.
func (in *Instance) enter(op string) (release func(), err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	var code ese.Code
	switch in.state {
	case StateRunning:
		in.calls.Add(1)
		return in.calls.Done, nil
	case StateStopService:
		code = ese.ErrClientRequestToStopJetService
	case StateFailed:
		return nil, &ese.Error{Code: ese.ErrInstanceUnavailable, Op: op, Err: in.failure}
	case StateTerminating:
		code = ese.ErrTermInProgress
	case StateRestoring:
		code = ese.ErrRestoreInProgress
	default:
		code = ese.ErrNotInitialized
	}
	return nil, &ese.Error{Code: code, Op: op}
}

// resolveBase returns the configured base name or infers it from the
// checkpoint file in SystemDir.
func (in *Instance) resolveBase() (string, error) {
	if b := in.cfg.BaseName; b != "" {
		if len(b) != ese.BaseNameLength {
			return "", &ese.Error{Code: ese.ErrInvalidParameter, Op: "JetInit", Err: fmt.Errorf("base name %q: must have exactly %d characters", b, ese.BaseNameLength)}
		}
		return b, nil
	}
	entries, err := in.fs.ReadDir(in.cfg.SystemDir)
	if err != nil {
		return "", &ese.Error{Code: ese.ErrInvalidPath, Op: "JetInit", File: in.cfg.SystemDir, Err: err}
	}
	var found []string
	for _, e := range entries {
		n := e.Name()
		ext := strings.ToLower(filepath.Ext(n))
		if (ext == ".chk" || ext == ".jcp") && len(n) == ese.BaseNameLength+4 {
			found = append(found, n[:ese.BaseNameLength])
		}
	}
	switch len(found) {
	case 0:
		return "edb", nil
	case 1:
		return found[0], nil
	}
	return "", &ese.Error{Code: ese.ErrInvalidParameter, Op: "JetInit", File: in.cfg.SystemDir,
		Err: fmt.Errorf("several checkpoint files (%s): give the base name", strings.Join(found, ", "))}
}
