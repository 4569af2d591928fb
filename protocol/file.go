package protocol

// File is one file of a snapshot, as Files lists it.
type File struct {
	// Name identifies the file in Read; it is the name the plugin reports
	// (for ESE, the engine's full path), from which the host derives the
	// name in the backup set.
	Name string
	// Role says what the file is.
	Role Role
	// Size is the expected length of the Read stream in bytes, or 0 when
	// the plugin does not know it in advance; the stream is authoritative.
	Size int64
	// PageSize is the page size of a database or log in bytes, or 0.
	PageSize int
	// Generation is the log generation of a RoleLog file, or 0.
	Generation uint32
}
