package protocol

import (
	"maps"
	"math"
	"slices"
	"time"

	"github.com/esesnap/esesnap/protocol/snapshotv1"
)

// The ToProto functions turn the Go types into wire messages. They copy
// slices and maps, so the message never aliases its argument, and they are
// total: no value is rejected here (validation belongs to the Snapshotter),
// and enum values pass through by number.

// ToProtoInfo converts an Info to the Info response.
func ToProtoInfo(i Info) *snapshotv1.Info_Response {
	var kinds []snapshotv1.Kind
	if i.Kinds != nil {
		kinds = make([]snapshotv1.Kind, len(i.Kinds))
		for n, k := range i.Kinds {
			kinds[n] = snapshotv1.Kind(k)
		}
	}
	return &snapshotv1.Info_Response{
		Name:          i.Name,
		Version:       i.Version,
		Kinds:         kinds,
		MaxChunkBytes: toUint32(i.MaxChunkBytes),
		Capabilities:  slices.Clone(i.Capabilities),
		IdleTimeoutMs: uint64(max(i.IdleTimeout, 0) / time.Millisecond),
	}
}

// ToProtoBeginRequest converts a BeginRequest to the Begin request.
func ToProtoBeginRequest(r BeginRequest) *snapshotv1.Begin_Request {
	return &snapshotv1.Begin_Request{
		Kind:   snapshotv1.Kind(r.Kind),
		Source: toProtoSource(r.Source),
	}
}

func toProtoSource(s Source) *snapshotv1.Source {
	return &snapshotv1.Source{
		InstanceDir: s.InstanceDir,
		LogDir:      s.LogDir,
		SystemDir:   s.SystemDir,
		BaseName:    s.BaseName,
		Databases:   slices.Clone(s.Databases),
		Options:     maps.Clone(s.Options),
	}
}

// ToProtoFiles converts a batch of files to the Files response.
func ToProtoFiles(files []File) *snapshotv1.Files_Response {
	var out []*snapshotv1.File
	if files != nil {
		out = make([]*snapshotv1.File, len(files))
		for n, f := range files {
			out[n] = &snapshotv1.File{
				Name:       f.Name,
				Role:       snapshotv1.Role(f.Role),
				Size:       f.Size,
				PageSize:   toUint32(f.PageSize),
				Generation: f.Generation,
			}
		}
	}
	return &snapshotv1.Files_Response{Files: out}
}

// ToProtoEndRequest converts an EndRequest of session to the End request.
func ToProtoEndRequest(session string, r EndRequest) *snapshotv1.End_Request {
	return &snapshotv1.End_Request{
		SessionId:    session,
		Outcome:      snapshotv1.Outcome(r.Outcome),
		TruncateLogs: r.TruncateLogs,
	}
}

// ToProtoEndResult converts an EndResult to the End response.
func ToProtoEndResult(r EndResult) *snapshotv1.End_Response {
	return &snapshotv1.End_Response{
		Recorded:      r.Recorded,
		TruncatedLogs: slices.Clone(r.TruncatedLogs),
		Logs:          toProtoLogRange(r.Logs),
		Warnings:      slices.Clone(r.Warnings),
	}
}

func toProtoLogRange(l LogRange) *snapshotv1.LogRange {
	return &snapshotv1.LogRange{GenLow: l.GenLow, GenHigh: l.GenHigh, BaseName: l.BaseName}
}

// ToProtoRestoreRequest converts a RestoreRequest to the Restore request.
func ToProtoRestoreRequest(r RestoreRequest) *snapshotv1.Restore_Request {
	var dbs []*snapshotv1.DatabaseTarget
	if r.Databases != nil {
		dbs = make([]*snapshotv1.DatabaseTarget, len(r.Databases))
		for n, m := range r.Databases {
			dbs[n] = &snapshotv1.DatabaseTarget{Name: m.DatabaseName, Path: m.NewDatabaseName}
		}
	}
	return &snapshotv1.Restore_Request{
		BackupSetDir: r.BackupSetDir,
		Databases:    dbs,
		LogDir:       r.LogDir,
		SystemDir:    r.SystemDir,
		Logs:         toProtoLogRange(r.Logs),
		Options:      maps.Clone(r.Options),
	}
}

// ToProtoRestoreResult converts a RestoreResult to the Restore response.
func ToProtoRestoreResult(r RestoreResult) *snapshotv1.Restore_Response {
	return &snapshotv1.Restore_Response{
		Staged:          slices.Clone(r.Staged),
		RecoveryCommand: slices.Clone(r.RecoveryCommand),
		Warnings:        slices.Clone(r.Warnings),
	}
}

// toUint32 clamps a Go size into a uint32 field: a negative size, which no
// valid value has, becomes 0 instead of wrapping around.
func toUint32(n int) uint32 {
	switch {
	case n < 0:
		return 0
	case uint64(n) > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(n)
}
