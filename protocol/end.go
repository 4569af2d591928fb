package protocol

// EndRequest says how a session ends.
type EndRequest struct {
	// Outcome says whether the backup counts.
	Outcome Outcome
	// TruncateLogs asks the plugin to delete the logs the backup made
	// unnecessary; it only has an effect with OutcomeSucceeded and a kind
	// whose TruncatesLogs is true.
	TruncateLogs bool
}

// EndResult reports what ending a session did, in terms any plugin can
// fill; plugin-specific detail travels as typed Metadata.
type EndResult struct {
	// Recorded says what the plugin recorded about the backup, free text;
	// for ESE the database header field it updated: "bkinfoFullPrev",
	// "bkinfoIncPrev", "bkinfoCopyPrev" or "bkinfoDiffPrev". Empty when
	// nothing was recorded.
	Recorded string
	// Truncated names what the plugin released or deleted because the
	// backup made it unnecessary (for ESE the log files it truncated).
	Truncated []string
	// Warnings describes conditions that did not fail the session but that
	// a person should know about.
	Warnings []string
	// Metadata is plugin-specific detail, each entry typed so that a host
	// decodes only what it knows (ESE: the log range, MetadataLogRange).
	Metadata []Metadata
}

// LogRange returns the log range of the result's metadata, or the zero
// range when there is none (or it does not decode).
func (r EndResult) LogRange() LogRange {
	l, _, _ := LogRangeOf(r.Metadata)
	return l
}
