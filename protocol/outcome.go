package protocol

// Outcome is how a host ends a session; the values equal those of the wire
// enum snapshotv1.Outcome.
type Outcome int32

// The session outcomes. The zero value is not an outcome, so a forgotten
// field never counts as success.
const (
	OutcomeUnspecified Outcome = 0 // not a valid outcome
	OutcomeSucceeded   Outcome = 1 // every file is durably stored; record the backup
	OutcomeAborted     Outcome = 2 // the backup must not count
)

var outcomeNames = []string{"unspecified", "succeeded", "aborted"}

// String returns the lower-case name, such as "succeeded".
func (o Outcome) String() string { return enumString("Outcome", int32(o), outcomeNames) }

// Valid reports whether o is one of the defined outcomes.
func (o Outcome) Valid() bool { return o >= OutcomeSucceeded && int(o) < len(outcomeNames) }

// ParseOutcome parses an outcome name as String prints it, ignoring case.
func ParseOutcome(s string) (Outcome, error) {
	v, err := parseEnum("session outcome", s, outcomeNames)
	return Outcome(v), err
}

// MarshalText implements encoding.TextMarshaler, so manifests store the name.
func (o Outcome) MarshalText() ([]byte, error) {
	return marshalEnum("session outcome", int32(o), outcomeNames)
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseOutcome.
func (o *Outcome) UnmarshalText(b []byte) error {
	v, err := ParseOutcome(string(b))
	if err != nil {
		return err
	}
	*o = v
	return nil
}
