//go:build !windows

package vss

import (
	"errors"

	"github.com/esesnap/esesnap/protocol"
)

// New fails outside Windows: VSS exists only there.
func New(cfg Config) (protocol.Snapshotter, error) {
	return nil, errors.New("the vss backend needs Windows (the Volume Shadow Copy Service); use --backend engine")
}
