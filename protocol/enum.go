package protocol

import (
	"fmt"
	"strconv"
	"strings"
)

// enumString returns names[v], or "Type(v)" for a value outside the table,
// so that a value sent by a newer peer still prints as something meaningful.
func enumString(typ string, v int32, names []string) string {
	if v >= 0 && int(v) < len(names) {
		return names[v]
	}
	return typ + "(" + strconv.Itoa(int(v)) + ")"
}

// parseEnum finds s among names, ignoring case. Index 0 is the unspecified
// value and is never accepted: a configuration that names it is a mistake.
func parseEnum(what, s string, names []string) (int32, error) {
	for i := 1; i < len(names); i++ {
		if strings.EqualFold(s, names[i]) {
			return int32(i), nil
		}
	}
	return 0, fmt.Errorf("unknown %s %q (want %s)", what, s, strings.Join(names[1:], ", "))
}

// marshalEnum is MarshalText for a table-driven enum: only valid values have
// a text form that parses back.
func marshalEnum(what string, v int32, names []string) ([]byte, error) {
	if v <= 0 || int(v) >= len(names) {
		return nil, fmt.Errorf("cannot marshal %s %d: not a valid value", what, v)
	}
	return []byte(names[v]), nil
}
