// Package ese holds the ESE (Extensible Storage Engine, "JET Blue") domain
// vocabulary shared by every part of esesnap: the JET_err codes and the Error
// type that carries them, the backup grbits, and BackupAPI, the Go shape of
// ESE's external (streaming) backup calls that ese/engine and ese/esent
// implement.
//
// ESE's errors cross the plugin boundary in the snapshot protocol's generic
// error model as domain "jet" (Domain): Code and *Error implement the
// protocol's Coded interface by their methods alone (remote.go), choosing
// their gRPC status code from the one JET_err table (grpccode.go), so this
// package imports nothing of the protocol. On the host side FromRemote
// turns the protocol's rebuilt error back into an *Error; package host
// registers it as the decoder of the domain.
package ese
