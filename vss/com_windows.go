//go:build windows

package vss

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// comObject is a COM interface pointer: its first word points to the
// vtable. The vtables are declared once below, method by method in the
// order of the Windows SDK's vsbackup.h, vss.h and vswriter.h (the C
// declarations, IVssBackupComponentsVtbl and its siblings), which is the
// ABI; the test double of vssapi.dll is built against mingw-w64's copies of
// those headers, so an index out of place here calls the wrong method
// there.
type comObject struct {
	vtbl *[64]uintptr
}

// IUnknown.
const (
	mQueryInterface = iota
	mAddRef
	mRelease
)

// IVssBackupComponents.
const (
	bcGetWriterComponentsCount = iota + 3
	bcGetWriterComponents
	bcInitializeForBackup
	bcSetBackupState
	bcInitializeForRestore
	bcSetRestoreState
	bcGatherWriterMetadata
	bcGetWriterMetadataCount
	bcGetWriterMetadata
	bcFreeWriterMetadata
	bcAddComponent
	bcPrepareForBackup
	bcAbortBackup
	bcGatherWriterStatus
	bcGetWriterStatusCount
	bcFreeWriterStatus
	bcGetWriterStatus
	bcSetBackupSucceeded
	bcSetBackupOptions
	bcSetSelectedForRestore
	bcSetRestoreOptions
	bcSetAdditionalRestores
	bcSetPreviousBackupStamp
	bcSaveAsXML
	bcBackupComplete
	bcAddAlternativeLocationMapping
	bcAddRestoreSubcomponent
	bcSetFileRestoreStatus
	bcAddNewTarget
	bcSetRangesFilePath
	bcPreRestore
	bcPostRestore
	bcSetContext
	bcStartSnapshotSet
	bcAddToSnapshotSet
	bcDoSnapshotSet
	bcDeleteSnapshots
	bcImportSnapshots
	bcBreakSnapshotSet
	bcGetSnapshotProperties
)

// IVssAsync.
const (
	asCancel = iota + 3
	asWait
	asQueryStatus
)

// IVssExamineWriterMetadata.
const (
	wmGetIdentity = iota + 3
	wmGetFileCounts
	wmGetIncludeFile
	wmGetExcludeFile
	wmGetComponent
)

// IVssWMComponent.
const (
	cGetComponentInfo = iota + 3
	cFreeComponentInfo
	cGetFile
	cGetDatabaseFile
	cGetDatabaseLogFile
)

// IVssWMFiledesc.
const (
	fdGetPath = iota + 3
	fdGetFilespec
	fdGetRecursive
)

// call invokes method m of o with o as the first argument; the result is
// the HRESULT (or, for AddRef and Release, the count).
func (o *comObject) call(m int, args ...uintptr) HRESULT {
	r, _, _ := syscall.SyscallN(o.vtbl[m], append([]uintptr{uintptr(unsafe.Pointer(o))}, args...)...)
	return HRESULT(uint32(r))
}

// release calls IUnknown::Release; a nil object is left alone.
func (o *comObject) release() {
	if o != nil {
		o.call(mRelease)
	}
}

// ptr passes a pointer argument; the caller keeps what it points to alive
// until the call returns (it reads out-parameters afterwards, or calls
// runtime.KeepAlive).
func ptr[T any](p *T) uintptr { return uintptr(unsafe.Pointer(p)) }

// bstr takes a BSTR returned by a call: its text, and the BSTR freed.
func bstr(p *uint16) string {
	if p == nil {
		return ""
	}
	s := windows.UTF16PtrToString(p)
	sysFreeString(p)
	return s
}

// flag passes a C++ bool or a BOOL.
func flag(b bool) uintptr {
	if b {
		return 1
	}
	return 0
}
