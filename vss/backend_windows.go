//go:build windows

package vss

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/driver"
	"github.com/esesnap/esesnap/ese/engine"
	"github.com/esesnap/esesnap/protocol"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/windows"
)

// Backend is the VSS backend as a protocol.Snapshotter: the VSS backup of
// a session wraps an ese/driver session over the pure-Go engine, which
// reads the component's files from the shadow copy, read-only.
type Backend struct {
	cfg Config
	drv *driver.Driver
	log hclog.Logger

	mu       sync.Mutex
	sessions map[string]*backup
	ended    map[string]endResult // for a repeated End, kept for an hour
}

// endResult is what End returned.
type endResult struct {
	res protocol.EndResult
	err error
}

var _ protocol.Snapshotter = (*Backend)(nil)
var _ protocol.SessionKeeper = (*Backend)(nil)

// New returns the backend.
func New(cfg Config) (protocol.Snapshotter, error) {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	b := &Backend{cfg: cfg, log: cfg.Logger, sessions: map[string]*backup{}, ended: map[string]endResult{}}
	b.drv = driver.New(driver.Config{
		Name:        cfg.Name,
		Version:     cfg.Version,
		Open:        openShadow(cfg.Logger),
		Restore:     cfg.Restore,
		IdleTimeout: cfg.IdleTimeout,
		Logger:      cfg.Logger,
	})
	return b, nil
}

// openShadow opens the instance in the shadow copy with the engine,
// read-only: the writer, not esesnap, records the backup and truncates.
func openShadow(log hclog.Logger) func(context.Context, protocol.Source) (*driver.Instance, error) {
	return func(ctx context.Context, src protocol.Source) (*driver.Instance, error) {
		c, err := driver.ParseSource(src)
		if err != nil {
			return nil, err
		}
		in, err := engine.Open(engine.Config{Name: "vss", LogDir: c.LogDir, SystemDir: c.SystemDir, BaseName: c.BaseName, Databases: c.Databases, Logger: log})
		if err != nil {
			return nil, err
		}
		return &driver.Instance{API: in, Close: func() error { return in.Term(ese.TermAbrupt) }}, nil
	}
}

// Close aborts the VSS backups still open (the host is gone).
func (b *Backend) Close() error {
	b.mu.Lock()
	open := slices.Collect(maps.Values(b.sessions))
	b.sessions = map[string]*backup{}
	b.mu.Unlock()
	for _, s := range open {
		s.abort("the plugin is shutting down")
	}
	return b.drv.Close()
}

// Info describes the backend: the ESE driver's kinds and capabilities, the
// VSS options.
func (b *Backend) Info(ctx context.Context) (protocol.Info, error) {
	info, err := b.drv.Info(ctx)
	info.Options = Options
	return info, err
}

// backup is the VSS side of one session.
type backup struct {
	log     hclog.Logger
	ap      *apartment
	r       *requester
	kind    protocol.Kind
	w       writer
	c       component
	set     windows.GUID
	haveSet bool // DoSnapshotSet succeeded: the set must be deleted
	info    BackupInfo
	logDirs []string // the component's live log directories
	done    bool
}

// Begin runs the VSS backup up to the shadow copy, then starts the ESE
// session over the component's files in it.
func (b *Backend) Begin(ctx context.Context, req protocol.BeginRequest) (string, error) {
	const op = "Begin"
	if !req.Kind.Valid() {
		return "", &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: fmt.Errorf("unknown backup kind %d", req.Kind)}
	}
	if err := protocol.CheckOptions(Options, req.Source.Options, false); err != nil {
		return "", &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: err}
	}
	ap, err := newApartment()
	if err != nil {
		return "", err
	}
	s := &backup{log: b.log, ap: ap, kind: req.Kind}
	var src protocol.Source
	ap.do(func() { src, err = s.begin(req.Source) })
	if err != nil {
		s.abort("Begin failed")
		return "", err
	}
	id, err := b.drv.Begin(ctx, protocol.BeginRequest{Kind: req.Kind, Source: src})
	if err != nil {
		s.abort("the component's files in the shadow copy could not be opened")
		return "", err
	}
	b.mu.Lock()
	b.sessions[id] = s
	b.mu.Unlock()
	b.log.Info("VSS backup started", "session", id, "writer", s.w.name, "component", s.c.fullName(), "type", s.info.BackupType)
	return id, nil
}

