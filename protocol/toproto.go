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
		Options:       toProtoOptionSpecs(i.Options),
	}
}

func toProtoOptionSpecs(in []OptionSpec) []*snapshotv1.OptionSpec {
	if in == nil {
		return nil
	}
	out := make([]*snapshotv1.OptionSpec, len(in))
	for n, o := range in {
		out[n] = &snapshotv1.OptionSpec{Name: o.Name, Type: o.Type, Default: o.Default, Help: o.Help,
			Repeatable: o.Repeatable, Secret: o.Secret, Restore: o.Restore}
	}
	return out
}

// ToProtoBeginRequest converts a BeginRequest to the Begin request.
func ToProtoBeginRequest(r BeginRequest) *snapshotv1.Begin_Request {
	return &snapshotv1.Begin_Request{
		Kind:   snapshotv1.Kind(r.Kind),
		Source: toProtoSource(r.Source),
	}
}

// toProtoSource fills location and the deprecated instance_dir, and moves
// the options that protocol v1 first carried as fields into those fields,
// so that a plugin of either age reads them (FromProtoBeginRequest moves
// them back).
func toProtoSource(s Source) *snapshotv1.Source {
	opts := maps.Clone(s.Options)
	m := &snapshotv1.Source{
		InstanceDir: s.Location,
		Location:    s.Location,
		LogDir:      takeLegacy(opts, OptLogDir),
		SystemDir:   takeLegacy(opts, OptSystemDir),
		BaseName:    takeLegacy(opts, OptBaseName),
		Databases:   SplitList(takeLegacy(opts, OptDatabase)),
	}
	if len(opts) > 0 {
		m.Options = opts
	}
	return m
}

// takeLegacy removes option key from opts and returns its value, unless
// the value is empty (which the deprecated field could not tell from
// absent: it stays an option).
func takeLegacy(opts map[string]string, key string) string {
	v := opts[key]
	if v == "" {
		return ""
	}
	delete(opts, key)
	return v
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
		TruncatedLogs: slices.Clone(r.Truncated),
		Logs:          toProtoLogRange(r.Metadata),
		Warnings:      slices.Clone(r.Warnings),
		Metadata:      toProtoMetadata(r.Metadata),
	}
}

func toProtoMetadata(in []Metadata) []*snapshotv1.Metadata {
	if in == nil {
		return nil
	}
	out := make([]*snapshotv1.Metadata, len(in))
	for n, m := range in {
		out[n] = &snapshotv1.Metadata{Type: m.Type, Data: slices.Clone(m.Data)}
	}
	return out
}

// toProtoLogRange is the deprecated log range field for older peers: the
// log range of md, or nil.
func toProtoLogRange(md []Metadata) *snapshotv1.LogRange {
	l, ok, err := LogRangeOf(md)
	if !ok || err != nil {
		return nil
	}
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
	opts := maps.Clone(r.Options)
	m := &snapshotv1.Restore_Request{
		Location:     r.Location,
		BackupSetDir: r.BackupSetDir,
		Databases:    dbs,
		LogDir:       takeLegacy(opts, OptLogDir),
		SystemDir:    takeLegacy(opts, OptSystemDir),
		Logs:         toProtoLogRange(r.Metadata),
		Metadata:     toProtoMetadata(r.Metadata),
	}
	if len(opts) > 0 {
		m.Options = opts
	}
	return m
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
