//go:build !windows

package main

import (
	"errors"

	"github.com/hashicorp/go-hclog"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/driver"
	"github.com/esesnap/esesnap/ese/engine"
)

// defaultBackend outside Windows is the pure-Go engine.
const defaultBackend = "engine"

// openESENT fails: ESENT.DLL exists only on Windows.
func openESENT(cfg engine.Config) (*driver.Instance, error) {
	return nil, &ese.Error{Code: ese.ErrInvalidParameter, Op: "Begin", Err: errors.New("the esent backend needs Windows (ESENT.DLL); use --backend engine")}
}

// restoreESENT fails: ESENT.DLL exists only on Windows.
func restoreESENT(req ese.RestoreRequest, log hclog.Logger) error {
	return &ese.Error{Code: ese.ErrInvalidParameter, Op: "JetExternalRestore2W", Err: errors.New("the esent backend needs Windows (ESENT.DLL)")}
}
