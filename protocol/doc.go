// Package protocol is the wire contract between esesnap snapshot plugins and
// backup hosts. It holds the versioned gRPC service (snapshot/v1/snapshot.proto,
// generated into package snapshotv1), the Go-level mirror of that service
// (Snapshotter and its plain Go types), the converters between the two
// (toproto.go, fromproto.go), and the error model (errors.go, status.go).
//
// Plugins implement Snapshotter; the go-plugin server and client adapters
// translate between it and the generated service, so that a host sees the
// same Go interface whether the plugin runs in-process or in another process.
//
// The protocol knows no engine and imports nothing of one. Its error model:
//   - A plugin with an error domain of its own (ESE's JET_err is domain
//     "jet") returns errors that implement Coded: they name their domain,
//     code and name and choose their gRPC status code; optional methods
//     (Described, Located, RetryHinter) add a description, the operation,
//     file, offset or page, and whether a retry may help. *ese.Error and
//     ese.Code do so; the JET_err → gRPC code table lives in package ese.
//   - A plugin without a domain returns *Error with only a gRPC code
//     (Status) and a location, plain gRPC statuses, or operating-system and
//     context errors, whose kind gives the code (CodeOf).
//   - ToStatus (plugin side) sends the first Coded error of a chain as a
//     status of its gRPC code with an ErrorDetail (domain, code, name,
//     description, op, file, offset, page, retryable, the cause's text).
//   - FromStatus (host side) rebuilds an *Error from the detail; errors.Is
//     matches it against any Coded error of the same domain and code, so
//     errors.Is(err, ese.ErrNoBackup) holds without the host decoding it. A
//     host that knows a domain registers a decoder (RegisterDecoder) and
//     gets the domain's own error type instead: package host registers
//     ese.FromRemote, so an ESE host gets *ese.Error back.
//
// The wire keeps the jet_err field of hosts and plugins that predate
// domains: ToStatus fills it for domain "jet" (DomainJET), and FromStatus
// reads a detail with only jet_err as that domain.
package protocol

// The generated code in snapshotv1 is committed; generate.sh regenerates it
// with the pinned tools, and check-generated.sh verifies it is current.
//go:generate bash generate.sh
