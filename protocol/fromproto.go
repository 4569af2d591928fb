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
		Options:       fromProtoOptionSpecs(m.GetOptions()),
	}
}

func fromProtoOptionSpecs(in []*snapshotv1.OptionSpec) []OptionSpec {
	if in == nil {
		return nil
	}
	out := make([]OptionSpec, len(in))
	for n, o := range in {
		out[n] = OptionSpec{Name: o.GetName(), Type: o.GetType(), Default: o.GetDefault(), Help: o.GetHelp(),
			Repeatable: o.GetRepeatable(), Secret: o.GetSecret(), Restore: o.GetRestore()}
	}
	return out
}

// FromProtoBeginRequest converts the Begin request to a BeginRequest.
func FromProtoBeginRequest(m *snapshotv1.Begin_Request) BeginRequest {
	s := m.GetSource()
	loc := s.GetLocation()
	if loc == "" {
		loc = s.GetInstanceDir() // a host of protocol v1's first form
	}
	opts := maps.Clone(s.GetOptions())
	opts = setLegacy(opts, OptLogDir, s.GetLogDir())
	opts = setLegacy(opts, OptSystemDir, s.GetSystemDir())
	opts = setLegacy(opts, OptBaseName, s.GetBaseName())
	opts = setLegacy(opts, OptDatabase, JoinList(s.GetDatabases()))
	if len(opts) == 0 {
		opts = nil // an empty map on the wire is no options, as ToProto sends it
	}
	return BeginRequest{
		Kind:   Kind(m.GetKind()),
		Source: Source{Location: loc, Options: opts},
	}
}

// setLegacy sets option key to the value of a deprecated field, unless the
// value is empty or the options already hold the key.
func setLegacy(opts map[string]string, key, v string) map[string]string {
	if v == "" {
		return opts
	}
	if _, ok := opts[key]; ok {
		return opts
	}
	if opts == nil {
		opts = map[string]string{}
	}
	opts[key] = v
	return opts
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
		Recorded:  m.GetRecorded(),
		Truncated: slices.Clone(m.GetTruncatedLogs()),
		Warnings:  slices.Clone(m.GetWarnings()),
		Metadata:  fromProtoMetadata(m.GetMetadata(), m.GetLogs()),
	}
}

// fromProtoMetadata converts metadata, adding the log range of the
// deprecated field when the metadata has none (a peer of protocol v1's
// first form).
func fromProtoMetadata(in []*snapshotv1.Metadata, logs *snapshotv1.LogRange) []Metadata {
	var out []Metadata
	if in != nil {
		out = make([]Metadata, len(in))
		for n, m := range in {
			out[n] = Metadata{Type: m.GetType(), Data: slices.Clone(m.GetData())}
		}
	}
	if logs != nil && logs.GetGenHigh() != 0 {
		if _, ok, _ := LogRangeOf(out); !ok {
			out = append(out, LogRange{GenLow: logs.GetGenLow(), GenHigh: logs.GetGenHigh(), BaseName: logs.GetBaseName()}.Metadata())
		}
	}
	return out
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
	opts := maps.Clone(m.GetOptions())
	opts = setLegacy(opts, OptLogDir, m.GetLogDir())
	opts = setLegacy(opts, OptSystemDir, m.GetSystemDir())
	if len(opts) == 0 {
		opts = nil // an empty map on the wire is no options, as ToProto sends it
	}
	return RestoreRequest{
		Location:     m.GetLocation(),
		BackupSetDir: m.GetBackupSetDir(),
		Databases:    dbs,
		Metadata:     fromProtoMetadata(m.GetMetadata(), m.GetLogs()),
		Options:      opts,
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
