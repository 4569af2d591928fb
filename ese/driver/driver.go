package driver

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/protocol"
	"github.com/hashicorp/go-hclog"
)

// Instance is an opened ESE instance for one session.
type Instance struct {
	API ese.BackupAPI
	// RecordsBackups is true when End(Normal) writes the BKINFO into the
	// database headers (a writable engine, ESENT); a read-only engine only
	// streams, and EndResult.Recorded then stays empty.
	RecordsBackups bool
	// Close releases the instance after End (JetTerm for an engine).
	Close func() error
}

// Config configures a Driver.
type Config struct {
	Name    string // Info.Name
	Version string // Info.Version
	// Open opens the instance a session backs up.
	Open func(ctx context.Context, src protocol.Source) (*Instance, error)
	// Restore stages a backup set (JetExternalRestore2); nil means Restore
	// is not offered.
	Restore func(ctx context.Context, req ese.RestoreRequest) error
	// RecoveryCommand is what finishes a staged restore, for RestoreResult.
	RecoveryCommand func(req protocol.RestoreRequest) []string
	// IdleTimeout ends a session aborted when no call arrives for this
	// long (the host vanished without ending it). 0 means 10 minutes.
	IdleTimeout time.Duration
	// MaxChunkBytes is the largest chunk Read sends; 0 means
	// protocol.MaxChunkBytes.
	MaxChunkBytes int
	// Options are the options Info lists and Begin and Restore accept;
	// nil means Options (the ESE options). Begin and Restore refuse other
	// keys before Open or Restore run.
	Options []protocol.OptionSpec
	Logger  hclog.Logger
}

// Driver is a protocol.Snapshotter over ESE's external backup API.
type Driver struct {
	cfg Config
	log hclog.Logger

	mu       sync.Mutex
	sessions map[string]*session
	closed   chan struct{}
}

var _ protocol.Snapshotter = (*Driver)(nil)
var _ protocol.SessionKeeper = (*Driver)(nil)

// New returns a Driver and starts its idle watchdog; Close stops it and
// aborts every open session.
func New(cfg Config) *Driver {
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 10 * time.Minute
	}
	if cfg.MaxChunkBytes <= 0 || cfg.MaxChunkBytes > protocol.MaxChunkBytes {
		cfg.MaxChunkBytes = protocol.MaxChunkBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Options == nil {
		cfg.Options = Options
	}
	d := &Driver{cfg: cfg, log: cfg.Logger, sessions: map[string]*session{}, closed: make(chan struct{})}
	go d.watchdog()
	return d
}

// Close aborts every session still open (the host is gone) and stops the
// watchdog.
func (d *Driver) Close() error {
	d.mu.Lock()
	select {
	case <-d.closed:
		d.mu.Unlock()
		return nil
	default:
	}
	close(d.closed)
	var open []*session
	for _, s := range d.sessions {
		open = append(open, s)
	}
	d.mu.Unlock()
	for _, s := range open {
		s.abort("the plugin is shutting down")
	}
	return nil
}

// Info describes the driver.
func (d *Driver) Info(ctx context.Context) (protocol.Info, error) {
	caps := []string{protocol.CapabilityVerify, protocol.CapabilityTruncateLogs, protocol.CapabilityKeepalive}
	if d.cfg.Restore != nil {
		caps = append(caps, protocol.CapabilityRestore)
	}
	return protocol.Info{
		Name:          d.cfg.Name,
		Version:       d.cfg.Version,
		Kinds:         []protocol.Kind{protocol.KindFull, protocol.KindIncremental, protocol.KindCopy, protocol.KindDifferential},
		MaxChunkBytes: d.cfg.MaxChunkBytes,
		Capabilities:  caps,
		IdleTimeout:   d.cfg.IdleTimeout,
		Options:       d.cfg.Options,
	}, nil
}

// phase of a driver session.
type phase int

const (
	phaseDatabases phase = iota // database batch not yet listed
	phaseDBListed               // database batch listed, being read
	phaseLogs                   // log batch listed, being read
	phaseDone                   // empty batch returned
	phaseEnded                  // End done (or aborted by the driver)
)

