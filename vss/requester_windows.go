//go:build windows

package vss

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
)

// apartment is one OS thread initialised for COM (multithreaded
// apartment): every VSS call of a session runs on it, so COM's per-thread
// state is never lost to the Go scheduler moving a goroutine.
type apartment struct {
	calls chan func()
}

func newApartment() (*apartment, error) {
	a := &apartment{calls: make(chan func())}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := windows.CoInitializeEx(0, windows.COINIT_MULTITHREADED); err != nil {
			errc <- &Error{Code: hresultOf(err), Op: "CoInitializeEx", Err: err}
			return
		}
		errc <- nil
		for f := range a.calls {
			f()
		}
		windows.CoUninitialize()
	}()
	if err := <-errc; err != nil {
		return nil, err
	}
	return a, nil
}

// do runs f on the apartment's thread and waits for it.
func (a *apartment) do(f func()) {
	done := make(chan struct{})
	a.calls <- func() { defer close(done); f() }
	<-done
}

func (a *apartment) close() { close(a.calls) }

func hresultOf(err error) HRESULT {
	var en windows.Errno
	if errors.As(err, &en) {
		return HRESULT(uint32(en))
	}
	return E_UNEXPECTED
}

// requester is an IVssBackupComponents of one backup; its methods run on
// the apartment's thread.
type requester struct {
	bc *comObject
}

// createRequester is CreateVssBackupComponents; a missing vssapi.dll or
// export is ERROR_MOD_NOT_FOUND or ERROR_PROC_NOT_FOUND as an HRESULT.
func createRequester() (*requester, error) {
	const op = "CreateVssBackupComponents"
	if err := procCreateVssBackupComponentsInternal.Find(); err != nil {
		code := HRESULT_FROM_WIN32_PROC_NOT_FOUND
		if modvssapi.Load() != nil {
			code = HRESULT_FROM_WIN32_MOD_NOT_FOUND
		}
		return nil, &Error{Code: code, Op: op, Err: err}
	}
	var bc *comObject
	if hr := createVssBackupComponents(&bc); hr.Failed() {
		return nil, &Error{Code: hr, Op: op}
	}
	return &requester{bc: bc}, nil
}

func (r *requester) check(op string, hr HRESULT) error {
	if hr.Failed() {
		return &Error{Code: hr, Op: op}
	}
	return nil
}

// wait waits for an IVssAsync and releases it; the operation's own result
// is the error.
func (r *requester) wait(op string, hr HRESULT, async *comObject) error {
	if hr.Failed() {
		return &Error{Code: hr, Op: op}
	}
	defer async.release()
	if hr := async.call(asWait, uintptr(windows.INFINITE)); hr.Failed() {
		return &Error{Code: hr, Op: op + " (IVssAsync::Wait)"}
	}
	var status HRESULT
	if hr := async.call(asQueryStatus, ptr(&status), 0); hr.Failed() {
		return &Error{Code: hr, Op: op + " (IVssAsync::QueryStatus)"}
	}
	if status.Failed() || status == VSS_S_ASYNC_CANCELLED {
		return &Error{Code: status, Op: op}
	}
	return nil
}

func (r *requester) async(op string, m int) error {
	var a *comObject
	hr := r.bc.call(m, ptr(&a))
	return r.wait(op, hr, a)
}

// writerStatus is one writer's entry of GetWriterStatus.
type writerStatus struct {
	instance, class windows.GUID
	name            string
	state           WriterState
	failure         HRESULT
}

// status gathers the writers' status (GatherWriterStatus, GetWriterStatus).
func (r *requester) status() ([]writerStatus, error) {
	if err := r.async("GatherWriterStatus", bcGatherWriterStatus); err != nil {
		return nil, err
	}
	defer r.bc.call(bcFreeWriterStatus)
	var n uint32
	if hr := r.bc.call(bcGetWriterStatusCount, ptr(&n)); hr.Failed() {
		return nil, &Error{Code: hr, Op: "GetWriterStatusCount"}
	}
	out := make([]writerStatus, 0, n)
	for i := range n {
		var w writerStatus
		var name *uint16
		hr := r.bc.call(bcGetWriterStatus, uintptr(i), ptr(&w.instance), ptr(&w.class), ptr(&name), ptr(&w.state), ptr(&w.failure))
		if hr.Failed() {
			return nil, &Error{Code: hr, Op: "GetWriterStatus"}
		}
		w.name = bstr(name)
		out = append(out, w)
	}
	return out, nil
}

