//go:build windows

package esent

//go:generate go run golang.org/x/sys/windows/mkwinsyscall -output zsyscall_windows.go syscall_windows.go

//sys	jetCreateInstance2(instance *uintptr, name *uint16, displayName *uint16, grbit uint32) (jerr int32) = esent.JetCreateInstance2W
//sys	jetSetSystemParameter(instance *uintptr, sesid uintptr, paramid uint32, lparam uintptr, sz *uint16) (jerr int32) = esent.JetSetSystemParameterW
//sys	jetInit3(instance *uintptr, rstInfo uintptr, grbit uint32) (jerr int32) = esent.JetInit3W
//sys	jetBeginSession(instance uintptr, sesid *uintptr, user *uint16, password *uint16) (jerr int32) = esent.JetBeginSessionW
//sys	jetAttachDatabase2(sesid uintptr, filename *uint16, cpgDatabaseSizeMax uint32, grbit uint32) (jerr int32) = esent.JetAttachDatabase2W
//sys	jetEndSession(sesid uintptr, grbit uint32) (jerr int32) = esent.JetEndSession
//sys	jetTerm2(instance uintptr, grbit uint32) (jerr int32) = esent.JetTerm2
//sys	jetBeginExternalBackupInstance(instance uintptr, grbit uint32) (jerr int32) = esent.JetBeginExternalBackupInstance
//sys	jetGetAttachInfoInstance(instance uintptr, szz *uint16, cbMax uint32, cbActual *uint32) (jerr int32) = esent.JetGetAttachInfoInstanceW
//sys	jetOpenFileInstance(instance uintptr, name *uint16, handle *uintptr, sizeLow *uint32, sizeHigh *uint32) (jerr int32) = esent.JetOpenFileInstanceW
//sys	jetReadFileInstance(instance uintptr, handle uintptr, buf *byte, cb uint32, cbActual *uint32) (jerr int32) = esent.JetReadFileInstance
//sys	jetCloseFileInstance(instance uintptr, handle uintptr) (jerr int32) = esent.JetCloseFileInstance
//sys	jetGetLogInfoInstance2(instance uintptr, szz *uint16, cbMax uint32, cbActual *uint32, info *logInfoW) (jerr int32) = esent.JetGetLogInfoInstance2W
//sys	jetGetTruncateLogInfoInstance(instance uintptr, szz *uint16, cbMax uint32, cbActual *uint32) (jerr int32) = esent.JetGetTruncateLogInfoInstanceW
//sys	jetTruncateLogInstance(instance uintptr) (jerr int32) = esent.JetTruncateLogInstance
//sys	jetEndExternalBackupInstance2(instance uintptr, grbit uint32) (jerr int32) = esent.JetEndExternalBackupInstance2
//sys	jetStopBackupInstance(instance uintptr) (jerr int32) = esent.JetStopBackupInstance
//sys	jetExternalRestore2(checkpointPath *uint16, logPath *uint16, rstmap *rstMapW, crstmap int32, backupLogPath *uint16, info *logInfoW, targetName *uint16, targetLogPath *uint16, targetCheckpointPath *uint16, status uintptr) (jerr int32) = esent.JetExternalRestore2W

// logInfoW is JET_LOGINFO_W: 20 bytes on every architecture.
type logInfoW struct {
	CbSize   uint32
	GenLow   uint32
	GenHigh  uint32
	BaseName [4]uint16
}

// rstMapW is JET_RSTMAP_W.
type rstMapW struct {
	DatabaseName    *uint16
	NewDatabaseName *uint16
}
