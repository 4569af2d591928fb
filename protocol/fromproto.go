package protocol

import (
	"maps"
	"math"
	"slices"
	"time"

	"github.com/esesnap/esesnap/protocol/snapshotv1"
)

// The FromProto functions turn wire messages into the Go types. They accept
// nil (a zero value results), copy slices and maps, and keep enum values
// they do not know by number, so that a newer peer's value reaches the
// Snapshotter, which decides whether to reject it.

// FromProtoInfo converts the Info response to an Info.
func FromProtoInfo(m *snapshotv1.Info_Response) Info {
	var kinds []Kind
	if k := m.GetKinds(); k != nil {
		kinds = make([]Kind, len(k))
		for n, v := range k {
			kinds[n] = Kind(v)
		}
	}
	return Info{
		Name:          m.GetName(),
		Version:       m.GetVersion(),
		Kinds:         kinds,
		MaxChunkBytes: int(m.GetMaxChunkBytes()),
		Capabilities:  slices.Clone(m.GetCapabilities()),
		IdleTimeout:   time.Duration(min(m.GetIdleTimeoutMs(), uint64(math.MaxInt64/time.Millisecond))) * time.Millisecond,
	}
}

// FromProtoBeginRequest converts the Begin request to a BeginRequest.
func FromProtoBeginRequest(m *snapshotv1.Begin_Request) BeginRequest {
	s := m.GetSource()
	return BeginRequest{
		Kind: Kind(m.GetKind()),
		Source: Source{
			InstanceDir: s.GetInstanceDir(),
			LogDir:      s.GetLogDir(),
			SystemDir:   s.GetSystemDir(),
			BaseName:    s.GetBaseName(),
			Databases:   slices.Clone(s.GetDatabases()),
			Options:     maps.Clone(s.GetOptions()),
		},
	}
}

// FromProtoFiles converts the Files response to a batch of files.
func FromProtoFiles(m *snapshotv1.Files_Response) []File {
	in := m.GetFiles()
	if in == nil {
		return nil
	}
	files := make([]File, len(in))
	for n, f := range in {
		files[n] = File{
			Name:       f.GetName(),
			Role:       Role(f.GetRole()),
			Size:       f.GetSize(),
			PageSize:   int(f.GetPageSize()),
			Generation: f.GetGeneration(),
		}
	}
	return files
}

// FromProtoEndRequest converts the End request to an EndRequest; the
// session id is m.GetSessionId().
func FromProtoEndRequest(m *snapshotv1.End_Request) EndRequest {
	return EndRequest{
		Outcome:      Outcome(m.GetOutcome()),
		TruncateLogs: m.GetTruncateLogs(),
	}
}

// FromProtoEndResult converts the End response to an EndResult.
func FromProtoEndResult(m *snapshotv1.End_Response) EndResult {
	return EndResult{
		Recorded:      m.GetRecorded(),
		TruncatedLogs: slices.Clone(m.GetTruncatedLogs()),
		Logs:          fromProtoLogRange(m.GetLogs()),
		Warnings:      slices.Clone(m.GetWarnings()),
	}
}

func fromProtoLogRange(m *snapshotv1.LogRange) LogRange {
	return LogRange{GenLow: m.GetGenLow(), GenHigh: m.GetGenHigh(), BaseName: m.GetBaseName()}
}

// FromProtoRestoreRequest converts the Restore request to a RestoreRequest.
func FromProtoRestoreRequest(m *snapshotv1.Restore_Request) RestoreRequest {
	var dbs []RestoreMap
	if in := m.GetDatabases(); in != nil {
		dbs = make([]RestoreMap, len(in))
		for n, d := range in {
			dbs[n] = RestoreMap{DatabaseName: d.GetName(), NewDatabaseName: d.GetPath()}
		}
	}
	return RestoreRequest{
		BackupSetDir: m.GetBackupSetDir(),
		Databases:    dbs,
		LogDir:       m.GetLogDir(),
		SystemDir:    m.GetSystemDir(),
		Logs:         fromProtoLogRange(m.GetLogs()),
		Options:      maps.Clone(m.GetOptions()),
	}
}

// FromProtoRestoreResult converts the Restore response to a RestoreResult.
func FromProtoRestoreResult(m *snapshotv1.Restore_Response) RestoreResult {
	return RestoreResult{
		Staged:          slices.Clone(m.GetStaged()),
		RecoveryCommand: slices.Clone(m.GetRecoveryCommand()),
		Warnings:        slices.Clone(m.GetWarnings()),
	}
}
