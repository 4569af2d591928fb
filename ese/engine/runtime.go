package engine

import (
	"sync"

	"github.com/esesnap/esesnap/ese"
)

// mode is the process-wide instance mode of ESE: unset until the first
// JetInit or JetCreateInstance, then single-instance (legacy JetInit without
// an instance) or multi-instance, for the life of the process.
type mode int

const (
	modeUnset mode = iota
	modeSingle
	modeMulti
)

// Runtime is one process's view of ESE: its instance mode and its
// instances. ESE keeps this state in globals; the engine keeps it in a value
// so that tests can have many independent processes.
type Runtime struct {
	mu     sync.Mutex
	mode   mode
	single *Instance
}

// NewRuntime returns a runtime in which no instance mode is set yet.
func NewRuntime() *Runtime { return &Runtime{} }

// NewInstance is JetCreateInstance: it switches the runtime to multi-instance
// mode and returns an instance that still needs Init. It fails with
// JET_errRunningInOneInstanceMode after a legacy InitSingle.
func (rt *Runtime) NewInstance(cfg Config) (*Instance, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.mode == modeSingle {
		return nil, &ese.Error{Code: ese.ErrRunningInOneInstanceMode, Op: "JetCreateInstance"}
	}
	rt.mode = modeMulti
	return newInstance(rt, cfg), nil
}

// InitSingle is the legacy JetInit(NULL): it puts the runtime in
// single-instance mode and initialises the one global instance. It fails
// with JET_errRunningInMultiInstanceMode once instances exist.
func (rt *Runtime) InitSingle(cfg Config) (*Instance, error) {
	rt.mu.Lock()
	if rt.mode == modeMulti {
		rt.mu.Unlock()
		return nil, &ese.Error{Code: ese.ErrRunningInMultiInstanceMode, Op: "JetInit"}
	}
	rt.mode = modeSingle
	in := newInstance(rt, cfg)
	rt.single = in
	rt.mu.Unlock()
	if err := in.Init(); err != nil {
		return nil, err
	}
	return in, nil
}

// switchToMulti is what JetExternalRestore does to the process: from then on
// the legacy single-instance calls are refused.
func (rt *Runtime) switchToMulti(op string) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.mode == modeSingle {
		return &ese.Error{Code: ese.ErrRunningInOneInstanceMode, Op: op}
	}
	rt.mode = modeMulti
	return nil
}

// Legacy returns the backup calls without an instance argument
// (JetBeginExternalBackup, JetOpenFile, ...). They forward to the single
// global instance, fail with JET_errInvalidParameter before any mode is set,
// and with JET_errRunningInMultiInstanceMode once instances exist.
func (rt *Runtime) Legacy() ese.BackupAPI { return legacyAPI{rt} }

type legacyAPI struct{ rt *Runtime }

func (l legacyAPI) instance(op string) (*Instance, error) {
	l.rt.mu.Lock()
	defer l.rt.mu.Unlock()
	switch l.rt.mode {
	case modeUnset:
		return nil, &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: errNoMode}
	case modeMulti:
		return nil, &ese.Error{Code: ese.ErrRunningInMultiInstanceMode, Op: op}
	}
	return l.rt.single, nil
}

func (l legacyAPI) BeginExternalBackup(grbit ese.Grbit) error {
	in, err := l.instance("JetBeginExternalBackup")
	if err != nil {
		return err
	}
	return in.BeginExternalBackup(grbit)
}

func (l legacyAPI) GetAttachInfo() ([]string, error) {
	in, err := l.instance("JetGetAttachInfo")
	if err != nil {
		return nil, err
	}
	return in.GetAttachInfo()
}

func (l legacyAPI) OpenFile(name string) (ese.Handle, int64, error) {
	in, err := l.instance("JetOpenFile")
	if err != nil {
		return 0, 0, err
	}
	return in.OpenFile(name)
}

func (l legacyAPI) ReadFile(h ese.Handle, buf []byte) (int, error) {
	in, err := l.instance("JetReadFile")
	if err != nil {
		return 0, err
	}
	return in.ReadFile(h, buf)
}

func (l legacyAPI) CloseFile(h ese.Handle) error {
	in, err := l.instance("JetCloseFile")
	if err != nil {
		return err
	}
	return in.CloseFile(h)
}

func (l legacyAPI) GetLogInfo() ([]string, ese.LogInfo, error) {
	in, err := l.instance("JetGetLogInfo")
	if err != nil {
		return nil, ese.LogInfo{}, err
	}
	return in.GetLogInfo()
}

func (l legacyAPI) GetTruncateLogInfo() ([]string, error) {
	// ESE has no legacy form of this call; the instance form is the only one.
	in, err := l.instance("JetGetTruncateLogInfoInstance")
	if err != nil {
		return nil, err
	}
	return in.GetTruncateLogInfo()
}

func (l legacyAPI) TruncateLog() error {
	in, err := l.instance("JetTruncateLog")
	if err != nil {
		return err
	}
	return in.TruncateLog()
}

func (l legacyAPI) EndExternalBackup(grbit ese.Grbit) error {
	in, err := l.instance("JetEndExternalBackup")
	if err != nil {
		return err
	}
	return in.EndExternalBackup(grbit)
}

func (l legacyAPI) StopBackup() error {
	in, err := l.instance("JetStopBackup")
	if err != nil {
		return err
	}
	return in.StopBackup()
}

func (l legacyAPI) ExternalRestore(req ese.RestoreRequest) error {
	// JetExternalRestore takes no instance; in single-instance mode it is
	// refused like every multi-instance entry point.
	if err := l.rt.switchToMulti("JetExternalRestore"); err != nil {
		return err
	}
	return restore(OSFS{}, req, nil)
}
