package ese

import (
	"fmt"
	"strconv"
)

//go:generate go run ./internal/gencodes -in codes.tsv -out zcodes.go

// Code is a JET_ERR: negative for errors, zero for success, positive for
// warnings. It implements error so that errors.Is(err, ese.ErrNoBackup) works
// on any error chain that contains an *Error with that code.
type Code int32

// codeInfo is one row of the generated code table.
type codeInfo struct {
	code Code
	name string // e.g. "JET_errNoBackup"
	desc string // one line, our own words
}

// Name returns the ESE name of the code, such as "JET_errNoBackup", or
// "JET_err(-12345)" for a number that is not in the table.
func (c Code) Name() string {
	if ci, ok := codeByValue[c]; ok {
		return ci.name
	}
	if c > 0 {
		return "JET_wrn(" + strconv.Itoa(int(c)) + ")"
	}
	return "JET_err(" + strconv.Itoa(int(c)) + ")"
}

// Description returns a short explanation of the code for people reading an
// error message; it is empty for unknown codes.
func (c Code) Description() string {
	return codeByValue[c].desc
}

// Known reports whether the code is in the table generated from codes.tsv.
func (c Code) Known() bool {
	_, ok := codeByValue[c]
	return ok
}

// IsWarning reports whether the code is a JET_wrn (positive) value.
func (c Code) IsWarning() bool { return c > 0 }

// String formats the code as ESE tools print it: "JET_errNoBackup (-520)".
func (c Code) String() string {
	return fmt.Sprintf("%s (%d)", c.Name(), int32(c))
}

// Error makes a bare Code usable as an error and as an errors.Is target.
func (c Code) Error() string {
	if d := c.Description(); d != "" {
		return c.String() + ": " + d
	}
	return c.String()
}
