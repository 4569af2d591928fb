package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/esesnap/esesnap/conformance"
	"github.com/esesnap/esesnap/ese/synth"
	"github.com/esesnap/esesnap/protocol"
	"github.com/spf13/cobra"
)

func newPluginTestCmd() *cobra.Command {
	var pf pluginFlags
	var source string
	cmd := &cobra.Command{
		Use:   "plugin-test PLUGIN",
		Short: "Run the conformance suite against any snapshot plugin binary",
		Long: `plugin-test starts PLUGIN and checks that it behaves as the snapshot protocol
requires: handshake, Info, a backup of every kind it offers, abort in each phase,
illegal call orders, typed errors and cancellation. --source is what the plugin
backs up (default: a synthetic ESE set generated in a temporary directory, which
suits ESE plugins and directory plugins alike). Exit 1 when a check fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log := loggerFrom(cmd)
			pf.path = args[0]
			if source == "" {
				dir, err := os.MkdirTemp("", "esesnap-plugin-test-")
				if err != nil {
					return withCode(ExitError, err)
				}
				defer os.RemoveAll(dir)
				if _, err := synth.Generate(cmd.Context(), synth.Options{Dir: dir, Pages: 2048, UsedPages: 1500, Seed: 1}); err != nil {
					return withCode(ExitError, fmt.Errorf("generate a test set: %w", err))
				}
				source = dir
			}
			client, err := pf.launch(cmd.Context(), cmd)
			if err != nil {
				log.Error("handshake: FAIL: " + err.Error())
				return withCode(ExitVerifyFailed, nil)
			}
			defer func() { client.Close() }()
			fmt.Fprintf(cmd.OutOrStdout(), "ok    handshake (protocol version %d, data pipe %v)\n", client.ProtocolVersion(), client.DataPipe())
			tgt := conformance.Target{
				Snapshotter: client.Snapshotter(),
				Source:      protocol.Source{InstanceDir: source},
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
			failed := conformance.RunAll(cmd.Context(), tgt, func(name string, err error, elapsed time.Duration) {
				switch {
				case err == nil:
					fmt.Fprintf(cmd.OutOrStdout(), "ok    %s (%s)\n", name, elapsed.Round(time.Millisecond))
				case errors.Is(err, conformance.ErrSkip):
					fmt.Fprintf(cmd.OutOrStdout(), "skip  %s: %v\n", name, err)
				default:
					fmt.Fprintf(cmd.OutOrStdout(), "FAIL  %s (%s): %v\n", name, elapsed.Round(time.Millisecond), err)
				}
			})
			if failed > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "%d check(s) failed\n", failed)
				return withCode(ExitVerifyFailed, nil)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "all checks passed")
			return nil
		},
	}
	pf.register(cmd)
	cmd.Flags().StringVar(&source, "source", "", "what the plugin backs up (default: a generated synthetic ESE set)")
	return cmd
}
