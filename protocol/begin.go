package protocol

// BeginRequest says what a session backs up and how.
type BeginRequest struct {
	Kind   Kind   // the type of backup; one of Info.Kinds
	Source Source // what to back up
}

// Source names what a session backs up: a location and the plugin's options,
// described by Info.Options. The protocol gives neither a meaning; for ESE
// the location is the instance directory and the options name the log and
// checkpoint directories, the base name and the databases.
type Source struct {
	// Location is what to back up, in the plugin's terms: a directory, a
	// device, a service name.
	Location string
	// Options holds the plugin's settings by OptionSpec.Name; a list
	// (OptionSpec.Type "list") is its items joined by ListSeparator
	// (JoinList). A plugin rejects keys it does not know. Options may hold
	// secrets: a host records only those the plugin does not mark Secret.
	Options map[string]string
}
