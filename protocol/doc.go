// Package protocol is the wire contract between esesnap snapshot plugins and
// backup hosts. It holds the versioned gRPC service (snapshot/v1/snapshot.proto,
// generated into package snapshotv1), the Go-level mirror of that service
// (Snapshotter and its plain Go types), the converters between the two
// (toproto.go, fromproto.go), and the error model that carries an *ese.Error
// across the process boundary as a gRPC status with a typed ErrorDetail
// (ToStatus on the plugin side, FromStatus on the host side).
//
// Plugins implement Snapshotter; the go-plugin server and client adapters
// translate between it and the generated service, so that a host sees the
// same Go interface whether the plugin runs in-process or in another process.
package protocol

// The generated code in snapshotv1 is committed; generate.sh regenerates it
// with the pinned tools, and check-generated.sh verifies it is current.
//go:generate bash generate.sh
