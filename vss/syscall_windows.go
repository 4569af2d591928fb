//go:build windows

package vss

//go:generate go run golang.org/x/sys/windows/mkwinsyscall -output zsyscall_windows.go syscall_windows.go

//sys	createVssBackupComponents(out **comObject) (hr HRESULT) = vssapi.CreateVssBackupComponentsInternal
//sys	vssFreeSnapshotProperties(prop *snapshotProp) = vssapi.VssFreeSnapshotPropertiesInternal
//sys	sysFreeString(bstr *uint16) = oleaut32.SysFreeString

// snapshotProp is VSS_SNAPSHOT_PROP (vss.h): 128 bytes on amd64.
type snapshotProp struct {
	SnapshotID         [16]byte
	SnapshotSetID      [16]byte
	SnapshotsCount     int32
	DeviceObject       *uint16
	OriginalVolumeName *uint16
	OriginatingMachine *uint16
	ServiceMachine     *uint16
	ExposedName        *uint16
	ExposedPath        *uint16
	ProviderID         [16]byte
	Attributes         int32
	CreationTimestamp  int64 // VSS_TIMESTAMP: a FILETIME
	Status             int32
}

// componentInfo is VSS_COMPONENTINFO (vsbackup.h): the SDK's C++ bool and
// mingw-w64's BOOLEAN are both one byte.
type componentInfo struct {
	Type                   int32
	LogicalPath            *uint16
	ComponentName          *uint16
	Caption                *uint16
	Icon                   *byte
	CbIcon                 uint32
	RestoreMetadata        uint8
	NotifyOnBackupComplete uint8
	Selectable             uint8
	SelectableForRestore   uint8
	ComponentFlags         uint32
	FileCount              uint32
	Databases              uint32
	LogFiles               uint32
	Dependencies           uint32
}
