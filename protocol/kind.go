package protocol

// Kind is the type of backup a session takes; the values equal those of the
// wire enum snapshotv1.Kind. Full and incremental backups may truncate logs
// and become the base of later backups; copy and differential backups leave
// the log chain and that base untouched.
type Kind int32

// The backup kinds. The zero value is not a kind, so a request that forgets
// to set one is rejected instead of being taken as a log-truncating full
// backup.
const (
	KindUnspecified  Kind = 0 // not a valid kind
	KindFull         Kind = 1 // databases and logs; may truncate logs
	KindIncremental  Kind = 2 // logs since the last full or incremental; may truncate logs
	KindCopy         Kind = 3 // like full, but truncates nothing and is recorded apart
	KindDifferential Kind = 4 // logs since the last full, truncating nothing
)

var kindNames = []string{"unspecified", "full", "incremental", "copy", "differential"}

// String returns the lower-case name used on command lines and in manifests,
// such as "full".
func (k Kind) String() string { return enumString("Kind", int32(k), kindNames) }

// Valid reports whether k is one of the four backup kinds.
func (k Kind) Valid() bool { return k >= KindFull && int(k) < len(kindNames) }

// TruncatesLogs reports whether a successful backup of this kind may delete
// the logs it made unnecessary (full and incremental); copy and differential
// backups never do.
func (k Kind) TruncatesLogs() bool { return k == KindFull || k == KindIncremental }

// ParseKind parses a kind name as String prints it, ignoring case.
func ParseKind(s string) (Kind, error) {
	v, err := parseEnum("backup kind", s, kindNames)
	return Kind(v), err
}

// MarshalText implements encoding.TextMarshaler, so manifests store the name.
func (k Kind) MarshalText() ([]byte, error) { return marshalEnum("backup kind", int32(k), kindNames) }

// UnmarshalText implements encoding.TextUnmarshaler with ParseKind.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
