// Package esent binds ESENT.DLL's external backup API (Windows only) and
// implements ese.BackupAPI over a real ESE instance: JetBeginExternalBackup-
// Instance through JetEndExternalBackupInstance2, and JetExternalRestore2W.
// The DLL is loaded from system32 only, so a planted esent.dll in the working
// directory is never used.
//
// It has been run only against the test DLL in ese/esent/testdll (the pure-Go
// engine behind ESENT's exports, under Wine), not against Windows' own
// ESENT.DLL.
package esent
