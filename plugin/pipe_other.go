//go:build !unix

package plugin

import (
	"os"
	"os/exec"

	"github.com/hashicorp/go-hclog"
)

// newHostPipe returns no pipe: without exec.Cmd.ExtraFiles (Windows) a
// child cannot inherit a descriptor by number, and file bytes go through
// the gRPC stream.
func newHostPipe(*exec.Cmd, hclog.Logger) (*pipeReader, *os.File, error) { return nil, nil, nil }

// openPluginPipe returns no pipe; see newHostPipe.
func openPluginPipe() (*pipeWriter, error) { return nil, nil }
