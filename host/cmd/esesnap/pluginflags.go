package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/esesnap/esesnap/plugin"
	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
)

// pluginFlags are the flags that choose and start a plugin.
type pluginFlags struct {
	path   string
	sha256 string
	args   []string
	env    []string
	noPipe bool
	// logTo, if set, receives the plugin's log lines (at the --log-level)
	// instead of stderr: plugin-test keeps them for the checks that fail.
	logTo io.Writer
}

func (p *pluginFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&p.path, "plugin", "", "plugin binary (default: esesnap-plugin beside esesnap, then on PATH)")
	f.StringVar(&p.sha256, "plugin-sha256", "", "refuse to start the plugin unless its SHA-256 is this (hex)")
	f.StringArrayVar(&p.args, "plugin-arg", nil, "argument passed to the plugin (repeatable)")
	f.StringArrayVar(&p.env, "plugin-env", nil, "KEY=VALUE set in the plugin's environment, which otherwise holds nothing of esesnap's (repeatable)")
	f.BoolVar(&p.noPipe, "no-data-pipe", false, "send every byte through the gRPC stream instead of the private data pipe")
}

// defaultPlugin is esesnap-plugin beside the running esesnap, else the
// bare name (looked up in PATH by plugin.Launch).
func defaultPlugin() string {
	name := "esesnap-plugin"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return name
}

// launch starts the plugin chosen by the flags. The plugin's log lines go
// to stderr too, from warnings up unless --log-level asks for more.
func (p *pluginFlags) launch(ctx context.Context, cmd *cobra.Command) (*plugin.Client, error) {
	level := loggerFrom(cmd).GetLevel()
	out := cmd.ErrOrStderr()
	switch {
	case p.logTo != nil:
		out = p.logTo
	case level == hclog.Info:
		level = hclog.Warn // the plugin's info lines only with --log-level debug
	}
	plog := newLogger(out, level).Named("plugin")
	cfg := plugin.ClientConfig{Path: p.path, Args: p.args, Env: p.env, Logger: plog, DisableDataPipe: p.noPipe}
	if cfg.Path == "" {
		cfg.Path = defaultPlugin()
	}
	if p.sha256 != "" {
		sum, err := hex.DecodeString(p.sha256)
		if err != nil || len(sum) != 32 {
			return nil, usageError(fmt.Errorf("--plugin-sha256 %q: want 64 hex digits", p.sha256))
		}
		cfg.SHA256 = sum
	}
	return plugin.Launch(ctx, cfg)
}
