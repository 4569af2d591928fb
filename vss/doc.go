// Package vss is esesnap's VSS backend (Windows only): a
// protocol.Snapshotter that backs up an ESE instance owned by a running
// application through the Volume Shadow Copy Service in component mode,
// with the application's writer taking part (NTDS writer, Microsoft
// Exchange Writer).
//
// Begin asks the writer for its metadata, selects the writer's component
// that holds the instance, lets the writer prepare and freeze, and takes
// the shadow copy; Files and Read stream the component's databases and
// logs from the shadow copy through the pure-Go engine, read-only, so every
// page and the log chain are verified as for files at rest; End(succeeded)
// — which the host calls only after the set is stored — reports success
// per component and calls BackupComplete, upon which the writer records
// the backup and truncates its own logs (esesnap deletes no log on this
// backend). Every other ending aborts the VSS backup. The snapshot set is
// deleted on every path.
//
// The bindings call vssapi.dll's exports (mkwinsyscall) and the COM
// interfaces through vtables declared once (com_windows.go); no cgo.
// HRESULTs are *Error values of the error domain "vss".
//
// It has run only against the test double of vssapi.dll in vss/testdll
// (under Wine), never against Windows' own VSS.
package vss