// begin runs on the apartment: InitializeForBackup … DoSnapshotSet, the
// writer's status checked after each phase, and returns the ESE source
// in the shadow copy.
func (s *backup) begin(src protocol.Source) (protocol.Source, error) {
	r, err := createRequester()
	if err != nil {
		return src, err
	}
	s.r = r
	if err := r.check("InitializeForBackup", r.bc.call(bcInitializeForBackup, 0)); err != nil {
		return src, err
	}
	bt, btName := backupType(s.kind)
	s.info.BackupType = btName
	if err := r.check("SetBackupState", r.bc.call(bcSetBackupState, flag(true), flag(false), uintptr(bt), flag(false))); err != nil {
		return src, err
	}
	writers, err := r.writers()
	if err != nil {
		return src, err
	}
	w, c, err := pick(writers, src)
	if err != nil {
		return src, err
	}
	s.w, s.c = *w, *c
	s.info.Writer, s.info.WriterID, s.info.Component, s.info.LogicalPath = w.name, w.class.String(), c.name, c.logicalPath
	if err := r.checkWriter("GatherWriterMetadata", &s.w); err != nil {
		return src, err
	}
	if err := r.addComponent(&s.w, &s.c); err != nil {
		return src, err
	}
	if err := r.check("StartSnapshotSet", r.bc.call(bcStartSnapshotSet, ptr(&s.set))); err != nil {
		return src, err
	}
	// Every volume that holds a file of the component.
	var dirs []string
	for _, fd := range slices.Concat(c.databases, c.logs, c.files) {
		dirs = append(dirs, fd.path)
	}
	volumes := map[string]windows.GUID{}
	var order []string
	for _, d := range dirs {
		v, err := volumeOf(d)
		if err != nil {
			return src, err
		}
		if _, ok := volumes[strings.ToLower(v)]; ok {
			continue
		}
		id, err := r.addVolume(v)
		if err != nil {
			return src, err
		}
		volumes[strings.ToLower(v)] = id
		order = append(order, v)
	}
	if err := r.async("PrepareForBackup", bcPrepareForBackup); err != nil {
		return src, s.withWriter(err)
	}
	if err := r.checkWriter("PrepareForBackup", &s.w); err != nil {
		return src, err
	}
	if err := r.async("DoSnapshotSet", bcDoSnapshotSet); err != nil {
		return src, s.withWriter(err)
	}
	s.haveSet = true
	if err := r.checkWriter("DoSnapshotSet", &s.w); err != nil {
		return src, err
	}
	devices := map[string]string{}
	for _, v := range order {
		dev, ts, err := r.snapshotDevice(volumes[strings.ToLower(v)])
		if err != nil {
			return src, err
		}
		devices[strings.ToLower(v)] = dev
		if ts != 0 {
			ft := windows.Filetime{LowDateTime: uint32(ts), HighDateTime: uint32(ts >> 32)}
			s.info.ShadowCopyAt = time.Unix(0, ft.Nanoseconds()).UTC()
		}
	}
	shadow := func(p string) string {
		v, _ := volumeOf(p)
		return shadowPath(devices[strings.ToLower(v)], v, p)
	}
	return s.shadowSource(shadow)
}

