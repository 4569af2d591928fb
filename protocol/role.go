package protocol

// Role says what a file is to a snapshot, and so in which batch of Files it
// comes; the values equal those of the wire enum snapshotv1.Role.
type Role int32

// The file roles.
const (
	RoleUnspecified Role = 0 // never sent by a conforming plugin
	RoleDatabase    Role = 1 // a database file (for ESE, the streamed database)
	RoleLog         Role = 2 // a transaction log file
	RoleOther       Role = 3 // anything else a restore needs
)

var roleNames = []string{"unspecified", "database", "log", "other"}

// String returns the lower-case name, such as "database".
func (r Role) String() string { return enumString("Role", int32(r), roleNames) }

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool { return r >= RoleDatabase && int(r) < len(roleNames) }

// ParseRole parses a role name as String prints it, ignoring case.
func ParseRole(s string) (Role, error) {
	v, err := parseEnum("file role", s, roleNames)
	return Role(v), err
}

// MarshalText implements encoding.TextMarshaler, so manifests store the name.
func (r Role) MarshalText() ([]byte, error) { return marshalEnum("file role", int32(r), roleNames) }

// UnmarshalText implements encoding.TextUnmarshaler with ParseRole.
func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}