// session is one backup of one instance.
type session struct {
	d    *Driver
	id   string
	kind protocol.Kind
	inst *Instance

	mu       sync.Mutex // serialises the calls of the session
	phase    phase
	batch    map[string]*fileState
	logInfo  ese.LogInfo
	lastCall time.Time
	busy     bool
	ended    *protocol.EndResult
	endErr   error
	abortMsg string
	// logsRead holds the generations of the logs read completely, taken
	// from each log's own header, which must agree with its name. ESE
	// checks copied logs by the sum of their generations (backup.cxx adds
	// each closed log's generation), which a re-read of one generation in
	// place of another satisfies; the driver truncates only when every
	// generation of the range is here.
	logsRead map[uint32]string
}

type fileState struct {
	file protocol.File
	done bool
}

// Begin opens the instance and starts an external backup.
func (d *Driver) Begin(ctx context.Context, req protocol.BeginRequest) (string, error) {
	if !req.Kind.Valid() {
		return "", &ese.Error{Code: ese.ErrInvalidParameter, Op: "Begin", Err: fmt.Errorf("unknown backup kind %d", req.Kind)}
	}
	if err := checkOptions("Begin", d.cfg.Options, req.Source.Options, false); err != nil {
		return "", err
	}
	inst, err := d.cfg.Open(ctx, req.Source)
	if err != nil {
		return "", err
	}
	var grbit ese.Grbit
	if req.Kind == protocol.KindIncremental || req.Kind == protocol.KindDifferential {
		grbit = ese.BackupIncremental
	}
	if err := inst.API.BeginExternalBackup(grbit); err != nil {
		closeInstance(inst, d.log)
		return "", err
	}
	s := &session{d: d, id: newID(), kind: req.Kind, inst: inst, lastCall: time.Now()}
	if grbit != 0 {
		s.phase = phaseDBListed // no database phase: the first batch is the logs
		s.batch = map[string]*fileState{}
	}
	d.mu.Lock()
	d.sessions[s.id] = s
	d.mu.Unlock()
	d.log.Info("backup session started", "session", s.id, "kind", req.Kind.String(), "source", req.Source.Location)
	return s.id, nil
}

func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// lookup returns the session and locks it; unknown ids are JET_errNoBackup.
func (d *Driver) lookup(op, id string) (*session, error) {
	d.mu.Lock()
	s := d.sessions[id]
	d.mu.Unlock()
	if s == nil {
		return nil, &ese.Error{Code: ese.ErrNoBackup, Op: op, Err: fmt.Errorf("unknown session %q", id)}
	}
	s.mu.Lock()
	s.lastCall = time.Now()
	s.busy = true
	return s, nil
}

func (s *session) unlock() {
	s.lastCall = time.Now()
	s.busy = false
	s.mu.Unlock()
}

// errIfEnded reports a session that is over: JET_errBackupAbortByServer
// with the reason if the driver aborted it, JET_errNoBackup after End.
func (s *session) errIfEnded(op string) error {
	if s.phase != phaseEnded {
		return nil
	}
	if s.abortMsg != "" {
		return &ese.Error{Code: ese.ErrBackupAbortByServer, Op: op, Err: fmt.Errorf("the plugin aborted the session: %s", s.abortMsg)}
	}
	return &ese.Error{Code: ese.ErrNoBackup, Op: op, Err: errors.New("the session has ended")}
}

// Files lists the next batch: databases, then logs, then nothing.
func (d *Driver) Files(ctx context.Context, id string) ([]protocol.File, error) {
	const op = "Files"
	s, err := d.lookup(op, id)
	if err != nil {
		return nil, err
	}
	defer s.unlock()
	if err := s.errIfEnded(op); err != nil {
		return nil, err
	}
	if !s.batchDone() {
		return nil, &ese.Error{Code: ese.ErrInvalidBackupSequence, Op: op, Err: errors.New("read every file of the current batch before asking for the next")}
	}
	switch s.phase {
	case phaseDatabases:
		names, err := s.inst.API.GetAttachInfo()
		if err != nil {
			return nil, err
		}
		s.phase = phaseDBListed
		if len(names) > 0 {
			return s.setBatch(names, protocol.RoleDatabase)
		}
		// No database is attached: an empty batch would mean "done" to the
		// host, so the logs come right away.
		fallthrough
	case phaseDBListed:
		names, li, err := s.inst.API.GetLogInfo()
		if err != nil {
			return nil, err
		}
		s.logInfo = li
		s.phase = phaseLogs
		return s.setBatch(names, protocol.RoleLog)
	default:
		s.phase = phaseDone
		s.batch = map[string]*fileState{}
		return nil, nil
	}
}

func (s *session) batchDone() bool {
	for _, f := range s.batch {
		if !f.done {
			return false
		}
	}
	return true
}

