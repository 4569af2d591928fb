package vss

import (
	"context"
	"encoding/json"
	"time"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/protocol"
	"github.com/hashicorp/go-hclog"
)

// The VSS backend's options (Info.Options). The location is the instance
// directory on the live volume; it selects the component whose files lie
// in it when the options do not name one.
const (
	OptWriter    = "writer"    // writer name or writer class id
	OptComponent = "component" // component name, or logical path\name
)

// Options are the options Begin accepts.
var Options = []protocol.OptionSpec{
	{Name: OptWriter, Type: protocol.OptionString,
		Help: "VSS writer that owns the instance, by name (\"NTDS\", \"Microsoft Exchange Writer\") or class id; default: the writer whose component holds the location"},
	{Name: OptComponent, Type: protocol.OptionString,
		Help: "the writer's component to back up, by name or logical path\\name; default: the component whose database or log files lie in the location"},
}

// Config configures the backend.
type Config struct {
	Name    string // Info.Name
	Version string // Info.Version
	// Restore stages a backup set, as for any ESE set; nil means Restore
	// is not offered.
	Restore func(ctx context.Context, req ese.RestoreRequest) error
	// IdleTimeout ends a session aborted when no call arrives for this
	// long; 0 means 10 minutes.
	IdleTimeout time.Duration
	Logger      hclog.Logger
}

// MetadataBackup is the type of the VSS backup's description in
// EndResult.Metadata: JSON of BackupInfo.
const MetadataBackup = "esesnap.vss-backup.v1"

// BackupInfo says which writer and component a backup took, of which VSS
// backup type, and when the shadow copy was made.
type BackupInfo struct {
	Writer       string    `json:"writer"`
	WriterID     string    `json:"writer_id"`
	Component    string    `json:"component"`
	LogicalPath  string    `json:"logical_path,omitempty"`
	BackupType   string    `json:"backup_type"`
	ShadowCopyAt time.Time `json:"shadow_copy_at"`
}

// Metadata encodes the description for EndResult.Metadata.
func (b BackupInfo) Metadata() protocol.Metadata {
	data, _ := json.Marshal(b) // a struct of strings and a time always marshals
	return protocol.Metadata{Type: MetadataBackup, Data: data}
}
