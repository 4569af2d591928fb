package driver

import (
	"errors"
	"fmt"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/protocol"
)

// The ESE plugin's options (Info.Options). Location is the instance
// directory; these describe instances laid out differently and how the
// instance is opened.
const (
	OptLogDir    = protocol.OptLogDir    // JET_paramLogFilePath; default the location
	OptSystemDir = protocol.OptSystemDir // JET_paramSystemPath; default the location
	OptBaseName  = protocol.OptBaseName  // JET_paramBaseName
	OptDatabase  = protocol.OptDatabase  // databases to back up, a list
	OptWritable  = "writable"            // open the instance writable
)

// Options are the options of an ESE driver: what Begin (and, for log-dir
// and system-dir, Restore) accepts in its options map. Config.Options
// defaults to them.
var Options = []protocol.OptionSpec{
	{Name: OptLogDir, Type: protocol.OptionPath, Restore: true,
		Help: "log directory when it is not the location (JET_paramLogFilePath); for a restore, where recovery writes its logs"},
	{Name: OptSystemDir, Type: protocol.OptionPath, Restore: true,
		Help: "checkpoint directory when it is not the location (JET_paramSystemPath); for a restore, where recovery keeps its checkpoint"},
	{Name: OptBaseName, Type: protocol.OptionString,
		Help: "log base name, three characters (default: from the checkpoint file)"},
	{Name: OptDatabase, Type: protocol.OptionList, Repeatable: true,
		Help: "database file to back up (default: every database of the log stream)"},
	{Name: OptWritable, Type: protocol.OptionBool, Default: "false",
		Help: "open the instance writable, so that End records the backup in the database headers and truncates logs when asked"},
}

// SourceConfig is a Source read as an ESE instance: the directories (log
// and system default to the location), the base name, the databases named
// and whether to open it writable.
type SourceConfig struct {
	InstanceDir string
	LogDir      string
	SystemDir   string
	BaseName    string
	Databases   []string
	Writable    bool
}

// ParseSource reads src with the ESE options. A key that is not one of
// Options, or a writable that is not "true" or "false", is
// JET_errInvalidParameter naming the key and the options there are; a
// source without location or log directory is JET_errInvalidPath.
func ParseSource(src protocol.Source) (SourceConfig, error) {
	const op = "Begin"
	if err := protocol.CheckOptions(Options, src.Options, false); err != nil {
		return SourceConfig{}, &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: err}
	}
	o := src.Options
	c := SourceConfig{
		InstanceDir: src.Location,
		LogDir:      firstNonEmpty(o[OptLogDir], src.Location),
		BaseName:    o[OptBaseName],
		Databases:   protocol.SplitList(o[OptDatabase]),
		Writable:    o[OptWritable] == "true",
	}
	if c.LogDir == "" {
		return SourceConfig{}, &ese.Error{Code: ese.ErrInvalidPath, Op: op, Err: errors.New("the source names no instance or log directory")}
	}
	c.SystemDir = firstNonEmpty(o[OptSystemDir], src.Location, c.LogDir)
	return c, nil
}

// checkOptions refuses options that specs do not list, as
// JET_errInvalidParameter of op.
func checkOptions(op string, specs []protocol.OptionSpec, opts map[string]string, restore bool) error {
	if err := protocol.CheckOptions(specs, opts, restore); err != nil {
		return &ese.Error{Code: ese.ErrInvalidParameter, Op: op, Err: err}
	}
	return nil
}

// LogRangeMetadata is the log range of a backup (ESE's JET_LOGINFO) as End
// reports it in EndResult.Metadata.
func LogRangeMetadata(l ese.LogInfo) protocol.Metadata {
	return protocol.LogRange(l).Metadata()
}

// LogInfo decodes the log range from the metadata of an ESE backup's End
// (or of a RestoreRequest). Metadata without one is JET_errInvalidParameter:
// recovery cannot work without the range.
func LogInfo(md []protocol.Metadata) (ese.LogInfo, error) {
	l, ok, err := protocol.LogRangeOf(md)
	switch {
	case err != nil:
		return ese.LogInfo{}, &ese.Error{Code: ese.ErrInvalidParameter, Op: "Restore", Err: err}
	case !ok:
		return ese.LogInfo{}, &ese.Error{Code: ese.ErrInvalidParameter, Op: "Restore", Err: fmt.Errorf("no log range (metadata %s)", protocol.MetadataLogRange)}
	}
	return ese.LogInfo(l), nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