// withWriter adds the writer's status to a failed phase when it has a
// failure of its own to tell.
func (s *backup) withWriter(err error) error {
	var ve *Error
	if !errors.As(err, &ve) {
		return err
	}
	if werr := s.r.checkWriter(ve.Op, &s.w); werr != nil {
		var wv *Error
		if errors.As(werr, &wv) && wv.Writer != "" {
			return wv
		}
	}
	ve.Writer = s.w.name
	return ve
}

// shadowSource is the ESE source of the component in the shadow copy: the
// log directory is the path of the component's first log file
// specification (the checkpoint is there too, as for NTDS and Exchange),
// the databases its database files.
func (s *backup) shadowSource(shadow func(string) string) (protocol.Source, error) {
	if len(s.c.logs) == 0 && len(s.c.databases) == 0 {
		return protocol.Source{}, &Error{Code: VSS_E_OBJECT_NOT_FOUND, Op: "Begin", Writer: s.w.name, File: s.c.fullName(),
			Err: errors.New("the component lists no database and no log files: it is not an ESE instance")}
	}
	var dbs []string
	for _, fd := range s.c.databases {
		matches, err := filepath.Glob(filepath.Join(shadow(fd.path), fd.spec))
		if err != nil || len(matches) == 0 {
			return protocol.Source{}, &ese.Error{Code: ese.ErrFileNotFound, Op: "Begin", File: filepath.Join(fd.path, fd.spec),
				Err: fmt.Errorf("the database file of component %s is not in the shadow copy", s.c.fullName())}
		}
		dbs = append(dbs, matches...)
	}
	logDir := ""
	for _, fd := range s.c.logs {
		if !slices.ContainsFunc(s.logDirs, func(d string) bool { return strings.EqualFold(d, fd.path) }) {
			s.logDirs = append(s.logDirs, fd.path)
		}
		if logDir == "" {
			logDir = shadow(fd.path)
		}
	}
	if logDir == "" {
		logDir = filepath.Dir(dbs[0])
	}
	opts := map[string]string{driver.OptLogDir: logDir, driver.OptSystemDir: logDir}
	if len(dbs) > 0 {
		opts[driver.OptDatabase] = protocol.JoinList(dbs)
	}
	return protocol.Source{Location: logDir, Options: opts}, nil
}

// pick finds the writer and component the source names: by the writer
// and component options, or the component whose database or log files lie
// in the location.
func pick(writers []writer, src protocol.Source) (*writer, *component, error) {
	const op = "Begin"
	wantW, wantC := src.Options[OptWriter], src.Options[OptComponent]
	loc := strings.ToLower(filepath.Clean(src.Location))
	type match struct {
		w *writer
		c *component
	}
	var found []match
	var known []string
	for i := range writers {
		w := &writers[i]
		known = append(known, w.name)
		if wantW != "" && !strings.EqualFold(wantW, w.name) && !strings.EqualFold(strings.Trim(wantW, "{}"), strings.Trim(w.class.String(), "{}")) {
			continue
		}
		for j := range w.components {
			c := &w.components[j]
			if wantC != "" && !strings.EqualFold(wantC, c.name) && !strings.EqualFold(wantC, c.fullName()) {
				continue
			}
			if wantC == "" && src.Location != "" && !c.holds(loc) {
				continue
			}
			found = append(found, match{w, c})
		}
	}
	switch {
	case len(found) == 1:
		return found[0].w, found[0].c, nil
	case len(found) == 0:
		return nil, nil, &Error{Code: VSS_E_OBJECT_NOT_FOUND, Op: op, File: src.Location,
			Err: fmt.Errorf("no writer component matches (writer %q, component %q, location %q); the writers are: %s", wantW, wantC, src.Location, strings.Join(known, ", "))}
	}
	var names []string
	for _, m := range found {
		names = append(names, fmt.Sprintf("%s: %s", m.w.name, m.c.fullName()))
	}
	return nil, nil, &ese.Error{Code: ese.ErrInvalidParameter, Op: op, File: src.Location,
		Err: fmt.Errorf("several writer components match; name one with --option writer=... --option component=...: %s", strings.Join(names, "; "))}
}

