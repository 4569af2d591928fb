//go:build windows

package esent

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/esesnap/esesnap/ese"
	"golang.org/x/sys/windows"
)

// JET_param ids used to configure an instance.
const (
	paramSystemPath  = 0
	paramLogFilePath = 2
	paramBaseName    = 3
)

// Config describes the instance to open, as ESE's parameters do.
type Config struct {
	Name      string   // JET_paramInstanceName / display name
	LogDir    string   // JET_paramLogFilePath
	SystemDir string   // JET_paramSystemPath (checkpoint); defaults to LogDir
	BaseName  string   // JET_paramBaseName; empty keeps ESENT's default ("edb")
	Databases []string // attached after JetInit with JetAttachDatabase2W
	// Writable must be true: ESENT.DLL changes every instance it opens
	// (ErrNeedsWritable), so Open refuses a read-only one.
	Writable bool
	// Warn receives every JET_wrn a call returns (the call itself
	// succeeds); nil drops them.
	Warn func(*ese.Error)
}

// Instance is a JET_INSTANCE of ESENT.DLL with the session it attached its
// databases in; it implements ese.BackupAPI.
type Instance struct {
	h     uintptr
	sesid uintptr
	warn  func(*ese.Error)
}

var _ ese.BackupAPI = (*Instance)(nil)

// check turns a JET_ERR into an *ese.Error; warnings are not errors.
func check(op, file string, jerr int32) error {
	if jerr >= 0 {
		return nil
	}
	return &ese.Error{Code: ese.Code(jerr), Op: op, File: file}
}

// check is the package check that also reports warnings.
func (in *Instance) check(op, file string, jerr int32) error {
	if jerr > 0 && in.warn != nil {
		in.warn(&ese.Error{Code: ese.Code(jerr), Op: op, File: file})
	}
	return check(op, file, jerr)
}

func utf16(op, s string) (*uint16, error) {
	p, err := windows.UTF16PtrFromString(s)
	if err != nil {
		return nil, &ese.Error{Code: ese.ErrInvalidParameter, Op: op, File: s, Err: err}
	}
	return p, nil
}

// Open is JetCreateInstance2W, JetSetSystemParameterW for the paths and
// base name, JetInit3W (ESE recovers the instance if it needs it), then a
// session (JetBeginSessionW) that attaches every configured database
// (JetAttachDatabase2W). Close ends both. Without cfg.Writable it refuses
// (RequireWritable) before calling ESENT.DLL.
func Open(cfg Config) (*Instance, error) {
	if err := RequireWritable(cfg.Writable, cfg.LogDir); err != nil {
		return nil, err
	}
	if cfg.SystemDir == "" {
		cfg.SystemDir = cfg.LogDir
	}
	name, err := utf16("JetCreateInstance2W", cfg.Name)
	if err != nil {
		return nil, err
	}
	in := &Instance{warn: cfg.Warn}
	if err := in.check("JetCreateInstance2W", "", jetCreateInstance2(&in.h, name, name, 0)); err != nil {
		return nil, err
	}
	fail := func(err error) (*Instance, error) {
		if in.sesid != 0 {
			jetEndSession(in.sesid, 0)
		}
		jetTerm2(in.h, uint32(ese.TermAbrupt))
		return nil, err
	}
	for _, p := range []struct {
		id uint32
		v  string
	}{{paramLogFilePath, withSlash(cfg.LogDir)}, {paramSystemPath, withSlash(cfg.SystemDir)}, {paramBaseName, cfg.BaseName}} {
		if p.v == "" {
			continue
		}
		v, err := utf16("JetSetSystemParameterW", p.v)
		if err != nil {
			return fail(err)
		}
		if err := in.check("JetSetSystemParameterW", p.v, jetSetSystemParameter(&in.h, 0, p.id, 0, v)); err != nil {
			return fail(err)
		}
	}
	if err := in.check("JetInit3W", cfg.LogDir, jetInit3(&in.h, 0, 0)); err != nil {
		return fail(err)
	}
	empty, _ := windows.UTF16PtrFromString("")
	if err := in.check("JetBeginSessionW", "", jetBeginSession(in.h, &in.sesid, empty, empty)); err != nil {
		return fail(err)
	}
	for _, db := range cfg.Databases {
		p, err := utf16("JetAttachDatabase2W", db)
		if err != nil {
			return fail(err)
		}
		if err := in.check("JetAttachDatabase2W", db, jetAttachDatabase2(in.sesid, p, 0, 0)); err != nil {
			return fail(err)
		}
	}
	return in, nil
}

