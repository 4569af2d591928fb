//go:build windows && cgo

// Command testdll is a TEST DOUBLE of ESENT.DLL, never shipped: built with
// -buildmode=c-shared and mingw-w64, it exports the ESENT functions that
// ese/esent calls, with the same names and signatures, implemented by the
// pure-Go engine (ese/engine). Under Wine it stands in for esent.dll so
// that the Windows build of the plugin runs its real syscall path.
package main

import "C"

import (
	"sync"
	"unsafe"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/engine"
	"golang.org/x/sys/windows"
)

func main() {}

var (
	mu      sync.Mutex
	rt      = engine.NewRuntime()
	configs = map[uintptr]*engine.Config{}
	insts   = map[uintptr]*engine.Instance{}
	next    uintptr
)

// code turns an engine error into its JET_ERR.
func code(err error) int32 {
	if err == nil {
		return 0
	}
	if c, ok := ese.CodeOf(err); ok {
		return int32(c)
	}
	return int32(ese.ErrInternalError)
}

func instance(h uintptr) (*engine.Instance, int32) {
	mu.Lock()
	defer mu.Unlock()
	in := insts[h]
	if in == nil {
		return nil, int32(ese.ErrInvalidInstance)
	}
	return in, 0
}

func str(p *uint16) string {
	if p == nil {
		return ""
	}
	return windows.UTF16PtrToString(p)
}

//export JetCreateInstance2W
func JetCreateInstance2W(pinstance *uintptr, name *uint16, displayName *uint16, grbit uint32) int32 {
	mu.Lock()
	defer mu.Unlock()
	next++
	configs[next] = &engine.Config{Name: str(name), Writable: true}
	*pinstance = next
	return 0
}

//export JetSetSystemParameterW
func JetSetSystemParameterW(pinstance *uintptr, sesid uintptr, paramid uint32, lparam uintptr, sz *uint16) int32 {
	mu.Lock()
	defer mu.Unlock()
	cfg := configs[*pinstance]
	if cfg == nil {
		return int32(ese.ErrAlreadyInitialized)
	}
	switch paramid {
	case 0:
		cfg.SystemDir = str(sz)
	case 2:
		cfg.LogDir = str(sz)
	case 3:
		cfg.BaseName = str(sz)
	}
	return 0
}

//export JetInit3W
func JetInit3W(pinstance *uintptr, rstInfo uintptr, grbit uint32) int32 {
	mu.Lock()
	cfg := configs[*pinstance]
	mu.Unlock()
	if cfg == nil {
		return int32(ese.ErrInvalidInstance)
	}
	in, err := rt.NewInstance(*cfg)
	if err != nil {
		return code(err)
	}
	if err := in.Init(); err != nil {
		return code(err)
	}
	mu.Lock()
	insts[*pinstance] = in
	delete(configs, *pinstance)
	mu.Unlock()
	return 0
}

// sessions maps a JET_SESID to its instance.
var sessions = map[uintptr]uintptr{}

//export JetBeginSessionW
func JetBeginSessionW(h uintptr, psesid *uintptr, user, password *uint16) int32 {
	if in, jerr := instance(h); in == nil {
		return jerr
	}
	mu.Lock()
	defer mu.Unlock()
	next++
	sessions[next] = h
	*psesid = next
	return 0
}

//export JetEndSession
func JetEndSession(sesid uintptr, grbit uint32) int32 {
	mu.Lock()
	defer mu.Unlock()
	if _, ok := sessions[sesid]; !ok {
		return int32(ese.ErrInvalidSesid)
	}
	delete(sessions, sesid)
	return 0
}

//export JetAttachDatabase2W
func JetAttachDatabase2W(sesid uintptr, name *uint16, cpgMax uint32, grbit uint32) int32 {
	mu.Lock()
	h, ok := sessions[sesid]
	mu.Unlock()
	if !ok {
		return int32(ese.ErrInvalidSesid)
	}
	in, jerr := instance(h)
	if in == nil {
		return jerr
	}
	wrn, err := in.AttachDatabase(str(name))
	if err != nil {
		return code(err)
	}
	return int32(wrn)
}

//export JetTerm2
func JetTerm2(h uintptr, grbit uint32) int32 {
	in, jerr := instance(h)
	if in == nil {
		return jerr
	}
	err := in.Term(ese.Grbit(grbit))
	mu.Lock()
	delete(insts, h)
	mu.Unlock()
	return code(err)
}

//export JetBeginExternalBackupInstance
func JetBeginExternalBackupInstance(h uintptr, grbit uint32) int32 {
	in, jerr := instance(h)
	if in == nil {
		return jerr
	}
	return code(in.BeginExternalBackup(ese.Grbit(grbit)))
}

// putMultiString writes names as a W multi-string: *pcb is the full size;
// a NULL buffer only asks for it; a short buffer is filled and truncated,
// as the W variants do.
func putMultiString(names []string, szz *uint16, cbMax uint32, pcb *uint32) {
	var all []uint16
	for _, n := range names {
		all = append(all, windows.StringToUTF16(n)...)
	}
	all = append(all, 0)
	full := uint32(len(all) * 2)
	if szz == nil {
		if pcb != nil {
			*pcb = full
		}
		return
	}
	dst := unsafe.Slice(szz, cbMax/2)
	n := copy(dst, all)
	if pcb != nil {
		*pcb = uint32(n * 2)
	}
}

