package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
)

// version is the module version esesnap was built from, or "devel".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// versionJSON is `esesnap version --json`.
type versionJSON struct {
	Version string `json:"version"`
	// Commit, CommitTime and Modified are the build's version control
	// stamp (vcs.revision, vcs.time, vcs.modified); empty when the binary
	// was built without one (go test, -buildvcs=false).
	Commit     string     `json:"commit,omitempty"`
	CommitTime string     `json:"commit_time,omitempty"`
	Modified   bool       `json:"modified,omitempty"`
	GoVersion  string     `json:"go_version"`
	OS         string     `json:"os"`
	Arch       string     `json:"arch"`
	Plugin     pluginJSON `json:"plugin"`
}

// pluginJSON is the plugin part of `esesnap version --json`: what it says
// of itself, or why it could not be asked.
type pluginJSON struct {
	Path            string `json:"path"`
	Name            string `json:"name,omitempty"`
	Version         string `json:"version,omitempty"`
	ProtocolVersion int    `json:"protocol_version,omitempty"`
	Error           string `json:"error,omitempty"`
}

// buildVersion reads esesnap's own version from its build information.
func buildVersion() versionJSON {
	v := versionJSON{Version: version(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.GoVersion = bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.CommitTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// pluginVersionTimeout bounds the start and Info of the plugin for
// `version`, which must answer even when the plugin hangs.
const pluginVersionTimeout = 20 * time.Second

// pluginVersion starts the plugin the flags choose and asks its Info. A
// plugin that cannot be found or started is reported in the result, not as
// an error.
func pluginVersion(cmd *cobra.Command, pf *pluginFlags) pluginJSON {
	p := pluginJSON{Path: pf.path}
	if p.Path == "" {
		p.Path = defaultPlugin()
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), pluginVersionTimeout)
	defer cancel()
	// What goes wrong is in the error reported; the plugin's log lines
	// (a plugin that exits, a program that is no plugin) would only repeat it.
	pf.logTo = io.Discard
	client, err := pf.launch(ctx, cmd)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	defer client.Close()
	p.ProtocolVersion = client.ProtocolVersion()
	info, err := client.Snapshotter().Info(ctx)
	if err != nil {
		p.Error = fmt.Sprintf("plugin info: %v", err)
		return p
	}
	p.Name, p.Version = info.Name, info.Version
	return p
}

// printVersion writes v as `esesnap version` shows it.
func printVersion(w io.Writer, v versionJSON) {
	fmt.Fprintf(w, "esesnap %s\n", v.Version)
	if v.Commit != "" {
		mod := ""
		if v.Modified {
			mod = " (modified)"
		}
		fmt.Fprintf(w, "  commit:   %s %s%s\n", v.Commit, v.CommitTime, mod)
	}
	fmt.Fprintf(w, "  go:       %s %s/%s\n", v.GoVersion, v.OS, v.Arch)
	if v.Plugin.Error != "" {
		fmt.Fprintf(w, "  plugin:   none usable at %s: %s\n", v.Plugin.Path, v.Plugin.Error)
		return
	}
	fmt.Fprintf(w, "  plugin:   %s %s, protocol version %d (%s)\n", v.Plugin.Name, v.Plugin.Version, v.Plugin.ProtocolVersion, v.Plugin.Path)
}

// runVersion prints esesnap's version and its plugin's; a missing plugin
// is reported, not an error.
func runVersion(cmd *cobra.Command, pf *pluginFlags, asJSON bool) error {
	v := buildVersion()
	v.Plugin = pluginVersion(cmd, pf)
	if asJSON {
		if err := writeJSON(cmd.OutOrStdout(), v); err != nil {
			return withCode(ExitError, err)
		}
		return nil
	}
	printVersion(cmd.OutOrStdout(), v)
	return nil
}

func newVersionCmd() *cobra.Command {
	var pf pluginFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print esesnap's version and its plugin's",
		Long: `version prints esesnap's module version, the commit it was built from (with
its time, and whether the work tree was modified), the Go version and the
platform, then starts the plugin other commands would use (--plugin, default
esesnap-plugin beside esesnap, then on PATH) and prints its name, version and
protocol version. A plugin that cannot be found or started is reported, and
is not an error. esesnap --version is the same.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runVersion(cmd, &pf, asJSON) },
	}
	pf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the versions as JSON on stdout")
	return cmd
}
