package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/esesnap/esesnap/protocol"
	"github.com/spf13/cobra"
)

// sourceFlags are the flags that make a protocol.Source: --source (the
// location), the ESE flags kept from before plugins described their options
// (--log-dir, --system-dir, --base-name, --database, --writable, mapped to
// the options of the same name), and the generic --option KEY=VALUE.
type sourceFlags struct {
	location  string
	logDir    string
	systemDir string
	baseName  string
	databases []string
	writable  bool
	options   []string
}

func (s *sourceFlags) register(cmd *cobra.Command, sourceHelp string) {
	fl := cmd.Flags()
	fl.StringVar(&s.location, "source", "", sourceHelp)
	fl.StringVar(&s.logDir, "log-dir", "", "log directory when it is not --source (JET_paramLogFilePath; option log-dir)")
	fl.StringVar(&s.systemDir, "system-dir", "", "checkpoint directory when it is not --source (JET_paramSystemPath; option system-dir)")
	fl.StringVar(&s.baseName, "base-name", "", "log base name, three characters (default: from the checkpoint file; option base-name)")
	fl.StringArrayVar(&s.databases, "database", nil, "database file to back up (repeatable; default: every database of the log stream; option database)")
	fl.BoolVar(&s.writable, "writable", false, "let the plugin record the backup in the database headers and truncate logs (the source is read-only otherwise; option writable=true)")
	fl.StringArrayVar(&s.options, "option", nil, "KEY=VALUE plugin option, as the plugin describes them (esesnap plugin-info PLUGIN); repeatable, and a repeatable option's values add up")
}

// source builds the Source the flags ask for: the location and the ESE
// directories made absolute, the ESE flags as their options, and each
// --option. A key given both ways, or an --option without "=", is a usage
// error.
func (s *sourceFlags) source() (protocol.Source, error) {
	src := protocol.Source{Location: s.location}
	if src.Location != "" {
		abs, err := filepath.Abs(src.Location)
		if err != nil {
			return protocol.Source{}, err
		}
		src.Location = abs
	}
	from := map[string]string{} // the flag that set each option
	set := func(key, v, flag string) error {
		if src.Options == nil {
			src.Options = map[string]string{}
		}
		if first, ok := from[key]; ok {
			return fmt.Errorf("option %s is given twice (%s and %s %s=…)", key, first, flag, key)
		}
		src.Options[key], from[key] = v, flag
		return nil
	}
	for _, d := range []struct{ key, v, flag string }{
		{protocol.OptLogDir, s.logDir, "--log-dir"},
		{protocol.OptSystemDir, s.systemDir, "--system-dir"},
	} {
		if d.v == "" {
			continue
		}
		abs, err := filepath.Abs(d.v)
		if err != nil {
			return protocol.Source{}, err
		}
		if err := set(d.key, abs, d.flag); err != nil {
			return protocol.Source{}, err
		}
	}
	if s.baseName != "" {
		if err := set(protocol.OptBaseName, s.baseName, "--base-name"); err != nil {
			return protocol.Source{}, err
		}
	}
	if len(s.databases) > 0 {
		if err := set(protocol.OptDatabase, protocol.JoinList(s.databases), "--database"); err != nil {
			return protocol.Source{}, err
		}
	}
	if s.writable {
		if err := set("writable", "true", "--writable"); err != nil {
			return protocol.Source{}, err
		}
	}
	given := map[string]bool{}
	for _, kv := range s.options {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return protocol.Source{}, fmt.Errorf("--option %q: want KEY=VALUE", kv)
		}
		if given[k] {
			// a repeated key is a list; resolveOptions refuses it for an
			// option that is not repeatable
			src.Options[k] += protocol.ListSeparator + v
			continue
		}
		if err := set(k, v, "--option"); err != nil {
			return protocol.Source{}, err
		}
		given[k] = true
	}
	return src, nil
}

// checkSourceOptions checks the options of src against the plugin's
// Info.Options, as a usage error naming the plugin's options, and makes the
// values of path options absolute (--option log-dir=rel works as --log-dir).
func checkSourceOptions(info protocol.Info, src *protocol.Source, repeated func(key string) bool) error {
	if err := protocol.CheckOptions(info.Options, src.Options, false); err != nil {
		return fmt.Errorf("plugin %s: %w (esesnap plugin-info shows what they mean)", info.Name, err)
	}
	for k, v := range src.Options {
		o, _ := info.Option(k)
		if repeated(k) && !o.Repeatable {
			return fmt.Errorf("plugin %s: option %s is not repeatable", info.Name, k)
		}
		if o.Type == protocol.OptionPath && v != "" {
			abs, err := filepath.Abs(v)
			if err != nil {
				return err
			}
			src.Options[k] = abs
		}
	}
	return nil
}

// repeatedKeys reports which --option keys were given more than once.
func (s *sourceFlags) repeatedKeys() func(string) bool {
	n := map[string]int{}
	for _, kv := range s.options {
		k, _, _ := strings.Cut(kv, "=")
		n[k]++
	}
	return func(k string) bool { return n[k] > 1 }
}

// formatOptions writes the plugin's options as help text: one line each,
// with type, default and whether it repeats, secret or applies to Restore.
func formatOptions(options []protocol.OptionSpec) string {
	if len(options) == 0 {
		return "  (none)\n"
	}
	var b strings.Builder
	for _, o := range options {
		var notes []string
		if o.Type != "" {
			notes = append(notes, o.Type)
		}
		if o.Default != "" {
			notes = append(notes, "default "+o.Default)
		}
		if o.Repeatable {
			notes = append(notes, "repeatable")
		}
		if o.Secret {
			notes = append(notes, "secret: never recorded")
		}
		if o.Restore {
			notes = append(notes, "also for restore")
		}
		fmt.Fprintf(&b, "  %-12s %s", o.Name, o.Help)
		if len(notes) > 0 {
			fmt.Fprintf(&b, " [%s]", strings.Join(notes, ", "))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// optionValue is the last value --option gives key, or "".
func (s *sourceFlags) optionValue(key string) string {
	v := ""
	for _, kv := range s.options {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}