// setBatch makes names the current batch. Each file is opened and closed
// once to learn its stream size (ESE reports it at open; closing unread
// marks nothing), so that hosts can write size-prefixed archives such as
// tar without spooling.
func (s *session) setBatch(names []string, role protocol.Role) ([]protocol.File, error) {
	s.batch = map[string]*fileState{}
	files := make([]protocol.File, 0, len(names))
	for _, n := range names {
		h, size, err := s.inst.API.OpenFile(n)
		if err != nil {
			return nil, err
		}
		if err := s.inst.API.CloseFile(h); err != nil {
			return nil, err
		}
		f := protocol.File{Name: n, Role: role, Size: size}
		if role == protocol.RoleLog {
			if ln, ok := format.ParseLogName(baseName(n)); ok {
				f.Generation = ln.Gen
			}
		}
		s.batch[n] = &fileState{file: f}
		files = append(files, f)
	}
	return files, nil
}

// baseName handles both separators: ESENT reports Windows paths.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return filepath.Base(p)
}

// minFirstRead is the buffer every first read can use: ESE wants at least
// three pages for a database, and pages go up to 32 KiB.
const minFirstRead = 4 * 32 << 10

// Read streams one file of the current batch.
func (d *Driver) Read(ctx context.Context, id, file string, chunkBytes int, w protocol.ChunkWriter) error {
	const op = "Read"
	s, err := d.lookup(op, id)
	if err != nil {
		return err
	}
	defer s.unlock()
	if err := s.errIfEnded(op); err != nil {
		return err
	}
	fs := s.batch[file]
	if fs == nil {
		return &ese.Error{Code: ese.ErrInvalidParameter, Op: op, File: file, Err: errors.New("not a file of the current batch")}
	}
	if fs.done {
		return &ese.Error{Code: ese.ErrInvalidParameter, Op: op, File: file, Err: errors.New("already read")}
	}
	chunk := protocol.ChunkBytes(chunkBytes, d.cfg.MaxChunkBytes)
	api := s.inst.API
	h, _, err := api.OpenFile(file)
	if err != nil {
		return err
	}
	buf := ese.AlignedBuffer(max(chunk, minFirstRead))
	var off int64
	headerGen, haveHeader := uint32(0), false
	for {
		if err := ctx.Err(); err != nil {
			api.CloseFile(h)
			s.abortLocked(fmt.Sprintf("the host cancelled the read of %s", file))
			return err
		}
		n, err := api.ReadFile(h, buf)
		if err != nil {
			api.CloseFile(h)
			return err
		}
		if n == 0 {
			break
		}
		if off == 0 && fs.file.Role == protocol.RoleLog && n >= 8 {
			headerGen, haveHeader = binary.LittleEndian.Uint32(buf[4:8]), true // lGeneration (LGFILEHDR @4)
		}
		for p := 0; p < n; p += chunk {
			part := buf[p:min(n, p+chunk)]
			if err := w.WriteChunk(off, part); err != nil {
				api.CloseFile(h)
				s.abortLocked(fmt.Sprintf("the host stopped receiving %s: %v", file, err))
				return err
			}
			off += int64(len(part))
		}
	}
	if err := api.CloseFile(h); err != nil {
		return err
	}
	if off != fs.file.Size {
		return &ese.Error{Code: ese.ErrInvalidBackupSequence, Op: op, File: file, Err: fmt.Errorf("streamed %d bytes, the listing said %d: the file changed during the backup", off, fs.file.Size)}
	}
	if fs.file.Role == protocol.RoleLog {
		if !haveHeader || headerGen != fs.file.Generation {
			return &ese.Error{Code: ese.ErrLogGenerationMismatch, Op: op, File: file,
				Err: fmt.Errorf("the log's header says generation %d, its name says %d", headerGen, fs.file.Generation)}
		}
		if s.logsRead == nil {
			s.logsRead = map[uint32]string{}
		}
		s.logsRead[headerGen] = file
	}
	fs.done = true
	return nil
}

