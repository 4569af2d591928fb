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

// EndResult reports what ending a session did.
type EndResult struct {
	// Recorded names what the plugin recorded about the backup; for ESE the
	// database header field it updated: "bkinfoFullPrev", "bkinfoIncPrev",
	// "bkinfoCopyPrev" or "bkinfoDiffPrev". Empty when nothing was recorded.
	Recorded string
	// TruncatedLogs lists the log files the plugin deleted.
	TruncatedLogs []string
	// Logs is the log range the backup set holds; Restore needs it.
	Logs LogRange
	// Warnings describes conditions that did not fail the session but that
	// a person should know about.
	Warnings []string
}
