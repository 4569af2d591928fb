package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/esesnap/esesnap/conformance"
	"github.com/esesnap/esesnap/protocol"
	"github.com/spf13/cobra"
)

func newPluginTestCmd() *cobra.Command {
	var pf pluginFlags
	var source string
	var asJSON bool
	var writable, verbose bool
	var optionFlags []string
	cmd := &cobra.Command{
		Use:   "plugin-test PLUGIN",
		Short: "Run the conformance suite against any snapshot plugin binary",
		Long: `plugin-test starts PLUGIN and checks that it behaves as the snapshot protocol
requires: handshake, Info, a backup of every kind it offers, abort in each phase,
illegal call orders, typed errors and cancellation. --source (required) is what
the plugin backs up: the checks take real backups of it, which an ESE plugin
records in the database headers with --writable, so give it a copy made for the
test. Exit 1 when a check fails.

It prints one line per check and a summary. The plugin's log lines are shown
for the checks that fail (the abort and cancellation checks make a correct
plugin warn on purpose, so a passing run shows none); -v shows them all as
they come, at --log-level.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log := loggerFrom(cmd)
			pf.path = args[0]
			if source == "" {
				return usageError(errors.New("--source is required: what the plugin backs up (a copy made for the test)"))
			}
			out := cmd.OutOrStdout()
			logs := &checkLog{}
			pf.logTo = logs
			if verbose {
				pf.logTo = cmd.ErrOrStderr()
			}
			// showLogs writes the plugin's log lines since from, after a
			// moment for the last ones to arrive (they come through the
			// plugin's stderr, behind its answers), and returns where the
			// next check's lines start.
			showLogs := func(what string, from int) int {
				if verbose {
					return 0
				}
				time.Sleep(logSettle)
				lines, end := logs.since(from)
				if len(lines) > 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "plugin log during %s:\n%s", what, strings.Join(lines, ""))
				}
				return end
			}
			var sum pluginTestSummary
			finish := func(code int) error {
				if asJSON {
					if err := writeJSON(out, sum); err != nil {
						return withCode(ExitError, err)
					}
				}
				if code == ExitOK {
					return nil
				}
				return withCode(code, nil)
			}
			client, err := pf.launch(cmd.Context(), cmd)
			if err != nil {
				log.Error("handshake: FAIL: " + err.Error())
				showLogs("the handshake", 0)
				sum.Checks = []checkJSON{{Name: "handshake", Status: "fail", Error: err.Error()}}
				sum.Failed = 1
				return finish(ExitVerifyFailed)
			}
			defer func() { client.Close() }()
			sum.ProtocolVersion, sum.DataPipe = client.ProtocolVersion(), client.DataPipe()
			sum.Checks = append(sum.Checks, checkJSON{Name: "handshake", Status: "ok"})
			if !asJSON {
				fmt.Fprintf(out, "ok    handshake (protocol version %d, data pipe %v)\n", client.ProtocolVersion(), client.DataPipe())
			}
			sf := sourceFlags{location: source, writable: writable, options: optionFlags}
			src, err := sf.source()
			if err != nil {
				return usageError(err)
			}
			tgt := conformance.Target{
				Snapshotter: client.Snapshotter(),
				Source:      src,
				Restart: func() (protocol.Snapshotter, error) {
					client.Kill()
					c, err := pf.launch(context.Background(), cmd)
					if err != nil {
						return nil, err
					}
					client = c
					return c.Snapshotter(), nil
				},
			}
			from := logs.mark()
			sum.Failed = conformance.RunAll(cmd.Context(), tgt, func(name string, err error, elapsed time.Duration) {
				c := checkJSON{Name: name, Status: "ok", Milliseconds: elapsed.Milliseconds()}
				switch {
				case err == nil:
				case errors.Is(err, conformance.ErrSkip):
					c.Status, c.Error = "skip", err.Error()
				default:
					c.Status, c.Error = "fail", err.Error()
				}
				sum.Checks = append(sum.Checks, c)
				if !asJSON {
					switch c.Status {
					case "ok":
						fmt.Fprintf(out, "ok    %s (%s)\n", name, elapsed.Round(time.Millisecond))
					case "skip":
						fmt.Fprintf(out, "skip  %s: %v\n", name, err)
					default:
						fmt.Fprintf(out, "FAIL  %s (%s): %v\n", name, elapsed.Round(time.Millisecond), err)
					}
				}
				if c.Status == "fail" {
					from = showLogs(name, from)
				} else {
					from = logs.mark()
				}
			})
			sum.OK = sum.Failed == 0
			switch {
			case asJSON:
			case sum.OK:
				fmt.Fprintln(out, "all checks passed")
			default:
				fmt.Fprintf(out, "%d check(s) failed\n", sum.Failed)
			}
			if !sum.OK {
				return finish(ExitVerifyFailed)
			}
			return finish(ExitOK)
		},
	}
	pf.register(cmd)
	cmd.Flags().StringVar(&source, "source", "", "what the plugin backs up (required; a copy made for the test)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON on stdout (logs stay on stderr)")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "show the plugin's log lines as they come (otherwise only those of failed checks)")
	cmd.Flags().BoolVar(&writable, "writable", false, "pass the source option writable=true, as backup --writable does (the ESE plugin's esent backend refuses a read-only source)")
	cmd.Flags().StringArrayVar(&optionFlags, "option", nil, "KEY=VALUE source option passed to the plugin, as backup --option (repeatable; esesnap plugin-info PLUGIN lists them)")
	return cmd
}

// pluginTestSummary is `plugin-test --json`.
type pluginTestSummary struct {
	OK              bool        `json:"ok"`
	ProtocolVersion int         `json:"protocol_version,omitempty"`
	DataPipe        bool        `json:"data_pipe"`
	Failed          int         `json:"failed"`
	Checks          []checkJSON `json:"checks"`
}

// checkJSON is one conformance check: status ok, skip or fail.
type checkJSON struct {
	Name         string `json:"name"`
	Status       string `json:"status"`
	Error        string `json:"error,omitempty"`
	Milliseconds int64  `json:"ms"`
}

// logSettle is how long plugin-test waits after a failed check for the
// plugin's last log lines of it to arrive.
const logSettle = 200 * time.Millisecond

// checkLog keeps the plugin's log lines of a plugin-test run, so that a
// failed check can show the lines written while it ran.
type checkLog struct {
	mu    sync.Mutex
	lines []string
	part  []byte // a line not ended yet
}

// Write implements io.Writer for the plugin's logger.
func (l *checkLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.part = append(l.part, p...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, string(l.part[:i+1]))
		l.part = l.part[i+1:]
	}
	return len(p), nil
}

// mark returns where the lines written from now on start.
func (l *checkLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// since returns the lines written from mark from on, and the mark after
// them.
func (l *checkLog) since(from int) ([]string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines[min(from, len(l.lines)):]), len(l.lines)
}
