package protocol

// RestoreRequest names a backup set and where its files go.
type RestoreRequest struct {
	// BackupSetDir is the directory holding the backup set's files as the
	// host stored them (databases and logs under their base names).
	BackupSetDir string
	// Databases maps each database, by its File.Name in the backup
	// (DatabaseName), to the path of the restored file (NewDatabaseName).
	// Empty means each database returns to the path it had.
	Databases []RestoreMap
	// LogDir is the directory recovery writes its logs to.
	LogDir string
	// SystemDir is the directory recovery keeps its checkpoint in.
	SystemDir string
	// Logs is the range to replay: EndResult.Logs of the backup, or for a
	// chain GenLow of the full backup through GenHigh of the last one.
	Logs LogRange
	// Options holds plugin-specific settings; a plugin rejects keys it does
	// not know.
	Options map[string]string
}

// RestoreResult reports what Restore staged and what is left to do.
type RestoreResult struct {
	// Staged lists the paths the plugin wrote.
	Staged []string
	// RecoveryCommand is the program and arguments that finish recovery,
	// for a person or the host to run; empty when the plugin already
	// finished recovery.
	RecoveryCommand []string
	// Warnings describes conditions that did not fail the restore.
	Warnings []string
}

// LogRange is a range of log generations: the logs a backup set holds
// (EndResult.Logs) or the logs recovery replays (RestoreRequest.Logs).
// A plugin without logs leaves it zero.
type LogRange struct {
	GenLow   uint32 // the first generation
	GenHigh  uint32 // the last generation
	BaseName string // the log base name, such as "edb"
}

// RestoreMap maps one database of a backup set, by its name in the backup
// (DatabaseName), to the path of its restored copy (NewDatabaseName).
type RestoreMap struct {
	DatabaseName    string
	NewDatabaseName string
}