// End finishes the session; see protocol.Snapshotter.
//
// End tells the truth about what happened even when it fails: the result
// returned with an error still lists the logs that were truncated and the
// log range, and Recorded is set only when the database headers were
// written. End(succeeded) of a session the driver already aborted (idle
// watchdog, a host that stopped reading) fails with
// JET_errBackupAbortByServer and the reason, never with a warning.
func (d *Driver) End(ctx context.Context, id string, req protocol.EndRequest) (protocol.EndResult, error) {
	const op = "End"
	s, err := d.lookup(op, id)
	if err != nil {
		return protocol.EndResult{}, err
	}
	defer s.unlock()
	if s.phase == phaseEnded {
		if s.ended != nil {
			return *s.ended, s.endErr
		}
		if req.Outcome != protocol.OutcomeSucceeded {
			return protocol.EndResult{}, nil
		}
		cause := errors.New("the session had already ended aborted")
		if s.abortMsg != "" {
			cause = fmt.Errorf("the plugin had already aborted the session: %s", s.abortMsg)
		}
		return protocol.EndResult{}, &ese.Error{Code: ese.ErrBackupAbortByServer, Op: op,
			Err: fmt.Errorf("%w; nothing was recorded and no log was truncated", cause)}
	}
	if req.Outcome != protocol.OutcomeSucceeded {
		s.abortLocked("the host ended the backup aborted")
		return protocol.EndResult{}, nil
	}
	if s.phase != phaseDone {
		s.abortLocked("the host ended the backup succeeded before every file was read")
		return protocol.EndResult{}, &ese.Error{Code: ese.ErrInvalidBackupSequence, Op: op, Err: errors.New("not every file was read; the backup was ended aborted")}
	}
	if missing := s.unreadGenerations(); len(missing) > 0 {
		s.abortLocked("not every log generation of the set was read")
		return protocol.EndResult{}, &ese.Error{Code: ese.ErrLogFileNotCopied, Op: op,
			Err: fmt.Errorf("log generation(s) %s of %d..%d were not read completely; the backup was ended aborted, nothing recorded or truncated", genList(missing), s.logInfo.GenLow, s.logInfo.GenHigh)}
	}
	api := s.inst.API
	res := protocol.EndResult{Metadata: []protocol.Metadata{LogRangeMetadata(s.logInfo)}}
	truncated := false
	var truncErr error
	if req.TruncateLogs && s.kind.TruncatesLogs() {
		names, err := api.GetTruncateLogInfo()
		var present []string
		if err == nil {
			present = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return !exists(n) })
			err = api.TruncateLog()
		}
		if err != nil {
			// TruncateLog deletes one log after another: those gone before
			// it failed are reported, or the host would say nothing was
			// truncated while the set is the only copy of some logs.
			truncErr = err
			res.Truncated = slices.DeleteFunc(present, exists)
			res.Warnings = append(res.Warnings, "log truncation failed: "+err.Error())
		} else {
			truncated = true
			res.Truncated = names
		}
	} else if req.TruncateLogs {
		res.Warnings = append(res.Warnings, fmt.Sprintf("a %s backup never truncates logs", s.kind))
	}
	if err := api.EndExternalBackup(ese.BackupEndNormal); err != nil {
		// The session did not end; ESE records nothing when End fails. The
		// logs TruncateLog deleted are gone all the same: say so.
		res.Warnings = append(res.Warnings, "the backup is not recorded in the database headers: "+err.Error())
		s.finish(&res, err)
		d.log.Error("ending the backup failed", "session", s.id, "error", err, "truncated", len(res.Truncated))
		return res, err
	}
	endErr := truncErr
	rep, known := endReport(api)
	switch {
	case known && rep.Outcome == ese.EndAbortedByServer:
		endErr = &ese.Error{Code: ese.ErrBackupAbortByServer, Op: "JetEndExternalBackupInstance2",
			Err: errors.New("the application stopped the backup (JetStopBackupInstance) before it ended; ESE ended it without recording it")}
		res.Warnings = append(res.Warnings, "the backup is not recorded in the database headers: the application stopped it")
	case known && rep.Err != nil:
		endErr = recordError(rep.Err)
		res.Recorded = rep.Recorded // the databases written before the failure
		res.Warnings = append(res.Warnings, "recording the backup in the database headers failed: "+rep.Err.Error())
	case known:
		res.Recorded = rep.Recorded
		if res.Recorded == "" && s.inst.RecordsBackups {
			res.Warnings = append(res.Warnings, "no database header records this backup (no database took part)")
		}
	case s.inst.RecordsBackups:
		res.Recorded = recordField(s.kind, truncated)
	}
	if !s.inst.RecordsBackups {
		res.Warnings = append(res.Warnings, "the instance is read-only: the backup was not recorded in the database headers")
	}
	s.finish(&res, endErr)
	d.log.Info("backup session ended", "session", s.id, "recorded", res.Recorded, "truncated", len(res.Truncated), "error", endErr)
	return res, endErr
}

