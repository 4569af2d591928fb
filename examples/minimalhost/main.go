// Command minimalhost is the smallest useful esesnap host: it launches a
// snapshot plugin, backs the plugin's source up into a directory and prints
// what it stored. Everything a host must get right (End on every path,
// hashing, the manifest, durable files) is done by package host; this file
// only wires it together.
//
//	minimalhost [-kind copy] PLUGIN SOURCE_DIR SET_DIR
//	minimalhost ./esesnap-plugin /srv/app/db ./set          # an ESE instance
//	minimalhost ./dirsnap-plugin ~/notes ./notes-set        # any directory
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese"
	_ "github.com/esesnap/esesnap/ese/eseset" // verifies ESE sets: pages, logs, the log chain
	"github.com/esesnap/esesnap/host"
	"github.com/esesnap/esesnap/plugin"
	"github.com/esesnap/esesnap/protocol"
	"github.com/hashicorp/go-hclog"
)

func main() {
	kind := flag.String("kind", "copy", "backup kind: full, incremental, copy or differential (copy truncates and records nothing later backups depend on)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: minimalhost [-kind copy] PLUGIN SOURCE_DIR SET_DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	k, err := protocol.ParseKind(*kind)
	if err != nil || flag.NArg() != 3 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), flag.Arg(2), k); err != nil {
		fmt.Fprintln(os.Stderr, "minimalhost:", err)
		if code, ok := ese.CodeOf(err); ok {
			// The plugin's JET_err survived the process boundary.
			fmt.Fprintf(os.Stderr, "minimalhost: the plugin reported %s\n", code)
		}
		os.Exit(1)
	}
}

func run(pluginPath, sourceDir, setDir string, kind protocol.Kind) error {
	logger := hclog.New(&hclog.LoggerOptions{Name: "minimalhost", Level: hclog.Warn})
	client, err := plugin.Launch(context.Background(), plugin.ClientConfig{Path: pluginPath, Logger: logger})
	if err != nil {
		return err
	}
	defer client.Close()
	// Ctrl+C cancels ctx, and Backup then ends the session aborted; a
	// second Ctrl+C kills a plugin that no longer answers.
	ctx, stop := host.HandleSignals(context.Background(), client.Kill)
	defer stop()

	sink, err := backupset.NewDirSink(setDir)
	if err != nil {
		return err
	}
	res, err := host.Backup(ctx, client.Snapshotter(), host.BackupRequest{
		Kind:   kind,
		Source: protocol.Source{Location: sourceDir},
	}, sink)
	if err != nil {
		if res != nil {
			return fmt.Errorf("the set in %s is complete, but the session did not end cleanly: %w", setDir, err)
		}
		return err
	}

	m := res.Manifest
	fmt.Printf("%s backup by %s %s, stored in %s\n", m.Kind, m.Plugin.Name, m.Plugin.Version, setDir)
	for _, f := range m.Files {
		fmt.Printf("  %-8s %12d  sha256:%.16s  %s\n", f.Role, f.Size, f.SHA256, f.Name)
	}
	if res.End.Recorded != "" {
		fmt.Printf("recorded in %s\n", res.End.Recorded)
	}
	for _, w := range append(res.End.Warnings, res.Warnings...) {
		fmt.Println("warning:", w)
	}
	return nil
}
