package protocol

import (
	"fmt"
	"slices"
	"strings"
)

// OptionSpec describes one option a plugin accepts in Source.Options (and,
// with Restore set, in RestoreRequest.Options), so that a host can build its
// flags and help for the plugin and check a request before sending it.
type OptionSpec struct {
	// Name is the key in the options map, such as "log-dir".
	Name string
	// Type is how the value reads: OptionString, OptionBool, OptionList or
	// OptionPath; a host treats a type it does not know as a string.
	Type string
	// Default is the value the plugin uses when the option is absent, for
	// help texts; empty when there is none or it depends on the source.
	Default string
	// Help says what the option does, in one sentence.
	Help string
	// Repeatable says that a host may give the option more than once; the
	// values travel as one list value (JoinList).
	Repeatable bool
	// Secret says that the value must not be logged or recorded (a
	// password, a key); a host records only options not marked Secret.
	Secret bool
	// Restore says that Restore accepts the option too; every option is a
	// Begin option.
	Restore bool
}

// Option types for OptionSpec.Type.
const (
	OptionString = "string" // any text
	OptionBool   = "bool"   // "true" or "false"
	OptionList   = "list"   // items joined by ListSeparator
	OptionPath   = "path"   // a file system path, which a host may make absolute
)

// ListSeparator joins the items of a list option into one value. It is NUL,
// which neither Unix nor Windows allows in a path, so any list of paths
// survives the round trip.
const ListSeparator = "\x00"

// JoinList joins the items of a list option into its value.
func JoinList(items []string) string { return strings.Join(items, ListSeparator) }

// SplitList splits the value of a list option into its items; an empty
// value is an empty list.
func SplitList(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ListSeparator)
}

// Option returns the spec of the option named name, if Info lists it.
func (i Info) Option(name string) (OptionSpec, bool) {
	n := slices.IndexFunc(i.Options, func(o OptionSpec) bool { return o.Name == name })
	if n < 0 {
		return OptionSpec{}, false
	}
	return i.Options[n], true
}

// OptionNames lists the names of options, for error messages.
func OptionNames(options []OptionSpec) []string {
	names := make([]string, len(options))
	for n, o := range options {
		names[n] = o.Name
	}
	return names
}

// CheckOptions checks opts against the specs: every key must be a listed
// option (for restore, one marked Restore) and a bool must read "true" or
// "false". The error names the key and the options there are.
func CheckOptions(specs []OptionSpec, opts map[string]string, restore bool) error {
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		n := slices.IndexFunc(specs, func(o OptionSpec) bool { return o.Name == k && (!restore || o.Restore) })
		if n < 0 {
			var known []string
			for _, o := range specs {
				if !restore || o.Restore {
					known = append(known, o.Name)
				}
			}
			if len(known) == 0 {
				return fmt.Errorf("unknown option %q: the plugin takes no options", k)
			}
			return fmt.Errorf("unknown option %q: the plugin knows %s", k, strings.Join(known, ", "))
		}
		if specs[n].Type == OptionBool && opts[k] != "true" && opts[k] != "false" {
			return fmt.Errorf("option %s=%q: want true or false", k, opts[k])
		}
	}
	return nil
}

// The options that protocol v1 first carried as fields of Source and
// RestoreRequest (ESE's settings). The conversions send them in those
// deprecated fields and read the fields back as these options, so that a
// host or plugin of either age understands the other.
const (
	OptLogDir    = "log-dir"    // Source.log_dir, Restore.Request.log_dir
	OptSystemDir = "system-dir" // Source.system_dir, Restore.Request.system_dir
	OptBaseName  = "base-name"  // Source.base_name
	OptDatabase  = "database"   // Source.databases, a list
)
