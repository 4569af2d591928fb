// Command dirsnap-plugin serves the dirsnap example Snapshotter as an
// esesnap plugin: a host launches it with plugin.Launch (see
// examples/minimalhost) and backs up a directory through the same protocol
// it uses for ESE. Run by hand, it only says what it is.
package main

import (
	"fmt"
	"os"

	"github.com/esesnap/esesnap/examples/dirsnap"
	"github.com/esesnap/esesnap/plugin"
	"github.com/hashicorp/go-hclog"
)

func main() {
	if !plugin.IsPluginProcess() {
		fmt.Fprintf(os.Stderr, "%s is an esesnap plugin (%s %s) that backs up the files of a directory.\n"+
			"A backup host starts it; for example: minimalhost %s DIR BACKUPDIR\n", os.Args[0], dirsnap.Name, dirsnap.Version, os.Args[0])
		os.Exit(2)
	}
	// The host re-emits the plugin's JSON log lines at their level.
	logger := hclog.New(&hclog.LoggerOptions{Name: dirsnap.Name, Output: os.Stderr, JSONFormat: true, Level: hclog.Info})
	plugin.Serve(dirsnap.New(logger), logger)
}
