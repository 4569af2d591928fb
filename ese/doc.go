// Package ese holds the ESE (Extensible Storage Engine, "JET Blue") domain
// vocabulary shared by every part of esesnap: the JET_err codes and the Error
// type that carries them, the backup grbits, and BackupAPI, the Go shape of
// ESE's external (streaming) backup calls that ese/engine and ese/esent
// implement.
package ese