// withSlash ends a directory with a separator, as ESE's path parameters want.
func withSlash(dir string) string {
	if dir == "" || dir[len(dir)-1] == '\\' || dir[len(dir)-1] == '/' {
		return dir
	}
	return dir + `\`
}

// Close ends the session (JetEndSession) and the instance (JetTerm2 with
// grbit: ese.TermComplete or ese.TermAbrupt).
func (in *Instance) Close(grbit ese.Grbit) error {
	if in.sesid != 0 {
		in.check("JetEndSession", "", jetEndSession(in.sesid, 0))
		in.sesid = 0
	}
	return in.check("JetTerm2", "", jetTerm2(in.h, uint32(grbit)))
}

func (in *Instance) BeginExternalBackup(grbit ese.Grbit) error {
	return in.check("JetBeginExternalBackupInstance", "", jetBeginExternalBackupInstance(in.h, uint32(grbit)))
}

// multiString reads a list the W way: size with a NULL buffer first (the W
// variants truncate silently), then the data.
func multiString(op string, call func(buf *uint16, cb uint32, cbActual *uint32) int32) ([]string, error) {
	var cb uint32
	if err := check(op, "", call(nil, 0, &cb)); err != nil {
		return nil, err
	}
	if cb < 2 {
		return nil, nil
	}
	buf := make([]uint16, cb/2)
	if err := check(op, "", call(&buf[0], cb, &cb)); err != nil {
		return nil, err
	}
	return parseMultiString(buf[:min(int(cb/2), len(buf))]), nil
}

// parseMultiString splits NUL-terminated strings until an empty one.
func parseMultiString(b []uint16) []string {
	var out []string
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != 0 {
			i++
		}
		if i == 0 {
			break
		}
		out = append(out, windows.UTF16ToString(b[:i]))
		if i == len(b) {
			break
		}
		b = b[i+1:]
	}
	return out
}

func (in *Instance) GetAttachInfo() ([]string, error) {
	return multiString("JetGetAttachInfoInstanceW", func(buf *uint16, cb uint32, cbActual *uint32) int32 {
		return jetGetAttachInfoInstance(in.h, buf, cb, cbActual)
	})
}

func (in *Instance) OpenFile(name string) (ese.Handle, int64, error) {
	p, err := utf16("JetOpenFileInstanceW", name)
	if err != nil {
		return 0, 0, err
	}
	var h uintptr
	var lo, hi uint32
	if err := in.check("JetOpenFileInstanceW", name, jetOpenFileInstance(in.h, p, &h, &lo, &hi)); err != nil {
		return 0, 0, err
	}
	return ese.Handle(h), int64(hi)<<32 | int64(lo), nil
}

// ReadFile passes buf as it is: ESE checks its 4 KiB alignment and page
// multiple (ese.AlignedBuffer makes such buffers).
func (in *Instance) ReadFile(h ese.Handle, buf []byte) (int, error) {
	var p *byte
	if len(buf) > 0 {
		p = &buf[0]
	}
	var n uint32
	err := in.check("JetReadFileInstance", "", jetReadFileInstance(in.h, uintptr(h), p, uint32(len(buf)), &n))
	runtime.KeepAlive(buf)
	return int(n), err
}

func (in *Instance) CloseFile(h ese.Handle) error {
	return in.check("JetCloseFileInstance", "", jetCloseFileInstance(in.h, uintptr(h)))
}

func (in *Instance) GetLogInfo() ([]string, ese.LogInfo, error) {
	li := logInfoW{CbSize: uint32(unsafe.Sizeof(logInfoW{}))}
	names, err := multiString("JetGetLogInfoInstance2W", func(buf *uint16, cb uint32, cbActual *uint32) int32 {
		return jetGetLogInfoInstance2(in.h, buf, cb, cbActual, &li)
	})
	if err != nil {
		return nil, ese.LogInfo{}, err
	}
	return names, ese.LogInfo{GenLow: li.GenLow, GenHigh: li.GenHigh, BaseName: windows.UTF16ToString(li.BaseName[:])}, nil
}

func (in *Instance) GetTruncateLogInfo() ([]string, error) {
	return multiString("JetGetTruncateLogInfoInstanceW", func(buf *uint16, cb uint32, cbActual *uint32) int32 {
		return jetGetTruncateLogInfoInstance(in.h, buf, cb, cbActual)
	})
}

func (in *Instance) TruncateLog() error {
	return in.check("JetTruncateLogInstance", "", jetTruncateLogInstance(in.h))
}

func (in *Instance) EndExternalBackup(grbit ese.Grbit) error {
	return in.check("JetEndExternalBackupInstance2", "", jetEndExternalBackupInstance2(in.h, uint32(grbit)))
}

func (in *Instance) StopBackup() error {
	return in.check("JetStopBackupInstance", "", jetStopBackupInstance(in.h))
}

// ExternalRestore is JetExternalRestore2W without a target instance; ESE
// replays genLow..genHigh into the mapped databases. Progress callbacks are
// not wired (req.Progress is not called).
func (in *Instance) ExternalRestore(req ese.RestoreRequest) error {
	return externalRestore(req, in.warn)
}

// ExternalRestore is JetExternalRestore2W, which needs no instance: ESE
// creates a temporary one. warn receives JET_wrn results (nil drops them).
func ExternalRestore(req ese.RestoreRequest, warn func(*ese.Error)) error {
	return externalRestore(req, warn)
}

func externalRestore(req ese.RestoreRequest, warn func(*ese.Error)) error {
	in := &Instance{warn: warn}
	const op = "JetExternalRestore2W"
	if len(req.LogInfo.BaseName) != ese.BaseNameLength {
		return &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: fmt.Errorf("base name %q", req.LogInfo.BaseName)}
	}
	ckpt, err := utf16(op, req.CheckpointDir)
	if err != nil {
		return err
	}
	logs, err := utf16(op, req.LogDir)
	if err != nil {
		return err
	}
	backup, err := utf16(op, req.BackupLogDir)
	if err != nil {
		return err
	}
	maps := make([]rstMapW, len(req.Map))
	for i, m := range req.Map {
		if maps[i].DatabaseName, err = utf16(op, m.DatabaseName); err != nil {
			return err
		}
		if maps[i].NewDatabaseName, err = utf16(op, m.NewDatabaseName); err != nil {
			return err
		}
	}
	li := logInfoW{CbSize: uint32(unsafe.Sizeof(logInfoW{})), GenLow: req.LogInfo.GenLow, GenHigh: req.LogInfo.GenHigh}
	copy(li.BaseName[:3], windows.StringToUTF16(req.LogInfo.BaseName))
	var first *rstMapW
	if len(maps) > 0 {
		first = &maps[0]
	}
	jerr := jetExternalRestore2(ckpt, logs, first, int32(len(maps)), backup, &li, nil, nil, nil, 0)
	runtime.KeepAlive(maps)
	return in.check(op, req.BackupLogDir, jerr)
}
