package protocol

// BeginRequest says what a session backs up and how.
type BeginRequest struct {
	Kind   Kind   // the type of backup; one of Info.Kinds
	Source Source // what to back up
}

// Source names what a session backs up. A plugin uses the fields that apply
// to it; the ESE meaning is given for each.
type Source struct {
	// InstanceDir is the directory of the instance's files (for an ESE file
	// set at rest, the directory holding databases, logs and checkpoint).
	InstanceDir string
	// LogDir is the log directory (JET_paramLogFilePath); empty means
	// InstanceDir.
	LogDir string
	// SystemDir is the checkpoint directory (JET_paramSystemPath); empty
	// means InstanceDir.
	SystemDir string
	// BaseName is the three-character prefix of log and checkpoint files
	// (JET_paramBaseName), such as "edb"; empty means the plugin's default.
	BaseName string
	// Databases lists the database files to back up; empty means every
	// attached database.
	Databases []string
	// Options holds plugin-specific settings; a plugin rejects keys it does
	// not know.
	Options map[string]string
}