// endReport asks the backend what its last End did, when it can say.
func endReport(api ese.BackupAPI) (ese.EndReport, bool) {
	r, ok := api.(ese.EndReporter)
	if !ok {
		return ese.EndReport{}, false
	}
	rep := r.LastEnd()
	return rep, rep.Outcome != 0
}

// recordError is the error of a header update that failed at End: ESE
// returns success, but the backup is not (or not wholly) recorded.
func recordError(err error) error {
	var ee *ese.Error
	if errors.As(err, &ee) {
		return &ese.Error{Code: ee.Code, Op: "JetEndExternalBackupInstance2 (record the backup)", File: ee.File, Page: ee.Page, Err: ee.Err}
	}
	return &ese.Error{Code: ese.ErrDiskIO, Op: "JetEndExternalBackupInstance2 (record the backup)", Err: err}
}

// unreadGenerations lists the generations of the log range that no
// completely read log supplied.
func (s *session) unreadGenerations() []uint32 {
	var missing []uint32
	if s.logInfo.GenHigh == 0 {
		return nil
	}
	for g := s.logInfo.GenLow; g <= s.logInfo.GenHigh; g++ {
		if _, ok := s.logsRead[g]; !ok {
			missing = append(missing, g)
		}
	}
	return missing
}

// genList prints generations compactly, in hex as log names have them.
func genList(gens []uint32) string {
	parts := make([]string, 0, len(gens))
	for i, g := range gens {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("and %d more", len(gens)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("0x%X", g))
	}
	return strings.Join(parts, ", ")
}

// Keepalive resets the idle watchdog of a session; see
// protocol.SessionKeeper. A session that is over answers with why: NoBackup
// after End, BackupAbortByServer with the reason after the driver aborted
// it.
func (d *Driver) Keepalive(ctx context.Context, id string) error {
	const op = "Keepalive"
	s, err := d.lookup(op, id)
	if err != nil {
		return err
	}
	defer s.unlock()
	if s.phase != phaseEnded {
		return nil
	}
	if s.abortMsg != "" {
		return &ese.Error{Code: ese.ErrBackupAbortByServer, Op: op, Err: fmt.Errorf("the plugin aborted the session: %s", s.abortMsg)}
	}
	return &ese.Error{Code: ese.ErrNoBackup, Op: op, Err: errors.New("the session has ended")}
}

// exists reports whether a log named by the backend is a file on disk now
// (the driver runs beside the instance, so the engine's and ESENT's log
// paths are local).
func exists(name string) bool {
	_, err := os.Lstat(name)
	return err == nil
}

// recordField is the header field ESE writes: whether logs were truncated
// decides between full and copy, incremental and differential.
func recordField(k protocol.Kind, truncated bool) string {
	full := k == protocol.KindFull || k == protocol.KindCopy
	switch {
	case full && truncated:
		return "bkinfoFullPrev"
	case full:
		return "bkinfoCopyPrev"
	case truncated:
		return "bkinfoIncPrev"
	}
	return "bkinfoDiffPrev"
}

// finish records the end of a session and releases its instance.
func (s *session) finish(res *protocol.EndResult, err error) {
	s.phase = phaseEnded
	s.ended, s.endErr = res, err
	closeInstance(s.inst, s.d.log)
	s.d.forgetLater(s.id)
}

// abortLocked ends the ESE session with Abort; the caller holds s.mu.
func (s *session) abortLocked(reason string) {
	if s.phase == phaseEnded {
		return
	}
	s.abortMsg = reason
	if err := s.inst.API.EndExternalBackup(ese.BackupEndAbort); err != nil && !errors.Is(err, ese.ErrNoBackup) {
		s.d.log.Warn("ending the aborted backup failed", "session", s.id, "error", err)
	}
	s.d.log.Warn("backup session aborted", "session", s.id, "reason", reason)
	s.finish(nil, nil)
}

func (s *session) abort(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.abortLocked(reason)
}

func closeInstance(inst *Instance, log hclog.Logger) {
	if inst.Close == nil {
		return
	}
	if err := inst.Close(); err != nil {
		log.Warn("closing the instance failed", "error", err)
	}
}

// forgetLater keeps an ended session's result (or the reason it was
// aborted) for a while so that a host retrying End, or ending a session
// the watchdog aborted during a long sink commit, gets the true answer,
// then drops it.
func (d *Driver) forgetLater(id string) {
	time.AfterFunc(max(d.cfg.IdleTimeout, time.Hour), func() {
		d.mu.Lock()
		delete(d.sessions, id)
		d.mu.Unlock()
	})
}

