// Command esesnap-plugin is esesnap's ESE snapshot plugin: a go-plugin
// process, started by a backup host (esesnap, or any host built on package
// plugin), that serves the snapshot protocol over the pure-Go ESE engine.
// It backs up ESE file sets at rest (a volume snapshot, a stopped service,
// a copy) through ESE's external backup sequence, verifying every page and
// the log chain as it streams, and stages backup sets for recovery. On
// Windows, --backend vss backs up a running application's instance through
// its VSS writer, reading the files from the shadow copy (package vss).
//
// Run by hand it only explains itself: the host starts it with the
// handshake cookie in its environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/driver"
	"github.com/esesnap/esesnap/ese/engine"
	"github.com/esesnap/esesnap/ese/esent"
	"github.com/esesnap/esesnap/plugin"
	"github.com/esesnap/esesnap/protocol"
	"github.com/esesnap/esesnap/vss"
	"github.com/hashicorp/go-hclog"
)

// version is the plugin's version, set at build time with
// -ldflags "-X main.version=1.2.3".
var version = "dev"

// pluginName is Info.Name.
const pluginName = "esesnap-ese"

// envLogLevel sets the default of --log-level.
const envLogLevel = "ESESNAP_LOG_LEVEL"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the exit, for tests.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("esesnap-plugin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	backend := fs.String("backend", defaultBackend, "ESE implementation: engine (pure Go, files at rest), esent (ESENT.DLL, Windows only) or vss (a running application's instance through its VSS writer, read from the shadow copy; Windows only); default esent on Windows, engine elsewhere")
	readOnly := fs.Bool("read-only", false, "never write to a backed-up instance or stage a restore: refuse Begin with the writable option and offer no Restore")
	showVersion := fs.Bool("version", false, "print the version and exit")
	level := fs.String("log-level", envOr(envLogLevel, "info"), "log level: trace, debug, info, warn or error (default from "+envLogLevel+")")
	fs.Usage = func() { usage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "esesnap-plugin: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *showVersion {
		fmt.Fprintf(stdout, "esesnap-plugin %s (go-plugin protocol %d, esesnap.snapshot.v1)\n", version, plugin.ProtocolVersionV1)
		return 0
	}
	// Checked before Serve: go-plugin would also refuse, but only after
	// flag handling, and its text does not say which host to use.
	if !plugin.IsPluginProcess() {
		usage(stderr, fs)
		return 1
	}
	lvl := hclog.LevelFromString(*level)
	if lvl == hclog.NoLevel {
		fmt.Fprintf(stderr, "esesnap-plugin: unknown log level %q\n", *level)
		return 2
	}
	// JSON on the real stderr, created before Serve redirects os.Stderr:
	// go-plugin parses these lines and re-emits them in the host's log.
	logger := hclog.New(&hclog.LoggerOptions{Name: "esesnap-plugin", Output: os.Stderr, JSONFormat: true, Level: lvl})
	switch *backend {
	case "engine", "esent":
		plugin.Serve(newSnapshotter(*backend, *readOnly, logger), logger)
	case "vss":
		cfg := vss.Config{Name: pluginName, Version: version, Logger: logger}
		if !*readOnly {
			cfg.Restore = func(ctx context.Context, req ese.RestoreRequest) error { return restore(req, logger) }
		}
		s, err := vss.New(cfg)
		if err != nil {
			fmt.Fprintf(stderr, "esesnap-plugin: %v\n", err)
			return 2
		}
		plugin.Serve(s, logger)
	default:
		fmt.Fprintf(stderr, "esesnap-plugin: unknown --backend %q: use engine, esent or vss\n", *backend)
		return 2
	}
	return 0
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, `esesnap-plugin %s is the esesnap ESE snapshot plugin. It is not meant to be
run by hand: a backup host (the esesnap command, or any program built on
github.com/esesnap/esesnap/plugin) starts it with this binary's path and talks
to it over go-plugin (gRPC with mutual TLS).

It backs up ESE databases and logs at rest through ESE's external backup
sequence, verifying every page and the log chain, and stages backup sets for
recovery.

Usage: esesnap-plugin [--read-only] [--log-level LEVEL] | --version

`, version)
	fs.PrintDefaults()
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// newSnapshotter returns the ESE driver over the pure-Go engine, or over
// ESENT.DLL with backend "esent".
func newSnapshotter(backend string, readOnly bool, log hclog.Logger) *driver.Driver {
	cfg := driver.Config{
		Name:    pluginName,
		Version: version,
		Open: func(ctx context.Context, src protocol.Source) (*driver.Instance, error) {
			ecfg, err := engineConfig(src, readOnly, log)
			if err != nil {
				return nil, err
			}
			if backend == "esent" {
				// Checked here, on every platform: ESENT.DLL cannot open
				// an instance without changing it.
				if err := esent.RequireWritable(ecfg.Writable, ecfg.LogDir); err != nil {
					return nil, err
				}
				return openESENT(ecfg)
			}
			in, err := engine.Open(ecfg)
			if err != nil {
				return nil, err
			}
			return &driver.Instance{
				API:            in,
				RecordsBackups: ecfg.Writable,
				Close:          func() error { return in.Term(ese.TermAbrupt) },
			}, nil
		},
		Options: driver.Options,
		Logger:  log,
	}
	if !readOnly {
		cfg.Restore = func(ctx context.Context, req ese.RestoreRequest) error { return restore(req, log) }
		if backend == "esent" {
			cfg.Restore = func(ctx context.Context, req ese.RestoreRequest) error { return restoreESENT(req, log) }
			// ESENT finishes recovery itself: nothing is left to run.
			cfg.RecoveryCommand = func(protocol.RestoreRequest) []string { return nil }
		}
	}
	return driver.New(cfg)
}

// engineConfig maps a Source to the engine's instance configuration
// (driver.ParseSource: the options are driver.Options, log and system
// directory default to the location), refusing the writable option on a
// read-only plugin.
func engineConfig(src protocol.Source, readOnly bool, log hclog.Logger) (engine.Config, error) {
	c, err := driver.ParseSource(src)
	if err != nil {
		return engine.Config{}, err
	}
	if c.Writable && readOnly {
		return engine.Config{}, &ese.Error{Code: ese.ErrFileAccessDenied, Op: "Begin", File: c.LogDir, Err: errors.New("the plugin runs with --read-only and never opens an instance writable")}
	}
	return engine.Config{
		LogDir:    c.LogDir,
		SystemDir: c.SystemDir,
		BaseName:  c.BaseName,
		Databases: c.Databases,
		Writable:  c.Writable,
		Logger:    log,
	}, nil
}

// restore stages a backup set with a fresh engine runtime (ESE switches a
// process to multi-instance mode for a restore; a runtime per restore keeps
// restores independent of the backup instances) over the set's directory.
func restore(req ese.RestoreRequest, log hclog.Logger) error {
	in, err := engine.NewRuntime().NewInstance(engine.Config{
		Name:     "restore",
		LogDir:   req.BackupLogDir,
		BaseName: req.LogInfo.BaseName,
		Logger:   log,
	})
	if err != nil {
		return err
	}
	if err := in.Init(); err != nil {
		return err
	}
	defer in.Term(ese.TermAbrupt)
	return in.ExternalRestore(req)
}
