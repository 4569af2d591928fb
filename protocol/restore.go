package protocol

// RestoreRequest names a backup set and where its files go.
type RestoreRequest struct {
	// Location is where the restore goes, as Source.Location says where a
	// backup comes from (for ESE the directory of the restored instance);
	// what Databases and Options do not place elsewhere goes under it.
	Location string
	// BackupSetDir is the directory holding the backup set's files as the
	// host stored them (databases and logs under their base names).
	BackupSetDir string
	// Databases maps each database, by its File.Name in the backup
	// (DatabaseName), to the path of the restored file (NewDatabaseName).
	// Empty means each database returns to the path it had.
	Databases []RestoreMap
	// Metadata is the backup's EndResult.Metadata, or what the host made of
	// it (for a chain of ESE backups: a log range from GenLow of the full
	// backup through GenHigh of the last one).
	Metadata []Metadata
	// Options holds the plugin's restore settings (the Info.Options marked
	// Restore; for ESE "log-dir" and "system-dir"); a plugin rejects keys it
	// does not know.
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

// LogRange is a range of log generations: the logs a backup set holds or
// the logs recovery replays, carried as Metadata (MetadataLogRange).
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
