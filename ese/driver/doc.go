// Package driver turns any ese.BackupAPI (the pure-Go engine, or ESENT.DLL
// on Windows) into a protocol.Snapshotter: it performs ESE's external backup
// sequence exactly as ESE requires — aligned buffers sized in whole pages
// with at least three pages for the first database read, one open file at a
// time, GetLogInfo only after every database was read, TruncateLog only
// when asked and only after every log was read, End with Normal or Abort
// by the outcome — and it ends a session aborted by itself when the host
// cancels a stream or goes quiet.
//
// It lives beside package ese rather than in it so that ese, the vocabulary
// every part shares, stays free of the protocol; the protocol in turn
// imports nothing of ese (ESE's errors reach the wire through the
// protocol's Coded interface, which *ese.Error implements).
package driver