// holds reports whether a database or log file specification of the
// component lies in dir (lower case, clean).
func (c *component) holds(dir string) bool {
	for _, fd := range slices.Concat(c.databases, c.logs) {
		p := strings.ToLower(filepath.Clean(fd.path))
		if p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, `\`)+`\`) {
			return true
		}
	}
	return false
}

// volumeOf is the volume mount point of a path, such as `C:\`.
func volumeOf(path string) (string, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return "", &Error{Code: E_INVALIDARG, Op: "GetVolumePathName", File: path, Err: err}
	}
	buf := make([]uint16, windows.MAX_LONG_PATH)
	if err := windows.GetVolumePathName(p, &buf[0], uint32(len(buf))); err != nil {
		return "", &Error{Code: hresultOf(err), Op: "GetVolumePathName", File: path, Err: err}
	}
	return windows.UTF16ToString(buf), nil
}

// shadowPath maps a path on volume (a mount point ending in `\`) to the
// same path in the shadow copy's device, such as
// `\\?\GLOBALROOT\Device\HarddiskVolumeShadowCopy3\Windows\NTDS`. Plain
// concatenation: filepath.Join would clean the device prefix.
func shadowPath(device, volume, path string) string {
	rel := path
	if len(path) >= len(volume) && strings.EqualFold(path[:len(volume)], volume) {
		rel = path[len(volume):]
	}
	return strings.TrimSuffix(device, `\`) + `\` + strings.TrimPrefix(rel, `\`)
}

// Files lists the next batch (the ESE driver's, from the shadow copy).
func (b *Backend) Files(ctx context.Context, id string) ([]protocol.File, error) {
	return b.drv.Files(ctx, id)
}

// Read streams one file from the shadow copy, every page verified.
func (b *Backend) Read(ctx context.Context, id, file string, chunkBytes int, w protocol.ChunkWriter) error {
	return b.drv.Read(ctx, id, file, chunkBytes, w)
}

// Keepalive resets the session's idle watchdog.
func (b *Backend) Keepalive(ctx context.Context, id string) error { return b.drv.Keepalive(ctx, id) }

// Restore stages an ESE set, as the ESE plugin does.
func (b *Backend) Restore(ctx context.Context, req protocol.RestoreRequest) (protocol.RestoreResult, error) {
	return b.drv.Restore(ctx, req)
}

// End ends the ESE session, then the VSS backup: with OutcomeSucceeded
// and the ESE session ended normally (every file read, the log chain
// whole), SetBackupSucceeded for the component and BackupComplete, upon
// which the writer records the backup and, after a full or incremental
// one, truncates its logs; on every other path AbortBackup. The snapshot
// set is deleted either way. A repeated End returns the first one's
// result.
//
// VSS writers record a full or incremental backup and truncate their logs
// together, so a full or incremental End without TruncateLogs reports the
// component as not backed up (SetBackupSucceeded false): the writer then
// records nothing and truncates nothing, and End says so.
func (b *Backend) End(ctx context.Context, id string, req protocol.EndRequest) (protocol.EndResult, error) {
	b.mu.Lock()
	s := b.sessions[id]
	delete(b.sessions, id)
	prev, again := b.ended[id]
	b.mu.Unlock()
	if again {
		return prev.res, prev.err
	}
	res, err := b.drv.End(ctx, id, protocol.EndRequest{Outcome: req.Outcome})
	if s == nil {
		return res, err
	}
	if req.Outcome != protocol.OutcomeSucceeded || err != nil {
		// The driver answers a repeated End of an aborted session.
		s.abort("the backup did not succeed")
		return res, err
	}
	res, err = b.end(s, req, res)
	b.mu.Lock()
	b.ended[id] = endResult{res, err}
	b.mu.Unlock()
	time.AfterFunc(time.Hour, func() {
		b.mu.Lock()
		delete(b.ended, id)
		b.mu.Unlock()
	})
	return res, err
}

// end completes the VSS backup once the ESE session ended succeeded with
// res.
func (b *Backend) end(s *backup, req protocol.EndRequest, res protocol.EndResult) (protocol.EndResult, error) {
	// The engine reads the shadow copy and never records; the writer does.
	res.Warnings = slices.DeleteFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "the instance is read-only") })
	record := !s.kind.TruncatesLogs() || req.TruncateLogs
	before := s.logFiles()
	var endErr error
	s.ap.do(func() { endErr = s.complete(record) })
	after := s.logFiles()
	for _, f := range before {
		if !slices.Contains(after, f) {
			res.Truncated = append(res.Truncated, f)
		}
	}
	res.Metadata = append(res.Metadata, s.info.Metadata())
	if endErr != nil {
		res.Warnings = append(res.Warnings, "the writer did not confirm the backup: "+endErr.Error())
		return res, endErr
	}
	if !record {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the writer was told the %s backup did not succeed, so it records nothing and truncates no log: VSS writers record a full or incremental backup and truncate together (pass --truncate-logs to let it, or take a copy backup)", s.kind))
	} else {
		res.Recorded = fmt.Sprintf("by writer %q at BackupComplete: %s backup of component %s", s.w.name, s.info.BackupType, s.c.fullName())
	}
	b.log.Info("VSS backup complete", "writer", s.w.name, "recorded", record, "truncated", len(res.Truncated))
	return res, nil
}

// complete runs on the apartment: SetBackupSucceeded (succeeded or not),
// BackupComplete, the writer's status, the snapshot set deleted.
func (s *backup) complete(succeeded bool) error {
	defer s.release()
	if err := s.r.setBackupSucceeded(&s.w, &s.c, succeeded); err != nil {
		return err
	}
	if err := s.r.async("BackupComplete", bcBackupComplete); err != nil {
		return s.withWriter(err)
	}
	return s.r.checkWriter("BackupComplete", &s.w)
}

// abort ends the VSS backup aborted: AbortBackup, the snapshot set
// deleted, the requester released.
func (s *backup) abort(reason string) {
	if s.done {
		return
	}
	s.ap.do(func() {
		if s.r != nil {
			if err := s.r.check("AbortBackup", s.r.bc.call(bcAbortBackup)); err != nil {
				s.log.Warn("AbortBackup failed", "error", err)
			}
		}
		s.release()
	})
	s.log.Warn("VSS backup aborted", "writer", s.w.name, "reason", reason)
}

// release deletes the snapshot set, releases the requester and ends the
// apartment; it runs on the apartment, once.
func (s *backup) release() {
	if s.done {
		return
	}
	s.done = true
	if s.r != nil {
		if s.haveSet {
			if err := s.r.deleteSet(s.set); err != nil {
				s.log.Warn("deleting the snapshot set failed", "error", err)
			}
		}
		s.r.bc.release()
	}
	go s.ap.close() // the apartment's loop ends after this call returns
}

// logFiles lists the log files in the component's live log directories,
// to report what the writer truncated.
func (s *backup) logFiles() []string {
	var out []string
	for _, d := range s.logDirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if strings.EqualFold(filepath.Ext(e.Name()), ".log") {
				out = append(out, filepath.Join(d, e.Name()))
			}
		}
	}
	return out
}

// backupType is the VSS_BACKUP_TYPE of a kind.
func backupType(k protocol.Kind) (int32, string) {
	switch k {
	case protocol.KindFull:
		return 1, "VSS_BT_FULL"
	case protocol.KindIncremental:
		return 2, "VSS_BT_INCREMENTAL"
	case protocol.KindDifferential:
		return 3, "VSS_BT_DIFFERENTIAL"
	}
	return 5, "VSS_BT_COPY"
}