//export JetGetAttachInfoInstanceW
func JetGetAttachInfoInstanceW(h uintptr, szz *uint16, cbMax uint32, pcb *uint32) int32 {
	in, jerr := instance(h)
	if in == nil {
		return jerr
	}
	names, err := in.GetAttachInfo()
	if err != nil {
		return code(err)
	}
	putMultiString(names, szz, cbMax, pcb)
	return 0
}

//export JetOpenFileInstanceW
func JetOpenFileInstanceW(h uintptr, name *uint16, phf *uintptr, lo *uint32, hi *uint32) int32 {
	in, jerr := instance(h)
	if in == nil {
		return jerr
	}
	hf, size, err := in.OpenFile(str(name))
	if err != nil {
		return code(err)
	}
	*phf, *lo, *hi = uintptr(hf), uint32(size), uint32(size>>32)
	return 0
}

//export JetReadFileInstance
func JetReadFileInstance(h uintptr, hf uintptr, pv *byte, cb uint32, pcb *uint32) int32 {
	in, jerr := instance(h)
	if in == nil {
		return jerr
	}
	var buf []byte
	if pv != nil && cb > 0 {
		buf = unsafe.Slice(pv, cb)
	}
	n, err := in.ReadFile(ese.Handle(hf), buf)
	if pcb != nil {
		*pcb = uint32(n)
	}
	return code(err)
}

//export JetCloseFileInstance
func JetCloseFileInstance(h uintptr, hf uintptr) int32 {
	in, jerr := instance(h)
	if in == nil {
		return jerr
	}
	return code(in.CloseFile(ese.Handle(hf)))
}

// logInfoW is JET_LOGINFO_W.
type logInfoW struct {
	CbSize   uint32
	GenLow   uint32
	GenHigh  uint32
	BaseName [4]uint16
}

//export JetGetLogInfoInstance2W
func JetGetLogInfoInstance2W(h uintptr, szz *uint16, cbMax uint32, pcb *uint32, pinfo unsafe.Pointer) int32 {
	info := (*logInfoW)(pinfo)
	in, jerr := instance(h)
	if in == nil {
		return jerr
	}
	names, li, err := in.GetLogInfo()
	if err != nil {
		return code(err)
	}
	putMultiString(names, szz, cbMax, pcb)
	if info != nil {
		info.GenLow, info.GenHigh = li.GenLow, li.GenHigh
		info.BaseName = [4]uint16{}
		copy(info.BaseName[:3], windows.StringToUTF16(li.BaseName))
	}
	return 0
}

//export JetGetTruncateLogInfoInstanceW
func JetGetTruncateLogInfoInstanceW(h uintptr, szz *uint16, cbMax uint32, pcb *uint32) int32 {
	in, jerr := instance(h)
	if in == nil {
		return jerr
	}
	names, err := in.GetTruncateLogInfo()
	if err != nil {
		return code(err)
	}
	putMultiString(names, szz, cbMax, pcb)
	return 0
}

//export JetTruncateLogInstance
func JetTruncateLogInstance(h uintptr) int32 {
	in, jerr := instance(h)
	if in == nil {
		return jerr
	}
	return code(in.TruncateLog())
}

//export JetEndExternalBackupInstance2
func JetEndExternalBackupInstance2(h uintptr, grbit uint32) int32 {
	in, jerr := instance(h)
	if in == nil {
		return jerr
	}
	return code(in.EndExternalBackup(ese.Grbit(grbit)))
}

//export JetStopBackupInstance
func JetStopBackupInstance(h uintptr) int32 {
	in, jerr := instance(h)
	if in == nil {
		return jerr
	}
	return code(in.StopBackup())
}

// rstMapW is JET_RSTMAP_W.
type rstMapW struct {
	DatabaseName    *uint16
	NewDatabaseName *uint16
}

//export JetExternalRestore2W
func JetExternalRestore2W(ckpt, logPath *uint16, prstmap unsafe.Pointer, crstmap int32, backupLogPath *uint16, pinfo unsafe.Pointer, target, targetLog, targetCkpt *uint16, status uintptr) int32 {
	rstmap, info := (*rstMapW)(prstmap), (*logInfoW)(pinfo)
	if info == nil || crstmap < 0 || (rstmap == nil) != (crstmap == 0) {
		return int32(ese.ErrInvalidParameter)
	}
	req := ese.RestoreRequest{
		CheckpointDir: str(ckpt),
		LogDir:        str(logPath),
		BackupLogDir:  str(backupLogPath),
		LogInfo:       ese.LogInfo{GenLow: info.GenLow, GenHigh: info.GenHigh, BaseName: windows.UTF16ToString(info.BaseName[:])},
	}
	if crstmap > 0 {
		for _, m := range unsafe.Slice(rstmap, crstmap) {
			req.Map = append(req.Map, ese.RstMap{DatabaseName: str(m.DatabaseName), NewDatabaseName: str(m.NewDatabaseName)})
		}
	}
	return code(engine.ExternalRestore(req, nil))
}