// checkWriter fails when the writer instance is in a failed state or
// reports a failure after phase op; a writer missing from the status is a
// failure too (it left the backup).
func (r *requester) checkWriter(op string, w *writer) error {
	all, err := r.status()
	if err != nil {
		return err
	}
	for _, s := range all {
		if s.instance != w.instance {
			continue
		}
		if s.state.Failed() || s.failure.Failed() {
			code := s.failure
			if !code.Failed() {
				code = VSS_E_UNEXPECTED_WRITER_ERROR
			}
			return &Error{Code: code, Op: op, Writer: w.name, State: s.state, Failure: s.failure}
		}
		return nil
	}
	return &Error{Code: VSS_E_OBJECT_NOT_FOUND, Op: op, Writer: w.name, Err: errors.New("the writer no longer reports its status")}
}

// writer is a writer's identity from its metadata, with its components.
type writer struct {
	instance, class windows.GUID
	name            string
	components      []component
}

// component is one component of a writer's metadata with its files.
type component struct {
	typ         int32
	logicalPath string
	name        string
	databases   []fileDesc
	logs        []fileDesc
	files       []fileDesc
}

// fullName is the component as the component option names it.
func (c component) fullName() string {
	if c.logicalPath == "" {
		return c.name
	}
	return c.logicalPath + `\` + c.name
}

// fileDesc is an IVssWMFiledesc: a directory and a file specification.
type fileDesc struct {
	path, spec string
	recursive  bool
}

// writers gathers the writers' metadata (GatherWriterMetadata,
// GetWriterMetadata, IVssExamineWriterMetadata, IVssWMComponent).
func (r *requester) writers() ([]writer, error) {
	if err := r.async("GatherWriterMetadata", bcGatherWriterMetadata); err != nil {
		return nil, err
	}
	var n uint32
	if hr := r.bc.call(bcGetWriterMetadataCount, ptr(&n)); hr.Failed() {
		return nil, &Error{Code: hr, Op: "GetWriterMetadataCount"}
	}
	var out []writer
	for i := range n {
		var inst windows.GUID
		var md *comObject
		if hr := r.bc.call(bcGetWriterMetadata, uintptr(i), ptr(&inst), ptr(&md)); hr.Failed() {
			return nil, &Error{Code: hr, Op: "GetWriterMetadata"}
		}
		w, err := readWriter(md)
		md.release()
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

func readWriter(md *comObject) (writer, error) {
	var w writer
	var name *uint16
	var usage, source int32
	if hr := md.call(wmGetIdentity, ptr(&w.instance), ptr(&w.class), ptr(&name), ptr(&usage), ptr(&source)); hr.Failed() {
		return w, &Error{Code: hr, Op: "IVssExamineWriterMetadata::GetIdentity"}
	}
	w.name = bstr(name)
	var include, exclude, comps uint32
	if hr := md.call(wmGetFileCounts, ptr(&include), ptr(&exclude), ptr(&comps)); hr.Failed() {
		return w, &Error{Code: hr, Op: "IVssExamineWriterMetadata::GetFileCounts", Writer: w.name}
	}
	for i := range comps {
		var c *comObject
		if hr := md.call(wmGetComponent, uintptr(i), ptr(&c)); hr.Failed() {
			return w, &Error{Code: hr, Op: "IVssExamineWriterMetadata::GetComponent", Writer: w.name}
		}
		comp, err := readComponent(c)
		c.release()
		if err != nil {
			return w, &Error{Code: hresultOf(err), Op: "IVssWMComponent", Writer: w.name, Err: err}
		}
		w.components = append(w.components, comp)
	}
	return w, nil
}

func readComponent(c *comObject) (component, error) {
	var info *componentInfo
	if hr := c.call(cGetComponentInfo, ptr(&info)); hr.Failed() {
		return component{}, windows.Errno(hr)
	}
	comp := component{
		typ:         info.Type,
		logicalPath: windows.UTF16PtrToString(info.LogicalPath),
		name:        windows.UTF16PtrToString(info.ComponentName),
	}
	counts := [3]uint32{info.FileCount, info.Databases, info.LogFiles}
	c.call(cFreeComponentInfo, uintptr(unsafe.Pointer(info)))
	lists := [3]*[]fileDesc{&comp.files, &comp.databases, &comp.logs}
	for k, m := range [3]int{cGetFile, cGetDatabaseFile, cGetDatabaseLogFile} {
		for i := range counts[k] {
			var fd *comObject
			if hr := c.call(m, uintptr(i), ptr(&fd)); hr.Failed() {
				return comp, windows.Errno(hr)
			}
			var path, spec *uint16
			var rec uint8
			hr1 := fd.call(fdGetPath, ptr(&path))
			hr2 := fd.call(fdGetFilespec, ptr(&spec))
			hr3 := fd.call(fdGetRecursive, ptr(&rec))
			fd.release()
			if hr := firstFailed(hr1, hr2, hr3); hr.Failed() {
				return comp, windows.Errno(hr)
			}
			*lists[k] = append(*lists[k], fileDesc{path: expandEnv(bstr(path)), spec: bstr(spec), recursive: rec != 0})
		}
	}
	return comp, nil
}

func firstFailed(hrs ...HRESULT) HRESULT {
	for _, hr := range hrs {
		if hr.Failed() {
			return hr
		}
	}
	return S_OK
}

// expandEnv expands %SystemRoot% and the like, which writers' metadata
// may hold.
func expandEnv(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	s, err := windows.ExpandEnvironmentStrings(windows.StringToUTF16Ptr(p), nil, 0)
	if err != nil || s == 0 {
		return p
	}
	buf := make([]uint16, s)
	if _, err := windows.ExpandEnvironmentStrings(windows.StringToUTF16Ptr(p), &buf[0], s); err != nil {
		return p
	}
	return windows.UTF16ToString(buf)
}

// addComponent selects the component for the backup (AddComponent).
func (r *requester) addComponent(w *writer, c *component) error {
	return r.componentCall("AddComponent", bcAddComponent, w, c)
}

// setBackupSucceeded reports the component's backup as succeeded or not.
func (r *requester) setBackupSucceeded(w *writer, c *component, ok bool) error {
	return r.componentCall("SetBackupSucceeded", bcSetBackupSucceeded, w, c, flag(ok))
}

// componentCall calls method m with the component's identity (writer
// instance and class, type, logical path, name) and then extra.
func (r *requester) componentCall(op string, m int, w *writer, c *component, extra ...uintptr) error {
	lp, name := utf16(c.logicalPath), utf16(c.name)
	inst, class := w.instance, w.class
	hr := r.bc.call(m, append([]uintptr{ptr(&inst), ptr(&class), uintptr(c.typ), ptr(lp), ptr(name)}, extra...)...)
	runtime.KeepAlive(lp)
	runtime.KeepAlive(name)
	runtime.KeepAlive(&inst)
	runtime.KeepAlive(&class)
	if hr.Failed() {
		return &Error{Code: hr, Op: op, Writer: w.name, File: c.fullName()}
	}
	return nil
}

// addVolume adds a volume to the snapshot set (AddToSnapshotSet with the
// default provider).
func (r *requester) addVolume(volume string) (windows.GUID, error) {
	v := utf16(volume)
	var provider, id windows.GUID
	hr := r.bc.call(bcAddToSnapshotSet, ptr(v), ptr(&provider), ptr(&id))
	runtime.KeepAlive(v)
	runtime.KeepAlive(&provider)
	if hr.Failed() {
		return id, &Error{Code: hr, Op: "AddToSnapshotSet", File: volume}
	}
	return id, nil
}

// snapshotDevice returns the device object of a snapshot
// (GetSnapshotProperties) and its creation time as a FILETIME.
func (r *requester) snapshotDevice(id windows.GUID) (string, int64, error) {
	var p snapshotProp
	if hr := r.bc.call(bcGetSnapshotProperties, ptr(&id), ptr(&p)); hr.Failed() {
		return "", 0, &Error{Code: hr, Op: "GetSnapshotProperties"}
	}
	dev := windows.UTF16PtrToString(p.DeviceObject)
	ts := p.CreationTimestamp
	vssFreeSnapshotProperties(&p)
	return dev, ts, nil
}

// deleteSet deletes the snapshot set.
func (r *requester) deleteSet(set windows.GUID) error {
	var deleted int32
	var nondeleted windows.GUID
	const objectSnapshotSet = 2 // VSS_OBJECT_SNAPSHOT_SET
	if hr := r.bc.call(bcDeleteSnapshots, ptr(&set), objectSnapshotSet, 1, ptr(&deleted), ptr(&nondeleted)); hr.Failed() {
		return &Error{Code: hr, Op: "DeleteSnapshots", Err: fmt.Errorf("snapshot %s was not deleted", nondeleted)}
	}
	return nil
}

func utf16(s string) *uint16 {
	if s == "" {
		return nil
	}
	p, err := windows.UTF16PtrFromString(s)
	if err != nil {
		return nil
	}
	return p
}
