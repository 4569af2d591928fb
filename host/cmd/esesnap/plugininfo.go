package main

import (
	"fmt"
	"strings"

	"github.com/esesnap/esesnap/protocol"
	"github.com/spf13/cobra"
)

func newPluginInfoCmd() *cobra.Command {
	var pf pluginFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "plugin-info [PLUGIN]",
		Short: "Start a plugin and print what it describes: kinds, capabilities and options",
		Long: `plugin-info starts PLUGIN (default: the one backup uses) and prints its Info:
name, version, backup kinds, capabilities, idle timeout and the options it takes,
which backup accepts as --option KEY=VALUE (for the ESE plugin, --log-dir,
--system-dir, --base-name, --database and --writable set the options of those
names).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				pf.path = args[0]
			}
			client, err := pf.launch(cmd.Context(), cmd)
			if err != nil {
				return withCode(exitFor(err), err)
			}
			defer client.Close()
			info, err := client.Snapshotter().Info(cmd.Context())
			if err != nil {
				return withCode(exitFor(err), fmt.Errorf("plugin info: %w", err))
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(out, toPluginInfoJSON(info))
			}
			kinds := make([]string, len(info.Kinds))
			for n, k := range info.Kinds {
				kinds[n] = k.String()
			}
			fmt.Fprintf(out, "%s %s\n  kinds:        %s\n  capabilities: %s\n", info.Name, info.Version, strings.Join(kinds, " "), strings.Join(info.Capabilities, " "))
			if info.IdleTimeout > 0 {
				fmt.Fprintf(out, "  idle timeout: %s\n", info.IdleTimeout)
			}
			fmt.Fprintf(out, "options (backup --option KEY=VALUE):\n%s", formatOptions(info.Options))
			return nil
		},
	}
	pf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the Info as JSON on stdout")
	return cmd
}

// pluginInfoJSON is `plugin-info --json`.
type pluginInfoJSON struct {
	Name               string       `json:"name"`
	Version            string       `json:"version"`
	Kinds              []string     `json:"kinds"`
	Capabilities       []string     `json:"capabilities"`
	IdleTimeoutSeconds float64      `json:"idle_timeout_seconds,omitempty"`
	Options            []optionJSON `json:"options"`
}

// optionJSON is one protocol.OptionSpec in JSON.
type optionJSON struct {
	Name       string `json:"name"`
	Type       string `json:"type,omitempty"`
	Default    string `json:"default,omitempty"`
	Help       string `json:"help,omitempty"`
	Repeatable bool   `json:"repeatable,omitempty"`
	Secret     bool   `json:"secret,omitempty"`
	Restore    bool   `json:"restore,omitempty"`
}

func toPluginInfoJSON(info protocol.Info) pluginInfoJSON {
	j := pluginInfoJSON{Name: info.Name, Version: info.Version, Kinds: []string{}, Capabilities: []string{}, Options: []optionJSON{},
		IdleTimeoutSeconds: info.IdleTimeout.Seconds()}
	for _, k := range info.Kinds {
		j.Kinds = append(j.Kinds, k.String())
	}
	j.Capabilities = append(j.Capabilities, info.Capabilities...)
	for _, o := range info.Options {
		j.Options = append(j.Options, optionJSON(o))
	}
	return j
}