// watchdog aborts sessions whose host went quiet.
func (d *Driver) watchdog() {
	period := min(d.cfg.IdleTimeout/4, time.Minute)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-d.closed:
			return
		case <-t.C:
		}
		d.mu.Lock()
		var idle []*session
		for _, s := range d.sessions {
			if s.mu.TryLock() {
				if s.phase != phaseEnded && !s.busy && time.Since(s.lastCall) > d.cfg.IdleTimeout {
					idle = append(idle, s)
				}
				s.mu.Unlock()
			}
		}
		d.mu.Unlock()
		for _, s := range idle {
			s.abort(fmt.Sprintf("no call from the host for %s", d.cfg.IdleTimeout))
		}
	}
}

// Restore stages a backup set through JetExternalRestore2.
func (d *Driver) Restore(ctx context.Context, req protocol.RestoreRequest) (protocol.RestoreResult, error) {
	const op = "Restore"
	if d.cfg.Restore == nil {
		return protocol.RestoreResult{}, &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: errors.New("this plugin does not restore")}
	}
	if err := checkOptions(op, d.cfg.Options, req.Options, true); err != nil {
		return protocol.RestoreResult{}, err
	}
	if len(req.Databases) == 0 {
		return protocol.RestoreResult{}, &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: errors.New("no databases to restore: map each database of the set to its new path")}
	}
	logs, err := LogInfo(req.Metadata)
	if err != nil {
		return protocol.RestoreResult{}, err
	}
	// The restored instance goes to the request's location unless the
	// options place its logs and checkpoint elsewhere: logs in a "logs"
	// directory under it, the checkpoint in it.
	logDir, systemDir := req.Options[OptLogDir], req.Options[OptSystemDir]
	if logDir == "" && req.Location != "" {
		logDir = filepath.Join(req.Location, "logs")
	}
	if systemDir == "" {
		systemDir = req.Location
	}
	er := ese.RestoreRequest{
		CheckpointDir: systemDir,
		LogDir:        logDir,
		BackupLogDir:  req.BackupSetDir,
		LogInfo:       logs,
	}
	var staged []string
	// A database is named by its file in the set: a path inside the set
	// directory, or a set name (set names are single components, distinct
	// even for two databases of one file name, host.nameSet). Anything
	// else is taken as a set name by its base name, so a request never
	// reads outside the set; two databases read from one file are refused.
	seen := map[string]bool{}
	for _, m := range req.Databases {
		src := m.DatabaseName
		rel, err := filepath.Rel(filepath.Clean(req.BackupSetDir), filepath.Clean(src))
		if !filepath.IsAbs(src) || err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			src = filepath.Join(req.BackupSetDir, baseName(m.DatabaseName))
		}
		if seen[src] {
			return protocol.RestoreResult{}, &ese.Error{Code: ese.ErrInvalidParameter, Op: op, File: src,
				Err: errors.New("two databases of the request are the same file of the set")}
		}
		seen[src] = true
		er.Map = append(er.Map, ese.RstMap{DatabaseName: src, NewDatabaseName: m.NewDatabaseName})
		staged = append(staged, m.NewDatabaseName)
	}
	if err := d.cfg.Restore(ctx, er); err != nil {
		return protocol.RestoreResult{}, err
	}
	if logDir != "" {
		for g := logs.GenLow; g <= logs.GenHigh && g != 0; g++ {
			staged = append(staged, filepath.Join(logDir, format.LogFileName(logs.BaseName, g, ".log", g > 0xFFFFF)))
		}
	}
	res := protocol.RestoreResult{Staged: staged}
	if d.cfg.RecoveryCommand != nil {
		res.RecoveryCommand = d.cfg.RecoveryCommand(req)
	} else {
		res.Warnings = append(res.Warnings, fmt.Sprintf(
			"the logs are not replayed yet: finish recovery on Windows with ESE's JetExternalRestore2W(checkpoint dir %q, log dir %q, the databases mapped to themselves, backup log dir %q, genLow %d, genHigh %d, base name %q); esentutl /r refuses backup copies (JET_errSoftRecoveryOnBackupDatabase)",
			systemDir, logDir, logDir, logs.GenLow, logs.GenHigh, logs.BaseName))
	}
	return res, nil
}
